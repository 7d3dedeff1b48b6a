import { errorFields, type Logger } from '../core/logger.js';
import type { HealthReports } from './guard.js';

/**
 * How long after the last failure a success must come to end an outage. A store that fails only
 * some operations (one Cluster shard down, one key unreachable) keeps answering others in
 * between; without the wait every failing request would log an outage and a recovery.
 */
const DEFAULT_QUIET_MS = 1000;

/**
 * Logs storage outages once: `error` "storage unavailable" when the store first fails, `info`
 * "storage available again" on the first success at least a quiet period after the last failure,
 * with how long it was down and how many operations failed — never once per failed request.
 *
 * @internal
 */
export class StorageHealth implements HealthReports {
  #down: { since: number; lastFailure: number; failures: number } | undefined;
  readonly #logger: Logger;
  readonly #quietMs: number;
  readonly #now: () => number;

  constructor(logger: Logger, options: { quietMs?: number; now?: () => number } = {}) {
    this.#logger = logger;
    this.#quietMs = options.quietMs ?? DEFAULT_QUIET_MS;
    this.#now = options.now ?? Date.now;
  }

  /** Whether an outage is going on. */
  get down(): boolean {
    return this.#down !== undefined;
  }

  /** A store operation failed with `cause`. */
  failed(cause: unknown): void {
    const now = this.#now();
    if (this.#down) {
      this.#down.lastFailure = now;
      this.#down.failures += 1;
      return;
    }
    this.#down = { since: now, lastFailure: now, failures: 1 };
    this.#logger.error({ cause: errorFields(cause, false) }, 'storage unavailable');
  }

  /** A store operation succeeded. */
  succeeded(): void {
    const down = this.#down;
    if (!down) return;
    const now = this.#now();
    if (now - down.lastFailure < this.#quietMs) return;
    this.#down = undefined;
    this.#logger.info(
      { downForMs: now - down.since, failedOperations: down.failures },
      'storage available again',
    );
  }
}
