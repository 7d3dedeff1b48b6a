// The bench's baseline: bare oidc-provider configured as the library configures it
// (lib/provider/configuration.ts, for the fixture's options in bench/server.ts), minus what the
// library adds (the DCR gate, instance registration policy, templates, assurance levels, device
// tracking, its store and middleware). Each setting names the library setting it mirrors.
import { randomBytes } from 'node:crypto';
import type { ServerKeys } from 'mobile-oidc-provider';
import {
  type Adapter,
  type AdapterFactory,
  type AdapterPayload,
  type ClientMetadata,
  type Configuration,
  errors,
} from 'oidc-provider';
import { DEFAULTS } from '../lib/options/defaults.js';
import { GRANT_BOUND_MODELS } from '../lib/provider/adapter.js';
import {
  APP_REDIRECT_URI,
  FALLBACK_CLIENT_ID,
  FALLBACK_CLIENT_SECRET,
  RESOURCE_SERVER_ID,
  RESOURCE_SERVER_SECRET,
  testAccounts,
} from '../test/helpers/fixture.js';
import { BARE_INITIAL_ACCESS_TOKEN } from './protocol.js';

/** The fixture's `scopes` option. */
const SCOPES = ['openid', 'profile', 'email', 'offline_access', 'devices', 'payments'];
/** `registration.dcrToken` as bench/server.ts sets it for the library: scope and lifetime. */
export const DCR_TOKEN = { scope: 'dcr', ttl: 3600 } as const;

/** Models whose records belong to a grant and are revoked with it: oidc-provider's own list. */
const GRANT_MODELS: ReadonlySet<string> = new Set(GRANT_BOUND_MODELS);

/** A stored record and when it expires (ms since the epoch; none: never). */
interface Entry {
  payload: AdapterPayload;
  expiresAt?: number;
}

/**
 * The bare target's store: oidc-provider's own in-memory adapter's semantics (records handed out
 * as stored, consume marks the record, expiry, a grant's tokens revoked with it, sessions by uid,
 * device codes by user code) on Maps, with each grant's members in a Set. Not oidc-provider's own
 * adapter: it rescans every member of a grant on each save (memory_adapter.js setGrantMembers),
 * and a refresh chain rotates thousands of times in one grant, so bare would pay a cost that
 * grows with every round and no production store pays.
 */
export function bareMemoryAdapter(): AdapterFactory {
  const records = new Map<string, Entry>();
  const grants = new Map<string, Set<string>>();
  const byUid = new Map<string, string>();
  const byUserCode = new Map<string, string>();
  const live = (key: string): Entry | undefined => {
    const entry = records.get(key);
    if (entry?.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      remove(key);
      return undefined;
    }
    return entry;
  };
  const remove = (key: string) => {
    const entry = records.get(key);
    records.delete(key);
    const grantId = entry?.payload.grantId;
    if (grantId) grants.get(grantId)?.delete(key);
  };
  return (model: string): Adapter => {
    const keyOf = (id: string) => `${model}:${id}`;
    return {
      async upsert(id, payload, expiresIn) {
        const key = keyOf(id);
        const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : undefined;
        records.set(key, expiresAt === undefined ? { payload } : { payload, expiresAt });
        if (model === 'Session' && payload.uid) byUid.set(payload.uid, id);
        if (payload.userCode) byUserCode.set(payload.userCode, id);
        const { grantId } = payload;
        if (grantId && GRANT_MODELS.has(model)) {
          const members = grants.get(grantId) ?? new Set<string>();
          members.add(key);
          grants.set(grantId, members);
        }
      },
      async find(id) {
        return live(keyOf(id))?.payload;
      },
      async findByUid(uid) {
        const id = byUid.get(uid);
        return id === undefined ? undefined : live(keyOf(id))?.payload;
      },
      async findByUserCode(userCode) {
        const id = byUserCode.get(userCode);
        return id === undefined ? undefined : live(keyOf(id))?.payload;
      },
      async consume(id) {
        const entry = live(keyOf(id));
        if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
      },
      async destroy(id) {
        remove(keyOf(id));
      },
      async revokeByGrantId(grantId) {
        for (const key of grants.get(grantId) ?? []) records.delete(key);
        grants.delete(grantId);
      },
    };
  };
}

/** The client of the bare-static target: an install's metadata, configured instead of registered. */
export const BARE_STATIC_CLIENT = {
  client_id: 'bench-static-install',
  client_secret: 'bench-static-install-secret-0123456789abcdefghijklmn',
} as const;

/** oidc-provider's configuration for the bare target at `issuer`, signing with `keys`. */
export function bareConfiguration(
  issuer: string,
  keys: ServerKeys,
  adapter: AdapterFactory,
  options: { staticInstall?: boolean } = {},
): Configuration {
  // The registration endpoint's URL: the library's `registrationResource`.
  const registrationResource = new URL('/reg', issuer).href;
  const accounts = testAccounts();
  const ttl = DEFAULTS.ttl;
  const clients: ClientMetadata[] = [
    // staticClients(): the fixture's resource server, given every scope but dcr.
    {
      client_id: RESOURCE_SERVER_ID,
      client_secret: RESOURCE_SERVER_SECRET,
      grant_types: [],
      response_types: [],
      redirect_uris: [],
      scope: SCOPES.join(' '),
    },
    // staticClients(): the fixture's client_credentials (fallback) client, given the dcr scope.
    {
      client_id: FALLBACK_CLIENT_ID,
      client_secret: FALLBACK_CLIENT_SECRET,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: DCR_TOKEN.scope,
    },
    // bare-static: an install as a configured client, as a deployment without DCR would have it.
    ...(options.staticInstall
      ? [{ ...BARE_STATIC_CLIENT, ...bareInstanceMetadata(APP_REDIRECT_URI) } as ClientMetadata]
      : []),
  ];
  return {
    // adapter: options.store → an in-memory adapter with oidc-provider's semantics (bareMemoryAdapter).
    adapter,
    // jwks, cookies.keys: the same generated keys as the library target (options.jwks, cookieKeys).
    jwks: keys.jwks,
    cookies: { keys: keys.cookieKeys },
    clients,
    // scopes: options.scopes plus the dcr scope.
    scopes: [...SCOPES, DCR_TOKEN.scope],
    // claims: options.claims (the library's default claims per scope).
    claims: Object.fromEntries(Object.entries(DEFAULTS.claims).map(([k, v]) => [k, [...v]])),
    // responseTypes, pkce, clientDefaults, clientBasedCORS: as the library sets them.
    responseTypes: ['code'],
    pkce: { required: () => true },
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    clientBasedCORS: () => false,
    // extraClientMetadata: the library's, less its private instance record.
    extraClientMetadata: { properties: ['software_id', 'software_version'] },
    // findAccount: options.accounts.findAccount (the fixture's users), as the library wraps it.
    async findAccount(_ctx, sub) {
      const account = await accounts.findAccount(sub);
      if (!account) return undefined;
      return { accountId: sub, claims: () => ({ ...account.claims, sub }) };
    },
    // rotateRefreshToken: always (the library's hook also checks the instance first).
    rotateRefreshToken: () => true,
    // issueRefreshToken: the library's.
    issueRefreshToken: async (_ctx, client, code) =>
      client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    // ttl: options.ttl at its defaults (the fixture sets none), as the library maps them.
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? ttl.accessToken,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? ttl.accessToken,
      AuthorizationCode: ttl.authorizationCode,
      IdToken: ttl.idToken,
      RefreshToken: ttl.refreshToken,
      Grant: ttl.grant,
      Session: ttl.session,
      Interaction: ttl.interaction,
      InitialAccessToken: 60,
      DeviceCode: 600,
      BackchannelAuthenticationRequest: 600,
      PreAuthorizedCode: 600,
    },
    features: {
      devInteractions: { enabled: false },
      // registration: open with one fixed initial access token instead of the DCR gate's
      // one-request tokens; no policy (the bench sends the metadata the instance rules fill in).
      registration: {
        enabled: true,
        initialAccessToken: BARE_INITIAL_ACCESS_TOKEN,
        issueRegistrationAccessToken: true,
        secretFactory: async () => randomBytes(32).toString('base64url'),
      },
      registrationManagement: { enabled: true, rotateRegistrationAccessToken: true },
      // clientCredentials: on, as the library turns it on for fallback clients.
      clientCredentials: { enabled: true },
      // introspection: the library's allowedPolicy, the fixture's resource server.
      introspection: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => {
          if (client.clientId === RESOURCE_SERVER_ID) return true;
          if (client.clientAuthMethod === 'none') return false;
          return token.clientId === client.clientId;
        },
      },
      // revocation: the library's allowedPolicy.
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      // resourceIndicators: the library's, for a server without APIs: the client_credentials
      // client's tokens are DCR tokens (opaque, audience the registration endpoint).
      resourceIndicators: {
        enabled: true,
        useGrantedResource: async () => false,
        defaultResource: async (_ctx, client, oneOf) =>
          oneOf ?? (client.clientId === FALLBACK_CLIENT_ID ? registrationResource : undefined),
        getResourceServerInfo: async (_ctx, resource, client) => {
          if (resource !== registrationResource || client.clientId !== FALLBACK_CLIENT_ID) {
            throw new errors.InvalidTarget();
          }
          return {
            scope: DCR_TOKEN.scope,
            audience: registrationResource,
            accessTokenTTL: DCR_TOKEN.ttl,
            accessTokenFormat: 'opaque',
          };
        },
      },
      // rpInitiatedLogout: on (the library adds its own pages).
      rpInitiatedLogout: { enabled: true },
    } as Configuration['features'],
  };
}

/**
 * The metadata a bare registration sends: what the library's instance rules fill in for
 * `{ redirect_uris }` (native, code + refresh, client_secret_basic, every scope but dcr).
 */
export function bareInstanceMetadata(redirectUri: string): Record<string, unknown> {
  return {
    redirect_uris: [redirectUri],
    application_type: 'native',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: SCOPES.join(' '),
  };
}
