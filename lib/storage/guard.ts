import type { Adapter } from 'oidc-provider';
import { StorageUnavailableError } from '../core/errors.js';
import { describeStore, pingStore } from './probe.js';
import { AlreadyConsumedError, type Store } from './store.js';

// The error lives with the library's others; the storage floor's users import it from here.
export { StorageUnavailableError };

// A bug or bad data (a stack overflow on absurdly nested input, a circular value) is no outage:
// it stays an unexpected error, a logged 500, so a false 503 never hides it.
const NOT_OUTAGES = [RangeError, TypeError, SyntaxError, ReferenceError];

/** Whether `error` is a protocol error (oidc-provider's or the library's): an answer, not a failure. */
const isProtocolError = (error: unknown): boolean =>
  typeof error === 'object' &&
  error !== null &&
  typeof (error as { statusCode?: unknown }).statusCode === 'number' &&
  typeof (error as { error?: unknown }).error === 'string';

/**
 * Whether a store operation's error means the store failed (unreachable, timed out, erroring),
 * rather than an answer (a protocol error, a lost consume race) or a bug.
 *
 * @internal
 */
export function isStorageFailure(error: unknown): boolean {
  return !(
    isProtocolError(error) ||
    error instanceof AlreadyConsumedError ||
    NOT_OUTAGES.some((kind) => error instanceof kind)
  );
}

/** The longest lifetime a record gets: a hundred years, "for ever" to every store. @internal */
export const MAX_RECORD_LIFETIME = 100 * 365 * 24 * 3600;

/**
 * A record lifetime every store accepts: whole seconds from 1 to {@link MAX_RECORD_LIFETIME}.
 * A lifetime computed from absurd data (a huge or fractional claim, a bug's NaN) would make
 * Redis refuse the write, which reads as an outage; kept longer rather than shorter, as a
 * replay mark must be. `undefined` (no expiry) stays.
 *
 * @internal
 */
export function recordLifetime<T extends number | undefined>(seconds: T): T {
  if (seconds === undefined) return seconds;
  if (Number.isNaN(seconds) || seconds > MAX_RECORD_LIFETIME) return MAX_RECORD_LIFETIME as T;
  return Math.max(1, Math.ceil(seconds)) as T;
}

/** Where the guard reports what each store operation ends with (see `StorageHealth`). @internal */
export interface HealthReports {
  succeeded(): void;
  failed(cause: unknown): void;
}

/** A guarded store: `ping` and `describe` always there, with fallbacks for stores without. @internal */
export type GuardedStore = Store & Required<Pick<Store, 'ping' | 'describe'>>;

const UNWATCHED: HealthReports = { succeeded() {}, failed() {} };

/**
 * Runs store operations, turning store failures (unreachable, timed out, erroring) into
 * {@link StorageUnavailableError} and reporting each outcome to `health`. One promise reaction
 * per call: this runs on every store operation of every request.
 *
 * @internal
 */
export class StoreGuard {
  readonly #health: HealthReports;

  constructor(health: HealthReports = UNWATCHED) {
    this.#health = health;
  }

  run<T>(operation: () => Promise<T>): Promise<T> {
    let pending: Promise<T>;
    try {
      pending = operation();
    } catch (error) {
      // A store that throws instead of rejecting is still answered through the same split.
      pending = Promise.reject(error);
    }
    return pending.then(this.#succeeded, this.#failed);
  }

  readonly #succeeded = <T>(result: T): T => {
    this.#health.succeeded();
    return result;
  };

  readonly #failed = (error: unknown): never => {
    // An answer (a lost consume race, a protocol error) or a bug is no outage.
    if (!isStorageFailure(error)) {
      this.#health.succeeded();
      throw error;
    }
    this.#health.failed(error);
    throw new StorageUnavailableError(error);
  };

  /**
   * `adapter` with store failures made {@link StorageUnavailableError}; a lost consume race
   * stays {@link AlreadyConsumedError}; lifetimes bounded by {@link recordLifetime}.
   */
  adapter(adapter: Adapter): Adapter {
    return {
      upsert: (id, payload, expiresIn) =>
        this.run(() => adapter.upsert(id, payload, recordLifetime(expiresIn))),
      find: (id) => this.run(() => adapter.find(id)),
      findByUid: (uid) => this.run(() => adapter.findByUid(uid)),
      findByUserCode: (userCode) => this.run(() => adapter.findByUserCode(userCode)),
      consume: (id) => this.run(() => adapter.consume(id)),
      destroy: (id) => this.run(() => adapter.destroy(id)),
      revokeByGrantId: (grantId) => this.run(() => adapter.revokeByGrantId(grantId)),
    };
  }

  /**
   * `store` with every operation guarded, and every adapter it hands out; every lifetime it is
   * given goes through {@link recordLifetime}, the one place they are bounded.
   */
  store(store: Store): GuardedStore {
    const run = <T>(operation: () => Promise<T>) => this.run(operation);
    return {
      adapter: (model) => this.adapter(store.adapter(model)),
      takeUse: (key, maxUses, ttl) => run(() => store.takeUse(key, maxUses, recordLifetime(ttl))),
      returnUse: (key) => run(() => store.returnUse(key)),
      addToIndex: (index, member, ttl) =>
        run(() => store.addToIndex(index, member, recordLifetime(ttl))),
      removeFromIndex: (index, member) => run(() => store.removeFromIndex(index, member)),
      readIndex: (index) => run(() => store.readIndex(index)),
      deleteIndex: (index) => run(() => store.deleteIndex(index)),
      // `points` is passed only when given, so a custom store sees the call it was written for.
      consumeRate: (key, limit, points) =>
        run(() =>
          points === undefined
            ? store.consumeRate(key, limit)
            : store.consumeRate(key, limit, points),
        ),
      raiseCounter: (key, value, ttl) =>
        run(() => store.raiseCounter(key, value, recordLifetime(ttl))),
      claim: (key, claimant, ttl) => run(() => store.claim(key, claimant, recordLifetime(ttl))),
      claimHolder: (key) => run(() => store.claimHolder(key)),
      replaceClaim: (key, claimant, ttl) =>
        run(() => store.replaceClaim(key, claimant, recordLifetime(ttl))),
      // A probe's outcome counts like any operation's: a failing ping starts an outage, and
      // one answering ends it even while no request comes in.
      ping: () => run(() => pingStore(store)),
      describe: () => describeStore(store),
      close: () => store.close(),
    };
  }
}

/**
 * The same store, with every failure turned into a protocol error and, when `health` is given,
 * every outcome reported to it.
 *
 * @internal
 */
export function guardStore(store: Store, health?: HealthReports): GuardedStore {
  return new StoreGuard(health).store(store);
}
