// Every constant default of the options, written once. The JSON Schema takes its `default`
// keywords from here (lib/options/schema.ts), ResolvedOptions its required keys (resolved.ts),
// and test/options/defaults.test.ts holds the TSDoc `@default` tags to these values.

import type { Template } from '../core/template-types.js';
import type { FederatedProviderOptions } from '../federation/types.js';
import type { ApiOptions, AuthServerOptions } from './types.js';

/**
 * The shape a defaults object may take for options of type `T`: any subset of its keys, with
 * the read-only values `as const` gives.
 *
 * @internal
 */
export type DefaultsOf<T> = { readonly [K in keyof T]?: DefaultValue<NonNullable<T[K]>> };

// Distributes over unions such as `RateLimit | false`; functions have no constant default.
type DefaultValue<V> = V extends readonly (infer E)[]
  ? readonly DefaultValue<E>[]
  : V extends (...args: never[]) => unknown
    ? never
    : V extends object
      ? DefaultsOf<V>
      : V;

/**
 * Defaults of {@link AuthServerOptions}, at the options' own paths. An object here is a group
 * whose keys default one by one, unless its schema requires keys it supplies all of (a rate
 * limit): then it is the default as a whole (see `withDefaults`).
 *
 * @internal
 */
export const DEFAULTS = {
  development: false,
  proxy: false,
  scopes: ['openid', 'profile', 'email', 'offline_access'],
  claims: {
    openid: ['sub'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username', 'updated_at'],
    email: ['email', 'email_verified'],
  },
  registrationClients: [],
  clients: [],
  ttl: {
    accessToken: 900,
    authorizationCode: 60,
    idToken: 3600,
    refreshToken: 2592000,
    refreshTokenReuseGrace: 30,
    refreshTokenReuseLimit: 3,
    grant: 15552000,
    session: 1209600,
    interaction: 600,
  },
  registration: {
    dcrToken: { scope: 'dcr', ttl: 300, maxUses: 1 },
    instances: {
      authMethods: ['client_secret_basic', 'private_key_jwt'],
      unusedTtl: 86400,
      cacheSize: 10000,
    },
    policies: [],
    templates: [],
    templatesOnly: false,
    maxInstancesPerAccount: { onLimit: 'reject' },
  },
  attestation: {
    verifiers: {},
    requireAppAttestAssertions: false,
    challenge: {
      path: '/attestation/challenge',
      ttl: 300,
      rateLimit: { points: 60, duration: 60 },
    },
    attester: {
      path: '/attestation/client-attestation',
      jwksPath: '/attestation/jwks',
      ttl: 3600,
      rateLimit: { points: 60, duration: 60 },
    },
  },
  assurance: { minimumLevels: {} },
  devices: {
    adminClients: [],
    adminScope: 'devices:admin',
    keepRevokedFor: 2592000,
  },
  apis: [],
  introspection: { resourceServers: [] },
  interactions: {
    title: 'Sign in',
    defaultLanguage: 'en',
    signInRateLimit: {
      perAccount: { points: 10, duration: 900 },
      perIp: { points: 100, duration: 900 },
      perUsername: { points: 20, duration: 300 },
    },
  },
  federation: {
    providers: [],
    nonce: { path: '/federation/nonce', ttl: 600, rateLimit: { points: 60, duration: 60 } },
    linking: { maxAge: 300 },
  },
  passkeys: { enabled: false },
  oidcProvider: {},
} as const satisfies DefaultsOf<AuthServerOptions>;

/**
 * Defaults of each entry of {@link AuthServerOptions.apis}.
 *
 * @internal
 */
export const API_DEFAULTS = {
  accessTokenFormat: 'jwt',
} as const satisfies DefaultsOf<ApiOptions>;

/**
 * Defaults of each template, configured or returned by a template resolver.
 *
 * @internal
 */
export const TEMPLATE_DEFAULTS = {
  instanceFields: ['client_name', 'software_version'],
  disabled: false,
  sharedDevices: false,
  fallbackClients: [],
  attestation: { user: 'optional' },
  attestClientAuth: false,
  trustedAttesters: [],
} as const satisfies DefaultsOf<Template>;

/**
 * Defaults of each entry of `federation.providers`.
 *
 * @internal
 */
export const FEDERATED_PROVIDER_DEFAULTS = {
  audiences: [],
  clockSkewSeconds: 60,
  algorithms: ['RS256', 'ES256'],
} as const satisfies DefaultsOf<FederatedProviderOptions>;
