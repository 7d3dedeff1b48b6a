// Opaque access tokens, introspected (RFC 7662) at a real authorization server with the API's
// own credential: what is accepted, what is refused, and how long a result is reused.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import {
  createTokenVerifier,
  type IntrospectionOptions,
  TokenVerificationError,
  type TokenVerifierOptions,
} from '../../lib/resource-server/index.js';
import { stopDate } from '../helpers/clock.js';
import { type RunningServer, startExample } from '../helpers/example.js';
import { freshDcrToken } from '../helpers/sign-in.js';
import {
  App,
  JWT_API,
  OPAQUE_API,
  RESOURCE_SERVER_ID,
  RESOURCE_SERVER_SECRET,
  refusal,
  requestTo,
  SHORT_API,
  withApis,
} from './helpers.js';

describe('resource server: opaque tokens through introspection', () => {
  let server: RunningServer;
  let app: App;
  const url = 'https://api.example.com/payments';

  before(async () => {
    server = await startExample(withApis);
    app = await App.install(server.issuer);
  });
  after(() => server.close());

  /** A verifier for `audience` counting its introspection requests. */
  function verifierFor(
    audience: string,
    introspection: Partial<IntrospectionOptions> = {},
    extra: Partial<TokenVerifierOptions> = {},
  ) {
    const counted = { introspections: 0 };
    const verifier = createTokenVerifier({
      issuer: server.issuer,
      audience,
      allowHttp: true,
      introspection: {
        clientId: RESOURCE_SERVER_ID,
        clientSecret: RESOURCE_SERVER_SECRET,
        ...introspection,
      },
      fetch: (input, init) => {
        if (init?.method === 'POST') counted.introspections += 1;
        return fetch(input, init);
      },
      ...extra,
    });
    const verify = (token: string, checkRevocation = false) =>
      verifier.verify(requestTo(url, { authorization: `Bearer ${token}` }), { checkRevocation });
    return { verify, counted };
  }

  it('accepts an active token for this API: who, which install, scopes and cal from the response', async () => {
    const token = await app.accessToken(OPAQUE_API);
    assert.equal(token.split('.').length, 1);
    const { verify } = verifierFor(OPAQUE_API);
    const verified = await verify(token);
    assert.equal(verified.format, 'opaque');
    assert.equal(verified.sub, 'demouser');
    assert.equal(verified.clientId, app.instance.clientMetadata().client_id);
    assert.deepEqual(verified.scope.sort(), ['email', 'payments']);
    assert.equal(verified.cal, 'none');
    assert.equal(verified.claims.aud, OPAQUE_API);
    assert.equal(Object.getPrototypeOf(verified.claims), null);
  });

  it('a token issued without a resource (for userinfo) is active but has no aud: refused', async () => {
    const userinfoToken = await app.accessToken();
    const rs = await oidc.discovery(
      new URL(server.issuer),
      RESOURCE_SERVER_ID,
      undefined,
      oidc.ClientSecretBasic(RESOURCE_SERVER_SECRET),
      { execute: [oidc.allowInsecureRequests] },
    );
    const introspected = await oidc.tokenIntrospection(rs, userinfoToken);
    assert.equal(introspected.active, true);
    assert.equal(introspected.aud, undefined);
    const refused = await refusal(verifierFor(OPAQUE_API).verify(userinfoToken));
    assert.equal(refused.error_description, 'the token is not for this API (aud)');
  });

  it('a DCR token (audience: the registration endpoint) and a refresh token are refused', async () => {
    const { verify } = verifierFor(OPAQUE_API);
    const dcr = await freshDcrToken(server.issuer);
    assert.equal(
      (await refusal(verify(dcr))).error_description,
      'the token is not for this API (aud)',
    );
    const { refresh_token: refreshToken } = await app.tokens({
      resource: OPAQUE_API,
      scope: 'openid offline_access payments',
    });
    assert.ok(refreshToken);
    assert.equal((await refusal(verify(refreshToken))).error, 'invalid_token');
  });

  it('an opaque token for another API is refused; a verifier without introspection refuses opaque tokens', async () => {
    const token = await app.accessToken(OPAQUE_API);
    const forJwtApi = verifierFor(JWT_API);
    assert.equal(
      (await refusal(forJwtApi.verify(token))).error_description,
      'the token is not for this API (aud)',
    );
    const jwtOnly = createTokenVerifier({
      issuer: server.issuer,
      audience: OPAQUE_API,
      allowHttp: true,
    });
    const refused = await refusal(
      jwtOnly.verify(requestTo(url, { authorization: `Bearer ${token}` })),
    );
    assert.equal(
      refused.error_description,
      'this API accepts JWT access tokens only (opaque tokens need introspection)',
    );
  });

  it('revoked (RFC 7009) with cacheTtlSeconds 0: refused at once', async () => {
    const token = await app.accessToken(OPAQUE_API);
    const { verify } = verifierFor(OPAQUE_API, { cacheTtlSeconds: 0 });
    await verify(token);
    await oidc.tokenRevocation(app.instance, token);
    const refused = await refusal(verify(token));
    assert.equal(refused.status, 401);
    assert.equal(refused.error_description, 'the token is not active');
  });

  it('revoked with the default cache: accepted until the cached result expires, unless checkRevocation', async () => {
    const token = await app.accessToken(OPAQUE_API);
    const { verify, counted } = verifierFor(OPAQUE_API);
    await verify(token);
    await oidc.tokenRevocation(app.instance, token);
    // The documented window: the result is reused for up to cacheTtlSeconds (30 by default).
    assert.equal((await verify(token)).sub, 'demouser');
    assert.equal(counted.introspections, 1);
    // A high-value route asks again, and the fresh answer replaces the cached one.
    assert.equal((await refusal(verify(token, true))).error_description, 'the token is not active');
    assert.equal(counted.introspections, 2);
    assert.equal((await refusal(verify(token))).error_description, 'the token is not active');
  });

  it('cacheTtlSeconds bounds the window: a revoked token is refused once its cached result expires', async (t) => {
    const token = await app.accessToken(OPAQUE_API);
    const { verify } = verifierFor(OPAQUE_API, { cacheTtlSeconds: 1 });
    await verify(token);
    await oidc.tokenRevocation(app.instance, token);
    await verify(token);
    stopDate(t)(1100);
    assert.equal((await refusal(verify(token))).error_description, 'the token is not active');
  });

  it('a cached result never outlives the token: asked again at exp, then refused', async (t) => {
    const token = await app.accessToken(SHORT_API);
    const { verify, counted } = verifierFor(
      SHORT_API,
      { cacheTtlSeconds: 300 },
      { clockSkewSeconds: 0 },
    );
    const verified = await verify(token);
    const exp = verified.claims.exp as number;
    assert.ok(exp - Date.now() / 1000 <= 3);
    await verify(token);
    assert.equal(counted.introspections, 1);
    stopDate(t)(exp * 1000 - Date.now() + 100);
    const refused = await refusal(verify(token));
    assert.equal(refused.error, 'invalid_token');
    assert.equal(counted.introspections, 2);
  });

  it('one introspection per token while cached, concurrent first uses included', async () => {
    const token = await app.accessToken(OPAQUE_API);
    const { verify, counted } = verifierFor(OPAQUE_API);
    await Promise.all(Array.from({ length: 10 }, () => verify(token)));
    for (let i = 0; i < 5; i += 1) await verify(token);
    assert.equal(counted.introspections, 1);
  });

  it('an inactive result is reused for inactiveCacheSeconds only', async (t) => {
    const { verify, counted } = verifierFor(OPAQUE_API, { inactiveCacheSeconds: 1 });
    const madeUp = 'not-a-token-the-server-issued';
    for (let i = 0; i < 3; i += 1) {
      assert.equal((await refusal(verify(madeUp))).error_description, 'the token is not active');
    }
    assert.equal(counted.introspections, 1);
    stopDate(t)(1100);
    await refusal(verify(madeUp));
    assert.equal(counted.introspections, 2);
  });

  it('the introspection endpoint refusing the credential is 503 temporarily_unavailable, no challenge', async () => {
    const token = await app.accessToken(OPAQUE_API);
    const { verify } = verifierFor(OPAQUE_API, { clientSecret: 'wrong-secret' });
    const refused = await refusal(verify(token));
    assert.equal(refused.status, 503);
    assert.equal(refused.error, 'temporarily_unavailable');
    assert.equal(refused.wwwAuthenticate('api'), undefined);
    assert.ok(refused instanceof TokenVerificationError);
    // Control: the right credential.
    assert.equal((await verifierFor(OPAQUE_API).verify(token)).format, 'opaque');
  });
});
