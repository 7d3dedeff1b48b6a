import { type AuthServer, type AuthServerOptions, createAuthServer } from 'mobile-oidc-provider';
import { demoAccounts } from './accounts.js';
import { type KeyEnv, keysFromEnv } from './keys.js';

/** The app's registration client: it only ever obtains DCR tokens. */
export const REGISTRATION_CLIENT_ID = 'mobile-dcr-client';
/** Where the example app receives authorization responses (RFC 8252 private-use scheme). */
export const APP_REDIRECT_URI = 'io.example.app:/callback';

/**
 * The settings every instance of the example app gets. A later release turns this into a
 * `software_id` template; today an app sends these fields itself when it registers.
 */
export const mobileTemplate = {
  client_id: 'mobile-dcr-template-client',
  redirect_uris: [APP_REDIRECT_URI],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
  scope: 'openid profile email offline_access',
};

/** Environment the example reads. */
export interface ExampleEnv extends KeyEnv {
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
  /** `1` when a TLS-terminating proxy sits in front. */
  TRUST_PROXY?: string;
}

/** The example server's options, from its environment. */
export async function exampleOptions(env: ExampleEnv = process.env): Promise<AuthServerOptions> {
  const port = env.PORT ?? '3000';
  const resourceServerSecret = env.RESOURCE_SERVER_SECRET;
  return {
    issuer: env.ISSUER ?? `http://localhost:${port}`,
    development: env.NODE_ENV !== 'production',
    proxy: env.TRUST_PROXY === '1',
    ...keysFromEnv(env),
    ...(env.REDIS_URL ? { store: await redisStore(env.REDIS_URL, env.REDIS_KEY_PREFIX) } : {}),
    accounts: demoAccounts(),
    registrationClients: [
      {
        client_id: REGISTRATION_CLIENT_ID,
        client_name: 'Example App',
        redirect_uris: [APP_REDIRECT_URI],
      },
    ],
    clients: resourceServerSecret
      ? [
          {
            client_id: 'example-api',
            client_secret: resourceServerSecret,
            grant_types: [],
            response_types: [],
            redirect_uris: [],
          },
        ]
      : [],
    introspection: { resourceServers: resourceServerSecret ? ['example-api'] : [] },
    interactions: { title: 'Example App' },
  };
}

// Loaded only when REDIS_URL is set, so the in-memory default needs no Redis at all.
async function redisStore(url: string, keyPrefix: string | undefined) {
  const { RedisStore } = await import('mobile-oidc-provider/adapters/redis');
  return new RedisStore({ client: url, ...(keyPrefix ? { keyPrefix } : {}) });
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
