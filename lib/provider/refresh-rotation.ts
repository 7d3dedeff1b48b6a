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

// The store model that records which token of a generation was used first.
const GENERATION_MODEL = 'RefreshTokenGeneration';

/**
 * One generation of a refresh token chain: the tokens oidc-provider issued by rotating the same
 * token (its `grantId`, the chain's initial issue time `iiat`, and `rotations`). Normally one
 * token; more only when a rotation was retried within the grace window.
 */
function generationOf(payload: AdapterPayload, offset = 0): string | undefined {
  const { grantId, iiat, rotations } = payload as {
    grantId?: string;
    iiat?: number;
    rotations?: number;
  };
  if (typeof grantId !== 'string' || typeof iiat !== 'number') return undefined;
  return `rt-gen:${grantId}:${iiat}:${(typeof rotations === 'number' ? rotations : 0) + offset}`;
}

/**
 * The `RefreshToken` adapter with a reuse grace window for rotated refresh tokens (as Okta's
 * grace period, Auth0's reuse interval and Hydra's graceful rotation): a mobile app whose refresh
 * response was lost (a dropped connection, a storage stall after the old token was consumed)
 * retries with the token it still holds and gets a working pair, instead of its whole grant
 * being revoked as a replay (RFC 9700 §4.14.2).
 *
 * - Within `graceSeconds` of its rotation, a consumed token is handed to oidc-provider as not
 *   consumed, unless a token of the next generation (a successor) was already used: then it is a
 *   replay, and oidc-provider revokes the grant as usual. After the window, reuse revokes too.
 * - At most one successor chain stays alive: the first token of a generation to be used claims
 *   it (atomically, across processes); any other token of that generation is destroyed when
 *   presented (`invalid_grant`).
 *
 * oidc-provider has no hook between finding a refresh token and refusing a consumed one, so the
 * window lives in the adapter: `find` and `consume` are the only calls that see it.
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

  /** Claims `payload`'s generation for token `id`; `true` when `id` is (now) its only live token. */
  async function claim(id: string, payload: AdapterPayload): Promise<boolean> {
    const generation = generationOf(payload);
    if (!generation) return true;
    if (await store.takeUse(generation, 1, claimTtl(payload))) {
      await generations.upsert(generation, { winner: id }, claimTtl(payload));
      return true;
    }
    return (await generations.find(generation))?.winner === id;
  }

  /** Whether a consumed token may still be used: within the window, no successor used yet. */
  async function retryAllowed(payload: AdapterPayload): Promise<boolean> {
    const consumedAt = typeof payload.consumed === 'number' ? payload.consumed : undefined;
    if (consumedAt === undefined || now() - consumedAt > settings.graceSeconds) return false;
    const next = generationOf(payload, 1);
    return next !== undefined && !(await generations.find(next));
  }

  return delegateAdapter(adapter, {
    async find(id) {
      const payload = await adapter.find(id);
      if (!payload) return payload;
      remember(id, payload);
      if (!payload.consumed || !(await retryAllowed(payload))) return payload;
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
        if (!stored || !(await retryAllowed(stored)) || !(await claim(id, stored))) throw error;
        return;
      }
      if (payload && !(await claim(id, payload))) {
        // Another token of this generation was used first: this chain is dead.
        await adapter.destroy(id);
        const refused = new errors.InvalidGrant();
        refused.error_description = 'another refresh token from the same retried rotation was used';
        throw refused;
      }
    },
  });
}
