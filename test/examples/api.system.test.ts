// The example API (examples/api) against the example server (`npm start`), both as processes
// of their own, called as the app calls them: openid-client gets the tokens (with and without
// `resource`, with and without DPoP) and makes the requests.
import assert from 'node:assert/strict';
import { createHash, randomUUID, type webcrypto } from 'node:crypto';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import * as oidc from 'openid-client';
import { APP_REDIRECT_URI, insecure } from '../helpers/example.js';
import {
  APP_SOFTWARE_ID,
  FALLBACK_PKI_CLIENT_ID,
  FALLBACK_SOFTWARE_ID,
} from '../helpers/fixture.js';
import { instanceConfiguration, postRegistration } from '../helpers/registration.js';
import { freshDcrToken, SignInBrowser, signIn } from '../helpers/sign-in.js';
import { type SpawnedExample, spawnExample } from '../helpers/spawn.js';

const API = 'https://api.example.com/';
const OTHER_API = 'https://other-api.example.com/';
const SECRET = 'example-api-secret-for-the-system-test-0123456789';
const REALM = 'example-api';
const ALGS = 'ES256 EdDSA Ed25519 RS256 PS256';

/** What the API answered. */
interface Answer {
  status: number;
  challenge: string | null;
  cacheControl: string | null;
  body: Record<string, unknown>;
}

/** A GET through node:http, for a Host header of our choosing (fetch will not send one). */
function hostGet(url: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let text = '';
      res.on('data', (chunk) => {
        text += chunk;
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          challenge: res.headers['www-authenticate'] ?? null,
          cacheControl: res.headers['cache-control'] ?? null,
          body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** A DPoP proof for a GET of `htu`, signed by hand with the app's key (RFC 9449 §4.2). */
async function handProof(keys: webcrypto.CryptoKeyPair, token: string, htu: string) {
  return new SignJWT({
    jti: randomUUID(),
    htm: 'GET',
    htu,
    iat: Math.floor(Date.now() / 1000),
    ath: createHash('sha256').update(token).digest('base64url'),
  })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(keys.publicKey) })
    .sign(keys.privateKey);
}

async function answerOf(res: Response): Promise<Answer> {
  const text = await res.text();
  return {
    status: res.status,
    challenge: res.headers.get('www-authenticate'),
    cacheControl: res.headers.get('cache-control'),
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

describe('the example API with the example server', () => {
  let server: SpawnedExample;
  let api: SpawnedExample;
  let otherApi: SpawnedExample;
  let issuer: string;
  let apiUrl: string;
  let otherApiUrl: string;
  let pkiKey: webcrypto.CryptoKey;
  /** An install of the app template (a user's DCR token): cal=none. */
  let plain: oidc.Configuration;
  /** An install through the provisioned-key fallback client: cal=by-provisioned-key. */
  let provisioned: oidc.Configuration;

  before(async () => {
    const keys = await generateKeyPair('ES256');
    pkiKey = keys.privateKey;
    const jwks = { keys: [{ ...(await exportJWK(keys.publicKey)), alg: 'ES256' }] };
    server = await spawnExample('examples/server/main.ts', {
      FALLBACK_CLIENT_JWKS: JSON.stringify(jwks),
      RESOURCE_SERVER_SECRET: SECRET,
      LOG_LEVEL: 'silent',
    });
    issuer = `http://localhost:${server.port}`;
    [api, otherApi] = await Promise.all([
      spawnExample('examples/api/main.ts', {
        ISSUER: issuer,
        API_INTROSPECTION_SECRET: SECRET,
        LOG_LEVEL: 'silent',
      }),
      // Another API of the same server, without introspection: JWTs only.
      spawnExample('examples/api/main.ts', {
        ISSUER: issuer,
        API_AUDIENCE: OTHER_API,
        LOG_LEVEL: 'silent',
      }),
    ]);
    apiUrl = `http://localhost:${api.port}`;
    otherApiUrl = `http://localhost:${otherApi.port}`;
    [plain, provisioned] = await Promise.all([plainInstall(), provisionedInstall()]);
  });
  after(async () => {
    await Promise.all([api?.stop(), otherApi?.stop()]);
    await server?.stop();
  });

  async function plainInstall(): Promise<oidc.Configuration> {
    const registration = await postRegistration(
      issuer,
      { software_id: APP_SOFTWARE_ID, software_version: '1.2.0' },
      await freshDcrToken(issuer),
    );
    assert.equal(registration.status, 201, JSON.stringify(registration.body));
    return instanceConfiguration(issuer, registration.body);
  }

  async function provisionedInstall(): Promise<oidc.Configuration> {
    const fallback = await oidc.discovery(
      new URL(issuer),
      FALLBACK_PKI_CLIENT_ID,
      undefined,
      oidc.PrivateKeyJwt(pkiKey),
      insecure,
    );
    const { access_token } = await oidc.clientCredentialsGrant(fallback, { scope: 'dcr' });
    const registration = await postRegistration(
      issuer,
      { software_id: FALLBACK_SOFTWARE_ID },
      access_token,
    );
    assert.equal(registration.status, 201, JSON.stringify(registration.body));
    assert.equal(registration.body.cal, 'by-provisioned-key');
    return instanceConfiguration(issuer, registration.body);
  }

  /** The authorization request's outcome: the redirect back to the app. */
  async function authorize(
    instance: oidc.Configuration,
    scope: string,
    resource: string | undefined,
    pkceCodeVerifier: string,
  ): Promise<URL> {
    const { callback } = await signIn(
      new SignInBrowser(),
      oidc.buildAuthorizationUrl(instance, {
        redirect_uri: APP_REDIRECT_URI,
        scope,
        ...(resource ? { resource } : {}),
        code_challenge: await oidc.calculatePKCECodeChallenge(pkceCodeVerifier),
        code_challenge_method: 'S256',
      }),
    );
    return callback;
  }

  /** An access token from a code flow: for `resource` (a JWT) or for userinfo (opaque). */
  async function accessToken(
    instance: oidc.Configuration,
    options: { scope?: string; resource?: string; dpop?: oidc.DPoPHandle } = {},
  ): Promise<string> {
    const { scope = 'openid', resource, dpop } = options;
    const pkceCodeVerifier = oidc.randomPKCECodeVerifier();
    const callback = await authorize(instance, scope, resource, pkceCodeVerifier);
    const tokens = await oidc.authorizationCodeGrant(
      instance,
      callback,
      { pkceCodeVerifier },
      resource ? { resource } : undefined,
      dpop ? { DPoP: dpop } : undefined,
    );
    return tokens.access_token;
  }

  /** A request as the app makes it with openid-client (DPoP proof included with `dpop`). */
  async function appCall(
    instance: oidc.Configuration,
    token: string,
    url: string,
    dpop?: oidc.DPoPHandle,
  ): Promise<Answer> {
    try {
      return await answerOf(
        await oidc.fetchProtectedResource(
          instance,
          token,
          new URL(url),
          'GET',
          null,
          undefined,
          dpop ? { DPoP: dpop } : undefined,
        ),
      );
    } catch (error) {
      // openid-client throws on a challenge; the answer is still what the API said.
      if (error instanceof oidc.WWWAuthenticateChallengeError) return answerOf(error.response);
      throw error;
    }
  }

  /** A request with exactly these headers. */
  async function rawCall(url: string, headers: Record<string, string> = {}): Promise<Answer> {
    return answerOf(await fetch(url, { headers }));
  }

  const dpopHandle = async (instance: oidc.Configuration) =>
    oidc.getDPoPHandle(instance, await oidc.randomDPoPKeyPair('ES256'));

  it('announces its port as the example server does (a JSON line with port)', () => {
    const line = api
      .output()
      .split('\n')
      .find((l) => l.includes('listening on port'));
    assert.ok(line, api.output());
    const entry = JSON.parse(line);
    assert.equal(entry.port, api.port);
    assert.equal(entry.issuer, issuer);
    assert.equal(entry.audience, API);
  });

  it('a by-provisioned-key install with the payments scope: /me and /payments answer 200', async () => {
    const token = await accessToken(provisioned, { scope: 'openid payments', resource: API });
    const me = await appCall(provisioned, token, `${apiUrl}/me`);
    assert.equal(me.status, 200);
    assert.deepEqual(me.body, {
      sub: 'demouser',
      client_id: provisioned.clientMetadata().client_id,
      scope: 'payments',
      cal: 'by-provisioned-key',
    });
    const payments = await appCall(provisioned, token, `${apiUrl}/payments`);
    assert.equal(payments.status, 200);
    assert.deepEqual(payments.body, { sub: 'demouser', payments: [] });
  });

  it('a cal=none install cannot even ask for payments: the authorization request ends in invalid_scope', async () => {
    const callback = await authorize(plain, 'openid payments', API, oidc.randomPKCECodeVerifier());
    assert.equal(callback.searchParams.get('error'), 'invalid_scope');
  });

  it('its token for the API (without payments) passes /me, and /payments answers 403 insufficient_assurance', async () => {
    const token = await accessToken(plain, { scope: 'openid', resource: API });
    const me = await appCall(plain, token, `${apiUrl}/me`);
    assert.equal(me.status, 200);
    assert.deepEqual(me.body, {
      sub: 'demouser',
      client_id: plain.clientMetadata().client_id,
      scope: '',
      cal: 'none',
    });
    const payments = await appCall(plain, token, `${apiUrl}/payments`);
    assert.equal(payments.status, 403);
    const description =
      'this request needs an app install of assurance level by-provisioned-key or higher';
    assert.deepEqual(payments.body, {
      error: 'insufficient_assurance',
      error_description: description,
    });
    assert.equal(
      payments.challenge,
      `Bearer realm="${REALM}", error="insufficient_assurance", error_description="${description}"`,
    );
    assert.equal(payments.cacheControl, 'no-store');
  });

  it('no token: 401 with the bare challenge and no error in the body (RFC 6750 §3.1)', async () => {
    const answer = await rawCall(`${apiUrl}/me`);
    assert.equal(answer.status, 401);
    assert.equal(answer.challenge, `Bearer realm="${REALM}"`);
    assert.equal(answer.cacheControl, 'no-store');
    assert.deepEqual(answer.body, {});
  });

  it('a userinfo token (opaque, no resource) is refused: introspected and not for this API, or not a JWT', async () => {
    const token = await accessToken(provisioned);
    assert.doesNotMatch(token, /\./, 'opaque');
    const here = await appCall(provisioned, token, `${apiUrl}/me`);
    assert.equal(here.status, 401);
    assert.deepEqual(here.body, {
      error: 'invalid_token',
      error_description: 'the token is not for this API (aud)',
    });
    assert.match(here.challenge ?? '', /^Bearer realm="example-api", error="invalid_token"/);
    // The other API has no introspection credential: opaque tokens are refused outright.
    const there = await appCall(provisioned, token, `${otherApiUrl}/me`);
    assert.equal(there.status, 401);
    assert.equal(there.body.error, 'invalid_token');
    assert.match(String(there.body.error_description), /JWT access tokens only/);
  });

  it('a DPoP-bound userinfo token is refused too, with the DPoP scheme in the challenge', async () => {
    const dpop = await dpopHandle(provisioned);
    const token = await accessToken(provisioned, { dpop });
    const answer = await appCall(provisioned, token, `${apiUrl}/me`, dpop);
    assert.equal(answer.status, 401);
    assert.equal(answer.body.error_description, 'the token is not for this API (aud)');
    assert.match(answer.challenge ?? '', /^DPoP realm="example-api", error="invalid_token"/);
  });

  it('a token for another audience is refused there: 401 invalid_token', async () => {
    const token = await accessToken(provisioned, { scope: 'openid payments', resource: API });
    const answer = await appCall(provisioned, token, `${otherApiUrl}/me`);
    assert.equal(answer.status, 401);
    assert.equal(answer.body.error, 'invalid_token');
    assert.match(String(answer.body.error_description), /aud/);
    assert.match(answer.challenge ?? '', /^Bearer realm="example-api", error="invalid_token"/);
  });

  describe('a DPoP-bound token (RFC 9449)', () => {
    let dpop: oidc.DPoPHandle;
    let token: string;

    before(async () => {
      dpop = await dpopHandle(provisioned);
      token = await accessToken(provisioned, { scope: 'openid payments', resource: API, dpop });
    });

    it('with a proof from openid-client: 200 at /me and /payments', async () => {
      const me = await appCall(provisioned, token, `${apiUrl}/me`, dpop);
      assert.equal(me.status, 200);
      assert.equal(me.body.cal, 'by-provisioned-key');
      const payments = await appCall(provisioned, token, `${apiUrl}/payments`, dpop);
      assert.equal(payments.status, 200);
    });

    it('without a proof: 401 invalid_dpop_proof with the DPoP scheme', async () => {
      const answer = await rawCall(`${apiUrl}/payments`, { authorization: `DPoP ${token}` });
      assert.equal(answer.status, 401);
      assert.equal(answer.body.error, 'invalid_dpop_proof');
      assert.equal(
        answer.challenge,
        `DPoP realm="${REALM}", error="invalid_dpop_proof", error_description="the token is DPoP-bound: the request needs a DPoP proof", algs="${ALGS}"`,
      );
    });

    it('as a bearer token: 401 invalid_token (RFC 9449 §7.2)', async () => {
      const answer = await rawCall(`${apiUrl}/payments`, { authorization: `Bearer ${token}` });
      assert.equal(answer.status, 401);
      assert.equal(answer.body.error, 'invalid_token');
      assert.match(answer.challenge ?? '', /^DPoP realm="example-api", error="invalid_token"/);
    });

    it('a replayed proof: 401 invalid_dpop_proof, though the first use passed', async () => {
      // The app's request as it went on the wire, kept to be sent again.
      let sent: Headers | undefined;
      const recording = await dpopHandle(provisioned);
      const bound = await accessToken(provisioned, {
        scope: 'openid payments',
        resource: API,
        dpop: recording,
      });
      provisioned[oidc.customFetch] = (url, options) => {
        sent = new Headers(options.headers);
        return fetch(url, options);
      };
      try {
        const first = await appCall(provisioned, bound, `${apiUrl}/payments`, recording);
        assert.equal(first.status, 200);
      } finally {
        delete provisioned[oidc.customFetch];
      }
      const proof = sent?.get('dpop');
      assert.ok(proof);
      const replayed = await rawCall(`${apiUrl}/payments`, {
        authorization: `DPoP ${bound}`,
        dpop: proof,
      });
      assert.equal(replayed.status, 401);
      assert.equal(replayed.body.error, 'invalid_dpop_proof');
      assert.equal(replayed.body.error_description, 'the DPoP proof was already used (jti)');
    });

    it('a token and proof made for another host, replayed with that Host: 401 invalid_dpop_proof; the URL the API listens on decides (control: 200)', async () => {
      const keys = await oidc.randomDPoPKeyPair('ES256', { extractable: true });
      const bound = await accessToken(provisioned, {
        scope: 'openid payments',
        resource: API,
        dpop: oidc.getDPoPHandle(provisioned, keys),
      });
      // Every header that could name the host, set to the one the proof was made for.
      const spoofed = {
        host: 'other.example',
        'x-forwarded-host': 'other.example',
        'x-forwarded-proto': 'https',
        authorization: `DPoP ${bound}`,
      };
      const attack = await hostGet(`${apiUrl}/me`, {
        ...spoofed,
        dpop: await handProof(keys, bound, 'https://other.example/me'),
      });
      assert.equal(attack.status, 401);
      assert.deepEqual(attack.body, {
        error: 'invalid_dpop_proof',
        error_description: 'the DPoP proof is for another URL (htu)',
      });
      const control = await hostGet(`${apiUrl}/me`, {
        ...spoofed,
        dpop: await handProof(keys, bound, `${apiUrl}/me`),
      });
      assert.equal(control.status, 200);
      assert.equal(control.body.cal, 'by-provisioned-key');
    });

    it('API_PUBLIC_URL, or TRUST_PROXY=1 behind a proxy that sets X-Forwarded-*: proofs name that URL, not the one the API listens on', async () => {
      const keys = await oidc.randomDPoPKeyPair('ES256', { extractable: true });
      const bound = await accessToken(provisioned, {
        scope: 'openid payments',
        resource: API,
        dpop: oidc.getDPoPHandle(provisioned, keys),
      });
      const env = { ISSUER: issuer, LOG_LEVEL: 'silent' };
      const [published, proxied] = await Promise.all([
        spawnExample('examples/api/main.ts', {
          ...env,
          API_PUBLIC_URL: 'https://api.example.com/v2',
        }),
        spawnExample('examples/api/main.ts', { ...env, TRUST_PROXY: '1' }),
      ]);
      try {
        const call = async (port: number, htu: string, headers: Record<string, string> = {}) =>
          hostGet(`http://localhost:${port}/me`, {
            ...headers,
            authorization: `DPoP ${bound}`,
            dpop: await handProof(keys, bound, htu),
          });
        assert.equal((await call(published.port, 'https://api.example.com/v2/me')).status, 200);
        const local = await call(published.port, `http://localhost:${published.port}/me`);
        assert.equal(local.status, 401);
        assert.equal(local.body.error_description, 'the DPoP proof is for another URL (htu)');
        // The proxy's forwarded protocol and host decide: it must overwrite what clients send.
        const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'api.example.com' };
        assert.equal(
          (await call(proxied.port, 'https://api.example.com/me', forwarded)).status,
          200,
        );
        const direct = await call(proxied.port, `http://localhost:${proxied.port}/me`, forwarded);
        assert.equal(direct.status, 401);
        assert.equal(direct.body.error_description, 'the DPoP proof is for another URL (htu)');
      } finally {
        await Promise.all([published.stop(), proxied.stop()]);
      }
    });

    it('a proof for another path: 401 invalid_dpop_proof (htu)', async () => {
      let sent: Headers | undefined;
      provisioned[oidc.customFetch] = (url, options) => {
        sent = new Headers(options.headers);
        return fetch(url, options);
      };
      try {
        assert.equal((await appCall(provisioned, token, `${apiUrl}/me`, dpop)).status, 200);
      } finally {
        delete provisioned[oidc.customFetch];
      }
      const answer = await rawCall(`${apiUrl}/payments`, {
        authorization: `DPoP ${token}`,
        dpop: sent?.get('dpop') ?? '',
      });
      assert.equal(answer.status, 401);
      assert.equal(answer.body.error, 'invalid_dpop_proof');
      assert.match(String(answer.body.error_description), /htu/);
    });
  });
});
