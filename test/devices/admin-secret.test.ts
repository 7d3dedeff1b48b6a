// The admin secret opens the admin API (RFC 6750 bearer) only when it matches exactly. It is
// compared as fixed-length digests in constant time, so a wrong length is refused like any other
// wrong value: a prefix, a longer string starting with the secret, an empty bearer.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair } from 'jose';
import { type AuthServer, createAuthServer } from 'mobile-oidc-provider';
import type { JWK } from 'oidc-provider';
import { json } from '../helpers/json.js';
import { type Listening, listen } from '../helpers/listen.js';

const ADMIN_SECRET = 'admin-secret-tests-0123456789abcdefghij';

describe('the admin secret', () => {
  let server: AuthServer;
  let admin: Listening;

  before(async () => {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const key = { ...(await exportJWK(privateKey)), kid: 'k1', alg: 'RS256' } as JWK;
    server = await createAuthServer({
      issuer: 'https://login.example.com',
      jwks: { keys: [key] },
      cookieKeys: ['c'.repeat(32)],
      accounts: { authenticate: async () => undefined, findAccount: async () => undefined },
      devices: { adminSecret: ADMIN_SECRET },
    });
    admin = await listen();
    admin.handle(server.adminCallback());
  });
  after(async () => {
    await admin.close();
    await server.close();
  });

  const list = (authorization: string) =>
    fetch(`${admin.url}/accounts/alice/devices`, { headers: { authorization } });

  it('opens the admin API when it matches', async () => {
    const res = await list(`Bearer ${ADMIN_SECRET}`);
    assert.equal(res.status, 200);
    assert.deepEqual(await json(res), { devices: [] });
  });

  for (const [name, token] of [
    ['a wrong secret of the same length', `${ADMIN_SECRET.slice(0, -1)}X`],
    ['a prefix of the secret', ADMIN_SECRET.slice(0, -1)],
    ['a longer string starting with the secret', `${ADMIN_SECRET}0`],
    ['an empty bearer', ''],
  ] as const) {
    it(`refuses ${name} (401, an OAuth error body)`, async () => {
      assert.equal(token === ADMIN_SECRET, false);
      const res = await list(`Bearer ${token}`);
      assert.equal(res.status, 401);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm="[^"]+"/);
      const body = await json(res);
      assert.equal(body.error, 'invalid_token');
      assert.equal(typeof body.error_description, 'string');
      assert.deepEqual(Object.keys(body).sort(), ['error', 'error_description']);
    });
  }
});
