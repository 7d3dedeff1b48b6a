// The app side of browserless first-party sign-in over real HTTP: fallback installs (provisioned
// key or shared secret), requests to the Authorization Challenge Endpoint, and the code at the
// token endpoint; and the test server a first-party suite runs, on its store.
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import type { AuthServerOptions, Store } from 'mobile-oidc-provider';
import { MemoryStore } from 'mobile-oidc-provider';
import { RedisStore } from 'mobile-oidc-provider/adapters/redis';
import * as oidc from 'openid-client';
import { insecure, type RunningServer, startExample } from './example.js';
import {
  FALLBACK_CLIENT_ID,
  FALLBACK_CLIENT_SECRET,
  FALLBACK_PKI_CLIENT_ID,
  FALLBACK_SOFTWARE_ID,
} from './fixture.js';
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

/** `install`'s `Authorization` header for client_secret_basic (RFC 6749 §2.3.1). */
export const basicAuth = (i: Install) =>
  `Basic ${Buffer.from(`${encodeURIComponent(i.client_id)}:${encodeURIComponent(i.client_secret)}`).toString('base64')}`;

/** An answer of the server, its body read as JSON. */
export interface Answer {
  status: number;
  headers: Headers;
  body: Json;
}

/** A POST of a form (an object, or a raw form string) to `url` as `install`, with `headers` added. */
export async function postAs(
  url: string,
  install: Install,
  body: string | Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      authorization: basicAuth(install),
      'content-type': 'application/x-www-form-urlencoded',
      ...headers,
    },
    body: typeof body === 'string' ? body : new URLSearchParams(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Json };
}

/**
 * Registers an install of the fallback template at `issuer` with a DCR token of the fallback
 * client `clientId`, which authenticates with `auth`; the registration response.
 */
export async function registerFallbackInstall(
  issuer: string,
  clientId: string,
  auth: oidc.ClientAuth,
): Promise<Json> {
  const fallback = await oidc.discovery(new URL(issuer), clientId, undefined, auth, insecure);
  const dcr = await oidc.clientCredentialsGrant(fallback, { scope: 'dcr' });
  const registered = await postRegistration(
    issuer,
    { software_id: FALLBACK_SOFTWARE_ID },
    dcr.access_token,
  );
  assert.equal(registered.status, 201, JSON.stringify(registered.body));
  return registered.body;
}

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

/** No sign-in throttle: for suites that fail several sign-ins of one account on purpose. */
const unthrottled = (o: AuthServerOptions): AuthServerOptions => ({
  ...o,
  interactions: {
    ...o.interactions,
    signInRateLimit: { perAccount: false, perIp: false, perUsername: false },
  },
});

/** A test server whose fallback template has `firstParty`, and the app's requests to it. */
export interface FirstPartyServer {
  server: RunningServer;
  /**
   * A new install of the fallback template, registered with the fallback client's provisioned
   * key (`pki`, cal `by-provisioned-key`) or its shared secret (`secret`, cal `none`).
   */
  install(kind?: 'pki' | 'secret'): Promise<Install>;
  /** A POST to the Authorization Challenge Endpoint as `install`, with `headers` added. */
  challenge(
    install: Install,
    body: string | Record<string, string>,
    headers?: Record<string, string>,
  ): Promise<Answer>;
  /** A POST to the token endpoint as `install`, with `headers` added. */
  token(
    install: Install,
    params: Record<string, string>,
    headers?: Record<string, string>,
  ): Promise<Answer>;
  /** The first step of a flow: the request's parameters, no credential; its auth_session. */
  start(install: Install, v: string): Promise<string>;
  /** Where the app opens the browser after redirect_to_web: the authorization endpoint with its client_id and the request_uri. */
  browserUrl(install: Install, requestUri: string): Promise<URL>;
  /** Stops the server, then closes its store when the suite made one. */
  close(): Promise<void>;
}

/** How a first-party suite's server runs. */
export interface FirstPartySettings {
  /** The store of the suite (one of {@link FIRST_PARTY_STORES}); the example's own without. */
  store?: SuiteStore;
  /** No sign-in throttle. */
  unthrottled?: boolean;
}

/** Starts the example server with `more` options and first-party sign-in for its fallback installs. */
export async function startFirstParty(
  more: (o: AuthServerOptions) => AuthServerOptions = (o) => o,
  settings: FirstPartySettings = {},
): Promise<FirstPartyServer> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), alg: 'ES256' }] });
  const store = await settings.store?.();
  const server = await startExample(
    (o) => {
      const options = more(withFirstParty(store ? { ...o, store: store.store } : o));
      return settings.unthrottled ? unthrottled(options) : options;
    },
    { FALLBACK_CLIENT_JWKS: jwks },
  );
  const challenge = (
    install: Install,
    body: string | Record<string, string>,
    headers?: Record<string, string>,
  ) => postAs(`${server.issuer}/authorize-challenge`, install, body, headers);
  return {
    server,
    async install(kind = 'pki') {
      const registered =
        kind === 'pki'
          ? await registerFallbackInstall(
              server.issuer,
              FALLBACK_PKI_CLIENT_ID,
              oidc.PrivateKeyJwt(privateKey),
            )
          : await registerFallbackInstall(
              server.issuer,
              FALLBACK_CLIENT_ID,
              oidc.ClientSecretBasic(FALLBACK_CLIENT_SECRET),
            );
      return registered as unknown as Install;
    },
    challenge,
    token: (install, params, headers) => postAs(`${server.issuer}/token`, install, params, headers),
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
    async close() {
      await server.close();
      await store?.close();
    },
  };
}
