import type { ClientMetadata, Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { errors, interactionPolicy } from 'oidc-provider';
import type { AccountClaims } from '../core/accounts.js';
import { INSTANCE_FIELD } from '../core/instance-record.js';
import type { Assembly } from './assembly.js';
import { instanceRecordOf } from './loaded-client.js';
import { type MtlsSettings, mtlsFeature } from './mtls.js';
import { peekReadAhead } from './request-prefetch.js';
import { upstreamDefaults } from './upstream-defaults.js';

/** The options the engine reads itself; the features read theirs. @internal */
export interface EngineOptions {
  clients: ClientMetadata[];
  scopes: string[];
  claims: Configuration['claims'];
  ttl: {
    accessToken: number;
    authorizationCode: number;
    idToken: number;
    refreshToken: number;
    grant: number;
    session: number;
    interaction: number;
  };
  accounts: { findAccount(accountId: string): Promise<AccountClaims | undefined> };
  mtls?: MtlsSettings | undefined;
  introspection: { resourceServers: string[] };
  apis: ReadonlyArray<{
    resource: string;
    scope: string;
    accessTokenFormat: 'jwt' | 'opaque';
    accessTokenTTL?: number | undefined;
  }>;
  /** The `oidcProvider` passthrough: allow-listed settings the library does not set. */
  oidcProvider: Configuration;
}

// Lifetimes of flows the library does not offer to mobile clients, set so nothing runs on a
// default (and oidc-provider prints no "you SHOULD change" notices).
const UNUSED_FLOW_TTL = 600;
const INTERNAL_INITIAL_ACCESS_TOKEN_TTL = 60;

// A templatized instance's token lifetimes, merged into its metadata when it was loaded.
const templateTtl = (client: { clientId: string; metadata(): Record<string, unknown> }) =>
  instanceRecordOf(client)?.template_ttl;

/**
 * Whether another client's token still has a client: oidc-provider loads it next (for a user's
 * token, its subject type) and fails on one that no longer loads, such as an instance whose
 * revocation has marked its record but not yet removed its tokens. Such a token is inactive. Read
 * through the request's read ahead of that client, so it costs no store read of its own; without
 * one (a static client, a token without a user) nothing is loaded and nothing can fail.
 */
async function tokenClientLoads(token: { clientId?: string }): Promise<boolean> {
  const loading = token.clientId ? peekReadAhead('Client', token.clientId) : undefined;
  return loading === undefined || (await loading) !== undefined;
}

/** The static clients oidc-provider serves, after the features' changes. @internal */
export function staticClients(o: EngineOptions, assembly: Assembly): ClientMetadata[] {
  const changed = assembly
    .contributions()
    .clientChanges.reduce((clients, change) => change(clients), o.clients);
  // A static client without a scope list could ask for any scope: give it every configured one.
  return changed.map((c) => (c.scope !== undefined ? c : { ...c, scope: o.scopes.join(' ') }));
}

/**
 * Builds the oidc-provider configuration: the engine's security settings and what the features
 * contributed, with the `oidcProvider` passthrough merged underneath (validation admits only
 * allow-listed settings, none of which the library sets).
 *
 * @internal
 */
export function buildProviderConfiguration(
  o: EngineOptions,
  assembly: Assembly,
  adapter: NonNullable<Configuration['adapter']>,
  clients: ClientMetadata[],
): Configuration {
  const passthrough = o.oidcProvider;
  const contributed = assembly.contributions();
  const resourceServers = new Set(o.introspection.resourceServers);
  const features = assembly.features as NonNullable<Configuration['features']>;

  return {
    ...passthrough,
    adapter,
    clients,
    jwks: assembly.keys.jwks,
    cookies: { ...passthrough.cookies, keys: assembly.keys.cookieKeys },
    scopes: [...o.scopes, ...assembly.scopes],
    claims: o.claims,
    responseTypes: ['code'],
    pkce: { required: () => true },
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    // No browser app is a client here: the token endpoints refuse cross-origin calls.
    clientBasedCORS: () => false,
    ...(o.mtls || assembly.clientAuthMethods.length > 0
      ? {
          clientAuthMethods: [
            'client_secret_basic',
            'client_secret_jwt',
            'client_secret_post',
            'private_key_jwt',
            'none',
            ...(o.mtls ? ['tls_client_auth', 'self_signed_tls_client_auth'] : []),
            ...assembly.clientAuthMethods,
          ] as NonNullable<Configuration['clientAuthMethods']>,
        }
      : {}),
    extraClientMetadata: { properties: [INSTANCE_FIELD, ...assembly.clientMetadata] },
    // Runs as every access token is issued (code exchange, refresh, client credentials).
    extraTokenClaims: async (ctx, token) => {
      let claims: Record<string, unknown> | undefined = signInClaims(ctx);
      for (const hook of contributed.tokenClaims) {
        const added = await hook(ctx, token);
        if (added) claims = { ...claims, ...added };
      }
      return claims;
    },
    // oidc-provider's own checks (the FAPI 2.0 audience) first, then the features'.
    assertJwtClientAuthClaimsAndHeader: async (ctx, claims, header, client) => {
      await upstreamDefaults.assertJwtClientAuthClaimsAndHeader(ctx, claims, header, client);
      for (const check of contributed.clientAssertionChecks) await check(ctx, client);
    },
    discovery: { ...passthrough.discovery, ...assembly.discovery },
    // The sign-ins' own acr values, and any more the integrator's passthrough lists.
    acrValues: [...new Set([...assembly.acrValues, ...(passthrough.acrValues ?? [])])],
    async findAccount(_ctx, sub) {
      const account = await o.accounts.findAccount(sub);
      if (!account) return undefined;
      return { accountId: sub, claims: () => ({ ...account.claims, sub }) };
    },
    interactions: {
      ...assembly.settings.interactions,
      policy: contributed.policyChanges.reduce(
        (policy, change) => change(policy),
        interactionPolicy.base(),
      ),
    },
    // Refresh tokens always rotate. This is the last hook before the old one is consumed: a
    // refresh the instance may not make is refused while the app still holds a working token.
    rotateRefreshToken: (ctx: KoaContextWithOIDC) => {
      for (const check of contributed.refreshChecks) check(ctx);
      return true;
    },
    issueRefreshToken: async (_ctx, client, code) =>
      client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    ...(assembly.settings.loadExistingGrant
      ? { loadExistingGrant: assembly.settings.loadExistingGrant }
      : {}),
    // A feature's outgoing requests (the CIBA ping) through the app's fetch.
    ...(assembly.settings.fetch ? { fetch: assembly.settings.fetch } : {}),
    ...(passthrough.renderError || assembly.settings.renderError
      ? { renderError: passthrough.renderError ?? assembly.settings.renderError }
      : {}),
    ttl: {
      AccessToken: (_ctx, token, client) =>
        token.resourceServer?.accessTokenTTL ??
        templateTtl(client)?.accessToken ??
        o.ttl.accessToken,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? o.ttl.accessToken,
      AuthorizationCode: o.ttl.authorizationCode,
      IdToken: o.ttl.idToken,
      RefreshToken: (_ctx, _token, client) =>
        templateTtl(client)?.refreshToken ?? o.ttl.refreshToken,
      Grant: o.ttl.grant,
      Session: o.ttl.session,
      Interaction: o.ttl.interaction,
      InitialAccessToken: INTERNAL_INITIAL_ACCESS_TOKEN_TTL,
      DeviceCode: UNUSED_FLOW_TTL,
      BackchannelAuthenticationRequest: UNUSED_FLOW_TTL,
      PreAuthorizedCode: UNUSED_FLOW_TTL,
      ...assembly.settings.ttl,
    },
    features: {
      ...passthrough.features,
      devInteractions: { enabled: false },
      registrationManagement: { enabled: true, rotateRegistrationAccessToken: true },
      ...(o.mtls ? { mTLS: mtlsFeature(o.mtls) } : {}),
      clientCredentials: {
        enabled:
          assembly.clientCredentials || passthrough.features?.clientCredentials?.enabled === true,
      },
      introspection: {
        enabled: true,
        // RFC 7662 §4: only resource servers see other clients' tokens; public clients none.
        allowedPolicy: async (_ctx, client, token) => {
          if (resourceServers.has(client.clientId)) return tokenClientLoads(token);
          if (client.clientAuthMethod === 'none') return false;
          return token.clientId === client.clientId;
        },
      },
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      resourceIndicators: {
        enabled: true,
        useGrantedResource: async () => false,
        defaultResource: async (_ctx, client, oneOf) => {
          if (oneOf) return oneOf;
          for (const resolve of contributed.defaultResources) {
            const resource = resolve(client);
            if (resource) return resource;
          }
          return undefined;
        },
        getResourceServerInfo: async (ctx, resource, client) => {
          for (const resolve of contributed.resourceResolvers) {
            const info = await resolve(ctx, resource, client);
            if (info) return info;
          }
          const api = o.apis.find((a) => a.resource === resource);
          if (!api) throw new errors.InvalidTarget();
          return {
            scope: api.scope,
            audience: api.resource,
            accessTokenFormat: api.accessTokenFormat,
            accessTokenTTL:
              api.accessTokenTTL ?? templateTtl(client)?.accessToken ?? o.ttl.accessToken,
            ...(api.accessTokenFormat === 'jwt'
              ? { jwt: { sign: { alg: 'RS256' as const } } }
              : {}),
          };
        },
      },
      ...features,
      // @types/oidc-provider models features as a union keyed on openid4vci; ours is one member.
    } as Configuration['features'],
  };
}

/**
 * The user's sign-in behind an access token (`acr`, `auth_time`: RFC 9068 §2.2.1), from the code,
 * refresh token or approved backchannel authentication request (CIBA) it is issued for, so an API can require a kind or a recent sign-in (RFC 9470).
 * None for a client's own token.
 */
function signInClaims(ctx: KoaContextWithOIDC): Record<string, unknown> | undefined {
  const {
    AuthorizationCode: code,
    RefreshToken: refresh,
    BackchannelAuthenticationRequest: backchannel,
  } = ctx.oidc.entities;
  const source = code ?? refresh ?? backchannel;
  if (!source) return undefined;
  const claims: Record<string, unknown> = {};
  if (typeof source.acr === 'string') claims.acr = source.acr;
  if (typeof source.authTime === 'number') claims.auth_time = source.authTime;
  return Object.keys(claims).length > 0 ? claims : undefined;
}
