import type { Cluster, Redis } from 'ioredis';
import { consoleLogger, errorFields, type Logger, safeLogger } from '../lib/core/logger.js';

/** While the connection stays down, it is logged again at most this often. */
const REPEAT_MS = 60_000;

/**
 * Logs a Redis client's connection health through a {@link Logger}: the first `error` event of
 * an outage at `warn`, then nothing however often ioredis retries, until the client is `ready`
 * again (`info`, with how long it was down) or a minute has passed (`warn` again, with how many
 * errors were not logged). Being an `error` listener, it also keeps ioredis from printing
 * "[ioredis] Unhandled error event" for every failed reconnection.
 *
 * @internal
 */
export class RedisConnectionLog {
  readonly #client: Redis | Cluster;
  readonly #logger: Logger;
  #down: { since: number; lastLogged: number; unlogged: number } | undefined;

  readonly #onError = (error: unknown) => {
    const now = Date.now();
    const down = this.#down;
    if (down && now - down.lastLogged < REPEAT_MS) {
      down.unlogged += 1;
      return;
    }
    const fields: Record<string, unknown> = { error: errorFields(error, false) };
    if (down) {
      fields.downForMs = now - down.since;
      fields.errorsNotLogged = down.unlogged;
    }
    this.#down = { since: down?.since ?? now, lastLogged: now, unlogged: 0 };
    this.#logger.warn(fields, down ? 'redis connection still failing' : 'redis connection error');
  };

  readonly #onReady = () => {
    const down = this.#down;
    if (!down) return;
    this.#down = undefined;
    this.#logger.info({ downForMs: Date.now() - down.since }, 'redis connection ready again');
  };

  constructor(client: Redis | Cluster, logger: Logger = consoleLogger) {
    this.#client = client;
    this.#logger = safeLogger(logger);
    client.on('error', this.#onError);
    client.on('ready', this.#onReady);
  }

  /** Stops listening (for a client that stays its owner's). */
  detach(): void {
    this.#client.off('error', this.#onError);
    this.#client.off('ready', this.#onReady);
  }
}
