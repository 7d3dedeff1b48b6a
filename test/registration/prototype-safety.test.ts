// Registration bodies are read prototype-safe: a `__proto__`, `constructor` or `prototype` member
// at any depth is refused (oidc-provider copies the body with Object.assign, which would turn
// `__proto__` into the prototype and let inherited fields pass every rule unstored), and every
// stored instance carries an explicit scope (RFC 7591 §2: an omitted scope gets the server's
// default, never "any scope").
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ClientCountingStore } from '../helpers/client-counter.js';
import {
  APP_REDIRECT_URI,
  type RunningServer,
  registrationClient,
  startExample,
} from '../helpers/example.js';
import { json } from '../helpers/json.js';
import { postRegistration } from '../helpers/registration.js';
import { obtainDcrToken, SignInBrowser } from '../helpers/sign-in.js';

/** POSTs a raw JSON text (JSON.stringify would drop a literal __proto__ member). */
async function postRaw(issuer: string, text: string, token: string) {
  const res = await fetch(`${issuer}/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: text,
  });
  return { status: res.status, body: await json(res) };
}

describe('registration bodies are prototype-safe (RFC 7591 §3.2.2)', () => {
  let server: RunningServer;
  let store: ClientCountingStore;
  let dcrToken: () => Promise<string>;

  before(async () => {
    store = new ClientCountingStore();
    server = await startExample((o) => ({ ...o, store }));
    const browser = new SignInBrowser();
    const reg = await registrationClient(server.issuer);
    dcrToken = async () => (await obtainDcrToken(reg, browser)).tokens.access_token;
  });
  after(async () => {
    await server.close();
    await store.close();
  });

  const redirect = JSON.stringify([APP_REDIRECT_URI]);
  const attacks: Array<[string, string, string]> = [
    [
      'a top-level __proto__ carrying a scope',
      `{"redirect_uris":${redirect},"__proto__":{"scope":"openid"}}`,
      '__proto__',
    ],
    [
      'a top-level constructor',
      `{"redirect_uris":${redirect},"constructor":{"prototype":{"scope":"openid"}}}`,
      'constructor',
    ],
    [
      'a __proto__ nested in jwks',
      `{"redirect_uris":${redirect},"token_endpoint_auth_method":"private_key_jwt","jwks":{"keys":[{"kty":"EC","__proto__":{"d":"x"}}]}}`,
      'jwks.keys[0].__proto__',
    ],
    [
      'a prototype member nested in an array',
      `{"redirect_uris":${redirect},"contacts":[{"prototype":1}]}`,
      'contacts[0].prototype',
    ],
  ];

  for (const [name, body, path] of attacks) {
    it(`${name} is refused with invalid_client_metadata naming ${path}, and no client is stored`, async () => {
      const token = await dcrToken();
      const before = store.clientWrites;
      const res = await postRaw(server.issuer, body, token);
      assert.equal(res.status, 400);
      assert.equal(res.body.error, 'invalid_client_metadata');
      assert.match(res.body.error_description, new RegExp(`^${path.replace(/[[\]]/g, '\\$&')} `));
      assert.equal(store.clientWrites, before, 'no client record was written');
      // The refused request gave the DCR token's use back: the same token still registers.
      const control = await postRegistration(
        server.issuer,
        { redirect_uris: [APP_REDIRECT_URI] },
        token,
      );
      assert.equal(control.status, 201);
    });
  }

  it('a body nested deeper than any registration needs is refused, not walked', async () => {
    const deep = `${'['.repeat(100)}1${']'.repeat(100)}`;
    const res = await postRaw(
      server.issuer,
      `{"redirect_uris":${redirect},"contacts":${deep}}`,
      await dcrToken(),
    );
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'invalid_client_metadata');
  });

  it('the polluted registration no longer yields a scope-less instance with every scope (control: the same body without __proto__)', async () => {
    const res = await postRaw(
      server.issuer,
      `{"redirect_uris":${redirect},"scope":"openid"}`,
      await dcrToken(),
    );
    assert.equal(res.status, 201);
    assert.equal(res.body.scope, 'openid');
  });

  it('an instance registered without scope stores the default scope explicitly', async () => {
    const res = await postRegistration(
      server.issuer,
      { redirect_uris: [APP_REDIRECT_URI] },
      await dcrToken(),
    );
    assert.equal(res.status, 201);
    const stored = await store.adapter('Client').find(res.body.client_id);
    assert.equal(typeof stored?.scope, 'string');
    assert.ok(String(stored?.scope).split(' ').includes('openid'));
    assert.ok(Object.hasOwn(stored ?? {}, 'scope'));
  });

  it('an RFC 7592 update with a __proto__ member is refused and leaves the client as it was', async () => {
    const created = await postRegistration(
      server.issuer,
      { redirect_uris: [APP_REDIRECT_URI], client_name: 'Mine', scope: 'openid' },
      await dcrToken(),
    );
    assert.equal(created.status, 201);
    const { client_id, registration_access_token, registration_client_uri } = created.body;
    const put = await fetch(registration_client_uri, {
      method: 'PUT',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${registration_access_token}`,
      },
      body: `{"client_id":"${client_id}","redirect_uris":${redirect},"client_name":"Changed","__proto__":{"scope":"openid payments"}}`,
    });
    assert.equal(put.status, 400);
    const body = await json(put);
    assert.equal(body.error, 'invalid_client_metadata');
    assert.match(body.error_description, /__proto__/);
    const stored = await store.adapter('Client').find(client_id);
    assert.equal(stored?.client_name, 'Mine');
    assert.equal(stored?.scope, 'openid');
  });

  it('an instance record without a scope loads as no client (fail closed), not as "any scope"', async () => {
    const created = await postRegistration(
      server.issuer,
      { redirect_uris: [APP_REDIRECT_URI] },
      await dcrToken(),
    );
    const { client_id, client_secret } = created.body;
    const clients = store.adapter('Client');
    const stored = await clients.find(client_id);
    assert.ok(stored);
    const tokenRequest = () =>
      fetch(`${server.issuer}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${client_id}:${client_secret}`).toString('base64')}`,
        },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: 'unknown',
          redirect_uri: APP_REDIRECT_URI,
          code_verifier: 'x'.repeat(43),
        }).toString(),
      });
    // Control: with its scope the instance authenticates (and the made-up code is invalid_grant).
    assert.equal((await json(await tokenRequest())).error, 'invalid_grant');
    const { scope: _scope, ...withoutScope } = stored;
    await clients.upsert(client_id, withoutScope);
    assert.equal((await json(await tokenRequest())).error, 'invalid_client');
  });
});
