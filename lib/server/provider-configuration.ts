import { randomBytes } from 'node:crypto';
import type {
  AdapterFactory,
  ClientMetadata,
  Configuration,
  KoaContextWithOIDC,
} from 'oidc-provider';
import { errors } from 'oidc-provider';
import { attestedLevel } from '../client-attestation/attest-client-auth.js';
import { INSTANCE_FIELD } from '../core/instance-record.js';
import { InstanceGuard } from '../devices/instance-guard.js';
import { TOKEN_EXCHANGE } from '../federation/token-exchange.js';
import { listRequestedOnConsent } from '../interactions/consent.js';
import { BUILT_IN_MESSAGES } from '../interactions/messages.js';
import {
  renderErrorPage,
  renderLogoutPage,
  renderLogoutSuccessPage,
} from '../interactions/provider-pages.js';
import type { ServerKeys } from '../keys/index.js';
import type { ResolvedOptions } from '../options/resolved.js';
import { instanceRecordOf } from '../provider/loaded-client.js';
import { mtlsFeature } from '../provider/mtls.js';
import { upstreamDefaults } from '../provider/upstream-defaults.js';
import { ATTEST_AUTH_METHODS } from '../registration/templates.js';

/** Name of the oidc-provider registration policy that instance registrations carry. @internal */
export const INSTANCE_POLICY = 'mobile-oidc-provider/instance';

/** Settings the configuration needs beyond the options. @internal */
export interface ProviderWiring {
  /** oidc-provider's adapter factory over the store (see `providerAdapterFactory`). */
  adapter: AdapterFactory;
  keys: ServerKeys;
  /** URL of the registration endpoint: the audience of every DCR token. */
  registrationResource: string;
  /** URL of the attestation challenge endpoint, advertised in discovery when attestation is on. */
  challengeEndpoint?: string;
  /** URL of the native sign-in nonce endpoint, advertised in discovery when native sign-in is on. */
  nativeSignInNonceEndpoint?: string;
  /** Attestation-based client authentication, when it is on (see attest-client-auth.ts). */
  attestClientAuth?: {
    feature: NonNullable<NonNullable<Configuration['features']>['attestClientAuth']>;
    /** The DPoP nonce secret oidc-provider then needs, unless the passthrough sets one. */
    dpopNonceSecret: Buffer;
    /** The Client Attester's endpoint and public keys, when this server attests. */
    attesterEndpoint?: string;
    attesterJwksUri?: string;
  };
  /** Checks a verified `private_key_jwt` client authentication further (App Attest assertions). */
  checkClientAssertion?: (
    ctx: KoaContextWithOIDC,
    client: { clientId: string; metadata(): Record<string, unknown> } | undefined,
  ) => Promise<void>;
  /**
   * An instance obtains its first token: resolves why that is refused (the account's instance
   * limit), or `undefined`.
   */
  firstUse?: (clientId: string) => Promise<string | undefined>;
  interactionUrl: (uid: string) => string;
  instancePolicy: (ctx: KoaContextWithOIDC, properties: Record<string, unknown>) => Promise<void>;
}

// Lifetimes of flows the library does not offer to mobile clients, set so nothing runs on a
// default (and oidc-provider prints no "you SHOULD change" notices).
const UNUSED_FLOW_TTL = 600;
const INTERNAL_INITIAL_ACCESS_TOKEN_TTL = 60;

// A templatized instance's token lifetimes, merged into its metadata when it was loaded.
const templateTtl = (client: { clientId: string; metadata(): Record<string, unknown> }) =>
  instanceRecordOf(client)?.template_ttl;

/** Whether some federated provider takes part in the native id_token exchange. @internal */
export const nativeSignIn = (o: ResolvedOptions): boolean =>
  o.federation.providers.some((p) => p.audiences.length > 0);

/** The static clients oidc-provider serves: registration clients, then the others. @internal */
export function staticClients(o: ResolvedOptions): ClientMetadata[] {
  const registrationClients = o.registrationClients.map(
    (c): ClientMetadata => ({
      client_id: c.client_id,
      ...(c.client_name ? { client_name: c.client_name } : {}),
      redirect_uris: c.redirect_uris,
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      grant_types: nativeSignIn(o)
        ? ['authorization_code', TOKEN_EXCHANGE]
        : ['authorization_code'],
      response_types: ['code'],
      scope: o.registration.dcrToken.scope,
    }),
  );
  // A static client without a scope list could ask for any scope; give it every scope but dcr.
  // Fallback clients get dcr, by default alone: it is what they are for.
  const fallback = new Set(o.registration.fallbackClients);
  const dcr = o.registration.dcrToken.scope;
  const others = o.clients.map((c) => {
    if (!fallback.has(c.client_id)) return { ...c, scope: c.scope ?? o.scopes.join(' ') };
    return { ...c, scope: c.scope ? `${c.scope} ${dcr}` : dcr };
  });
  return [...registrationClients, ...others];
}

/**
 * Builds the oidc-provider configuration: the library's security settings, with the
 * `oidcProvider` passthrough merged underneath (validation admits only allow-listed settings,
 * none of which the library sets).
 *
 * @internal
 */
export function buildProviderConfiguration(
  o: ResolvedOptions,
  wiring: ProviderWiring,
): Configuration {
  const passthrough = o.oidcProvider;
  const registrationClientIds = new Set(o.registrationClients.map((c) => c.client_id));
  // Clients whose tokens may open the registration endpoint: users' and fallback clients'.
  const dcrClientIds = new Set([...registrationClientIds, ...o.registration.fallbackClients]);
  const resourceServers = new Set(o.introspection.resourceServers);
  const dcr = o.registration.dcrToken;
  const guard = new InstanceGuard(o.assurance.minimumLevels);
  const attest = wiring.attestClientAuth;
  // A Client Attestation's cal may lower the instance's level: the token's scope must still fit.
  const attestedScopes = (
    ctx: KoaContextWithOIDC,
    record: NonNullable<ReturnType<InstanceGuard['assertToken']>>,
    scope: string | undefined,
  ) => {
    const cal = attestedLevel(ctx, record);
    if (cal !== (record.cal ?? 'none')) {
      guard.assertScopes({ ...record, cal }, (scope ?? '').split(' ').filter(Boolean));
    }
    return cal;
  };

  return {
    ...passthrough,
    adapter: wiring.adapter,
    clients: staticClients(o),
    jwks: wiring.keys.jwks,
    cookies: { ...passthrough.cookies, keys: wiring.keys.cookieKeys },
    // The dcr scope is known to oidc-provider so that every other client's scope list excludes
    // it explicitly (invalid_scope); registration clients get it only on the DCR resource.
    // The admin scope likewise: known, but only admin clients list it.
    scopes: [
      ...o.scopes,
      dcr.scope,
      ...(o.devices.adminClients.length > 0 ? [o.devices.adminScope] : []),
    ],
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
    ...(o.mtls || attest
      ? {
          clientAuthMethods: [
            'client_secret_basic',
            'client_secret_jwt',
            'client_secret_post',
            'private_key_jwt',
            'none',
            ...(o.mtls ? ['tls_client_auth', 'self_signed_tls_client_auth'] : []),
            ...(attest ? ATTEST_AUTH_METHODS : []),
          ] as NonNullable<Configuration['clientAuthMethods']>,
        }
      : {}),
    extraClientMetadata: { properties: [INSTANCE_FIELD, 'software_id', 'software_version'] },
    // Runs as every access token is issued (code exchange, refresh, client credentials): the
    // token's scope and account are checked, and the instance's level travels in it (and so in
    // introspection).
    extraTokenClaims: async (ctx, token) => {
      const record = guard.assertToken(ctx.oidc.client, token);
      if (!record) return undefined;
      const refusal =
        record.unused_until && token.clientId ? await wiring.firstUse?.(token.clientId) : undefined;
      if (refusal) {
        const refused = new errors.InvalidGrant();
        refused.error_description = refusal;
        throw refused;
      }
      return { cal: attest ? attestedScopes(ctx, record, token.scope) : (record.cal ?? 'none') };
    },
    // oidc-provider's own checks (the FAPI 2.0 audience) first, then the App Attest assertion.
    assertJwtClientAuthClaimsAndHeader: async (ctx, claims, header, client) => {
      await upstreamDefaults.assertJwtClientAuthClaimsAndHeader(ctx, claims, header, client);
      await wiring.checkClientAssertion?.(ctx, client);
    },
    discovery: {
      ...passthrough.discovery,
      ...(wiring.challengeEndpoint
        ? { attestation_challenge_endpoint: wiring.challengeEndpoint }
        : {}),
      ...(wiring.nativeSignInNonceEndpoint
        ? { native_sign_in_nonce_endpoint: wiring.nativeSignInNonceEndpoint }
        : {}),
      ...(attest?.attesterEndpoint ? { client_attestation_endpoint: attest.attesterEndpoint } : {}),
      ...(attest?.attesterJwksUri ? { client_attester_jwks_uri: attest.attesterJwksUri } : {}),
      // OpenID Connect Discovery §3: the languages the pages come in.
      ui_locales_supported: [
        ...new Set([
          ...Object.keys(BUILT_IN_MESSAGES),
          ...Object.keys(o.interactions.messages ?? {}),
        ]),
      ],
    },
    async findAccount(_ctx, sub) {
      const account = await o.accounts.findAccount(sub);
      if (!account) return undefined;
      return { accountId: sub, claims: () => ({ ...account.claims, sub }) };
    },
    interactions: {
      url: (_ctx, interaction) => wiring.interactionUrl(interaction.uid),
      policy: listRequestedOnConsent(guard.interactionPolicy()),
    },
    // A DCR token is single-use: each DCR consent starts a fresh grant holding exactly what its
    // page listed, rather than reusing an earlier consent (and that grant's nearer expiry).
    loadExistingGrant: async (ctx) => {
      const clientId = ctx.oidc.client?.clientId;
      const grantId =
        ctx.oidc.result?.consent?.grantId ??
        (clientId && !registrationClientIds.has(clientId)
          ? ctx.oidc.session?.grantIdFor(clientId)
          : undefined);
      return grantId ? ctx.oidc.provider.Grant.find(grantId) : undefined;
    },
    renderError: passthrough.renderError ?? renderErrorPage,
    // Refresh tokens always rotate. This is the last hook before the old one is consumed: a
    // refresh the instance may not make is refused while the app still holds a working token.
    rotateRefreshToken: (ctx) => {
      const refreshToken = ctx.oidc.entities.RefreshToken;
      const record = guard.assertToken(ctx.oidc.client, refreshToken ?? {});
      if (record && attest) attestedScopes(ctx, record, refreshToken?.scope);
      return true;
    },
    issueRefreshToken: async (_ctx, client, code) =>
      client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
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
      // A registration client's grant only ever yields DCR tokens: it need not outlive one.
      Grant: (_ctx, grant) =>
        grant.clientId && registrationClientIds.has(grant.clientId) ? dcr.ttl : o.ttl.grant,
      Session: o.ttl.session,
      Interaction: o.ttl.interaction,
      InitialAccessToken: INTERNAL_INITIAL_ACCESS_TOKEN_TTL,
      DeviceCode: UNUSED_FLOW_TTL,
      BackchannelAuthenticationRequest: UNUSED_FLOW_TTL,
      PreAuthorizedCode: UNUSED_FLOW_TTL,
    },
    features: {
      ...passthrough.features,
      devInteractions: { enabled: false },
      registration: {
        enabled: true,
        initialAccessToken: true,
        issueRegistrationAccessToken: true,
        policies: { [INSTANCE_POLICY]: wiring.instancePolicy },
        // 256 bits of entropy (RFC 7591 §2 leaves it to the server; RFC 9700 §2.5 asks for it).
        secretFactory: async () => randomBytes(32).toString('base64url'),
      },
      registrationManagement: { enabled: true, rotateRegistrationAccessToken: true },
      ...(o.mtls ? { mTLS: mtlsFeature(o.mtls) } : {}),
      ...(attest
        ? {
            attestClientAuth: attest.feature,
            // Combined mode's DPoP proofs need server nonces, the same in every process.
            dPoP: {
              ...passthrough.features?.dPoP,
              nonceSecret: passthrough.features?.dPoP?.nonceSecret ?? attest.dpopNonceSecret,
            },
          }
        : {}),
      // Admin clients obtain admin API tokens, fallback clients DCR tokens, with client_credentials.
      clientCredentials: {
        enabled:
          o.devices.adminClients.length > 0 ||
          o.registration.fallbackClients.length > 0 ||
          passthrough.features?.clientCredentials?.enabled === true,
      },
      introspection: {
        enabled: true,
        // RFC 7662 §4: only resource servers see other clients' tokens; public clients none.
        allowedPolicy: async (_ctx, client, token) => {
          if (resourceServers.has(client.clientId)) return true;
          if (client.clientAuthMethod === 'none') return false;
          return token.clientId === client.clientId;
        },
      },
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      // The DCR token is an access token whose audience is the registration endpoint, so it is
      // useless at userinfo and at any resource server that checks its audience.
      resourceIndicators: {
        enabled: true,
        useGrantedResource: async () => false,
        defaultResource: async (_ctx, client, oneOf) =>
          oneOf ?? (dcrClientIds.has(client.clientId) ? wiring.registrationResource : undefined),
        getResourceServerInfo: async (_ctx, resource, client) => {
          if (resource === wiring.registrationResource && dcrClientIds.has(client.clientId)) {
            return {
              scope: dcr.scope,
              audience: wiring.registrationResource,
              accessTokenTTL: dcr.ttl,
              accessTokenFormat: 'opaque',
            };
          }
          const api = o.apis.find((a) => a.resource === resource);
          // Registration and admin clients exist for one purpose each; APIs are for the others.
          if (!api || dcrClientIds.has(client.clientId)) throw new errors.InvalidTarget();
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
      rpInitiatedLogout: {
        ...passthrough.features?.rpInitiatedLogout,
        enabled: true,
        logoutSource: passthrough.features?.rpInitiatedLogout?.logoutSource ?? renderLogoutPage,
        postLogoutSuccessSource:
          passthrough.features?.rpInitiatedLogout?.postLogoutSuccessSource ??
          renderLogoutSuccessPage,
      },
      // @types/oidc-provider models features as a union keyed on openid4vci; ours is one member.
    } as Configuration['features'],
  };
}
