import type { Middleware } from 'koa';
import Provider, { type Adapter, type AdapterPayload, errors } from 'oidc-provider';
import type { Store } from '../storage/store.js';
import { AlreadyConsumedError } from '../storage/store.js';
import { asProviderError, delegateAdapter } from './adapter.js';
import { protocolFailure, serverError } from './bridge.js';

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
 * Where a token request's held-back writes and prefetched grant source live: on oidc-provider's
 * request context, so they end with the request. Only for a refresh or a code exchange at the
 * token endpoint.
 */
const ROTATION = Symbol('mobile-oidc-provider.rotation');

/** The grants whose source (a refresh token, a code) is read early and consumed late. */
const HELD_GRANTS = {
  refresh_token: { model: 'RefreshToken', param: 'refresh_token' },
  authorization_code: { model: 'AuthorizationCode', param: 'code' },
} as const;
type HeldGrant = keyof typeof HELD_GRANTS;

/** The writes of one token request, held back to reach the store together. */
interface HeldRotation {
  /** Consumes the grant source (a rotated token also claims its place among its successors). */
  consume: () => Promise<void>;
  /** The successor refresh token, once oidc-provider saved it. */
  successor?: { write: () => Promise<void>; undo: () => Promise<void> };
}

interface RefreshState {
  prefetched?: { id: string; found: Promise<AdapterPayload | undefined | void> };
  held?: HeldRotation;
}

type WithRefreshState = { [ROTATION]?: RefreshState };

/** The current request's state, when it is a token request of `grant` (either, by default). */
function refreshState(grant?: HeldGrant): RefreshState | undefined {
  const ctx = Provider.ctx;
  const grantType = ctx?.oidc?.params?.grant_type;
  if (ctx?.oidc?.route !== 'token' || typeof grantType !== 'string') return;
  if (grant ? grantType !== grant : !Object.hasOwn(HELD_GRANTS, grantType)) return;
  const holder = ctx as unknown as WithRefreshState;
  holder[ROTATION] ??= {};
  return holder[ROTATION];
}

/**
 * Runs what a rotation held back, together with `alongside` (the new access token's write), in
 * one round trip. A rotated token that can't be consumed (a parallel request used it first)
 * fails the whole refresh, and what was just written for it is removed again: nobody holds those
 * tokens, and nothing half-written stays.
 */
async function completeRotation(
  held: HeldRotation,
  alongside?: {
    write: () => Promise<void>;
    undo: () => Promise<void>;
  },
): Promise<void> {
  const writes = [held.successor, alongside].filter((w) => w !== undefined);
  const [consumed, ...written] = await Promise.allSettled([
    held.consume(),
    ...writes.map((w) => w.write()),
  ]);
  if (consumed?.status === 'rejected') {
    await Promise.allSettled(writes.map((w) => w.undo()));
    throw consumed.reason;
  }
  const failed = written.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * What makes a refresh with rotation and a code exchange cheap on the store, and the refresh
 * token reuse grace window:
 *
 * - **Prefetch**: the token request's client authentication loads the client; the refresh token
 *   or code named in the same request is read together with it, in one round trip.
 * - **Held-back writes**: consuming the rotated token and saving its successor are held until
 *   the new access token is saved, and all three go to the store together (one round trip, and
 *   one grant-index write on Redis); a code's consume goes with the exchange's first stored
 *   token. The consume still decides: if it fails, the request fails and what was written for it
 *   is removed. A request whose tokens are not stored (JWT access tokens) completes them in
 *   {@link RefreshRotation.middleware} before its response is sent; one that fails before that
 *   writes nothing at all, and its refresh token or code stays usable.
 * - **Grace window** (as Okta's grace period, Auth0's reuse interval and Hydra's graceful
 *   rotation): a mobile app whose refresh response was lost (a dropped connection, a storage
 *   stall after the old token was consumed) retries with the token it still holds and gets a
 *   working pair, instead of its whole grant being revoked as a replay (RFC 9700 §4.14.2).
 *   Within `graceSeconds` of its rotation, a consumed token is handed to oidc-provider as not
 *   consumed, unless one of its successors was already used: then it is a replay, and
 *   oidc-provider revokes the grant as usual. At most one successor chain stays alive: the first
 *   successor of a token to be used claims its place (atomically, across processes); any other
 *   successor of that token is destroyed when presented (`invalid_grant`). oidc-provider has no
 *   hook between finding a refresh token and refusing a consumed one, so the window lives in the
 *   adapter.
 *
 * @internal
 */
export class RefreshRotation {
  readonly #store: Store;
  readonly #settings: RefreshGraceSettings;

  constructor(store: Store, settings: RefreshGraceSettings) {
    this.#store = store;
    this.#settings = settings;
  }

  /**
   * The `Client` adapter: reading the client of a refresh or a code exchange reads the refresh
   * token or the code named in the same request alongside.
   */
  client(adapter: Adapter): Adapter {
    const store = this.#store;
    return delegateAdapter(adapter, {
      find(id) {
        const state = refreshState();
        const grantType = Provider.ctx?.oidc?.params?.grant_type as HeldGrant;
        const held = state && HELD_GRANTS[grantType];
        const token = held && Provider.ctx?.oidc?.params?.[held.param];
        if (held && !state.prefetched && typeof token === 'string' && token.length > 0) {
          const found = store.adapter(held.model).find(token);
          // Awaited by the refresh token's own find; a failure surfaces there, not here.
          found.catch(() => {});
          state.prefetched = { id: token, found };
        }
        return adapter.find(id);
      },
    });
  }

  /**
   * The `AuthorizationCode` adapter of a code exchange: the code is read with its client, and
   * consumed with the first token the exchange saves (or, when none is stored, before the
   * response); a refused exchange spends nothing.
   */
  authorizationCode(adapter: Adapter): Adapter {
    return delegateAdapter(adapter, {
      async find(id) {
        const state = refreshState('authorization_code');
        const prefetched = state?.prefetched;
        if (!state || prefetched?.id !== id) return adapter.find(id);
        state.prefetched = undefined;
        return (await prefetched.found) ?? undefined;
      },
      async consume(id) {
        const state = refreshState('authorization_code');
        if (state && !state.held) {
          state.held = { consume: () => adapter.consume(id) };
          return;
        }
        await adapter.consume(id);
      },
    });
  }

  /**
   * The `AccessToken` adapter: the new access token of a refresh or a code exchange is saved
   * together with what the request held back.
   */
  accessToken(adapter: Adapter): Adapter {
    return delegateAdapter(adapter, {
      async upsert(id, payload, expiresIn) {
        const state = refreshState();
        const held = state?.held;
        if (!held) return adapter.upsert(id, payload, expiresIn);
        state.held = undefined;
        await completeRotation(held, {
          write: () => adapter.upsert(id, payload, expiresIn),
          undo: () => adapter.destroy(id),
        });
      },
    });
  }

  /**
   * Provider middleware: completes a rotation still held back when the token endpoint has
   * answered (its access token was not stored), before the answer is sent; if that fails, the
   * answer becomes the error. A refresh that failed drops what it held: nothing was issued.
   */
  middleware(): Middleware {
    return async function completeHeldRotation(ctx, next) {
      try {
        await next();
      } finally {
        const holder = ctx as unknown as WithRefreshState;
        const held = holder[ROTATION]?.held;
        if (holder[ROTATION]) holder[ROTATION].held = undefined;
        if (held && ctx.status === 200) {
          try {
            await completeRotation(held);
          } catch (error) {
            const failure = protocolFailure(asProviderError(error)) ?? serverError();
            ctx.set('Cache-Control', 'no-store');
            ({ status: ctx.status, body: ctx.body } = failure);
          }
        }
      }
    };
  }

  /** The `RefreshToken` adapter (see the class). */
  refreshToken(adapter: Adapter): Adapter {
    const store = this.#store;
    const settings = this.#settings;
    const graceOn = settings.graceSeconds > 0;
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
      // A chain's first token (from a code exchange) has no siblings; without a window, no
      // token has more than one successor.
      if (!graceOn || !payload || typeof parent !== 'string') return true;
      return (await store.claim(successorsOf(parent), id, claimTtl(payload))) === id;
    }

    /** Whether consumed token `id` may still be used: within the window, no successor used yet. */
    async function retryAllowed(id: string, payload: AdapterPayload): Promise<boolean> {
      const consumedAt = typeof payload.consumed === 'number' ? payload.consumed : undefined;
      if (!graceOn || consumedAt === undefined || now() - consumedAt > settings.graceSeconds) {
        return false;
      }
      return (await store.claimHolder(successorsOf(id))) === undefined;
    }

    /** Consumes token `id` and claims its place, in one round trip. */
    async function consume(id: string, payload: AdapterPayload | undefined): Promise<void> {
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
    }

    return delegateAdapter(adapter, {
      async find(id) {
        const state = refreshState('refresh_token');
        const prefetched = state?.prefetched;
        let payload: AdapterPayload | undefined | void;
        if (state && prefetched?.id === id) {
          state.prefetched = undefined;
          payload = await prefetched.found;
        } else {
          payload = await adapter.find(id);
        }
        if (!payload) return payload;
        remember(id, payload);
        if (!payload.consumed || !(await retryAllowed(id, payload))) return payload;
        const { consumed: _consumed, ...retry } = payload;
        return retry;
      },
      async consume(id) {
        const payload = recentlyFound.get(id) ?? (await adapter.find(id)) ?? undefined;
        recentlyFound.delete(id);
        const state = refreshState('refresh_token');
        if (state && !state.held) {
          // Held until the successor and the new access token are saved (see the class).
          state.held = { consume: () => consume(id, payload) };
          return;
        }
        await consume(id, payload);
      },
      async upsert(id, payload, expiresIn) {
        const rotatedFrom = rotatedInThisRequest();
        const linked =
          rotatedFrom && rotatedFrom !== id ? { ...payload, [ROTATED_FROM]: rotatedFrom } : payload;
        const state = refreshState();
        const held = state?.held;
        const write = {
          write: () => adapter.upsert(id, linked, expiresIn),
          undo: () => adapter.destroy(id),
        };
        if (held && !held.successor && rotatedFrom && rotatedFrom !== id) {
          held.successor = write;
          return;
        }
        if (state && held) {
          // A code exchange whose access token was not stored (a JWT): the code is consumed
          // with the refresh token instead.
          state.held = undefined;
          await completeRotation(held, write);
          return;
        }
        await adapter.upsert(id, linked, expiresIn);
      },
    });
  }
}
