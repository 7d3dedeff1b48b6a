// DPoP-bound access tokens (RFC 9449) from a real authorization server: the app binds them with
// openid-client; the API checks every proof. Each attack comes with its control.
import assert from 'node:assert/strict';
import { createHash, randomUUID, type webcrypto } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { calculateJwkThumbprint, decodeJwt, exportJWK, type JWK, SignJWT } from 'jose';
import { MemoryStore, type Store } from 'mobile-oidc-provider';
import { RedisStore } from 'mobile-oidc-provider/adapters/redis';
import * as oidc from 'openid-client';
import {
  createTokenVerifier,
  type TokenVerifier,
  type VerifiedToken,
} from '../../lib/resource-server/index.js';
import { type RunningServer, startExample } from '../helpers/example.js';
import { TEST_REDIS_URL } from '../helpers/redis-url.js';
import {
  App,
  JWT_API,
  OPAQUE_API,
  RESOURCE_SERVER_ID,
  RESOURCE_SERVER_SECRET,
  refusal,
  startApi,
  type TestApi,
  withApis,
} from './helpers.js';

const ALGS = 'ES256 EdDSA Ed25519 RS256 PS256';
const ath = (token: string) => createHash('sha256').update(token).digest('base64url');

/** A DPoP proof made by hand, valid for `htm` and `htu` unless `claims` or `header` say otherwise. */
async function proof(
  keys: webcrypto.CryptoKeyPair,
  token: string,
  htm: string,
  htu: string,
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT({
    jti: randomUUID(),
    htm,
    htu,
    iat: Math.floor(Date.now() / 1000),
    ath: ath(token),
    ...claims,
  })
    .setProtectedHeader({
      alg: 'ES256',
      typ: 'dpop+jwt',
      jwk: await exportJWK(keys.publicKey),
      ...header,
    })
    .sign(keys.privateKey);
}

describe('resource server: DPoP-bound tokens', () => {
  let server: RunningServer;
  let app: App;
  let verifier: TokenVerifier;
  let api: TestApi;
  let keys: webcrypto.CryptoKeyPair;
  let dpop: oidc.DPoPHandle;
  let token: string;

  before(async () => {
    server = await startExample(withApis);
    app = await App.install(server.issuer);
    verifier = createTokenVerifier({
      issuer: server.issuer,
      audience: JWT_API,
      allowHttp: true,
      introspection: { clientId: RESOURCE_SERVER_ID, clientSecret: RESOURCE_SERVER_SECRET },
    });
    api = await startApi((request) => verifier.verify(request));
    keys = await oidc.randomDPoPKeyPair('ES256', { extractable: true });
    dpop = oidc.getDPoPHandle(app.instance, keys);
    token = await app.accessToken(JWT_API, dpop);
  });
  after(async () => {
    await api.close();
    await server.close();
  });

  /** A raw request to the test API: status, challenge and body. */
  async function call(headers: Record<string, string | string[]>, path = '/', method = 'GET') {
    const res = await fetch(`${api.url}${path}`, {
      method,
      headers: Object.entries(headers).flatMap(([name, value]) =>
        (Array.isArray(value) ? value : [value]).map((v) => [name, v] as [string, string]),
      ),
    });
    return {
      status: res.status,
      challenge: res.headers.get('www-authenticate'),
      body: (await res.json()) as Record<string, unknown>,
    };
  }

  const refusedWith = (description: string, error = 'invalid_dpop_proof') =>
    `DPoP realm="api", error="${error}", error_description="${description}", algs="${ALGS}"`;

  it('the token is bound to the app key (cnf.jkt); openid-client requests pass with GET and POST', async () => {
    const jkt = await calculateJwkThumbprint((await exportJWK(keys.publicKey)) as JWK);
    assert.deepEqual(decodeJwt(token).cnf, { jkt });
    for (const method of ['GET', 'POST']) {
      const res = await oidc.fetchProtectedResource(
        app.instance,
        token,
        new URL(`${api.url}/payments?id=7`),
        method,
        method === 'POST' ? '{}' : null,
        undefined,
        { DPoP: dpop },
      );
      assert.equal(res.status, 200);
      const verified = (await res.json()) as VerifiedToken;
      assert.equal(verified.tokenType, 'DPoP');
      assert.deepEqual(verified.boundTo, { jkt });
    }
  });

  it('a proof for another URL is refused; the query is not part of htu (control)', async () => {
    const other = await call({
      authorization: `DPoP ${token}`,
      dpop: await proof(keys, token, 'GET', `${api.url}/other`),
    });
    assert.equal(other.status, 401);
    assert.equal(other.challenge, refusedWith('the DPoP proof is for another URL (htu)'));
    const otherHost = await call({
      authorization: `DPoP ${token}`,
      dpop: await proof(keys, token, 'GET', `${api.url.replace('127.0.0.1', 'localhost')}/`),
    });
    assert.equal(otherHost.status, 401);
    const control = await call(
      {
        authorization: `DPoP ${token}`,
        dpop: await proof(keys, token, 'GET', `${api.url}/payments`),
      },
      '/payments?id=1#top',
    );
    assert.equal(control.status, 200);
  });

  it('htu is compared after RFC 3986 §6.2.2 normalisation of both sides (RFC 9449 §4.3 step 9); a different URL is still refused', async () => {
    const verify = async (url: string, htu: string) =>
      verifier.verify({
        method: 'GET',
        url,
        headers: { authorization: `DPoP ${token}`, dpop: await proof(keys, token, 'GET', htu) },
      });
    const equivalent: Array<[url: string, htu: string]> = [
      // §6.2.2.1: the case of a percent-encoding does not matter.
      ['https://api.example.com/files/a%2fb', 'https://api.example.com/files/a%2Fb'],
      ['https://api.example.com/r%C3%A9sum%C3%A9', 'https://api.example.com/r%c3%a9sum%c3%a9'],
      // §6.2.2.2: an unreserved character means the same encoded or not.
      ['https://api.example.com/%7Euser/me', 'https://api.example.com/~user/me'],
      ['https://api.example.com/~user/me', 'https://api.example.com/%7euser/me'],
      // §6.2.2.3: dot segments, encoded ones too.
      ['https://api.example.com/me', 'https://api.example.com/a/../me'],
      ['https://api.example.com/me', 'https://api.example.com/a/%2e%2e/./me'],
      // §6.2.2.1 and §6.2.3: the case of scheme and host, the default port.
      ['https://api.example.com/me', 'HTTPS://API.Example.COM:443/me'],
      ['https://api.example.com:443/me?page=2', 'https://api.example.com/me#top'],
    ];
    for (const [url, htu] of equivalent) {
      assert.equal((await verify(url, htu)).tokenType, 'DPoP', `${htu} names ${url}`);
    }
    const different: Array<[url: string, htu: string]> = [
      ['https://api.example.com/me', 'https://api.example.com/you'],
      // A reserved character is not its encoding (§6.2.2.2 decodes unreserved ones only).
      ['https://api.example.com/a/b', 'https://api.example.com/a%2Fb'],
      ['https://api.example.com/me', 'https://api.example.com/me/'],
      ['https://api.example.com/me', 'https://api.example.com:8443/me'],
      ['https://api.example.com/me', 'http://api.example.com/me'],
      ['https://api.example.com/me', 'https://other.example/me'],
      // RFC 9110 §4.2.4: no client may send userinfo, so a proof carrying it is not honest.
      ['https://api.example.com/me', 'https://user:pass@api.example.com/me'],
      ['https://api.example.com/me', 'api.example.com/me'],
    ];
    for (const [url, htu] of different) {
      const refused = await refusal(verify(url, htu));
      assert.equal(refused.error_description, 'the DPoP proof is for another URL (htu)', htu);
    }
  });

  it('proof claims of the wrong type are refused, never coerced: jti, iat, htm, htu, nonce, ath', async () => {
    const url = `${api.url}/`;
    const cases: Array<[claims: Record<string, unknown>, description: string]> = [
      [{ jti: 123 }, 'the DPoP proof jti is missing or invalid'],
      [{ jti: { id: 'x' } }, 'the DPoP proof jti is missing or invalid'],
      [{ jti: ['x'] }, 'the DPoP proof jti is missing or invalid'],
      [
        { iat: String(Math.floor(Date.now() / 1000)) },
        'the DPoP proof iat claim is missing or invalid',
      ],
      [{ htm: ['GET'] }, 'the DPoP proof is for another HTTP method (htm)'],
      [{ htm: 0 }, 'the DPoP proof is for another HTTP method (htm)'],
      [{ htu: 7 }, 'the DPoP proof is for another URL (htu)'],
      [{ htu: [url] }, 'the DPoP proof is for another URL (htu)'],
      [{ htu: { href: url } }, 'the DPoP proof is for another URL (htu)'],
      [{ nonce: 7 }, 'the DPoP proof nonce claim is invalid'],
      [{ nonce: { value: 'n' } }, 'the DPoP proof nonce claim is invalid'],
      [{ ath: [ath(token)] }, 'the DPoP proof is for another access token (ath)'],
    ];
    for (const [claims, description] of cases) {
      const refused = await call({
        authorization: `DPoP ${token}`,
        dpop: await proof(keys, token, 'GET', url, claims),
      });
      assert.equal(refused.status, 401, JSON.stringify(claims));
      assert.equal(refused.challenge, refusedWith(description), JSON.stringify(claims));
    }
    // Control: a string nonce passes (this API asks for none, so its value is not checked).
    const withNonce = await call({
      authorization: `DPoP ${token}`,
      dpop: await proof(keys, token, 'GET', url, { nonce: 'n-1' }),
    });
    assert.equal(withNonce.status, 200);
  });

  it('DPoP values that are not one string are refused as invalid_dpop_proof, never a TypeError; one valid proof passes', async () => {
    const url = `${api.url}/`;
    const valid = () => proof(keys, token, 'GET', url);
    for (const value of [123, null, { proof: 'x' }, [null], ['x', 7]]) {
      const refused = await refusal(
        verifier.verify({
          method: 'GET',
          url,
          headers: { authorization: `DPoP ${token}`, dpop: value as unknown as string },
        }),
      );
      assert.equal(refused.status, 401, JSON.stringify(value));
      assert.equal(refused.error, 'invalid_dpop_proof');
      assert.equal(refused.error_description, 'the dpop header is not a string');
      assert.equal(refused.scheme, 'DPoP');
    }
    // Two DPoP headers on the wire reach the API joined by a comma.
    const twice = await call({
      authorization: `DPoP ${token}`,
      dpop: [await valid(), await valid()],
    });
    assert.equal(twice.challenge, refusedWith('the request has more than one DPoP proof'));
    assert.equal((await call({ authorization: `DPoP ${token}`, dpop: await valid() })).status, 200);
  });

  it('a proof for another method is refused', async () => {
    const refused = await call(
      { authorization: `DPoP ${token}`, dpop: await proof(keys, token, 'GET', `${api.url}/`) },
      '/',
      'DELETE',
    );
    assert.equal(refused.challenge, refusedWith('the DPoP proof is for another HTTP method (htm)'));
  });

  it('a replayed proof (same jti) is refused; its first use passed', async () => {
    const once = await proof(keys, token, 'GET', `${api.url}/`);
    assert.equal((await call({ authorization: `DPoP ${token}`, dpop: once })).status, 200);
    const replay = await call({ authorization: `DPoP ${token}`, dpop: once });
    assert.equal(replay.status, 401);
    assert.equal(replay.challenge, refusedWith('the DPoP proof was already used (jti)'));
  });

  it('a DPoP scheme without a proof is refused, and so are two proofs', async () => {
    const missing = await call({ authorization: `DPoP ${token}` });
    assert.equal(missing.status, 401);
    assert.equal(
      missing.challenge,
      refusedWith('the token is DPoP-bound: the request needs a DPoP proof'),
    );
    const two = await refusal(
      verifier.verify({
        method: 'GET',
        url: `${api.url}/`,
        headers: {
          authorization: `DPoP ${token}`,
          dpop: [
            await proof(keys, token, 'GET', `${api.url}/`),
            await proof(keys, token, 'GET', `${api.url}/`),
          ],
        },
      }),
    );
    assert.equal(two.error_description, 'the request has more than one DPoP proof');
  });

  it('the bound token sent as a Bearer token is refused, even with a valid proof (RFC 9449 §7.2)', async () => {
    const withProof = { dpop: await proof(keys, token, 'GET', `${api.url}/`) };
    for (const extra of [{}, withProof] as Array<Record<string, string>>) {
      const refused = await call({ authorization: `Bearer ${token}`, ...extra });
      assert.equal(refused.status, 401);
      assert.equal(
        refused.challenge,
        refusedWith(
          'the token is DPoP-bound: send it with the DPoP scheme and a DPoP proof',
          'invalid_token',
        ),
      );
    }
  });

  it('a stolen token with a proof from the thief key is refused', async () => {
    const thief = await oidc.randomDPoPKeyPair('ES256', { extractable: true });
    const refused = await call({
      authorization: `DPoP ${token}`,
      dpop: await proof(thief, token, 'GET', `${api.url}/`),
    });
    assert.equal(
      refused.challenge,
      refusedWith('the DPoP proof is signed with another key than the token is bound to'),
    );
    // openid-client with the thief key: refused too.
    const thiefHandle = oidc.getDPoPHandle(app.instance, thief);
    await assert.rejects(
      oidc.fetchProtectedResource(
        app.instance,
        token,
        new URL(`${api.url}/`),
        'GET',
        null,
        undefined,
        {
          DPoP: thiefHandle,
        },
      ),
      (error: unknown) =>
        error instanceof oidc.WWWAuthenticateChallengeError &&
        error.cause[0]?.scheme === 'dpop' &&
        error.cause[0]?.parameters.error === 'invalid_dpop_proof',
    );
  });

  it('a proof for another access token (ath), or without ath, is refused', async () => {
    const other = await app.accessToken(JWT_API, dpop);
    const wrongAth = await call({
      authorization: `DPoP ${token}`,
      dpop: await proof(keys, other, 'GET', `${api.url}/`),
    });
    assert.equal(
      wrongAth.challenge,
      refusedWith('the DPoP proof is for another access token (ath)'),
    );
    const noAth = await call({
      authorization: `DPoP ${token}`,
      dpop: await proof(keys, token, 'GET', `${api.url}/`, { ath: undefined }),
    });
    assert.equal(noAth.challenge, refusedWith('the DPoP proof ath claim is missing or invalid'));
  });

  it('iat: a proof older than 60 s + skew or from the future is refused; 50 s old passes', async () => {
    const now = Math.floor(Date.now() / 1000);
    const old = await call({
      authorization: `DPoP ${token}`,
      dpop: await proof(keys, token, 'GET', `${api.url}/`, { iat: now - 120 }),
    });
    assert.equal(old.challenge, refusedWith('the DPoP proof is too old'));
    const future = await call({
      authorization: `DPoP ${token}`,
      dpop: await proof(keys, token, 'GET', `${api.url}/`, { iat: now + 120 }),
    });
    assert.equal(future.challenge, refusedWith('the DPoP proof iat claim is missing or invalid'));
    const recent = await call({
      authorization: `DPoP ${token}`,
      dpop: await proof(keys, token, 'GET', `${api.url}/`, { iat: now - 50 }),
    });
    assert.equal(recent.status, 200);
  });

  it('a proof with a private jwk, another typ, an HMAC alg or no jti is refused', async () => {
    const privateJwk = { ...(await exportJWK(keys.publicKey)), d: 'AAAA' };
    const cases: Array<[string, Promise<string>]> = [
      [
        'the DPoP proof jwk must be a public key',
        proof(keys, token, 'GET', `${api.url}/`, {}, { jwk: privateJwk }),
      ],
      [
        'the DPoP proof typ must be dpop+jwt',
        proof(keys, token, 'GET', `${api.url}/`, {}, { typ: 'JWT' }),
      ],
      [
        'the DPoP proof jti claim is missing or invalid',
        proof(keys, token, 'GET', `${api.url}/`, { jti: undefined }),
      ],
      [
        'the DPoP proof signing algorithm is not accepted',
        new SignJWT({ jti: randomUUID(), htm: 'GET', htu: `${api.url}/`, iat: 1, ath: ath(token) })
          .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: { kty: 'oct' } })
          .sign(new Uint8Array(32)),
      ],
    ];
    for (const [description, made] of cases) {
      const refused = await call({ authorization: `DPoP ${token}`, dpop: await made });
      assert.equal(refused.challenge, refusedWith(description), description);
    }
  });

  it('an unbound token: a proof beside the Bearer scheme is ignored (bearer), the DPoP scheme is refused', async () => {
    const unbound = await app.accessToken(JWT_API);
    assert.equal(decodeJwt(unbound).cnf, undefined);
    const asBearer = await call({
      authorization: `Bearer ${unbound}`,
      dpop: await proof(keys, unbound, 'GET', `${api.url}/`),
    });
    assert.equal(asBearer.status, 200);
    assert.equal(asBearer.body.tokenType, 'Bearer');
    const asDpop = await call({
      authorization: `DPoP ${unbound}`,
      dpop: await proof(keys, unbound, 'GET', `${api.url}/`),
    });
    assert.equal(asDpop.status, 401);
    assert.equal(
      asDpop.challenge,
      // The challenge names the scheme the token needs.
      'Bearer realm="api", error="invalid_token", error_description="the token is not DPoP-bound: send it with the Bearer scheme"',
    );
  });

  it('an opaque DPoP-bound token: introspection gives cnf.jkt, and the same proof rules apply', async () => {
    const opaque = createTokenVerifier({
      issuer: server.issuer,
      audience: OPAQUE_API,
      allowHttp: true,
      introspection: { clientId: RESOURCE_SERVER_ID, clientSecret: RESOURCE_SERVER_SECRET },
    });
    const opaqueApi = await startApi((request) => opaque.verify(request));
    try {
      const bound = await app.accessToken(OPAQUE_API, dpop);
      assert.equal(bound.split('.').length, 1);
      const res = await oidc.fetchProtectedResource(
        app.instance,
        bound,
        new URL(`${opaqueApi.url}/`),
        'GET',
        null,
        undefined,
        { DPoP: dpop },
      );
      const verified = (await res.json()) as VerifiedToken;
      assert.equal(verified.format, 'opaque');
      assert.equal(verified.tokenType, 'DPoP');
      const asBearer = await fetch(`${opaqueApi.url}/`, {
        headers: { authorization: `Bearer ${bound}` },
      });
      assert.equal(asBearer.status, 401);
      assert.match(asBearer.headers.get('www-authenticate') ?? '', /^DPoP .*error="invalid_token"/);
    } finally {
      await opaqueApi.close();
    }
  });

  it('replays across processes: a shared store refuses them; separate in-memory caches cannot', async () => {
    const url = `${api.url}/`;
    const make = (store?: Store) =>
      createTokenVerifier({
        issuer: server.issuer,
        audience: JWT_API,
        allowHttp: true,
        ...(store ? { dpop: { store } } : {}),
      });
    const request = async () => ({
      method: 'GET',
      url,
      headers: { authorization: `DPoP ${token}`, dpop: await proof(keys, token, 'GET', url) },
    });
    const store = new MemoryStore();
    try {
      const [a, b] = [make(store), make(store)];
      const shared = await request();
      await a.verify(shared);
      assert.equal((await refusal(b.verify(shared))).error, 'invalid_dpop_proof');
      // Control: two processes each with its own default cache both accept the same proof.
      const separate = await request();
      await make().verify(separate);
      await make().verify(separate);
    } finally {
      await store.close();
    }
  });

  it('the replay cache can be the Redis store the servers share (one proof, one use)', async () => {
    const url = `${api.url}/`;
    const store = new RedisStore({
      client: TEST_REDIS_URL,
      keyPrefix: `test:dpop:${randomUUID()}:`,
    });
    try {
      const make = () =>
        createTokenVerifier({
          issuer: server.issuer,
          audience: JWT_API,
          allowHttp: true,
          dpop: { store },
        });
      const request = {
        method: 'GET',
        url,
        headers: { authorization: `DPoP ${token}`, dpop: await proof(keys, token, 'GET', url) },
      };
      const results = await Promise.allSettled([make().verify(request), make().verify(request)]);
      assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
    } finally {
      await store.close();
    }
  });
});
