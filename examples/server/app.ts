import { type AuthServer, type AuthServerOptions, createAuthServer } from 'mobile-oidc-provider';
import { demoAccounts } from './accounts.js';

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
export interface ExampleEnv {
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
export function exampleOptions(env: ExampleEnv = process.env): AuthServerOptions {
  const port = env.PORT ?? '3000';
  const resourceServerSecret = env.RESOURCE_SERVER_SECRET;
  return {
    issuer: env.ISSUER ?? `http://localhost:${port}`,
    development: env.NODE_ENV !== 'production',
    proxy: env.TRUST_PROXY === '1',
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

/** Creates the example authorization server. */
export function createExampleServer(env: ExampleEnv = process.env): Promise<AuthServer> {
  return createAuthServer(exampleOptions(env));
}
