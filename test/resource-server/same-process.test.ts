// An API in the same process as the authorization server: opaque tokens are read from the
// server's store (AuthServer.introspect) with no HTTP, with the same result as introspection.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { createTokenVerifier } from '../../lib/resource-server/index.js';
import { type RunningServer, startExample } from '../helpers/example.js';
import {
  App,
  OPAQUE_API,
  RESOURCE_SERVER_ID,
  RESOURCE_SERVER_SECRET,
  refusal,
  requestTo,
  withApis,
} from './helpers.js';

describe('resource server: the fast path in the authorization server’s process', () => {
  let server: RunningServer;
  let app: App;
  const url = 'https://opaque-api.example.com/me';
  let posts = 0;

  before(async () => {
    server = await startExample(withApis);
    app = await App.install(server.issuer);
  });
  after(() => server.close());

  const local = () =>
    createTokenVerifier({
      issuer: server.issuer,
      audience: OPAQUE_API,
      allowHttp: true,
      server: server.auth,
      fetch: (input, init) => {
        if (init?.method === 'POST') posts += 1;
        return fetch(input, init);
      },
    });
  const bearer = (token: string) => requestTo(url, { authorization: `Bearer ${token}` });

  it('gives what introspection over HTTP gives, without a request', async () => {
    const token = await app.accessToken(OPAQUE_API);
    const before = posts;
    const fast = await local().verify(bearer(token));
    assert.equal(posts, before, 'no introspection request was sent');
    const overHttp = await createTokenVerifier({
      issuer: server.issuer,
      audience: OPAQUE_API,
      allowHttp: true,
      introspection: { clientId: RESOURCE_SERVER_ID, clientSecret: RESOURCE_SERVER_SECRET },
    }).verify(bearer(token));
    for (const key of ['sub', 'clientId', 'cal', 'tokenType', 'format'] as const) {
      assert.deepEqual(fast[key], overHttp[key], key);
    }
    assert.deepEqual([...fast.scope].sort(), [...overHttp.scope].sort());
    assert.equal(fast.claims.aud, OPAQUE_API);
  });

  it('a revoked token (RFC 7009) is refused at once: nothing is cached', async () => {
    const token = await app.accessToken(OPAQUE_API);
    const verifier = local();
    await verifier.verify(bearer(token));
    await oidc.tokenRevocation(app.instance, token);
    const refused = await refusal(verifier.verify(bearer(token)));
    assert.equal(refused.status, 401);
    assert.equal(refused.error, 'invalid_token');
  });

  it('an unknown token, and one for userinfo (no aud), are refused', async () => {
    const verifier = local();
    assert.equal((await refusal(verifier.verify(bearer('not-a-token')))).error, 'invalid_token');
    assert.equal(
      (await refusal(verifier.verify(bearer(await app.accessToken())))).error,
      'invalid_token',
    );
  });

  it('AuthServer.introspect answers inactive for anything but a live access token', async () => {
    assert.deepEqual(await server.auth.introspect(''), { active: false });
    assert.deepEqual(await server.auth.introspect('x'.repeat(600)), { active: false });
    const active = await server.auth.introspect(await app.accessToken(OPAQUE_API));
    assert.equal(active.active, true);
    assert.equal(active.iss, server.issuer);
  });
});
