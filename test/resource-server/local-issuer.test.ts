// Tokens a real authorization server would never issue (expired, malformed, hostile, bound to a
// certificate), minted with jose by a local issuer whose discovery, keys and introspection the
// tests control over real loopback HTTP.
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { CompactSign } from 'jose';
import {
  ConfigurationError,
  createTokenVerifier,
  requireAnyScope,
  requireCal,
  requireClaim,
  type TokenVerifierOptions,
} from '../../lib/resource-server/index.js';
import { stopDate } from '../helpers/clock.js';
import { selfSignedClient } from '../helpers/test-pki.js';
import { JWT_API, LocalIssuer, localKey, refusal, requestTo } from './helpers.js';

const URL_CALLED = 'https://api.example.com/payments';

describe('resource server: tokens from a local issuer', () => {
  let local: LocalIssuer;

  before(async () => {
    local = await LocalIssuer.start();
  });
  after(() => local.close());
  beforeEach(async () => {
    local.keys = [await localKey()];
    local.failWith = undefined;
    local.advertisedIssuer = undefined;
    local.introspect = undefined;
  });

  const verifierWith = (options: Partial<TokenVerifierOptions> = {}) =>
    createTokenVerifier({ issuer: local.issuer, audience: JWT_API, allowHttp: true, ...options });
  const bearer = (token: string, extra: Record<string, string> = {}) =>
    requestTo(URL_CALLED, { authorization: `Bearer ${token}`, ...extra });

  it('exp and nbf are checked with the clock skew: 31 s past exp is refused, 10 s passes', async () => {
    const verifier = verifierWith();
    const now = Math.floor(Date.now() / 1000);
    const expired = await local.mint(JWT_API, { exp: now - 31 });
    assert.equal(
      (await refusal(verifier.verify(bearer(expired)))).error_description,
      'the token has expired',
    );
    await verifier.verify(bearer(await local.mint(JWT_API, { exp: now - 10 })));
    const early = await local.mint(JWT_API, { nbf: now + 60 });
    assert.equal(
      (await refusal(verifier.verify(bearer(early)))).error_description,
      'the token is not valid yet (nbf)',
    );
    await verifier.verify(bearer(await local.mint(JWT_API, { nbf: now + 10 })));
    // With no skew, 1 s past exp is already too late.
    const strict = verifierWith({ clockSkewSeconds: 0 });
    await refusal(strict.verify(bearer(await local.mint(JWT_API, { exp: now - 1 }))));
  });

  it('RFC 9068 §2.2: a token without exp, iat, jti, sub, client_id or iss is refused', async () => {
    const verifier = verifierWith();
    for (const claim of ['exp', 'iat', 'jti', 'sub', 'client_id', 'iss']) {
      const token = await local.mint(JWT_API, { [claim]: undefined });
      const refused = await refusal(verifier.verify(bearer(token)));
      assert.equal(refused.error_description, `the token has no ${claim} claim`, claim);
    }
    const wrongType = await local.mint(JWT_API, { scope: ['payments'] });
    assert.equal(
      (await refusal(verifier.verify(bearer(wrongType)))).error_description,
      'the token scope is malformed',
    );
  });

  it('typ: at+jwt and application/at+jwt pass; JWT or none is refused', async () => {
    const verifier = verifierWith();
    for (const typ of ['at+jwt', 'application/at+jwt', 'AT+JWT']) {
      await verifier.verify(bearer(await local.mint(JWT_API, {}, { header: { typ } })));
    }
    for (const typ of ['JWT', undefined, 'dpop+jwt']) {
      const refused = await refusal(
        verifier.verify(bearer(await local.mint(JWT_API, {}, { header: { typ } }))),
      );
      assert.equal(
        refused.error_description,
        'the token is not a JWT access token (typ must be at+jwt)',
      );
    }
  });

  it('alg: a key outside the allow-list is refused before any key is fetched; allowed, it passes', async () => {
    const es384 = await localKey('ES384');
    local.keys = [es384];
    const before = local.count('/jwks');
    const token = await local.mint(JWT_API, {}, { key: es384 });
    const refused = await refusal(verifierWith().verify(bearer(token)));
    assert.equal(refused.error_description, 'the token signing algorithm is not accepted');
    assert.equal(local.count('/jwks'), before);
    await verifierWith({ algorithms: ['ES384'] }).verify(bearer(token));
  });

  it('a token without kid is checked against every key of its type', async () => {
    const [first, second] = [await localKey(), await localKey()];
    local.keys = [first, second];
    const token = await local.mint(JWT_API, {}, { key: second, header: { kid: undefined } });
    assert.equal((await verifierWith().verify(bearer(token))).sub, 'alice');
    const stranger = await localKey();
    const forged = await local.mint(JWT_API, {}, { key: stranger, header: { kid: undefined } });
    assert.equal(
      (await refusal(verifierWith().verify(bearer(forged)))).error_description,
      'the token signature is invalid',
    );
  });

  it('__proto__, constructor and prototype claims pollute nothing and are dropped', async () => {
    const key = local.keys[0];
    assert.ok(key);
    const claims = local.claims(JWT_API);
    const json = JSON.stringify(claims).replace(
      /^\{/,
      '{"__proto__":{"polluted":true,"scope":"admin"},"constructor":{"prototype":{"polluted":true}},"nested":{"__proto__":{"polluted":true},"ok":[{"prototype":1,"kept":2}]},',
    );
    const token = await new CompactSign(new TextEncoder().encode(json))
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })
      .sign(key.privateKey);
    const verified = await verifierWith().verify(bearer(token));
    const merged = Object.assign({}, verified.claims) as Record<string, unknown>;
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(merged.polluted, undefined);
    assert.equal(Object.getPrototypeOf(merged), Object.prototype);
    assert.deepEqual(verified.scope, ['payments']);
    assert.equal(Object.hasOwn(verified.claims, '__proto__'), false);
    assert.equal(Object.hasOwn(verified.claims, 'constructor'), false);
    const nested = verified.claims.nested as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(nested), null);
    assert.deepEqual(Object.keys(nested), ['ok']);
    assert.deepEqual({ ...(nested.ok as Array<Record<string, unknown>>)[0] }, { kept: 2 });
  });

  it('JWKS rotation: an unknown kid fetches the set again once per cooldown, never per request', async (t) => {
    const verifier = verifierWith({ jwksCooldownMs: 1000 });
    const [first] = local.keys;
    const jwks = () => local.count('/jwks');
    const start = jwks();
    for (let i = 0; i < 20; i += 1) await verifier.verify(bearer(await local.mint(JWT_API)));
    assert.equal(jwks(), start + 1);
    // The issuer rotates: a token with the new kid within the cooldown is refused, no fetch.
    const rotated = await localKey();
    local.keys = [rotated];
    const fresh = await local.mint(JWT_API, {}, { key: rotated });
    await refusal(verifier.verify(bearer(fresh)));
    assert.equal(jwks(), start + 1);
    stopDate(t)(1100);
    assert.equal((await verifier.verify(bearer(fresh))).sub, 'alice');
    assert.equal(jwks(), start + 2);
    // Made-up kids cost one fetch per cooldown at most.
    const madeUp = await localKey();
    for (let i = 0; i < 10; i += 1) {
      const forged = await local.mint(JWT_API, {}, { key: madeUp });
      assert.equal(
        (await refusal(verifier.verify(bearer(forged)))).error_description,
        'the token signature is invalid',
      );
    }
    assert.equal(jwks(), start + 2);
    // The retired key is no longer trusted once the set was fetched again.
    const old = await local.mint(JWT_API, {}, { key: first });
    await refusal(verifier.verify(bearer(old)));
  });

  it('upstream failures are 503 temporarily_unavailable without a challenge, and recover', async (t) => {
    const token = await local.mint(JWT_API);
    local.failWith = 500;
    const verifier = verifierWith();
    const refused = await refusal(verifier.verify(bearer(token)));
    assert.equal(refused.status, 503);
    assert.equal(refused.error, 'temporarily_unavailable');
    assert.equal(refused.wwwAuthenticate('api'), undefined);
    local.failWith = undefined;
    // Failures are not retried for a second: the issuer is not hammered per request.
    await refusal(verifier.verify(bearer(token)));
    stopDate(t)(1050);
    assert.equal((await verifier.verify(bearer(token))).sub, 'alice');
    // Once the keys are held, an outage does not stop known keys from verifying.
    local.failWith = 503;
    assert.equal((await verifier.verify(bearer(await local.mint(JWT_API)))).sub, 'alice');
  });

  it('a discovery document naming another issuer, or an unreachable issuer, is 503', async () => {
    local.advertisedIssuer = 'https://login.example.com/';
    const token = await local.mint(JWT_API);
    const refused = await refusal(verifierWith().verify(bearer(token)));
    assert.equal(refused.status, 503);
    assert.equal(
      refused.error_description,
      "the authorization server's discovery document names another issuer than the one configured",
    );
    const gone = await LocalIssuer.start();
    const goneIssuer = gone.issuer;
    await gone.close();
    const unreachable = createTokenVerifier({
      issuer: goneIssuer,
      audience: JWT_API,
      allowHttp: true,
    });
    const down = await refusal(unreachable.verify(bearer(token)));
    assert.equal(down.status, 503);
    assert.ok(down.cause, 'the network error is kept for logs');
  });

  it('a JWE or a garbled JWT is refused as invalid_token', async () => {
    const verifier = verifierWith();
    for (const token of ['a.b.c.d.e', 'eyJhbGciOiJFUzI1NiJ9.e30.AAAA', 'x.y.z']) {
      assert.equal((await refusal(verifier.verify(bearer(token)))).error, 'invalid_token', token);
    }
  });

  it('cnf x5t#S256: the certificate from TLS or the trusted proxy header must be the bound one', async () => {
    const [bound, other] = [
      await selfSignedClient('CN=device'),
      await selfSignedClient('CN=other'),
    ];
    const x5t = createHash('sha256')
      .update(new X509Certificate(bound.cert).raw)
      .digest('base64url');
    const token = await local.mint(JWT_API, { cnf: { 'x5t#S256': x5t } });
    const tls = verifierWith();
    const verified = await tls.verify({ ...bearer(token), clientCertificate: bound.cert });
    assert.deepEqual(verified.boundTo, { x5tS256: x5t });
    assert.equal(verified.tokenType, 'Bearer');
    for (const [presented, description] of [
      [other.cert, 'the token is bound to another client certificate'],
      [undefined, 'the token is bound to a client certificate and the request presents none'],
    ] as const) {
      const refused = await refusal(tls.verify({ ...bearer(token), clientCertificate: presented }));
      assert.equal(refused.error_description, description);
    }
    // Without a trusted header configured, a header naming the certificate counts for nothing.
    const header = { 'x-client-cert': encodeURIComponent(bound.cert) };
    await refusal(tls.verify(bearer(token, header)));
    const proxied = verifierWith({ mtls: { trustedProxyHeader: 'X-Client-Cert' } });
    assert.equal((await proxied.verify(bearer(token, header))).boundTo?.x5tS256, x5t);
    // With the header configured, a TLS certificate of this process is not what counts.
    await refusal(proxied.verify({ ...bearer(token), clientCertificate: bound.cert }));
    await refusal(
      proxied.verify(bearer(token, { 'x-client-cert': encodeURIComponent(other.cert) })),
    );
  });

  it('a confirmation method this API cannot check is refused, not taken for a bearer token', async () => {
    const token = await local.mint(JWT_API, { cnf: { jwk: { kty: 'EC' } } });
    assert.equal(
      (await refusal(verifierWith().verify(bearer(token)))).error_description,
      'the token is bound by a confirmation method this API does not support',
    );
  });

  it('requireCal follows none < by-provisioned-key < by-policy; unknown or missing cal counts as none', async () => {
    const verifier = verifierWith();
    const withCal = async (cal?: string) =>
      verifier.verify(bearer(await local.mint(JWT_API, cal ? { cal } : {})));
    const policy = await withCal('by-policy');
    requireCal(policy, 'by-policy');
    requireCal(policy, 'by-provisioned-key');
    const key = await withCal('by-provisioned-key');
    requireCal(key, 'by-provisioned-key');
    const refused = await refusal(() => requireCal(key, 'by-policy'));
    assert.equal(refused.status, 403);
    assert.equal(refused.error, 'insufficient_assurance');
    assert.match(refused.error_description ?? '', /by-policy/);
    for (const weak of [await withCal('super-attested'), await withCal()]) {
      requireCal(weak, 'none');
      await refusal(() => requireCal(weak, 'by-provisioned-key'));
    }
    assert.throws(() => requireCal(key, 'bogus' as 'none'), TypeError);
  });

  it('requireAnyScope and requireClaim', async () => {
    const token = await local.mint(JWT_API, { scope: 'read payments', acr: 'mfa' });
    const verified = await verifierWith().verify(bearer(token));
    requireAnyScope(verified, 'write', 'read');
    const missing = await refusal(() => requireAnyScope(verified, 'write', 'admin'));
    assert.equal(missing.scope, 'write admin');
    assert.equal(missing.status, 403);
    requireClaim(verified, (claims) => claims.acr === 'mfa', 'a multi-factor sign-in');
    const weak = await refusal(() =>
      requireClaim(verified, (claims) => claims.acr === 'phr', 'a phishing-resistant sign-in'),
    );
    assert.equal(weak.error, 'insufficient_scope');
    assert.equal(weak.scope, undefined);
    assert.equal(
      weak.wwwAuthenticate(),
      'Bearer error="insufficient_scope", error_description="the token does not carry a phishing-resistant sign-in"',
    );
  });

  it('introspection answers: token_type, aud arrays, iss and DPoP consistency are checked', async () => {
    const verifier = verifierWith({
      introspection: { clientId: 'api', clientSecret: 'secret', cacheTtlSeconds: 0 },
    });
    const base = { active: true, sub: 'alice', client_id: 'install-1', iss: local.issuer };
    const cases: Array<[Record<string, unknown>, string | undefined]> = [
      [{ ...base, aud: ['https://x.example/', JWT_API] }, undefined],
      [{ ...base, aud: JWT_API, token_type: 'refresh_token' }, 'the token is not an access token'],
      [
        { ...base, aud: JWT_API, iss: 'https://evil.example/' },
        'the token is from another issuer (iss)',
      ],
      [
        { ...base, aud: JWT_API, token_type: 'DPoP' },
        'the token is a DPoP token without the key it is bound to',
      ],
      [{ ...base, aud: JWT_API, exp: Math.floor(Date.now() / 1000) - 60 }, 'the token has expired'],
      [{ ...base, aud: JWT_API, sub: undefined }, 'the token has no subject (sub)'],
      [
        JSON.parse(
          `{"active":true,"sub":"alice","client_id":"c","aud":"${JWT_API}","__proto__":{"polluted":1}}`,
        ),
        undefined,
      ],
    ];
    for (const [response, description] of cases) {
      local.introspect = () => response;
      const outcome = verifier.verify(bearer('opaque-token-value'));
      if (description) {
        assert.equal((await refusal(outcome)).error_description, description);
      } else {
        const verified = await outcome;
        assert.equal(verified.format, 'opaque');
        assert.equal((verified.claims as Record<string, unknown>).polluted, undefined);
      }
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('options are checked at creation: http without allowHttp, none or HS256, bad numbers', () => {
    assert.throws(
      () => createTokenVerifier({ issuer: local.issuer, audience: JWT_API }),
      (error: unknown) =>
        error instanceof ConfigurationError &&
        error.problems[0] ===
          'options.issuer must be an absolute https URL without query or fragment',
    );
    assert.throws(
      () =>
        createTokenVerifier({
          issuer: 'https://login.example.com',
          audience: '',
          algorithms: ['none', 'HS256', 'ES256'],
          clockSkewSeconds: -1,
          introspection: { clientId: 'api', clientSecret: '' },
          dpop: { maxAgeSeconds: 0, algorithms: ['HS512'] },
          mtls: { trustedProxyHeader: 'bad header' },
        }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigurationError);
        assert.deepEqual(
          error.problems.map((problem) => problem.split(' ')[0]),
          [
            'options.audience',
            'options.algorithms',
            'options.algorithms',
            'options.clockSkewSeconds',
            'options.introspection.clientSecret',
            'options.dpop.maxAgeSeconds',
            'options.dpop.algorithms',
            'options.mtls.trustedProxyHeader',
          ],
        );
        return true;
      },
    );
  });

  it('checkRevocation without introspection is a configuration error; an unparseable request URL is 400 invalid_request', async () => {
    const verifier = verifierWith();
    const token = await local.mint(JWT_API);
    await assert.rejects(
      verifier.verify(bearer(token), { checkRevocation: true }),
      ConfigurationError,
    );
    const authorization = `Bearer ${token}`;
    for (const url of [
      '/payments',
      'https://[api.example.com/payments',
      'ftp://api.example.com/',
      7,
    ]) {
      const refused = await refusal(
        verifier.verify({ method: 'GET', url: url as string, headers: { authorization } }),
      );
      assert.equal(refused.status, 400, String(url));
      assert.equal(refused.error, 'invalid_request');
      assert.equal(refused.error_description, 'the request URL is not an absolute http(s) URL');
    }
    // Control: the same token with the absolute URL passes.
    assert.equal((await verifier.verify(bearer(token))).sub, 'alice');
  });

  it('a request whose parts have the wrong types is refused with 400, never a TypeError', async () => {
    const verifier = verifierWith();
    const authorization = `Bearer ${await local.mint(JWT_API)}`;
    const cases: Array<[request: unknown, description: string]> = [
      [null, 'the request is not an object'],
      ['GET /payments', 'the request is not an object'],
      [{ url: URL_CALLED, headers: { authorization } }, 'the request method is missing'],
      [{ method: 7, url: URL_CALLED, headers: { authorization } }, 'the request method is missing'],
      [{ method: 'GET', url: URL_CALLED, headers: null }, 'the request headers are not an object'],
      [{ method: 'GET', url: URL_CALLED }, 'the request headers are not an object'],
      [
        { method: 'GET', url: URL_CALLED, headers: [['authorization', authorization]] },
        'the request headers are not an object',
      ],
    ];
    for (const [request, description] of cases) {
      const refused = await refusal(
        verifier.verify(request as Parameters<typeof verifier.verify>[0]),
      );
      assert.equal(refused.status, 400, description);
      assert.equal(refused.error, 'invalid_request');
      assert.equal(refused.error_description, description);
    }
  });

  it('Authorization values that are not strings are 400 invalid_request (RFC 6750 §3.1), never a TypeError; a string passes (control)', async () => {
    const verifier = verifierWith();
    const token = await local.mint(JWT_API);
    for (const authorization of [
      null,
      7,
      true,
      { toString: () => `Bearer ${token}` },
      [`Bearer ${token}`, 7],
      [null],
    ]) {
      const refused = await refusal(
        verifier.verify(requestTo(URL_CALLED, { authorization: authorization as string })),
      );
      assert.equal(refused.status, 400, JSON.stringify(authorization));
      assert.equal(refused.error, 'invalid_request');
      assert.equal(refused.error_description, 'the authorization header is not a string');
      assert.equal(
        refused.wwwAuthenticate('api')?.startsWith('Bearer realm="api", error="invalid_request"'),
        true,
      );
    }
    // Names in any case are the same header.
    const upper = await refusal(
      verifier.verify(requestTo(URL_CALLED, { Authorization: 5 as unknown as string })),
    );
    assert.equal(upper.error, 'invalid_request');
    assert.equal((await verifier.verify(bearer(token))).sub, 'alice');
    assert.equal(
      (await verifier.verify(requestTo(URL_CALLED, { Authorization: `Bearer ${token}` }))).sub,
      'alice',
    );
  });

  it('an issuer with user:password@, a query or a fragment is refused at start-up; without them it starts (control)', () => {
    for (const [issuer, problem] of [
      [
        'https://user:pass@login.example.com',
        'options.issuer must not contain credentials (user:password@)',
      ],
      [
        'https://user@login.example.com',
        'options.issuer must not contain credentials (user:password@)',
      ],
      [
        'https://:pass@login.example.com',
        'options.issuer must not contain credentials (user:password@)',
      ],
      [
        'https://login.example.com/?tenant=1',
        'options.issuer must be an absolute https URL without query or fragment',
      ],
      [
        'https://login.example.com/#x',
        'options.issuer must be an absolute https URL without query or fragment',
      ],
    ]) {
      assert.throws(
        () => createTokenVerifier({ issuer: issuer as string, audience: JWT_API }),
        (error: unknown) =>
          error instanceof ConfigurationError &&
          error.problems.length === 1 &&
          error.problems[0] === problem,
        issuer,
      );
    }
    createTokenVerifier({ issuer: 'https://login.example.com', audience: JWT_API });
  });
});
