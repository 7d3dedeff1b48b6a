// generateKeys() gives what createAuthServer needs outside development mode: private signing
// keys (RS256 for OpenID Connect Core §15.1, and ES256) and a 256-bit cookie key.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAuthServer, generateKeys } from 'mobile-oidc-provider';
import { testAccounts } from '../helpers/fixture.js';
import { listen } from '../helpers/listen.js';

describe('generateKeys()', () => {
  it('makes private RS256 and ES256 signing keys and a 256-bit cookie key, fresh each time', async () => {
    const keys = await generateKeys();
    assert.deepEqual(
      keys.jwks.keys.map((k) => [k.kty, k.alg, k.use]),
      [
        ['RSA', 'RS256', 'sig'],
        ['EC', 'ES256', 'sig'],
      ],
    );
    for (const key of keys.jwks.keys) assert.ok(key.d && key.kid, 'private, with a kid');
    assert.equal(Buffer.from(keys.cookieKeys[0] as string, 'base64url').length, 32);
    const again = await generateKeys();
    assert.notEqual(again.cookieKeys[0], keys.cookieKeys[0]);
    assert.notEqual(again.jwks.keys[0]?.kid, keys.jwks.keys[0]?.kid);
  });

  it('is accepted by createAuthServer in production mode, which publishes only the public keys', async () => {
    const keys = await generateKeys();
    const http = await listen();
    const server = await createAuthServer({
      issuer: 'https://login.example.com',
      proxy: true,
      ...keys,
      accounts: testAccounts(),
    });
    http.handle(server.callback());
    try {
      const res = await fetch(`${http.url}/jwks`, { headers: { 'x-forwarded-proto': 'https' } });
      const published = (await res.json()) as { keys: Array<Record<string, unknown>> };
      assert.deepEqual(
        published.keys.map((k) => k.kid),
        keys.jwks.keys.map((k) => k.kid),
      );
      assert.ok(
        published.keys.every((k) => k.d === undefined),
        'no private member published',
      );
    } finally {
      await http.close();
      await server.close();
    }
  });
});
