import type { Adapter } from 'oidc-provider';
import { MobileOidcProviderError } from '../errors.js';
import { AlreadyConsumedError, type Store } from './store.js';

const UNAVAILABLE_DESCRIPTION = 'the service is temporarily unavailable, try again later';

/**
 * The store failed (unreachable, timed out, erroring). The request fails closed, nothing is
 * issued, and the client gets `503 temporarily_unavailable`, from oidc-provider's endpoints and
 * the library's own alike.
 *
 * @group Errors
 */
export class StorageUnavailableError extends MobileOidcProviderError {
  /** A stable code for programmatic handling. */
  declare readonly code: 'storage_unavailable';
  /** The HTTP status the client gets. */
  readonly statusCode = 503;
  /** The OAuth error code the client gets. */
  readonly error = 'temporarily_unavailable';
  /** The description the client gets: nothing about the store. */
  readonly error_description = UNAVAILABLE_DESCRIPTION;
  /** Meant for the client: rendered as it is, not hidden as a `server_error`. */
  readonly expose = true;

  /** @param cause - the store's own error, kept for logs, never sent to the client. */
  constructor(cause: unknown) {
    // The message is the OAuth error code: oidc-provider renders an exposed error's message as
    // `error` when this escapes one of its hooks.
    super('storage_unavailable', 'temporarily_unavailable', { cause });
  }
}

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
 * The store's adapter with store failures made {@link StorageUnavailableError}; a lost consume
 * race stays {@link AlreadyConsumedError}.
 *
 * @internal
 */
export function guardedAdapter(adapter: Adapter): Adapter {
  return {
    upsert: (id, payload, expiresIn) => guarded(() => adapter.upsert(id, payload, expiresIn)),
    find: (id) => guarded(() => adapter.find(id)),
    findByUid: (uid) => guarded(() => adapter.findByUid(uid)),
    findByUserCode: (userCode) => guarded(() => adapter.findByUserCode(userCode)),
    consume: (id) => guarded(() => adapter.consume(id)),
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
