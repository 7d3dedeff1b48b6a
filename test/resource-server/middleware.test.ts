// koaAuth and expressAuth in a real Koa app and a real Express app, each mounted under a prefix,
// against a real authorization server: the same cases run for both frameworks.
import assert from 'node:assert/strict';
import { createHash, randomUUID, type webcrypto } from 'node:crypto';
import { createServer as createHttpServer, type RequestListener, request } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express, { type NextFunction, type Request, type Response } from 'express';
import { exportJWK, SignJWT } from 'jose';
import Koa from 'koa';
import mount from 'koa-mount';
import { ConfigurationError } from 'mobile-oidc-provider';
import * as oidc from 'openid-client';
import {
  type AuthMiddlewareOptions,
  type AuthState,
  createTokenVerifier,
  type ExpressAuthRequest,
  expressAuth,
  type KoaAuthContext,
  koaAuth,
  refusalResponse,
  requireCal,
  requireScopes,
  TokenVerificationError,
  type TokenVerifier,
  type VerifiedToken,
} from '../../lib/resource-server/index.js';
import { type RunningServer, startExample } from '../helpers/example.js';
import { freePort } from '../helpers/listen.js';
import { createAuthority, type Issued } from '../helpers/test-pki.js';
import { App, JWT_API, LocalIssuer, sleep, withApis } from './helpers.js';

const ALGS = 'ES256 EdDSA Ed25519 RS256 PS256';
const PUBLIC_URL = 'https://api.example.com/base';
/** The URL from the Host header (or the trusted proxy's): these test apps are called directly. */
const HOST = { trustHostHeader: true } as const;

/** The routes a test app serves under `/v1`, each with its middleware options. */
type Routes = Record<string, AuthMiddlewareOptions>;

/** What the test apps' handlers answer: the token the middleware handed on. */
const seen = (token: VerifiedToken | undefined) => ({
  sub: token?.sub,
  clientId: token?.clientId,
  scope: token?.scope,
  cal: token?.cal,
  tokenType: token?.tokenType,
  format: token?.format,
  boundTo: token?.boundTo,
});

interface Served {
  url: string;
  /** Errors that reached the framework's error handling. */
  errors: unknown[];
  close(): Promise<void>;
}

interface ServeOptions {
  trustProxy?: boolean;
  tls?: { key: string; cert: string };
}

async function serve(listener: RequestListener, tls: ServeOptions['tls']): Promise<Served> {
  const server = tls
    ? createHttpsServer({ ...tls, requestCert: true, rejectUnauthorized: false }, listener)
    : createHttpServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    errors: [],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A framework under test: serves `routes` under `/v1` with the middleware. */
interface Framework {
  name: string;
  start(verifier: TokenVerifier, routes: Routes, options?: ServeOptions): Promise<Served>;
}

const frameworks: Framework[] = [
  {
    name: 'Koa (koaAuth, ctx.state.auth)',
    async start(verifier, routes, options = {}) {
      const app = new Koa<AuthState>();
      app.proxy = options.trustProxy === true;
      const handlers = new Map(
        Object.entries(routes).map(([path, o]) => [`/${path}`, koaAuth(verifier, o)]),
      );
      app.use(
        mount('/v1', async (ctx, next) => {
          const auth = handlers.get(ctx.path);
          if (!auth) return next();
          await auth(ctx, async () => {
            ctx.body = seen(ctx.state.auth);
          });
        }),
      );
      let listener: RequestListener = () => {};
      const served = await serve((req, res) => listener(req, res), options.tls);
      // Listening on `error` keeps Koa from logging; the default answer stays a bare 500.
      app.on('error', (error: unknown) => served.errors.push(error));
      listener = app.callback();
      return served;
    },
  },
  {
    name: 'Express (expressAuth, req.auth)',
    async start(verifier, routes, options = {}) {
      const app = express();
      if (options.trustProxy) app.set('trust proxy', true);
      const router = express.Router();
      for (const [path, o] of Object.entries(routes)) {
        router.get(`/${path}`, expressAuth(verifier, o), (req, res) => {
          res.json(seen(req.auth));
        });
      }
      app.use('/v1', router);
      let listener: RequestListener = () => {};
      const served = await serve((req, res) => listener(req, res), options.tls);
      app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
        served.errors.push(error);
        res.status(500).json({ error: 'server_error' });
      });
      listener = app;
      return served;
    },
  },
];

/** What a test app answered. */
interface Answer {
  status: number;
  headers: Headers;
  challenge: string | null;
  text: string;
  body: Record<string, unknown>;
}

async function get(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(url, { headers });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {}
  return {
    status: res.status,
    headers: res.headers,
    challenge: res.headers.get('www-authenticate'),
    text,
    body,
  };
}

/** A GET through node:http, for headers fetch will not send (a Host of our choosing). */
function rawGet(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let body = '';
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A GET over HTTPS with a client certificate. */
function tlsGet(
  url: string,
  headers: Record<string, string>,
  tls: { ca: string; cert?: string; key?: string },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { headers, ...tls }, (res) => {
      let body = '';
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const ath = (token: string) => createHash('sha256').update(token).digest('base64url');

/** A DPoP proof for `htu` (GET) with the app's key. */
async function proof(keys: webcrypto.CryptoKeyPair, token: string, htu: string): Promise<string> {
  return new SignJWT({
    jti: randomUUID(),
    htm: 'GET',
    htu,
    iat: Math.floor(Date.now() / 1000),
    ath: ath(token),
  })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(keys.publicKey) })
    .sign(keys.privateKey);
}

describe('resource server middleware', () => {
  let server: RunningServer;
  let app: App;
  let verifier: TokenVerifier;
  let token: string;
  let keys: webcrypto.CryptoKeyPair;
  let dpop: oidc.DPoPHandle;
  let dpopToken: string;

  before(async () => {
    server = await startExample(withApis);
    app = await App.install(server.issuer);
    verifier = createTokenVerifier({ issuer: server.issuer, audience: JWT_API, allowHttp: true });
    keys = await oidc.randomDPoPKeyPair('ES256', { extractable: true });
    dpop = oidc.getDPoPHandle(app.instance, keys);
    // One after the other: the app's sign-ins share its browser session.
    token = await app.accessToken(JWT_API);
    dpopToken = await app.accessToken(JWT_API, dpop);
  });
  after(async () => {
    await server.close();
  });

  for (const framework of frameworks) {
    describe(framework.name, () => {
      let api: Served;
      const refusals: TokenVerificationError[] = [];

      before(async () => {
        const onRefusal = (error: TokenVerificationError) => refusals.push(error);
        api = await framework.start(verifier, {
          me: { ...HOST, realm: 'test', onRefusal },
          bare: HOST,
          devices: {
            ...HOST,
            realm: 'test',
            requirements: (t) => requireScopes(t, 'payments', 'devices'),
          },
          policy: { ...HOST, realm: 'test', requirements: (t) => requireCal(t, 'by-policy') },
          later: {
            ...HOST,
            realm: 'test',
            async requirements(t) {
              await sleep(5);
              if (!t.scope.includes('devices')) {
                throw new TokenVerificationError({
                  error: 'insufficient_scope',
                  description: 'checked later',
                });
              }
            },
          },
          broken: {
            ...HOST,
            requirements: () => {
              throw new Error('a bug with a secret detail');
            },
          },
          public: { publicUrl: PUBLIC_URL },
        });
      });
      after(async () => {
        await api.close();
      });

      it('a valid token is handed on to the route, and nothing is cached against no-store', async () => {
        const answer = await get(`${api.url}/v1/me`, { authorization: `Bearer ${token}` });
        assert.equal(answer.status, 200);
        assert.deepEqual(answer.body, {
          sub: 'demouser',
          clientId: app.instance.clientMetadata().client_id,
          scope: ['payments', 'email'],
          cal: 'none',
          tokenType: 'Bearer',
          format: 'jwt',
        });
        assert.equal(answer.challenge, null);
      });

      it('no token: 401 with the bare challenge, no-store, and a JSON body without error fields', async () => {
        const answer = await get(`${api.url}/v1/me`);
        assert.equal(answer.status, 401);
        assert.equal(answer.challenge, 'Bearer realm="test"');
        assert.equal(answer.headers.get('cache-control'), 'no-store');
        assert.match(answer.headers.get('content-type') ?? '', /^application\/json/);
        assert.deepEqual(answer.body, {});
        // Without a realm, the challenge is the scheme alone.
        assert.equal((await get(`${api.url}/v1/bare`)).challenge, 'Bearer');
      });

      it('an invalid token: 401 invalid_token, in the challenge and the body', async () => {
        const answer = await get(`${api.url}/v1/me`, { authorization: 'Bearer not-a-token' });
        assert.equal(answer.status, 401);
        assert.equal(answer.body.error, 'invalid_token');
        assert.equal(typeof answer.body.error_description, 'string');
        assert.equal(
          answer.challenge,
          `Bearer realm="test", error="invalid_token", error_description="${answer.body.error_description}"`,
        );
        assert.equal(answer.headers.get('cache-control'), 'no-store');
        assert.ok(
          refusals.some((r) => r.error === 'invalid_token'),
          'onRefusal saw it',
        );
      });

      it('a malformed Authorization header: 400 invalid_request', async () => {
        const answer = await get(`${api.url}/v1/me`, { authorization: 'Bearer two tokens' });
        assert.equal(answer.status, 400);
        assert.equal(answer.body.error, 'invalid_request');
      });

      it('requirements refusing a scope: 403 insufficient_scope, the scopes in challenge and body', async () => {
        const answer = await get(`${api.url}/v1/devices`, { authorization: `Bearer ${token}` });
        assert.equal(answer.status, 403);
        assert.deepEqual(answer.body, {
          error: 'insufficient_scope',
          error_description: 'the token lacks the scope devices',
          scope: 'payments devices',
        });
        assert.equal(
          answer.challenge,
          'Bearer realm="test", error="insufficient_scope", error_description="the token lacks the scope devices", scope="payments devices"',
        );
      });

      it('requirements refusing the level: 403 insufficient_assurance', async () => {
        const answer = await get(`${api.url}/v1/policy`, { authorization: `Bearer ${token}` });
        assert.equal(answer.status, 403);
        assert.equal(answer.body.error, 'insufficient_assurance');
        assert.match(answer.challenge ?? '', /error="insufficient_assurance"/);
      });

      it('async requirements are awaited', async () => {
        const answer = await get(`${api.url}/v1/later`, { authorization: `Bearer ${token}` });
        assert.equal(answer.status, 403);
        assert.deepEqual(answer.body, {
          error: 'insufficient_scope',
          error_description: 'checked later',
        });
      });

      it('any other error goes to the framework, and its message stays out of the answer', async () => {
        const before = api.errors.length;
        const answer = await get(`${api.url}/v1/broken`, { authorization: `Bearer ${token}` });
        assert.equal(answer.status, 500);
        assert.doesNotMatch(answer.text, /secret detail|at /);
        assert.equal(answer.challenge, null);
        const reached = api.errors.slice(before);
        assert.equal(reached.length, 1);
        assert.match(String((reached[0] as Error).message), /secret detail/);
      });

      it('a DPoP-bound token with a proof for the original URL (mount prefix included): 200; the proof replayed: 401', async () => {
        const url = `${api.url}/v1/me?page=2`;
        const headers = {
          authorization: `DPoP ${dpopToken}`,
          dpop: await proof(keys, dpopToken, `${api.url}/v1/me`),
        };
        const first = await get(url, headers);
        assert.equal(first.status, 200);
        assert.equal(first.body.tokenType, 'DPoP');
        const replayed = await get(url, headers);
        assert.equal(replayed.status, 401);
        assert.equal(replayed.body.error_description, 'the DPoP proof was already used (jti)');
        assert.equal(
          replayed.challenge,
          `DPoP realm="test", error="invalid_dpop_proof", error_description="the DPoP proof was already used (jti)", algs="${ALGS}"`,
        );
      });

      it('openid-client as the app: its proofs pass, and a request without one is 401', async () => {
        const res = await oidc.fetchProtectedResource(
          app.instance,
          dpopToken,
          new URL(`${api.url}/v1/me`),
          'GET',
          null,
          undefined,
          { DPoP: dpop },
        );
        assert.equal(res.status, 200);
        const missing = await get(`${api.url}/v1/me`, { authorization: `DPoP ${dpopToken}` });
        assert.equal(missing.status, 401);
        assert.equal(missing.body.error, 'invalid_dpop_proof');
      });

      it('a proof without the mount prefix is for another URL: 401 (htu)', async () => {
        const answer = await get(`${api.url}/v1/me`, {
          authorization: `DPoP ${dpopToken}`,
          dpop: await proof(keys, dpopToken, `${api.url}/me`),
        });
        assert.equal(answer.status, 401);
        assert.equal(answer.body.error_description, 'the DPoP proof is for another URL (htu)');
      });

      it('publicUrl: the proof names the external URL, not the one the proxy called', async () => {
        const external = `${PUBLIC_URL}/v1/public`;
        const accepted = await get(`${api.url}/v1/public`, {
          authorization: `DPoP ${dpopToken}`,
          dpop: await proof(keys, dpopToken, external),
        });
        assert.equal(accepted.status, 200);
        const local = await get(`${api.url}/v1/public`, {
          authorization: `DPoP ${dpopToken}`,
          dpop: await proof(keys, dpopToken, `${api.url}/v1/public`),
        });
        assert.equal(local.status, 401);
        assert.equal(local.body.error_description, 'the DPoP proof is for another URL (htu)');
        // The Host header does not matter once publicUrl is set.
        const spoofed = await rawGet(`${api.url}/v1/public`, {
          host: 'elsewhere.example',
          authorization: `DPoP ${dpopToken}`,
          dpop: await proof(keys, dpopToken, external),
        });
        assert.equal(spoofed.status, 200);
      });

      it('a token and proof captured at another host, replayed here with that Host: 401 invalid_dpop_proof (publicUrl decides, not the Host)', async () => {
        // What the attacker controls: every header naming the host the proof was made for.
        const spoofed = {
          host: 'other.example',
          'x-forwarded-host': 'other.example',
          'x-forwarded-proto': 'https',
          authorization: `DPoP ${dpopToken}`,
        };
        const attack = await rawGet(`${api.url}/v1/public`, {
          ...spoofed,
          dpop: await proof(keys, dpopToken, 'https://other.example/v1/public'),
        });
        assert.equal(attack.status, 401);
        assert.deepEqual(JSON.parse(attack.body), {
          error: 'invalid_dpop_proof',
          error_description: 'the DPoP proof is for another URL (htu)',
        });
        // Control: the same request with a proof for the API's public URL passes.
        const control = await rawGet(`${api.url}/v1/public`, {
          ...spoofed,
          dpop: await proof(keys, dpopToken, `${PUBLIC_URL}/v1/public`),
        });
        assert.equal(control.status, 200, control.body);
      });

      it('without trust in the proxy, its forwarded protocol and host are ignored', async () => {
        const answer = await get(`${api.url}/v1/me`, {
          authorization: `DPoP ${dpopToken}`,
          dpop: await proof(keys, dpopToken, 'https://api.example.com/v1/me'),
          'x-forwarded-proto': 'https',
          'x-forwarded-host': 'api.example.com',
        });
        assert.equal(answer.status, 401);
        assert.equal(answer.body.error_description, 'the DPoP proof is for another URL (htu)');
      });

      it('trusting the proxy (trust proxy / app.proxy): the forwarded protocol and host make the URL', async () => {
        const proxied = await framework.start(verifier, { me: HOST }, { trustProxy: true });
        try {
          const answer = await get(`${proxied.url}/v1/me`, {
            authorization: `DPoP ${dpopToken}`,
            dpop: await proof(keys, dpopToken, 'https://api.example.com/v1/me'),
            'x-forwarded-proto': 'https',
            'x-forwarded-host': 'api.example.com',
          });
          assert.equal(answer.status, 200);
        } finally {
          await proxied.close();
        }
      });

      it('a Host that would move the URL elsewhere: 400 invalid_request', async () => {
        const answer = await rawGet(`${api.url}/v1/me`, {
          host: 'elsewhere.example/other-path',
          authorization: `Bearer ${token}`,
        });
        assert.equal(answer.status, 400);
        assert.equal(JSON.parse(answer.body).error, 'invalid_request');
      });

      it('the authorization server unreachable: 503 temporarily_unavailable, no challenge, no Retry-After; onRefusal gets the cause', async () => {
        const down = createTokenVerifier({
          issuer: `http://127.0.0.1:${await freePort()}`,
          audience: JWT_API,
          allowHttp: true,
          timeoutMs: 2000,
        });
        const seenRefusals: TokenVerificationError[] = [];
        const unavailable = await framework.start(down, {
          me: { ...HOST, realm: 'test', onRefusal: (error) => seenRefusals.push(error) },
        });
        try {
          const answer = await get(`${unavailable.url}/v1/me`, {
            authorization: `Bearer ${token}`,
          });
          assert.equal(answer.status, 503);
          assert.equal(answer.challenge, null);
          assert.equal(answer.headers.get('retry-after'), null);
          assert.equal(answer.headers.get('cache-control'), 'no-store');
          assert.equal(answer.body.error, 'temporarily_unavailable');
          assert.equal(seenRefusals.length, 1);
          assert.ok(seenRefusals[0]?.cause, 'the cause is kept for the logs');
          assert.doesNotMatch(answer.text, /ECONNREFUSED|fetch failed/);
        } finally {
          await unavailable.close();
        }
      });
    });
  }

  describe('certificate-bound tokens with TLS in this process (RFC 8705 §3)', () => {
    let issuer: LocalIssuer;
    let authority: Awaited<ReturnType<typeof createAuthority>>;
    let serverCert: Issued;
    let device: Issued;
    let boundToken: string;
    let x5t: string;

    before(async () => {
      issuer = await LocalIssuer.start();
      authority = await createAuthority('middleware-test-ca');
      [serverCert, device] = await Promise.all([
        authority.server(),
        authority.client('CN=device-7'),
      ]);
      const der = Buffer.from(device.der, 'base64');
      x5t = createHash('sha256').update(der).digest('base64url');
      boundToken = await issuer.mint(JWT_API, { cnf: { 'x5t#S256': x5t } });
    });
    after(async () => {
      await issuer.close();
    });

    for (const framework of frameworks) {
      it(`${framework.name}: the TLS client certificate proves the binding; another or none is 401`, async () => {
        const local = createTokenVerifier({
          issuer: issuer.issuer,
          audience: JWT_API,
          allowHttp: true,
        });
        const api = await framework.start(local, { me: HOST }, { tls: serverCert });
        try {
          const headers = { authorization: `Bearer ${boundToken}` };
          const withCert = await tlsGet(`${api.url}/v1/me`, headers, {
            ca: authority.cert,
            cert: device.cert,
            key: device.key,
          });
          assert.equal(withCert.status, 200, withCert.body);
          assert.deepEqual(JSON.parse(withCert.body).boundTo, { x5tS256: x5t });
          const other = await authority.client('CN=device-8');
          const withOther = await tlsGet(`${api.url}/v1/me`, headers, {
            ca: authority.cert,
            cert: other.cert,
            key: other.key,
          });
          assert.equal(withOther.status, 401);
          assert.match(JSON.parse(withOther.body).error_description, /another client certificate/);
          const without = await tlsGet(`${api.url}/v1/me`, headers, { ca: authority.cert });
          assert.equal(without.status, 401);
          assert.match(JSON.parse(without.body).error_description, /presents none/);
        } finally {
          await api.close();
        }
      });
    }
  });

  describe('hand-built requests (a framework, adapter or test passing odd values)', () => {
    /** Runs koaAuth on a context of our own: what it answered, and whether it went on. */
    async function koaAnswer(headers: Record<string, unknown>, originalUrl: unknown = '/me') {
      const answer = {
        status: 404,
        body: undefined as unknown,
        headers: {} as Record<string, string>,
      };
      let next = false;
      await koaAuth(verifier, { publicUrl: PUBLIC_URL })(
        {
          method: 'GET',
          originalUrl: originalUrl as string,
          protocol: 'http',
          host: 'localhost',
          headers: headers as KoaAuthContext['headers'],
          state: {},
          set: (name, value) => {
            answer.headers[name] = value;
          },
          get status() {
            return answer.status;
          },
          set status(value) {
            answer.status = value;
          },
          get body() {
            return answer.body;
          },
          set body(value) {
            answer.body = value;
          },
        },
        async () => {
          next = true;
        },
      );
      return { status: answer.status, body: answer.body as Record<string, unknown>, passed: next };
    }

    /** Runs expressAuth on a request of our own: what it answered; an error for `next` rejects. */
    function expressAnswer(headers: Record<string, unknown>, originalUrl: unknown = '/me') {
      return new Promise<{ status: number; body: Record<string, unknown>; passed: boolean }>(
        (resolve, reject) => {
          const res = {
            statusCode: 200,
            setHeader: () => res,
            end: (body: string) =>
              resolve({ status: res.statusCode, body: JSON.parse(body), passed: false }),
          };
          expressAuth(verifier, { publicUrl: PUBLIC_URL })(
            {
              method: 'GET',
              originalUrl: originalUrl as string,
              protocol: 'http',
              host: 'localhost',
              headers: headers as ExpressAuthRequest['headers'],
            },
            res,
            (error?: unknown) =>
              error === undefined
                ? resolve({ status: 200, body: {}, passed: true })
                : reject(error),
          );
        },
      );
    }

    it('non-string Authorization, DPoP or request target values are refused (400 / 401 invalid_dpop_proof), never a TypeError; a valid pair passes (control)', async () => {
      const cases: Array<[Record<string, unknown>, number, string]> = [
        [{ authorization: null }, 400, 'invalid_request'],
        [{ authorization: 7 }, 400, 'invalid_request'],
        [{ authorization: [`Bearer ${token}`, 7] }, 400, 'invalid_request'],
        [{ authorization: { toString: () => `Bearer ${token}` } }, 400, 'invalid_request'],
        [{ authorization: `DPoP ${dpopToken}`, dpop: 123 }, 401, 'invalid_dpop_proof'],
        [{ authorization: `DPoP ${dpopToken}`, dpop: [null] }, 401, 'invalid_dpop_proof'],
      ];
      for (const [headers, status, error] of cases) {
        for (const answer of [await koaAnswer(headers), await expressAnswer(headers)]) {
          assert.equal(answer.status, status, JSON.stringify(headers));
          assert.equal(answer.body.error, error);
          assert.equal(answer.passed, false);
        }
      }
      // A request target that is not a string: 400 too, before any token is looked at.
      const bearer = { authorization: `Bearer ${token}` };
      for (const answer of [await koaAnswer(bearer, 7), await expressAnswer(bearer, null)]) {
        assert.equal(answer.status, 400);
        assert.deepEqual(answer.body, {
          error: 'invalid_request',
          error_description: 'the request target is not a path',
        });
      }
      // A fresh proof each time: the first use spends its jti.
      const valid = async () => ({
        authorization: `DPoP ${dpopToken}`,
        dpop: await proof(keys, dpopToken, `${PUBLIC_URL}/me`),
      });
      assert.equal((await koaAnswer(await valid())).passed, true);
      assert.equal((await expressAnswer(await valid())).passed, true);
    });
  });

  describe('options', () => {
    it('are checked when the middleware is made: ConfigurationError naming each', () => {
      for (const make of [koaAuth, expressAuth]) {
        assert.throws(
          () =>
            make(verifier, {
              publicUrl: 'https://api.example.com/?x=1',
              realm: 7 as unknown as string,
              requirements: 'payments' as unknown as () => void,
            }),
          (error: unknown) =>
            error instanceof ConfigurationError &&
            error.problems.length === 3 &&
            error.problems.some((p) => p.startsWith('options.publicUrl')),
        );
        assert.throws(() => make({} as TokenVerifier), ConfigurationError);
        assert.throws(
          () => make(verifier, { publicUrl: 'ftp://api.example.com' }),
          ConfigurationError,
        );
        make(verifier, { publicUrl: 'https://api.example.com/' });
      }
    });

    it('neither publicUrl nor trustHostHeader: refused when the middleware is made, so the Host header never makes the URL by default', () => {
      const required =
        "options.publicUrl is required (the API's external URL, which DPoP proofs must name), unless options.trustHostHeader is true";
      for (const make of [koaAuth, expressAuth]) {
        for (const options of [undefined, {}, { realm: 'api' }, { trustHostHeader: false }]) {
          assert.throws(
            () => make(verifier, options),
            (error: unknown) =>
              error instanceof ConfigurationError &&
              error.problems.length === 1 &&
              error.problems[0] === required,
          );
        }
        assert.throws(
          () => make(verifier, { publicUrl: PUBLIC_URL, trustHostHeader: true }),
          (error: unknown) =>
            error instanceof ConfigurationError &&
            error.problems[0] ===
              'options.publicUrl and options.trustHostHeader exclude each other: set one',
        );
        assert.throws(
          () => make(verifier, { trustHostHeader: 'yes' as unknown as boolean }),
          (error: unknown) =>
            error instanceof ConfigurationError &&
            error.problems[0] === 'options.trustHostHeader must be a boolean',
        );
        // Controls: either one alone is enough.
        make(verifier, { publicUrl: PUBLIC_URL });
        make(verifier, { trustHostHeader: true });
      }
    });

    it('refusalResponse answers other frameworks the same way', () => {
      const refused = refusalResponse(
        new TokenVerificationError({ error: 'insufficient_scope', description: 'd', scope: 'a b' }),
        'api',
      );
      assert.deepEqual(refused, {
        status: 403,
        headers: {
          'WWW-Authenticate':
            'Bearer realm="api", error="insufficient_scope", error_description="d", scope="a b"',
          'Cache-Control': 'no-store',
          'Content-Type': 'application/json; charset=utf-8',
        },
        body: { error: 'insufficient_scope', error_description: 'd', scope: 'a b' },
      });
      assert.deepEqual(refusalResponse(new TokenVerificationError({})).body, {});
    });
  });
});
