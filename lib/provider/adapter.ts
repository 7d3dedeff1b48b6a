import { randomUUID } from 'node:crypto';
import { type Adapter, type AdapterFactory, type AdapterPayload, errors } from 'oidc-provider';
import { StorageUnavailableError } from '../storage/guard.js';
import { AlreadyConsumedError, type Store } from '../storage/store.js';

/**
 * Models whose records belong to a grant and go when it is revoked: oidc-provider's models with a
 * static `revokeByGrantId` (test/provider/upstream-models.test.ts compares them at every upgrade).
 *
 * @internal
 */
export const GRANT_BOUND_MODELS = [
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
] as const;

const clientGrantsIndex = (clientId: string) => `client-grants:${clientId}`;
const clientRegistrationTokensIndex = (clientId: string) => `client-rats:${clientId}`;

/**
 * Revokes every grant a client holds and every token of those grants, and its RFC 7592
 * registration access tokens.
 *
 * @internal
 */
export async function revokeClientGrants(store: Store, clientId: string): Promise<void> {
  const index = clientGrantsIndex(clientId);
  const ratIndex = clientRegistrationTokensIndex(clientId);
  const [grantIds, ratIds] = await Promise.all([store.readIndex(index), store.readIndex(ratIndex)]);
  await Promise.all([
    ...grantIds.flatMap((grantId) => [
      ...GRANT_BOUND_MODELS.map((model) => store.adapter(model).revokeByGrantId(grantId)),
      store.adapter('Grant').destroy(grantId),
    ]),
    ...ratIds.map((id) => store.adapter('RegistrationAccessToken').destroy(id)),
  ]);
  await Promise.all([store.deleteIndex(index), store.deleteIndex(ratIndex)]);
}

/**
 * Revokes a grant and every token of it, as oidc-provider does when it detects refresh token
 * reuse (with its default `revokeGrantPolicy`).
 *
 * @internal
 */
export async function revokeGrant(store: Store, grantId: string): Promise<void> {
  await Promise.all([
    ...GRANT_BOUND_MODELS.map((model) => store.adapter(model).revokeByGrantId(grantId)),
    store.adapter('Grant').destroy(grantId),
  ]);
}

/** An adapter that forwards to `adapter`, except for the methods in `overrides`. @internal */
export function delegateAdapter(adapter: Adapter, overrides: Partial<Adapter>): Adapter {
  return {
    upsert: (id, payload, expiresIn) => adapter.upsert(id, payload, expiresIn),
    find: (id) => adapter.find(id),
    findByUid: (uid) => adapter.findByUid(uid),
    findByUserCode: (userCode) => adapter.findByUserCode(userCode),
    consume: (id) => adapter.consume(id),
    destroy: (id) => adapter.destroy(id),
    revokeByGrantId: (grantId) => adapter.revokeByGrantId(grantId),
    ...overrides,
  };
}

// Longer than oidc-provider's window for DPoP proofs and attestation PoPs (300 s) plus skew.
const REPLAY_CLAIM_TTL = 600;

/**
 * oidc-provider's replay detection (DPoP proofs, client assertions, Client Attestation PoPs) finds
 * a jti, then saves it: two parallel requests with one jti, even on two processes, would both pass.
 * Here finding claims the jti atomically in the store, so exactly one of them sees it as new.
 * test/attestation/attest-client-auth.system.test.ts races one PoP over two processes.
 */
function atomicReplayDetection(adapter: Adapter, store: Store): Adapter {
  return delegateAdapter(adapter, {
    async find(id) {
      // Claimed now: still not new if a record saved earlier outlived its claim.
      const claimant = randomUUID();
      if ((await store.claim(`replay-detection:${id}`, claimant, REPLAY_CLAIM_TTL)) === claimant) {
        return adapter.find(id);
      }
      const iat = Math.floor(Date.now() / 1000);
      return (
        (await adapter.find(id)) ?? {
          jti: id,
          kind: 'ReplayDetection',
          iat,
          exp: iat + REPLAY_CLAIM_TTL,
        }
      );
    },
  });
}

/**
 * The initial access tokens' adapter. The only ones ever made are the DCR gate's: minted, read and
 * destroyed within one registration request in this process (bridge.ts), so they stay in this
 * process's memory and cost the shared store nothing.
 */
function requestLocalAdapter(now: () => number = Date.now): Adapter {
  const records = new Map<string, { payload: AdapterPayload; expiresAt: number }>();
  const live = (id: string) => {
    const record = records.get(id);
    if (!record || record.expiresAt > now()) return record;
    records.delete(id);
    return undefined;
  };
  const unsupported = async () => {
    throw new Error('initial access tokens are only ever found by id');
  };
  return {
    async upsert(id, payload, expiresIn) {
      // A request that died before its `finally` leaves one behind: drop the expired now and then.
      if (records.size > 100) for (const key of records.keys()) live(key);
      records.set(id, { payload: { ...payload }, expiresAt: now() + (expiresIn ?? 60) * 1000 });
    },
    find: async (id) => {
      const record = live(id);
      return record && { ...record.payload };
    },
    async destroy(id) {
      records.delete(id);
    },
    async consume(id) {
      const record = live(id);
      if (record) record.payload.consumed = Math.floor(now() / 1000);
    },
    findByUid: unsupported,
    findByUserCode: unsupported,
    revokeByGrantId: async () => {},
  };
}

/**
 * An outage as oidc-provider's own error class, which some of its steps test for; so not a
 * MobileOidcProviderError: oidc-provider renders it, and its `cause` is the library's error.
 */
class TemporarilyUnavailable extends errors.OIDCProviderError {
  constructor(cause: StorageUnavailableError) {
    super(503, 'temporarily_unavailable', { cause });
    // OIDCProviderError hides every 5xx as server_error; this one is meant for the client.
    this.expose = true;
    Object.assign(this, { error_description: cause.error_description });
  }
}

/** The store's errors in oidc-provider's terms. @internal */
export function asProviderError(error: unknown): unknown {
  // A lost consume race: the code or refresh token was already used (RFC 6749 §5.2).
  if (error instanceof AlreadyConsumedError)
    return new errors.InvalidGrant('grant request is invalid');
  // oidc-provider rethrows its own errors where it wraps others (e.g. validating an
  // id_token_hint at logout), so an outage stays a 503 there too.
  if (error instanceof StorageUnavailableError) return new TemporarilyUnavailable(error);
  return error;
}

const rethrowAsProviderError = (error: unknown): never => {
  throw asProviderError(error);
};

/** `adapter` with every error it throws in oidc-provider's terms. */
function speakingProvider(adapter: Adapter): Adapter {
  // A rejection handler rather than an async wrapper: one promise reaction per store call.
  const translated =
    <A extends unknown[], R>(method: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      method(...args).catch(rethrowAsProviderError);
  return {
    upsert: translated((id, payload, expiresIn) => adapter.upsert(id, payload, expiresIn)),
    find: translated((id) => adapter.find(id)),
    findByUid: translated((uid) => adapter.findByUid(uid)),
    findByUserCode: translated((userCode) => adapter.findByUserCode(userCode)),
    consume: translated((id) => adapter.consume(id)),
    destroy: translated((id) => adapter.destroy(id)),
    revokeByGrantId: translated((grantId) => adapter.revokeByGrantId(grantId)),
  };
}

/**
 * The adapter factory handed to oidc-provider. It adds what oidc-provider leaves out:
 * grants of dynamic clients are indexed by client, and destroying a client (RFC 7592 DELETE, instance revocation)
 * first revokes all its grants and tokens — oidc-provider itself deletes only the record.
 *
 * @internal
 */
export function providerAdapterFactory(
  guardedStore: Store,
  staticClientIds: ReadonlySet<string>,
  wrap: {
    Client?: (adapter: Adapter) => Adapter;
    RefreshToken?: (adapter: Adapter) => Adapter;
    AccessToken?: (adapter: Adapter) => Adapter;
    AuthorizationCode?: (adapter: Adapter) => Adapter;
  } = {},
): AdapterFactory {
  const initialAccessTokens = requestLocalAdapter();
  return (model: string) => speakingProvider(modelAdapter(model));

  function modelAdapter(model: string): Adapter {
    if (model === 'InitialAccessToken') return initialAccessTokens;
    const adapter = guardedStore.adapter(model);
    if (model === 'Grant') {
      return delegateAdapter(adapter, {
        async upsert(id: string, payload: AdapterPayload, expiresIn?: number) {
          // Index first: a stale index entry is harmless, an unindexed grant escapes revocation.
          // Static clients are never deleted, so their (many) grants need no index.
          if (payload.clientId && !staticClientIds.has(payload.clientId)) {
            await guardedStore.addToIndex(clientGrantsIndex(payload.clientId), id, expiresIn);
          }
          await adapter.upsert(id, payload, expiresIn);
        },
      });
    }
    if (model === 'RegistrationAccessToken') {
      return delegateAdapter(adapter, {
        async upsert(id: string, payload: AdapterPayload, expiresIn?: number) {
          if (payload.clientId) {
            const index = clientRegistrationTokensIndex(payload.clientId);
            await guardedStore.addToIndex(index, id, expiresIn);
          }
          await adapter.upsert(id, payload, expiresIn);
        },
      });
    }
    if (model === 'ReplayDetection') return atomicReplayDetection(adapter, guardedStore);
    if (model === 'RefreshToken' && wrap.RefreshToken) return wrap.RefreshToken(adapter);
    if (model === 'AccessToken' && wrap.AccessToken) return wrap.AccessToken(adapter);
    if (model === 'AuthorizationCode' && wrap.AuthorizationCode) {
      return wrap.AuthorizationCode(adapter);
    }
    if (model === 'Client') {
      const client = wrap.Client ? wrap.Client(adapter) : adapter;
      return delegateAdapter(client, {
        async destroy(id: string) {
          await revokeClientGrants(guardedStore, id);
          await client.destroy(id);
        },
      });
    }
    return adapter;
  }
}
