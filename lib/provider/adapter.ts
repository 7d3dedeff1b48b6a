import { type Adapter, type AdapterFactory, type AdapterPayload, errors } from 'oidc-provider';
import { guardStore, StorageUnavailableError } from '../storage/guard.js';
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

/** An outage as oidc-provider's own error class, which some of its steps test for. */
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

/** `adapter` with every error it throws in oidc-provider's terms. */
function speakingProvider(adapter: Adapter): Adapter {
  const translated =
    <A extends unknown[], R>(method: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await method(...args);
      } catch (error) {
        throw asProviderError(error);
      }
    };
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
 * grants of dynamic clients are indexed by client, and destroying a client (RFC 7592 DELETE, device revocation)
 * first revokes all its grants and tokens — oidc-provider itself deletes only the record.
 *
 * @internal
 */
export function providerAdapterFactory(
  store: Store,
  staticClientIds: ReadonlySet<string>,
  wrap: {
    Client?: (adapter: Adapter) => Adapter;
    RefreshToken?: (adapter: Adapter) => Adapter;
    AccessToken?: (adapter: Adapter) => Adapter;
    AuthorizationCode?: (adapter: Adapter) => Adapter;
  } = {},
): AdapterFactory {
  const guardedStore = guardStore(store);
  return (model: string) => speakingProvider(modelAdapter(model));

  function modelAdapter(model: string): Adapter {
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
