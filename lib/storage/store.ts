import type { Adapter } from 'oidc-provider';
import { AlreadyConsumedError } from '../core/errors.js';

// The error lives with the library's others; stores import it from here.
export { AlreadyConsumedError };

/**
 * Where mobile-oidc-provider keeps everything: oidc-provider's models and the library's own
 * records (DCR-token use counts, the index of grants per client).
 *
 * Implementations: `MemoryStore` (the embedded default, one process only) and the Redis store
 * (many processes). A store must make {@link Store.takeUse} atomic across every process that
 * shares it.
 *
 * @group Storage
 */
export interface Store {
  /**
   * The oidc-provider adapter for one model (`AccessToken`, `Client`, `Grant`, …), implementing
   * oidc-provider's full adapter contract: `upsert`, `find`, `findByUid`, `findByUserCode`,
   * `consume`, `destroy`, `revokeByGrantId`. Every record written with an `expiresIn` must
   * expire after that many seconds. A store keeps its own copy: `find` hands out an object the
   * caller may change (oidc-provider changes the grants it loads; the library completes the
   * clients it loads) without changing what is stored, and an `upsert`ed payload changed later
   * changes nothing either (the contract suite checks both).
   *
   * `consume` must be atomic across every process sharing the store: of several concurrent
   * calls for one record, exactly one marks it consumed and the others reject with
   * {@link AlreadyConsumedError} — oidc-provider checks `consumed` before it consumes, so this is
   * what keeps two parallel uses of one code or refresh token from both succeeding. Consumption
   * is one-way: an `upsert` of a consumed record without `consumed` (a copy read before the
   * consume, written back) leaves it consumed.
   *
   * Removal does not undo consumption either. A record removed by `revokeByGrantId`, and a
   * consumed record removed by `destroy`, leave a tombstone until the record would have expired:
   * `find` returns `undefined`, but `consume` rejects with {@link AlreadyConsumedError}, and an
   * `upsert` of the id writes a consumed record. Otherwise a request that read a refresh token
   * before its grant was revoked (oidc-provider revokes the grant of a reused token, and destroys
   * the token) could still consume it and answer with tokens. A destroyed record that was never
   * consumed leaves nothing: its `consume` does nothing, as for any missing record.
   */
  adapter(model: string): Adapter;

  /**
   * Atomically takes one use of a limited-use item named `key` (a DCR token, say).
   *
   * @param key - names the item; the store may prefix it.
   * @param maxUses - how many uses the item has in all.
   * @param ttlSeconds - how long the use count must be kept (the item's remaining lifetime).
   * @returns `true` when a use was still available and is now taken; `false` when all are used.
   */
  takeUse(key: string, maxUses: number, ttlSeconds: number): Promise<boolean>;

  /**
   * Gives back one use taken by {@link Store.takeUse}, for a request that failed after taking
   * it. Never raises the count of available uses above the item's `maxUses`.
   */
  returnUse(key: string): Promise<void>;

  /**
   * Adds `member` to the set named `index`. The set must live at least as long as its
   * longest-lived member: `ttlSeconds` extends it, never shortens it; `undefined` keeps it forever.
   */
  addToIndex(index: string, member: string, ttlSeconds: number | undefined): Promise<void>;

  /** Removes `member` from the set named `index` (nothing happens when it is not there). */
  removeFromIndex(index: string, member: string): Promise<void>;

  /** The members of the set named `index` (empty when it does not exist). */
  readIndex(index: string): Promise<string[]>;

  /** Removes the set named `index`. */
  deleteIndex(index: string): Promise<void>;

  /**
   * Counts `points` attempts (one by default) against a fixed-window rate limit named `key`,
   * atomically across every process sharing the store.
   *
   * With `points` `0` it only reads: nothing is counted, and the decision says whether the key
   * is still below its limit (`allowed` when fewer than `limit.points` were counted in the
   * current window). The sign-in pages use this to ask "is this key limited?" before checking a
   * password, and count only the failures.
   *
   * A store written before this parameter existed ignores it and counts every read as an
   * attempt: that is stricter (users are limited sooner), never weaker. Implement the read for
   * the documented behaviour.
   *
   * @param points - attempts to count; `0` reads without counting.
   * @returns whether the attempt is within the limit (for a read: whether the key is not yet
   *   limited), and how long until the window resets.
   */
  consumeRate(key: string, limit: RateLimitWindow, points?: number): Promise<RateDecision>;

  /**
   * Atomically raises the counter named `key` to `value` if `value` is greater than what it
   * holds (a missing counter holds -1), across every process sharing the store: of concurrent
   * calls with the same value, exactly one succeeds. Used for counters that must strictly
   * increase, like App Attest's.
   *
   * @param ttlSeconds - how long the counter must be kept from now (never shortened).
   * @returns `true` when the counter was raised; `false` when it already held `value` or more.
   */
  raiseCounter(key: string, value: number, ttlSeconds: number): Promise<boolean>;

  /**
   * Atomically claims the name `key` for `claimant` unless another claimant already holds it,
   * across every process sharing the store: of concurrent claims by different claimants,
   * exactly one wins, and every call returns that winner. The claim is kept `ttlSeconds` from
   * the first claim (claiming again does not extend it). Used to decide which of several
   * successors of a retried refresh token lives on.
   *
   * @returns the claimant holding `key` now: `claimant` when this call claimed it (or it held it
   *   already), otherwise the one that claimed it first.
   */
  claim(key: string, claimant: string, ttlSeconds: number): Promise<string>;

  /** Who holds the claim `key` (see {@link Store.claim}); `undefined` when nobody does. */
  claimHolder(key: string): Promise<string | undefined>;

  /**
   * Atomically makes `claimant` the holder of the claim `key` whoever held it, across every
   * process sharing the store: of concurrent replacements each returns a different previous
   * holder, so they form one line in which every holder is displaced exactly once. The claim is
   * then kept `ttlSeconds` from now. Used to keep one live successor of a refresh token retried
   * within its grace window: each retry displaces, and retires, the one before.
   *
   * @returns who held `key` before this call (`undefined` when nobody did).
   */
  replaceClaim(key: string, claimant: string, ttlSeconds: number): Promise<string | undefined>;

  /**
   * Resolves once the store answered a trivial request (Redis: `PING`), for readiness probes;
   * rejects when it cannot. Optional: for a store without it, readiness reads one claim
   * ({@link Store.claimHolder}) instead. The caller bounds the wait: it need not time out itself.
   */
  ping?(): Promise<void>;

  /**
   * What the start-up log calls this store, e.g. `memory` or `Redis 10.0.0.5:6379`: where it
   * keeps data, never a password or other credential. Optional: without it, the log names the
   * store's class.
   */
  describe?(): string;

  /** Releases what the store opened (timers, connections). */
  close(): Promise<void>;
}

/**
 * A fixed-window rate limit: `points` attempts per `duration` seconds.
 *
 * @group Storage
 */
export interface RateLimitWindow {
  /** Attempts allowed per window. */
  points: number;
  /** The window, in seconds. */
  duration: number;
}

/**
 * A fixed-window rate limit: the store's {@link RateLimitWindow}, under the name options use.
 *
 * @group Options
 */
export type RateLimit = RateLimitWindow;

/**
 * The outcome of {@link Store.consumeRate}.
 *
 * @group Storage
 */
export interface RateDecision {
  /** Whether the attempt is within the limit (for a read with `points` `0`: whether the key is not limited yet). */
  allowed: boolean;
  /**
   * Seconds until the window resets (the `Retry-After` to send when not allowed); `0` for a read
   * of a key with no attempts in the current window.
   */
  retryAfterSeconds: number;
}
