import { randomUUID } from 'node:crypto';
import type { Context } from 'koa';
import Provider, { type Adapter, type AdapterPayload, errors } from 'oidc-provider';
import type { Store } from '../storage/store.js';
import { AlreadyConsumedError } from '../storage/store.js';
import { asProviderError, delegateAdapter, revokeGrant } from './adapter.js';
import { protocolFailure, serverError } from './bridge.js';
import type {
  RefreshTokenRetryEvent,
  RefreshTokenReuseEvent,
  RefreshTokenReuseReason,
} from './refresh-events.js';

/** What the grace window needs. @internal */
export interface RefreshGraceSettings {
  /** Seconds after a refresh token's rotation in which a retry with it still succeeds; 0 = off. */
  graceSeconds: number;
  /** How many retries a rotated token gets within the window; 0 = off. */
  reuseLimit: number;
  /** The clock, in ms since the epoch, for the window (tests inject one). */
  now?: () => number;
  /** Told of each use taken for theft, once its grant is revoked; never given a token value. */
  onReuse?: (event: RefreshTokenReuseEvent) => void;
  /** Told of each retry allowed within the window; never given a token value. */
  onRetry?: (event: RefreshTokenRetryEvent) => void;
}

// The stored refresh token member naming the token it was rotated from: a chain's lineage, for
// whoever investigates a theft.
const ROTATED_FROM = 'rotatedFrom';

/**
 * The id of the refresh token the current request has just rotated, if any. oidc-provider hands
 * the adapter only ids and payloads, but sets the `RotatedRefreshToken` entity on the request's
 * context (its public `Provider.ctx`) after consuming the old token and before saving its
 * successor; test/provider/upstream-models.test.ts fails if an upgrade stops doing so.
 */
const rotatedInThisRequest = (): string | undefined =>
  Provider.ctx?.oidc?.entities.RotatedRefreshToken?.jti;

/**
 * The claim naming the live successor of refresh token `id` (the token its rotation issued, last
 * retry's first) and its access token, as `rt at`; or {@link RETIRED} when `id` itself was
 * retired unused by a retry of the token it was rotated from. Registered by `id`'s first use.
 */
const liveSuccessorOf = (id: string) => `rt-live:${id}`;

/** The count of retries of refresh token `id` within its window. */
const retriesOf = (id: string) => `rt-retries:${id}`;

/** The claim of reporting the theft of grant `grantId`: once, though several requests find it. */
const reportOf = (grantId: string) => `rt-reuse-reported:${grantId}`;

// Not a token id (those are base64url): a successor retired by a retry of its parent.
const RETIRED = '!retired';

// A window's records outlive it by this much, so processes whose clocks disagree still agree.
const CLOCK_MARGIN_SECONDS = 60;

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

/** What a request issues with a rotation, for the rotated token's consume to register. */
interface Issued {
  /** The successor refresh token's id. */
  refreshToken?: string;
  /** The new access token's id, when it is stored. */
  accessToken?: string;
  /** Settles once this request's writes did: `true` when they all landed. */
  written: Promise<boolean>;
}

/** One held-back write and how to take it back. */
interface HeldWrite {
  write: () => Promise<void>;
  undo: () => Promise<void>;
}

/** The writes of one token request, held back to reach the store together. */
interface HeldRotation {
  /** Consumes the grant source (a rotated token also claims its place among its successors). */
  consume: (issued: Issued) => Promise<void>;
  /** The successor refresh token, once oidc-provider saved it. */
  successor?: HeldWrite & { id: string };
}

interface RefreshState {
  prefetched?: { id: string; found: Promise<AdapterPayload | undefined> };
  held?: HeldRotation;
  /** A refresh token this request presented that oidc-provider is about to treat as reused. */
  reused?: { id: string; payload: AdapterPayload; reason: RefreshTokenReuseReason };
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
  alongside?: HeldWrite & { accessToken?: string },
): Promise<void> {
  const writes = [held.successor, alongside].filter((w) => w !== undefined);
  const writing = Promise.allSettled(writes.map((w) => w.write()));
  const [consumed, written] = await Promise.all([
    held
      .consume({
        refreshToken: held.successor?.id,
        accessToken: alongside?.accessToken,
        written: writing.then((results) => results.every((r) => r.status === 'fulfilled')),
      })
      .then(
        () => undefined,
        (error: unknown) => ({ error }),
      ),
    writing,
  ]);
  if (consumed) {
    await Promise.allSettled(writes.map((w) => w.undo()));
    throw consumed.error;
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
 *   {@link RefreshRotation.completeHeld} before its response is sent; one that fails before that
 *   writes nothing at all, and its refresh token or code stays usable.
 * - **Grace window** (as Okta's grace period, Auth0's reuse interval and Hydra's graceful
 *   rotation): a mobile app whose refresh response was lost (a dropped connection, a storage
 *   stall after the old token was consumed) retries with the token it still holds and gets a
 *   working pair, instead of its whole grant being revoked as a replay (RFC 9700 §4.14.2).
 *   Within `graceSeconds` of its rotation, a consumed token is handed to oidc-provider as not
 *   consumed, unless its successor was already used (or it was itself retired, below): then it
 *   is a replay, and oidc-provider revokes the grant as usual. oidc-provider has no hook between
 *   finding a refresh token and refusing a consumed one, so the window lives in the adapter.
 * - **One live successor** (as WSO2's one live child per parent): a token's first use registers
 *   its successor and access token as its live successor (a claim sent with the consume, no
 *   extra round trip). A retry takes one of `reuseLimit` uses (counted atomically in the store,
 *   so a burst of parallel uses gets at most `1 + reuseLimit` pairs, across processes), becomes
 *   the live successor with one atomic `replaceClaim`, and retires the one it displaced: marks
 *   it retired, consumes it and destroys its access token. The displacements form one line, so
 *   afterwards only the newest pair works.
 * - **Theft**: two different successors of one rotation presented, a retired one used, or a
 *   retry after the successor was used, revokes the whole grant and reports
 *   `refresh_token.reuse_detected` (ids, never a token value), once per grant. A retry beyond
 *   the limit is only refused: a client's own burst of parallel refreshes is no theft.
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
          // oidc-provider types a find as `… | void`; it resolves to a payload or undefined.
          const found = store.adapter(held.model).find(token) as Promise<
            AdapterPayload | undefined
          >;
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
          accessToken: id,
        });
      },
    });
  }

  /**
   * Completes a rotation still held back once the token endpoint has answered (its access token
   * was not stored), before the answer is sent; if that fails, the answer becomes the error. A
   * refresh that failed drops what it held: nothing was issued. Run by the engine's boundary
   * after every request, whether it succeeded or threw.
   */
  async completeHeld(ctx: Context): Promise<void> {
    const holder = ctx as unknown as WithRefreshState;
    const state = holder[ROTATION];
    if (!state) return;
    const { held } = state;
    state.held = undefined;
    if (!held || ctx.status !== 200) return;
    try {
      await completeRotation(held);
    } catch (error) {
      const failure = protocolFailure(asProviderError(error)) ?? serverError();
      ctx.set('Cache-Control', 'no-store');
      ({ status: ctx.status, body: ctx.body } = failure);
    }
  }

  /** The `RefreshToken` adapter (see the class). */
  refreshToken(adapter: Adapter): Adapter {
    const reuse = new RefreshTokenReuse(adapter, this.#store, this.#settings);
    return delegateAdapter(adapter, {
      find: (id) => reuse.find(id),
      consume: (id) => reuse.consume(id),
      revokeByGrantId: (grantId) => reuse.revokeByGrantId(grantId),
      upsert: (id, payload, expiresIn) => reuse.upsert(id, payload, expiresIn),
    });
  }
}

/**
 * The reuse rules of one `RefreshToken` adapter: retries within the grace window, theft
 * (revoking the grant), and the successor a rotation registers (see {@link RefreshRotation}).
 */
class RefreshTokenReuse {
  readonly #adapter: Adapter;
  readonly #store: Store;
  readonly #settings: RefreshGraceSettings;
  readonly #graceOn: boolean;
  // A window's own records (live successors, retry counts) matter only within it.
  readonly #windowTtl: number;
  readonly #accessTokens: Adapter;
  // find() and consume() of one refresh run back to back; consume() only gets the id.
  readonly #recentlyFound = new Map<string, AdapterPayload>();

  constructor(adapter: Adapter, store: Store, settings: RefreshGraceSettings) {
    this.#adapter = adapter;
    this.#store = store;
    this.#settings = settings;
    this.#graceOn = settings.graceSeconds > 0 && settings.reuseLimit > 0;
    this.#windowTtl = settings.graceSeconds + CLOCK_MARGIN_SECONDS;
    this.#accessTokens = store.adapter('AccessToken');
  }

  #now(): number {
    return Math.floor((this.#settings.now ?? Date.now)() / 1000);
  }

  #remember(id: string, payload: AdapterPayload): void {
    if (this.#recentlyFound.size > 10_000) this.#recentlyFound.clear();
    this.#recentlyFound.set(id, payload);
  }

  /**
   * Tells of a use taken for theft: ids only, never a token value. Once per grant, though a
   * thief's and an app's requests may each find the theft.
   */
  async #report(payload: AdapterPayload, reason: RefreshTokenReuseReason) {
    const { clientId, grantId, accountId } = payload;
    const { onReuse } = this.#settings;
    if (!onReuse || typeof clientId !== 'string' || typeof grantId !== 'string') return;
    const reporter = randomUUID();
    const claimed = await this.#store.claim(reportOf(grantId), reporter, this.#windowTtl);
    if (claimed !== reporter) return;
    onReuse({
      clientId,
      grantId,
      ...(typeof accountId === 'string' ? { accountId } : {}),
      reason,
    });
  }

  /** Tells of a retry allowed within the window: ids only. */
  #retried(payload: AdapterPayload): void {
    const { clientId, grantId, accountId } = payload;
    const { onRetry } = this.#settings;
    if (!onRetry || typeof clientId !== 'string' || typeof grantId !== 'string') return;
    onRetry({ clientId, grantId, ...(typeof accountId === 'string' ? { accountId } : {}) });
  }

  /** Theft found after oidc-provider's own reuse check: revokes the grant here, and refuses. */
  async #theft(payload: AdapterPayload, reason: RefreshTokenReuseReason): Promise<never> {
    if (typeof payload.grantId === 'string') await revokeGrant(this.#store, payload.grantId);
    await this.#report(payload, reason);
    const refused = new errors.InvalidGrant('refresh token reuse detected');
    refused.error_description = 'refresh token reuse detected; the grant is revoked';
    throw refused;
  }

  /**
   * Whether consumed token `id` may be used again as a retry (within the window, its live
   * successor unused, not itself retired), or why its use is reuse.
   */
  async #retryVerdict(
    id: string,
    payload: AdapterPayload,
  ): Promise<'retry' | RefreshTokenReuseReason> {
    if (!this.#graceOn) return 'outside_grace_window';
    const live = await this.#store.claimHolder(liveSuccessorOf(id));
    if (live === RETIRED) return 'superseded_successor_used';
    const consumedAt = typeof payload.consumed === 'number' ? payload.consumed : undefined;
    if (consumedAt === undefined || this.#now() - consumedAt > this.#settings.graceSeconds) {
      return 'outside_grace_window';
    }
    // No successor registered: the rotation failed after its consume (a storage stall).
    const successor = live?.split(' ')[0];
    if (!successor) return 'retry';
    // A successor that was used has registered its own successor.
    const next = await this.#store.claimHolder(liveSuccessorOf(successor));
    return next === undefined || next === RETIRED ? 'retry' : 'successor_used';
  }

  /**
   * Retires `previous` (`rt at`), the successor a retry displaced: marked first, so that its
   * use, or a use of it losing the consume to this, is known as theft; then consumed, and its
   * access token destroyed. If it was used already, two successors of one rotation are in use.
   */
  async #retire(previous: string | undefined, payload: AdapterPayload): Promise<void> {
    if (previous === RETIRED) await this.#theft(payload, 'superseded_successor_used');
    const [refreshToken, accessToken] = previous?.split(' ') ?? [];
    if (!refreshToken) return;
    if (
      (await this.#store.claim(liveSuccessorOf(refreshToken), RETIRED, this.#windowTtl)) !== RETIRED
    ) {
      await this.#theft(payload, 'second_successor_used');
    }
    const [consumed, destroyed] = await Promise.allSettled([
      this.#adapter.consume(refreshToken),
      accessToken ? this.#accessTokens.destroy(accessToken) : undefined,
    ]);
    if (consumed.status === 'rejected') {
      if (consumed.reason instanceof AlreadyConsumedError) {
        await this.#theft(payload, 'second_successor_used');
      }
      throw consumed.reason;
    }
    if (destroyed.status === 'rejected') throw destroyed.reason;
  }

  /**
   * A rotation whose consume found token `id` consumed: a retry within the window (a bounded
   * number of them) becomes the live successor and retires the one before; anything else is
   * refused, and reuse revokes the grant.
   */
  async #retry(
    id: string,
    consumeError: unknown,
    issued: Issued,
    registered: PromiseSettledResult<string | undefined>,
  ): Promise<void> {
    // Without a window a lost race is only that: the winner's tokens live on.
    if (!this.#graceOn || !(consumeError instanceof AlreadyConsumedError)) throw consumeError;
    const stored = await this.#adapter.find(id);
    if (!stored) throw consumeError;
    const verdict = await this.#retryVerdict(id, stored);
    if (verdict !== 'retry') await this.#theft(stored, verdict);
    if (!(await this.#store.takeUse(retriesOf(id), this.#settings.reuseLimit, this.#windowTtl))) {
      const refused = new errors.InvalidGrant('refresh token retried too often');
      refused.error_description = 'refresh token reused too often within its grace window';
      throw refused;
    }
    this.#retried(stored);
    const live = liveValue(issued);
    // Registered only once written, so whoever displaces it later finds its tokens to retire.
    if (!live || !(await issued.written)) return;
    if (registered.status === 'fulfilled' && registered.value === live) return;
    await this.#retire(
      await this.#store.replaceClaim(liveSuccessorOf(id), live, this.#windowTtl),
      stored,
    );
  }

  /** Consumes token `id` and registers its successor as the live one, in one round trip. */
  async #consumeAndRegister(
    id: string,
    payload: AdapterPayload | undefined,
    issued: Issued,
  ): Promise<void> {
    const live = this.#graceOn ? liveValue(issued) : undefined;
    const [consumed, registered] = await Promise.allSettled([
      this.#adapter.consume(id),
      live ? this.#store.claim(liveSuccessorOf(id), live, this.#windowTtl) : undefined,
    ]);
    if (consumed.status === 'rejected') return this.#retry(id, consumed.reason, issued, registered);
    if (registered.status === 'rejected') throw registered.reason;
    if (!live || registered.value === live) return;
    // Retired by a retry of the token it was rotated from: the thief's and the app's
    // successors of one rotation are both in use.
    if (registered.value === RETIRED) await this.#theft(payload ?? {}, 'superseded_successor_used');
    // A parallel use of the same token, retrying, registered first: this one displaces it.
    await this.#retire(
      await this.#store.replaceClaim(liveSuccessorOf(id), live, this.#windowTtl),
      payload ?? {},
    );
  }

  /** Finds a refresh token; a consumed one is a retry within the window, or reuse. */
  async find(id: string): Promise<AdapterPayload | undefined> {
    const state = refreshState('refresh_token');
    const prefetched = state?.prefetched;
    let payload: AdapterPayload | undefined;
    if (state && prefetched?.id === id) {
      state.prefetched = undefined;
      payload = (await prefetched.found) ?? undefined;
    } else {
      payload = (await this.#adapter.find(id)) ?? undefined;
    }
    if (!payload) return undefined;
    this.#remember(id, payload);
    if (!payload.consumed) return payload;
    const verdict = await this.#retryVerdict(id, payload);
    if (verdict === 'retry') {
      const { consumed: _consumed, ...retry } = payload;
      return retry;
    }
    // oidc-provider revokes the grant of a consumed token (after its own checks pass).
    if (state) state.reused = { id, payload, reason: verdict };
    return payload;
  }

  /** Consumes a refresh token: held, within a token request, until its successor is saved. */
  async consume(id: string): Promise<void> {
    const payload = this.#recentlyFound.get(id) ?? (await this.#adapter.find(id)) ?? undefined;
    this.#recentlyFound.delete(id);
    const state = refreshState('refresh_token');
    if (state && !state.held) {
      // Held until the successor and the new access token are saved (see the class).
      state.held = { consume: (issued) => this.#consumeAndRegister(id, payload, issued) };
      return;
    }
    await this.#consumeAndRegister(id, payload, { written: Promise.resolve(true) });
  }

  /** Revokes a grant's refresh tokens, reporting the reuse that made oidc-provider revoke it. */
  async revokeByGrantId(grantId: string): Promise<void> {
    await this.#adapter.revokeByGrantId(grantId);
    // oidc-provider revoking the grant of the reused token this request presented.
    const state = refreshState('refresh_token');
    const reused = state?.reused;
    if (reused && reused.payload.grantId === grantId) {
      state.reused = undefined;
      await this.#report(reused.payload, reused.reason);
    }
  }

  /** Saves a refresh token: a rotation's successor is held with the consume (see the class). */
  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const rotatedFrom = rotatedInThisRequest();
    const linked =
      rotatedFrom && rotatedFrom !== id ? { ...payload, [ROTATED_FROM]: rotatedFrom } : payload;
    const state = refreshState();
    const held = state?.held;
    const write = {
      write: () => this.#adapter.upsert(id, linked, expiresIn),
      undo: () => this.#adapter.destroy(id),
    };
    if (held && !held.successor && rotatedFrom && rotatedFrom !== id) {
      held.successor = { ...write, id };
      return;
    }
    if (state && held) {
      // A code exchange whose access token was not stored (a JWT): the code is consumed
      // with the refresh token instead.
      state.held = undefined;
      await completeRotation(held, write);
      return;
    }
    await this.#adapter.upsert(id, linked, expiresIn);
  }
}

/** How a successor and its access token are named in a live-successor claim. */
const liveValue = (issued: Issued): string | undefined =>
  issued.refreshToken &&
  (issued.accessToken ? `${issued.refreshToken} ${issued.accessToken}` : issued.refreshToken);
