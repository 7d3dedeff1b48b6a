import { AsyncLocalStorage } from 'node:async_hooks';
import type { Middleware } from 'koa';
import { type Adapter, type AdapterPayload, errors } from 'oidc-provider';
import { delegateAdapter } from '../storage/provider-adapter.js';
import type { Store } from '../storage/store.js';

/** What the grace window needs. @internal */
export interface RefreshGraceSettings {
  /** Seconds after a refresh token's rotation in which a retry with it still succeeds; 0 = off. */
  graceSeconds: number;
  /** The refresh token lifetime: how long a generation's claim must be kept, at most. */
  refreshTokenTtl: number;
  now?: () => number;
}

// The store model that records which successor of a refresh token was used first.
const GENERATION_MODEL = 'RefreshTokenGeneration';
// The stored refresh token member naming the token it was rotated from.
const ROTATED_FROM = 'rotatedFrom';

// oidc-provider consumes the old refresh token and saves its successor in one request, but hands
// the adapter only ids and payloads: the request's context carries which token was just rotated.
const rotation = new AsyncLocalStorage<{ rotatedFrom?: string }>();

/**
 * Gives each request a rotation context, so the successor a refresh saves records the token it
 * was rotated from. Install with `provider.use()` before any route runs.
 *
 * @internal
 */
export function refreshRotationContext(): Middleware {
  return function refreshRotation(_ctx, next) {
    return rotation.run({}, next);
  };
}

/** The successors of refresh token `id`: the tokens issued by rotating it. */
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
  const generations = store.adapter(GENERATION_MODEL);
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
  async function claim(id: string, payload: AdapterPayload): Promise<boolean> {
    const parent = payload[ROTATED_FROM];
    // A chain's first token (from a code exchange) has no siblings.
    if (typeof parent !== 'string') return true;
    const generation = successorsOf(parent);
    if (await store.takeUse(generation, 1, claimTtl(payload))) {
      await generations.upsert(generation, { winner: id }, claimTtl(payload));
      return true;
    }
    return (await generations.find(generation))?.winner === id;
  }

  /** Whether consumed token `id` may still be used: within the window, no successor used yet. */
  async function retryAllowed(id: string, payload: AdapterPayload): Promise<boolean> {
    const consumedAt = typeof payload.consumed === 'number' ? payload.consumed : undefined;
    if (consumedAt === undefined || now() - consumedAt > settings.graceSeconds) return false;
    return !(await generations.find(successorsOf(id)));
  }

  /** Notes in the request's context that `id` is being rotated: its successor will name it. */
  const rotating = (id: string) => {
    const context = rotation.getStore();
    if (context) context.rotatedFrom = id;
  };

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
      const payload = recentlyFound.get(id) ?? (await adapter.find(id));
      recentlyFound.delete(id);
      try {
        await adapter.consume(id);
      } catch (error) {
        // The retry of a rotation within the window: the token is consumed already.
        const stored = error instanceof errors.InvalidGrant ? await adapter.find(id) : undefined;
        if (!stored || !(await retryAllowed(id, stored)) || !(await claim(id, stored))) throw error;
        rotating(id);
        return;
      }
      if (payload && !(await claim(id, payload))) {
        // Another successor of the same token was used first: this chain is dead.
        await adapter.destroy(id);
        const refused = new errors.InvalidGrant();
        refused.error_description = 'another refresh token from the same retried rotation was used';
        throw refused;
      }
      rotating(id);
    },
    async upsert(id, payload, expiresIn) {
      const rotatedFrom = rotation.getStore()?.rotatedFrom;
      const linked =
        rotatedFrom && rotatedFrom !== id ? { ...payload, [ROTATED_FROM]: rotatedFrom } : payload;
      await adapter.upsert(id, linked, expiresIn);
    },
  });
}
