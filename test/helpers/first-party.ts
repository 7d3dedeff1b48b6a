// The app side of browserless first-party sign-in over real HTTP: a provisioned-key fallback
// install, requests to the Authorization Challenge Endpoint, and the code at the token endpoint.
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import type { AuthServerOptions, Store } from 'mobile-oidc-provider';
import { MemoryStore } from 'mobile-oidc-provider';
import { RedisStore } from 'mobile-oidc-provider/adapters/redis';
import * as oidc from 'openid-client';
import { insecure, type RunningServer, startExample } from './example.js';
import { FALLBACK_PKI_CLIENT_ID, FALLBACK_SOFTWARE_ID } from './fixture.js';
import { startOwnRedis } from './redis-server.js';
import { postRegistration } from './registration.js';

export type Json = Record<string, unknown>;

/** A registered install: its client id and secret. */
export interface Install {
  client_id: string;
  client_secret: string;
}

/** A store for one suite, and how to close it (and its own redis-server). */
export type SuiteStore = () => Promise<{ store: Store; close(): Promise<void> }>;

/** The stores the first-party suites run on: memory, and a Redis started for the suite. */
export const FIRST_PARTY_STORES: ReadonlyArray<readonly [string, SuiteStore]> = [
  [
    'memory',
    async () => {
      const store = new MemoryStore();
      return { store, close: () => store.close() };
    },
  ],
  [
    'Redis',
    async () => {
      const redis = await startOwnRedis();
      const store = new RedisStore({
        client: redis.url,
        keyPrefix: `first-party:${randomUUID()}:`,
      });
      return {
        store,
        async close() {
          await store.close();
          await redis.destroy();
        },
      };
    },
  ],
];

export const verifier = () => randomBytes(32).toString('base64url');
export const challengeOf = (v: string) => createHash('sha256').update(v).digest('base64url');
const basic = (i: Install) =>
  `Basic ${Buffer.from(`${encodeURIComponent(i.client_id)}:${encodeURIComponent(i.client_secret)}`).toString('base64')}`;

/** The fallback template may sign in first-party at the provisioned-key level. */
const withFirstParty = (o: AuthServerOptions): AuthServerOptions => ({
  ...o,
  registration: {
    ...o.registration,
    templates: (o.registration?.templates ?? []).map((t) =>
      t.software_id === FALLBACK_SOFTWARE_ID
        ? { ...t, firstParty: { minimumLevel: 'by-provisioned-key' } }
        : t,
    ),
  },
});

/** A test server whose fallback template has `firstParty`, and the app's requests to it. */
export interface FirstPartyServer {
  server: RunningServer;
  /** A new install, registered with the fallback client's provisioned key. */
  install(): Promise<Install>;
  /** A POST to the Authorization Challenge Endpoint as `install`. */
  challenge(
    install: Install,
    body: Record<string, string>,
  ): Promise<{ status: number; body: Json }>;
  /** A POST to the token endpoint as `install`. */
  token(install: Install, params: Record<string, string>): Promise<{ status: number; body: Json }>;
  /** The first step of a flow: the request's parameters, no credential; its auth_session. */
  start(install: Install, v: string): Promise<string>;
  /** Where the app opens the browser after redirect_to_web: the authorization endpoint with its client_id and the request_uri. */
  browserUrl(install: Install, requestUri: string): Promise<URL>;
  close(): Promise<void>;
}

/** Starts the example server with `more` options and first-party sign-in for its fallback installs. */
export async function startFirstParty(
  more: (o: AuthServerOptions) => AuthServerOptions = (o) => o,
): Promise<FirstPartyServer> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), alg: 'ES256' }] });
  const server = await startExample((o) => more(withFirstParty(o)), { FALLBACK_CLIENT_JWKS: jwks });
  const post = async (url: string, install: Install, body: Record<string, string>) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        authorization: basic(install),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams(body),
    });
    return { status: res.status, body: (await res.json()) as Json };
  };
  const challenge = (install: Install, body: Record<string, string>) =>
    post(`${server.issuer}/authorize-challenge`, install, body);
  return {
    server,
    async install() {
      const config = await oidc.discovery(
        new URL(server.issuer),
        FALLBACK_PKI_CLIENT_ID,
        undefined,
        oidc.PrivateKeyJwt(privateKey),
        insecure,
      );
      const dcr = await oidc.clientCredentialsGrant(config, { scope: 'dcr' });
      const registered = await postRegistration(
        server.issuer,
        { software_id: FALLBACK_SOFTWARE_ID },
        dcr.access_token,
      );
      assert.equal(registered.status, 201, JSON.stringify(registered.body));
      return registered.body as unknown as Install;
    },
    challenge,
    token: (install, params) => post(`${server.issuer}/token`, install, params),
    async start(install, v) {
      const started = await challenge(install, {
        scope: 'openid offline_access',
        code_challenge: challengeOf(v),
        code_challenge_method: 'S256',
      });
      assert.equal(started.body.error, 'insufficient_authorization', JSON.stringify(started.body));
      return started.body.auth_session as string;
    },
    async browserUrl(install, requestUri) {
      const discovery = await fetch(`${server.issuer}/.well-known/openid-configuration`);
      const url = new URL(((await discovery.json()) as Json).authorization_endpoint as string);
      url.searchParams.set('client_id', install.client_id);
      url.searchParams.set('request_uri', requestUri);
      return url;
    },
    close: () => server.close(),
  };
}
