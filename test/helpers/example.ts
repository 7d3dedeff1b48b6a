import type { AuthServer, AuthServerOptions, Template } from 'mobile-oidc-provider';
import { createAuthServer } from 'mobile-oidc-provider';
import * as oidc from 'openid-client';
import {
  APP_REDIRECT_URI,
  type ExampleEnv,
  exampleOptions,
  REGISTRATION_CLIENT_ID,
} from '../../examples/server/app.js';
import { type Listening, listen } from './listen.js';

export { APP_REDIRECT_URI, REGISTRATION_CLIENT_ID };

/** The resource server secret the test example server is configured with. */
export const RESOURCE_SERVER_SECRET = 'resource-server-secret-for-tests-only-0123456789';

/** A running example server on a free loopback port. */
export interface RunningServer {
  issuer: string;
  auth: AuthServer;
  http: Listening;
  close(): Promise<void>;
}

/**
 * Starts the example server's configuration on a free port, with `overrides` applied on top
 * (tests use it to change TTLs, max uses, policies or the store) and `env` added to its
 * environment.
 */
export async function startExample(
  overrides: (options: AuthServerOptions) => AuthServerOptions = (o) => o,
  env: ExampleEnv = {},
): Promise<RunningServer> {
  const http = await listen();
  const options = overrides(
    await exampleOptions({ ISSUER: http.url, RESOURCE_SERVER_SECRET, NODE_ENV: 'test', ...env }),
  );
  const warn = console.warn;
  console.warn = () => {}; // development-key warnings are expected here
  let auth: AuthServer;
  try {
    auth = await createAuthServer(options);
  } finally {
    console.warn = warn;
  }
  http.handle(auth.callback());
  return {
    issuer: options.issuer,
    auth,
    http,
    async close() {
      await http.close();
      await auth.close();
    },
  };
}

/** Starts the example server with `template` added to its templates, and these `attestation` options. */
export function startExampleWithTemplate(
  template: Template,
  attestation: AuthServerOptions['attestation'] = {},
): Promise<RunningServer> {
  return startExample((o) => ({
    ...o,
    registration: {
      ...o.registration,
      templates: [...(o.registration?.templates ?? []), template],
    },
    attestation,
  }));
}

/** openid-client options for a plain-http test issuer. */
export const insecure = { execute: [oidc.allowInsecureRequests] };

/** Discovers the server as the app's registration client (public, PKCE). */
export function registrationClient(issuer: string): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(issuer), REGISTRATION_CLIENT_ID, undefined, oidc.None(), insecure);
}

/** Discovers the server as the example's resource server (may introspect any token). */
export function resourceServer(issuer: string): Promise<oidc.Configuration> {
  return oidc.discovery(
    new URL(issuer),
    'example-api',
    undefined,
    oidc.ClientSecretBasic(RESOURCE_SERVER_SECRET),
    insecure,
  );
}
