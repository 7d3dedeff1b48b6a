import type { HealthCheck, HealthReport } from './types.js';

/** How long readiness waits for the store: short, so a probe answers before its own timeout. */
export const READINESS_TIMEOUT_MS = 1000;

/**
 * How long a store ping that never settles is waited on by later checks. Past this, a probe
 * sends a fresh one: a lost reply must not keep the server unready for ever.
 */
const ABANDON_PING_MS = 30_000;

const OK: HealthCheck = { status: 'ok' };

/** What readiness checks. @internal */
export interface ReadinessSources {
  /** Asks the store for a trivial answer (see `pingStore`). */
  ping(): Promise<unknown>;
  /** Whether the signing keys are loaded. */
  keysLoaded(): boolean;
  /** @default READINESS_TIMEOUT_MS */
  timeoutMs?: number;
  /** @default Date.now */
  now?: () => number;
}

/**
 * Readiness: the store answers within a short timeout and the signing keys are loaded. Never
 * hangs, never rejects, and never piles up store calls: concurrent probes share one check, and
 * at most one store ping is outstanding (a check after a timed-out one waits on the same ping
 * until it settles, rather than sending another).
 *
 * @internal
 */
export class Readiness {
  readonly #sources: ReadinessSources;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  #inFlight: Promise<HealthReport> | undefined;
  #pending: { answered: Promise<boolean>; since: number } | undefined;

  constructor(sources: ReadinessSources) {
    this.#sources = sources;
    this.#timeoutMs = sources.timeoutMs ?? READINESS_TIMEOUT_MS;
    this.#now = sources.now ?? Date.now;
  }

  /** The readiness report; a check already running is shared, not repeated. */
  check(): Promise<HealthReport> {
    if (!this.#inFlight) {
      const running = this.#run();
      this.#inFlight = running;
      void running.finally(() => {
        if (this.#inFlight === running) this.#inFlight = undefined;
      });
    }
    return this.#inFlight;
  }

  async #run(): Promise<HealthReport> {
    const keys: HealthCheck = this.#keysLoaded()
      ? OK
      : { status: 'unavailable', reason: 'no signing keys are loaded' };
    const store = await this.#storeCheck();
    const status = store.status === 'ok' && keys.status === 'ok' ? 'ok' : 'unavailable';
    return { status, checks: { store, keys } };
  }

  #keysLoaded(): boolean {
    try {
      return this.#sources.keysLoaded();
    } catch {
      return false;
    }
  }

  async #storeCheck(): Promise<HealthCheck> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(resolve, this.#timeoutMs, 'timeout');
    });
    try {
      const answered = await Promise.race([this.#ping(), timedOut]);
      if (answered === 'timeout') {
        return {
          status: 'unavailable',
          reason: `the store did not answer within ${this.#timeoutMs} ms`,
        };
      }
      // The store's own error stays out: it may name hosts or carry what the command held.
      return answered ? OK : { status: 'unavailable', reason: 'the store failed to answer' };
    } finally {
      clearTimeout(timer);
    }
  }

  /** The outstanding store ping, or a new one: `true` once the store answered, `false` if it failed. */
  #ping(): Promise<boolean> {
    const now = this.#now();
    const pending = this.#pending;
    if (pending && now - pending.since < ABANDON_PING_MS) return pending.answered;
    let answered: Promise<boolean>;
    try {
      answered = Promise.resolve(this.#sources.ping()).then(
        () => true,
        () => false,
      );
    } catch {
      answered = Promise.resolve(false);
    }
    const current = { answered, since: now };
    this.#pending = current;
    void answered.then(() => {
      if (this.#pending === current) this.#pending = undefined;
    });
    return answered;
  }
}
