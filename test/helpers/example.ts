// Starts the tests' server (the fixture in fixture.ts) and discovers it as the tests' clients.
// The file and `startExample` keep their historical names; neither runs the runnable example.
import type { AuthServer, AuthServerOptions, Template } from 'mobile-oidc-provider';
import { createAuthServer } from 'mobile-oidc-provider';
import * as oidc from 'openid-client';
import {
  APP_REDIRECT_URI,
  REGISTRATION_CLIENT_ID,
  RESOURCE_SERVER_ID,
  RESOURCE_SERVER_SECRET,
  testServerOptions,
} from './fixture.js';
import { type Listening, listen } from './listen.js';

export { APP_REDIRECT_URI, REGISTRATION_CLIENT_ID, RESOURCE_SERVER_SECRET };

/**
 * Settings some tests start the server with, spelled as the environment variables they once were:
 * `ADMIN_SECRET` opens the admin API, `FALLBACK_CLIENT_JWKS` (a JSON JWKS) adds the
 * provisioned-key fallback client.
 */
export interface TestServerEnv {
  ADMIN_SECRET?: string;
  FALLBACK_CLIENT_JWKS?: string;
}

/** A running test server on a free loopback port. */
export interface RunningServer {
  issuer: string;
  auth: AuthServer;
  http: Listening;
  close(): Promise<void>;
}

/**
 * Starts the test server (the fixture's configuration, see `fixture.ts`) on a free port, with
 * `overrides` applied on top (tests use it to change TTLs, max uses, policies or the store) and
 * `env`'s settings.
 */
export async function startExample(
  overrides: (options: AuthServerOptions) => AuthServerOptions = (o) => o,
  env: TestServerEnv = {},
): Promise<RunningServer> {
  const http = await listen();
  const options = overrides(
    testServerOptions({
      issuer: http.url,
      resourceServerSecret: RESOURCE_SERVER_SECRET,
      adminSecret: env.ADMIN_SECRET,
      fallbackPkiJwks: env.FALLBACK_CLIENT_JWKS ? JSON.parse(env.FALLBACK_CLIENT_JWKS) : undefined,
    }),
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

/** Starts the test server with `template` added to its templates, and these `attestation` options. */
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

/** Discovers the server as the fixture's resource server (may introspect any token). */
export function resourceServer(issuer: string): Promise<oidc.Configuration> {
  return oidc.discovery(
    new URL(issuer),
    RESOURCE_SERVER_ID,
    undefined,
    oidc.ClientSecretBasic(RESOURCE_SERVER_SECRET),
    insecure,
  );
}
