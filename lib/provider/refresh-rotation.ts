import Provider, { type Adapter, type AdapterPayload, errors } from 'oidc-provider';
import type { Store } from '../storage/store.js';
import { AlreadyConsumedError } from '../storage/store.js';
import { delegateAdapter } from './adapter.js';

/** What the grace window needs. @internal */
export interface RefreshGraceSettings {
  /** Seconds after a refresh token's rotation in which a retry with it still succeeds; 0 = off. */
  graceSeconds: number;
  /** The refresh token lifetime: how long a generation's claim must be kept, at most. */
  refreshTokenTtl: number;
  now?: () => number;
}

// The stored refresh token member naming the token it was rotated from.
const ROTATED_FROM = 'rotatedFrom';

/**
 * The id of the refresh token the current request has just rotated, if any. oidc-provider hands
 * the adapter only ids and payloads, but sets the `RotatedRefreshToken` entity on the request's
 * context (its public `Provider.ctx`) after consuming the old token and before saving its
 * successor; test/provider/upstream-models.test.ts fails if an upgrade stops doing so.
 */
const rotatedInThisRequest = (): string | undefined =>
  Provider.ctx?.oidc?.entities.RotatedRefreshToken?.jti;

/** The claim naming which successor of refresh token `id` (a token issued by rotating it) lives. */
const successorsOf = (id: string) => `rt-gen:${id}`;

/**
 * The `RefreshToken` adapter with a reuse grace window for rotated refresh tokens (as Okta's
 * grace period, Auth0's reuse interval and Hydra's graceful rotation): a mobile app whose refresh
 * response was lost (a dropped connection, a storage stall after the old token was consumed)
 * retries with the token it still holds and gets a working pair, instead of its whole grant
 * being revoked as a replay (RFC 9700 §4.14.2).
 *
 * - Within `graceSeconds` of its rotation, a consumed token is handed to oidc-provider as not
 *   consumed, unless one of its successors was already used: then it is a replay, and
 *   oidc-provider revokes the grant as usual. After the window, reuse revokes too.
 * - At most one successor chain stays alive: the first successor of a token to be used claims
 *   its place (atomically, across processes); any other successor of that token is destroyed
 *   when presented (`invalid_grant`).
 *
 * oidc-provider has no hook between finding a refresh token and refusing a consumed one, so the
 * window lives in the adapter: `find`, `consume` and `upsert` are the only calls that see it.
 *
 * @internal
 */
export function refreshTokenGrace(
  adapter: Adapter,
  store: Store,
  settings: RefreshGraceSettings,
): Adapter {
  if (settings.graceSeconds <= 0) return adapter;
  const now = () => Math.floor((settings.now ?? Date.now)() / 1000);
  // find() and consume() of one refresh run back to back; consume() only gets the id.
  const recentlyFound = new Map<string, AdapterPayload>();
  const remember = (id: string, payload: AdapterPayload) => {
    if (recentlyFound.size > 10_000) recentlyFound.clear();
    recentlyFound.set(id, payload);
  };

  const claimTtl = (payload: AdapterPayload) => {
    const exp = typeof payload.exp === 'number' ? payload.exp - now() : settings.refreshTokenTtl;
    return Math.max(settings.graceSeconds, Math.min(exp, settings.refreshTokenTtl));
  };

  /** Claims, for token `id`, its place among its parent's successors: `true` when it is theirs. */
  async function claim(id: string, payload: AdapterPayload | undefined): Promise<boolean> {
    const parent = payload?.[ROTATED_FROM];
    // A chain's first token (from a code exchange) has no siblings.
    if (!payload || typeof parent !== 'string') return true;
    return (await store.claim(successorsOf(parent), id, claimTtl(payload))) === id;
  }

  /** Whether consumed token `id` may still be used: within the window, no successor used yet. */
  async function retryAllowed(id: string, payload: AdapterPayload): Promise<boolean> {
    const consumedAt = typeof payload.consumed === 'number' ? payload.consumed : undefined;
    if (consumedAt === undefined || now() - consumedAt > settings.graceSeconds) return false;
    return (await store.claimHolder(successorsOf(id))) === undefined;
  }

  return delegateAdapter(adapter, {
    async find(id) {
      const payload = await adapter.find(id);
      if (!payload) return payload;
      remember(id, payload);
      if (!payload.consumed || !(await retryAllowed(id, payload))) return payload;
      const { consumed: _consumed, ...retry } = payload;
      return retry;
    },
    async consume(id) {
      const payload = recentlyFound.get(id) ?? (await adapter.find(id)) ?? undefined;
      recentlyFound.delete(id);
      // The claim is sent with the consume, not after it, so the window adds no round trip.
      // Claiming for a token whose consume then fails is harmless: a claim by the same token
      // is idempotent, and a token that cannot be consumed issues no successor.
      const [consumed, claimed] = await Promise.allSettled([
        adapter.consume(id),
        claim(id, payload),
      ]);
      if (consumed.status === 'rejected') {
        const error: unknown = consumed.reason;
        // The retry of a rotation within the window: the token is consumed already.
        const stored = error instanceof AlreadyConsumedError ? await adapter.find(id) : undefined;
        if (!stored || !(await retryAllowed(id, stored)) || !(await claim(id, stored))) throw error;
        return;
      }
      if (claimed.status === 'rejected') throw claimed.reason;
      if (!claimed.value) {
        // Another successor of the same token was used first: this chain is dead.
        await adapter.destroy(id);
        const refused = new errors.InvalidGrant();
        refused.error_description = 'another refresh token from the same retried rotation was used';
        throw refused;
      }
    },
    async upsert(id, payload, expiresIn) {
      const rotatedFrom = rotatedInThisRequest();
      const linked =
        rotatedFrom && rotatedFrom !== id ? { ...payload, [ROTATED_FROM]: rotatedFrom } : payload;
      await adapter.upsert(id, linked, expiresIn);
    },
  });
}
