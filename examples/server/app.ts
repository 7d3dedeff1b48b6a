import {
  type AuthServer,
  type AuthServerOptions,
  createAuthServer,
  type Logger,
  type Template,
} from 'mobile-oidc-provider';
import { demoAccounts } from './accounts.js';
import { type AttestationEnv, attestedTemplate } from './attestation.js';
import { type FallbackEnv, fallbackClients } from './fallback.js';
import { type FederationEnv, federationFromEnv } from './federation.js';
import { type KeyEnv, keysFromEnv } from './keys.js';
import { jsonLinesLogger, logLevelFrom } from './logger.js';
import { type NativeSsoEnv, nativeSsoTemplates } from './native-sso.js';

/** The app's registration client: it only ever obtains DCR tokens. */
export const REGISTRATION_CLIENT_ID = 'mobile-dcr-client';
/** Where the example app receives authorization responses (RFC 8252 private-use scheme). */
export const APP_REDIRECT_URI = 'io.example.app:/callback';

/** The example app's `software_id`: an install registers with just this. */
export const APP_SOFTWARE_ID = 'io.example.app';

/**
 * The settings every install of the example app inherits, live. An install may name itself
 * (`client_name`, e.g. "Alice's phone") and must say which build it is (`software_version`).
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

/** The `software_id` of installs that cannot attest and register through a fallback client. */
export const FALLBACK_SOFTWARE_ID = 'mobile-fallback-template';

/**
 * The fallback template: registrations are opened by a fallback client's one-shot DCR token,
 * not by a user's; the instance belongs to the first user who signs in through it.
 */
export function fallbackTemplate(fallbackClientIds: string[]): Template {
  return {
    software_id: FALLBACK_SOFTWARE_ID,
    client: {
      client_name: 'Example App',
      redirect_uris: [APP_REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'openid profile offline_access payments',
    },
    // `jwks`: the key an install approves sign-ins with (phone approval), fixed at registration.
    instanceFields: ['client_name', 'software_version', 'jwks'],
    fallbackClients: fallbackClientIds,
    // Installs proven by a provisioned key or attestation may sign in without a browser.
    firstParty: { minimumLevel: 'by-provisioned-key' },
    // …and approve sign-ins requested elsewhere (CIBA), with WEB_PORTAL_SECRET set.
    approvals: true,
  };
}

/** The static web client that starts phone approvals (CIBA, poll mode). */
export const WEB_PORTAL_CLIENT_ID = 'web-portal';

/** Environment the example reads. */
export interface ExampleEnv
  extends KeyEnv,
    FallbackEnv,
    AttestationEnv,
    FederationEnv,
    NativeSsoEnv {
  /** When set (`redis://…`), everything is stored in this Redis instead of in memory. */
  REDIS_URL?: string;
  /** Prefix of every Redis key. @default 'mop:' */
  REDIS_KEY_PREFIX?: string;
  /** Issuer URL. @default `http://localhost:${PORT}` */
  ISSUER?: string;
  /** Port. @default 3000 */
  PORT?: string;
  /** `production` turns development mode (generated keys, http issuer) off. */
  NODE_ENV?: string;
  /** When set, a resource server client `example-api` with this secret may introspect any token. */
  RESOURCE_SERVER_SECRET?: string;
  /**
   * The proxies in front (`options.proxy`): `1` for one TLS-terminating proxy, a number for that
   * many in a row, or comma-separated proxy addresses and CIDR ranges.
   */
  TRUST_PROXY?: string;
  /** When set (32+ characters), the admin API is served under `/admin` and opened by this secret. */
  ADMIN_SECRET?: string;
  /** `error`, `warn`, `info`, `debug` or `silent`. @default 'info' ('silent' when NODE_ENV=test) */
  LOG_LEVEL?: string;
  /** The example API's resource indicator (examples/api). @default 'https://api.example.com/' */
  API_AUDIENCE?: string;
  /**
   * When set, the static web client `web-portal` with this secret may ask a user to approve a
   * sign-in on their phone (CIBA, docs/phone-approval.md).
   */
  WEB_PORTAL_SECRET?: string;
}

/** `options.proxy` from TRUST_PROXY: unset is `false`, `1` one hop, `2` two, else a CIDR list. */
function proxyFrom(value: string | undefined): AuthServerOptions['proxy'] {
  if (!value) return false;
  if (/^\d+$/.test(value)) return Number(value) === 1 ? true : Number(value);
  return value.split(',').map((entry) => entry.trim());
}

/** The example server's options, from its environment. */
export async function exampleOptions(env: ExampleEnv = process.env): Promise<AuthServerOptions> {
  const port = env.PORT ?? '3000';
  const resourceServerSecret = env.RESOURCE_SERVER_SECRET;
  const fallback = fallbackClients(env);
  const attested = attestedTemplate(env);
  const federation = federationFromEnv(env);
  // JSON lines on stdout, one entry each; the Redis store logs its connection through it too.
  const logger = jsonLinesLogger(logLevelFrom(env));
  return {
    issuer: env.ISSUER ?? `http://localhost:${port}`,
    development: env.NODE_ENV !== 'production',
    proxy: proxyFrom(env.TRUST_PROXY),
    ...keysFromEnv(env),
    logger,
    ...(env.REDIS_URL
      ? { store: await redisStore(env.REDIS_URL, env.REDIS_KEY_PREFIX, logger) }
      : {}),
    accounts: demoAccounts(),
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
              client_id: 'example-api',
              client_secret: resourceServerSecret,
              grant_types: [],
              response_types: [],
              redirect_uris: [],
            },
          ]
        : []),
      ...fallback,
      ...(env.WEB_PORTAL_SECRET
        ? [
            {
              client_id: WEB_PORTAL_CLIENT_ID,
              client_secret: env.WEB_PORTAL_SECRET,
              client_name: 'Web Portal',
              grant_types: ['urn:openid:params:grant-type:ciba'],
              response_types: [],
              redirect_uris: [],
              backchannel_token_delivery_mode: 'poll' as const,
            },
          ]
        : []),
    ],
    introspection: { resourceServers: resourceServerSecret ? ['example-api'] : [] },
    // The example API (examples/api): `resource=<API_AUDIENCE>` gets a JWT it verifies offline.
    apis: [
      {
        resource: env.API_AUDIENCE ?? 'https://api.example.com/',
        scope: 'payments',
        accessTokenFormat: 'jwt',
      },
    ],
    registration: {
      templates: [
        // With NATIVE_SSO_GROUP, the app and a second one (notes) sign in once for both.
        ...nativeSsoTemplates(env, appTemplate),
        fallbackTemplate(fallback.map((c) => c.client_id)),
        ...(attested ? [attested] : []),
      ],
    },
    // Paying needs an install whose identity rests on more than a secret shipped in every copy.
    assurance: { minimumLevels: { payments: 'by-provisioned-key' } },
    instances: {
      selfServiceScope: 'devices',
      ...(env.ADMIN_SECRET ? { adminSecret: env.ADMIN_SECRET } : {}),
    },
    interactions: { title: 'Example App' },
    // Passkeys on the login page and at /account/passkeys; RP ID and origin from the issuer.
    passkeys: { enabled: true },
    ...(federation ? { federation } : {}),
    ...(env.WEB_PORTAL_SECRET ? { phoneApproval: { clients: [WEB_PORTAL_CLIENT_ID] } } : {}),
  };
}

// Loaded only when REDIS_URL is set, so the in-memory default needs no Redis at all.
async function redisStore(url: string, keyPrefix: string | undefined, logger: Logger) {
  const { RedisStore } = await import('mobile-oidc-provider/adapters/redis');
  return new RedisStore({ client: url, logger, ...(keyPrefix ? { keyPrefix } : {}) });
}

/** Creates the example authorization server. */
export async function createExampleServer(env: ExampleEnv = process.env): Promise<AuthServer> {
  const options = await exampleOptions(env);
  const server = await createAuthServer(options);
  // The example owns the Redis store it opened: close it with the server.
  const store = options.store;
  if (!store) return server;
  return {
    ...server,
    async close() {
      await server.close();
      await store.close();
    },
  };
}
