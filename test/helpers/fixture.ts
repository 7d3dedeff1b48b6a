/**
 * The tests' fixture: the configuration of the authorization server the tests run against.
 *
 * It is deliberately independent of the runnable example server (under `examples/`): it may
 * change what it demonstrates without changing what dozens of unrelated tests assert. Only the
 * folder `test/examples/` tests the example itself. The values here (client ids, templates,
 * users) are what the tests rely on; change them only together with the tests.
 *
 * @module
 */
import type { AccountOptions, AuthServerOptions, Logger, Template } from 'mobile-oidc-provider';

type ClientMetadata = NonNullable<AuthServerOptions['clients']>[number];

/** The app's registration client (public, PKCE): it only ever obtains DCR tokens. */
export const REGISTRATION_CLIENT_ID = 'mobile-dcr-client';
/** Where the test app receives authorization responses (RFC 8252 private-use scheme). */
export const APP_REDIRECT_URI = 'io.example.app:/callback';
/** The `software_id` of the test app's template: an install registers with just this. */
export const APP_SOFTWARE_ID = 'io.example.app';
/** The resource server client that may introspect any token (with a resource server secret). */
export const RESOURCE_SERVER_ID = 'example-api';
/** The resource server's secret in the in-process test server. */
export const RESOURCE_SERVER_SECRET = 'resource-server-secret-for-tests-only-0123456789';

/** The `software_id` of installs that register through a fallback client. */
export const FALLBACK_SOFTWARE_ID = 'mobile-fallback-template';
/** The fallback client that authenticates with a shared secret (instances get `cal=none`). */
export const FALLBACK_CLIENT_ID = 'mobile-fallback-client';
/** The secret of {@link FALLBACK_CLIENT_ID}. */
export const FALLBACK_CLIENT_SECRET = 'development-fallback-secret-change-me-0123456789';
/** The fallback client that signs client assertions with a provisioned key (`cal` of that name). */
export const FALLBACK_PKI_CLIENT_ID = 'mobile-fallback-pki-client';

/** The test users: username, password and the claims `findAccount` returns. */
const USERS = [
  {
    username: 'demouser',
    password: 'Password1',
    claims: {
      name: 'Demo User',
      preferred_username: 'demouser',
      email: 'demouser@example.com',
      email_verified: true,
    },
  },
  {
    username: 'otheruser',
    password: 'Password2',
    claims: {
      name: 'Other User',
      preferred_username: 'otheruser',
      email: 'otheruser@example.com',
      email_verified: true,
    },
  },
];

/**
 * The test account store: `demouser` / `Password1` and `otheruser` / `Password2`, each user's
 * account id being its username.
 */
export function testAccounts(): AccountOptions {
  return {
    async authenticate(username, password) {
      const user = USERS.find((u) => u.username === username);
      return user && user.password === password ? user.username : undefined;
    },
    async findAccount(accountId) {
      const user = USERS.find((u) => u.username === accountId);
      return user && { claims: user.claims };
    },
  };
}

/** A logger that drops every entry: the fixture's default, so test output stays readable. */
export const silentLogger: Logger = { error() {}, warn() {}, info() {}, debug() {} };

/**
 * The test app's template: what every install inherits, live. An install may name itself and
 * must say which build it is.
 */
export const appTemplate: Template = {
  software_id: APP_SOFTWARE_ID,
  client: {
    client_name: 'Example App',
    redirect_uris: [APP_REDIRECT_URI],
    grant_types: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: 'openid profile email offline_access devices',
  },
  instanceFields: ['client_name', 'software_version'],
  minimumSoftwareVersion: '1.0.0',
};

/** What {@link testServerOptions} configures beyond the fixed test configuration. */
export interface TestServerSettings {
  issuer: string;
  /** Adds the resource server client {@link RESOURCE_SERVER_ID} with this secret. */
  resourceServerSecret?: string | undefined;
  /** Opens the admin API with this secret. */
  adminSecret?: string | undefined;
  /** Adds the fallback client {@link FALLBACK_PKI_CLIENT_ID} with this public JWKS. */
  fallbackPkiJwks?: NonNullable<ClientMetadata['jwks']> | undefined;
}

/**
 * The test server's options: development mode (generated keys, http issuer), in-memory store,
 * the test users, the registration client, the app and fallback templates, `payments` only for
 * `by-provisioned-key` installs, self-service devices, and a silent logger.
 */
export function testServerOptions(settings: TestServerSettings): AuthServerOptions {
  const { issuer, resourceServerSecret, adminSecret, fallbackPkiJwks } = settings;
  const onlyClientCredentials = {
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
  };
  const fallbackClients: ClientMetadata[] = [
    {
      client_id: FALLBACK_CLIENT_ID,
      client_secret: FALLBACK_CLIENT_SECRET,
      token_endpoint_auth_method: 'client_secret_basic',
      ...onlyClientCredentials,
    },
    ...(fallbackPkiJwks
      ? [
          {
            client_id: FALLBACK_PKI_CLIENT_ID,
            token_endpoint_auth_method: 'private_key_jwt' as const,
            jwks: fallbackPkiJwks,
            ...onlyClientCredentials,
          },
        ]
      : []),
  ];
  const fallbackTemplate: Template = {
    software_id: FALLBACK_SOFTWARE_ID,
    client: {
      client_name: 'Example App',
      redirect_uris: [APP_REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'openid profile offline_access payments',
    },
    fallbackClients: fallbackClients.map((c) => c.client_id),
  };
  return {
    issuer,
    development: true,
    logger: silentLogger,
    accounts: testAccounts(),
    scopes: ['openid', 'profile', 'email', 'offline_access', 'devices', 'payments'],
    registrationClients: [
      {
        client_id: REGISTRATION_CLIENT_ID,
        client_name: 'Example App',
        redirect_uris: [APP_REDIRECT_URI],
      },
    ],
    clients: [
      ...(resourceServerSecret
        ? [
            {
              client_id: RESOURCE_SERVER_ID,
              client_secret: resourceServerSecret,
              grant_types: [],
              response_types: [],
              redirect_uris: [],
            },
          ]
        : []),
      ...fallbackClients,
    ],
    introspection: { resourceServers: resourceServerSecret ? [RESOURCE_SERVER_ID] : [] },
    registration: { templates: [appTemplate, fallbackTemplate] },
    assurance: { minimumLevels: { payments: 'by-provisioned-key' } },
    devices: { selfServiceScope: 'devices', ...(adminSecret ? { adminSecret } : {}) },
    interactions: { title: 'Example App' },
  };
}
