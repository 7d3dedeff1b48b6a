import { type Adapter, errors } from 'oidc-provider';
import { AlreadyConsumedError, type Store } from './store.js';

/**
 * The store failed (unreachable, timed out, erroring). Rendered as `503 temporarily_unavailable`
 * by oidc-provider and by the library's own endpoints: the request fails closed, nothing issued.
 *
 * @group Errors
 */
export class StorageUnavailableError extends errors.OIDCProviderError {
  /** A stable code for programmatic handling. */
  readonly code = 'storage_unavailable';
  /** @param cause - the store's own error, kept for logs, never sent to the client. */
  constructor(cause: unknown) {
    super(503, 'temporarily_unavailable', { cause });
    // OIDCProviderError hides every 5xx as server_error; this one is meant for the client.
    this.expose = true;
    Object.assign(this, {
      error_description: 'the service is temporarily unavailable, try again later',
    });
  }
}

// A bug or bad data (a stack overflow on absurdly nested input, a circular value) is no outage:
// it stays an unexpected error, a logged 500, so a false 503 never hides it.
const NOT_OUTAGES = [RangeError, TypeError, SyntaxError, ReferenceError];

/**
 * Whether a store operation's error means the store failed (unreachable, timed out, erroring),
 * rather than an answer (a protocol error, a lost consume race) or a bug.
 *
 * @internal
 */
export function isStorageFailure(error: unknown): boolean {
  return !(
    error instanceof errors.OIDCProviderError ||
    error instanceof AlreadyConsumedError ||
    NOT_OUTAGES.some((kind) => error instanceof kind)
  );
}

/**
 * Whether `error` says a consume lost its race (the record was consumed already), as the store
 * or the guarded adapter (oidc-provider's `invalid_grant`) reports it.
 *
 * @internal
 */
export function isLostConsumeRace(error: unknown): boolean {
  return error instanceof AlreadyConsumedError || error instanceof errors.InvalidGrant;
}

/**
 * Runs a store operation, turning store failures (unreachable, timed out, erroring) into
 * {@link StorageUnavailableError}. @internal
 */
export async function guarded<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (!isStorageFailure(error)) throw error;
    throw new StorageUnavailableError(error);
  }
}

/**
 * The store's adapter with failures made protocol errors: a lost consume race is
 * `invalid_grant` (the code or refresh token was already used), anything else the store throws
 * is `503 temporarily_unavailable`.
 *
 * @internal
 */
export function guardedAdapter(adapter: Adapter): Adapter {
  return {
    upsert: (id, payload, expiresIn) => guarded(() => adapter.upsert(id, payload, expiresIn)),
    find: (id) => guarded(() => adapter.find(id)),
    findByUid: (uid) => guarded(() => adapter.findByUid(uid)),
    findByUserCode: (userCode) => guarded(() => adapter.findByUserCode(userCode)),
    consume: async (id) => {
      try {
        await guarded(() => adapter.consume(id));
      } catch (error) {
        if (error instanceof AlreadyConsumedError)
          throw new errors.InvalidGrant('grant request is invalid');
        throw error;
      }
    },
    destroy: (id) => guarded(() => adapter.destroy(id)),
    revokeByGrantId: (grantId) => guarded(() => adapter.revokeByGrantId(grantId)),
  };
}

/**
 * The same store, with every failure turned into a protocol error (see `guardedAdapter`).
 *
 * @internal
 */
export function guardStore(store: Store): Store {
  return {
    adapter: (model) => guardedAdapter(store.adapter(model)),
    takeUse: (key, maxUses, ttl) => guarded(() => store.takeUse(key, maxUses, ttl)),
    returnUse: (key) => guarded(() => store.returnUse(key)),
    addToIndex: (index, member, ttl) => guarded(() => store.addToIndex(index, member, ttl)),
    removeFromIndex: (index, member) => guarded(() => store.removeFromIndex(index, member)),
    readIndex: (index) => guarded(() => store.readIndex(index)),
    deleteIndex: (index) => guarded(() => store.deleteIndex(index)),
    // `points` is passed only when given, so a custom store sees the call it was written for.
    consumeRate: (key, limit, points) =>
      guarded(() =>
        points === undefined
          ? store.consumeRate(key, limit)
          : store.consumeRate(key, limit, points),
      ),
    raiseCounter: (key, value, ttl) => guarded(() => store.raiseCounter(key, value, ttl)),
    claim: (key, claimant, ttl) => guarded(() => store.claim(key, claimant, ttl)),
    claimHolder: (key) => guarded(() => store.claimHolder(key)),
    close: () => store.close(),
  };
}
