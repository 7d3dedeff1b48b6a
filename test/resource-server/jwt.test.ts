// JWT access tokens (RFC 9068) from a real in-process authorization server, verified by an API
// that shares nothing with it but HTTP: each check with an attack and a control.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { base64url, decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import * as oidc from 'openid-client';
import {
  createTokenVerifier,
  requireCal,
  requireScopes,
  type TokenVerifier,
  type VerifiedToken,
} from '../../lib/resource-server/index.js';
import { type RunningServer, startExample } from '../helpers/example.js';
import {
  App,
  JWT_API,
  OTHER_API,
  RESOURCE_SERVER_ID,
  RESOURCE_SERVER_SECRET,
  refusal,
  requestTo,
  startApi,
  type TestApi,
  withApis,
} from './helpers.js';

describe('resource server: JWT access tokens from the authorization server', () => {
  let server: RunningServer;
  let elsewhere: RunningServer;
  let app: App;
  let verifier: TokenVerifier;
  let api: TestApi;
  let token: string;

  before(async () => {
    [server, elsewhere] = await Promise.all([startExample(withApis), startExample(withApis)]);
    app = await App.install(server.issuer);
    verifier = createTokenVerifier({
      issuer: server.issuer,
      audience: JWT_API,
      allowHttp: true,
      introspection: { clientId: RESOURCE_SERVER_ID, clientSecret: RESOURCE_SERVER_SECRET },
    });
    api = await startApi(async (request) => {
      const path = new URL(request.url).pathname;
      const verified = await verifier.verify(request, {
        checkRevocation: path === '/high-value',
      });
      if (path === '/email') requireScopes(verified, 'email');
      if (path === '/attested') requireCal(verified, 'by-provisioned-key');
      return verified;
    });
    token = await app.accessToken(JWT_API, undefined, 'openid payments');
  });
  after(async () => {
    await api.close();
    await Promise.all([server.close(), elsewhere.close()]);
  });

  const bearer = (value: string) => ({ authorization: `Bearer ${value}` });
  const verify = (value: string) => verifier.verify(requestTo(`${api.url}/`, bearer(value)));

  /** A request to the test API with this token: its status, challenge and body. */
  async function call(path: string, value: string | undefined) {
    const res = await fetch(`${api.url}${path}`, { headers: value ? bearer(value) : {} });
    return {
      status: res.status,
      challenge: res.headers.get('www-authenticate'),
      body: (await res.json()) as Record<string, unknown>,
    };
  }

  it('accepts the token of the API it was issued for, and says who, which install and which scopes', async () => {
    const verified = await verify(token);
    const { sub, clientId, scope, cal, tokenType, format, boundTo } = verified;
    assert.deepEqual(
      { sub, clientId, scope, cal, tokenType, format, boundTo },
      {
        sub: 'demouser',
        clientId: app.instance.clientMetadata().client_id,
        scope: ['payments'],
        cal: 'none',
        tokenType: 'Bearer',
        format: 'jwt',
        boundTo: undefined,
      },
    );
    assert.equal(verified.claims.aud, JWT_API);
    assert.equal(Object.getPrototypeOf(verified.claims), null);
  });

  it('an app through openid-client: the API answers 200 to its protected resource request', async () => {
    const res = await oidc.fetchProtectedResource(
      app.instance,
      token,
      new URL(`${api.url}/`),
      'GET',
    );
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as VerifiedToken).sub, 'demouser');
  });

  it('no token: 401 with the bare challenge (RFC 6750 §3.1), and Basic credentials count as none', async () => {
    assert.deepEqual(await call('/', undefined), {
      status: 401,
      challenge: 'Bearer realm="api"',
      body: {},
    });
    const res = await fetch(`${api.url}/`, { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="api"');
  });

  it('a malformed Authorization header is 400 invalid_request', async () => {
    const refused = await refusal(
      verifier.verify(requestTo(`${api.url}/`, { authorization: 'Bearer a b' })),
    );
    assert.equal(refused.status, 400);
    assert.equal(refused.error, 'invalid_request');
    const twice = await refusal(
      verifier.verify({
        method: 'GET',
        url: `${api.url}/`,
        headers: { authorization: [`Bearer ${token}`, `Bearer ${token}`] },
      }),
    );
    assert.equal(twice.error, 'invalid_request');
  });

  it('wrong audience: a token for another API of the same server is refused', async () => {
    const other = await app.accessToken(OTHER_API, undefined, 'openid payments');
    assert.equal(decodeJwt(other).aud, OTHER_API);
    const { status, challenge } = await call('/', other);
    assert.equal(status, 401);
    assert.equal(
      challenge,
      'Bearer realm="api", error="invalid_token", error_description="the token is not for this API (aud)"',
    );
    // Control: the same verifier for that API accepts it.
    const forOther = createTokenVerifier({
      issuer: server.issuer,
      audience: OTHER_API,
      allowHttp: true,
    });
    assert.equal((await forOther.verify(requestTo(`${api.url}/`, bearer(other)))).sub, 'demouser');
  });

  it('another issuer: a token of a second authorization server for the same API is refused', async () => {
    const appThere = await App.install(elsewhere.issuer);
    const foreign = await appThere.accessToken(JWT_API, undefined, 'openid payments');
    assert.equal(decodeJwt(foreign).aud, JWT_API);
    const refused = await refusal(verify(foreign));
    assert.equal(refused.error, 'invalid_token');
    assert.equal(refused.error_description, 'the token signature is invalid');
    // Control: a verifier for that issuer accepts it.
    const there = createTokenVerifier({
      issuer: elsewhere.issuer,
      audience: JWT_API,
      allowHttp: true,
    });
    assert.equal((await there.verify(requestTo(`${api.url}/`, bearer(foreign)))).format, 'jwt');
  });

  it('alg none: an unsigned copy of a valid token is refused', async () => {
    const [, payload] = token.split('.');
    const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'at+jwt' }));
    const refused = await refusal(verify(`${header}.${payload}.`));
    assert.equal(refused.error, 'invalid_token');
    assert.equal(refused.error_description, 'the token signing algorithm is not accepted');
  });

  it('HS256 with the public key as the secret (algorithm confusion) is refused', async () => {
    const jwks = (await (await fetch(`${server.issuer}/jwks`)).json()) as {
      keys: Array<Record<string, unknown>>;
    };
    const { kid } = decodeProtectedHeader(token);
    const publicJwk = jwks.keys.find((key) => key.kid === kid);
    assert.ok(publicJwk);
    const claims = decodeJwt(token);
    for (const secret of [JSON.stringify(publicJwk), String(publicJwk.n)]) {
      const forged = await new SignJWT({ ...claims, scope: 'payments email' })
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid })
        .sign(new TextEncoder().encode(secret));
      const refused = await refusal(verify(forged));
      assert.equal(refused.error_description, 'the token signing algorithm is not accepted');
    }
  });

  it('a tampered payload breaks the signature', async () => {
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload)));
    const tampered = base64url.encode(JSON.stringify({ ...claims, scope: 'payments email' }));
    const refused = await refusal(verify(`${header}.${tampered}.${signature}`));
    assert.equal(refused.error_description, 'the token signature is invalid');
    assert.ok(payload);
  });

  it('an ID token of the same server (typ JWT) is not an access token', async () => {
    const { id_token: idToken } = await app.tokens({ resource: JWT_API, scope: 'openid payments' });
    assert.ok(idToken);
    const refused = await refusal(verify(idToken));
    assert.equal(
      refused.error_description,
      'the token is not a JWT access token (typ must be at+jwt)',
    );
  });

  it('insufficient_scope: 403 with the scope the route needs in the challenge (RFC 6750 §3.1)', async () => {
    const { status, challenge, body } = await call('/email', token);
    assert.equal(status, 403);
    assert.equal(body.error, 'insufficient_scope');
    assert.equal(
      challenge,
      'Bearer realm="api", error="insufficient_scope", error_description="the token lacks the scope email", scope="email"',
    );
    // openid-client, as the app, reads the challenge.
    const seen = await oidc
      .fetchProtectedResource(app.instance, token, new URL(`${api.url}/email`), 'GET')
      .then(
        () => assert.fail('accepted'),
        (error: unknown) => error,
      );
    assert.ok(seen instanceof oidc.WWWAuthenticateChallengeError);
    assert.equal(seen.cause[0]?.parameters.scope, 'email');
    // Control: a token with that scope passes.
    const wider = await app.accessToken(JWT_API, undefined, 'openid payments email');
    assert.equal((await call('/email', wider)).status, 200);
  });

  it('cal too low: 403 insufficient_assurance naming the level; an install of cal none passes a none route', async () => {
    const { status, challenge } = await call('/attested', token);
    assert.equal(status, 403);
    assert.equal(
      challenge,
      'Bearer realm="api", error="insufficient_assurance", error_description="this request needs an app install of assurance level by-provisioned-key or higher"',
    );
    const verified = await verify(token);
    assert.equal(requireCal(verified, 'none'), verified);
  });

  it('checkRevocation on a JWT: this server cannot introspect JWTs, so the route refuses it', async () => {
    const { status, body } = await call('/high-value', token);
    assert.equal(status, 401);
    assert.equal(
      body.error_description,
      'the authorization server cannot introspect this token to check its revocation',
    );
    // Control: the same token at a route without the check.
    assert.equal((await call('/', token)).status, 200);
  });
});
