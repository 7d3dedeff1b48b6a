// Instance client metadata over HTTP: every refusal of the built-in rules is an RFC 7591 §3.2.2
// error naming the field, leaves no client behind, and gives the DCR token's use back.
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
import { obtainDcrToken, SignInBrowser } from '../helpers/sign-in.js';

const REFUSALS: Array<[string, object, string, RegExp]> = [
  [
    'RFC 8252 §8.3: http to a non-loopback host',
    { redirect_uris: ['http://example.com/cb'] },
    'invalid_redirect_uri',
    /loopback/,
  ],
  [
    'RFC 8252 §8.3: "localhost" instead of a loopback IP literal',
    { redirect_uris: ['http://localhost:8080/cb'] },
    'invalid_redirect_uri',
    /loopback/,
  ],
  [
    'RFC 8252 §7.1: a private-use scheme that is not a reverse domain',
    { redirect_uris: ['myapp:/cb'] },
    'invalid_redirect_uri',
    /reverse-domain/,
  ],
  [
    'RFC 6749 §3.1.2: a fragment',
    { redirect_uris: ['https://app.example.com/cb#x'] },
    'invalid_redirect_uri',
    /fragment/,
  ],
  [
    'RFC 9700 §4.1.3: a wildcard',
    { redirect_uris: ['https://*.example.com/cb'] },
    'invalid_redirect_uri',
    /wildcard/,
  ],
  ['no redirect URI', { redirect_uris: [] }, 'invalid_redirect_uri', /at least one/],
  [
    'the client_credentials grant',
    { grant_types: ['client_credentials'] },
    'invalid_client_metadata',
    /grant_types/,
  ],
  [
    'the implicit response type',
    { response_types: ['token'] },
    'invalid_client_metadata',
    /response_types/,
  ],
  [
    'a public client (no authentication)',
    { token_endpoint_auth_method: 'none' },
    'invalid_client_metadata',
    /token_endpoint_auth_method/,
  ],
  [
    'client_secret_post',
    { token_endpoint_auth_method: 'client_secret_post' },
    'invalid_client_metadata',
    /token_endpoint_auth_method/,
  ],
  [
    'private_key_jwt without jwks',
    { token_endpoint_auth_method: 'private_key_jwt' },
    'invalid_client_metadata',
    /jwks/,
  ],
  [
    'a scope outside the allowed set',
    { scope: 'openid admin' },
    'invalid_client_metadata',
    /scope 'admin'/,
  ],
  ['the dcr scope', { scope: 'openid dcr' }, 'invalid_client_metadata', /scope 'dcr'/],
  [
    'a jwks_uri (server-side fetch)',
    { jwks_uri: 'https://example.com/jwks' },
    'invalid_client_metadata',
    /jwks_uri/,
  ],
  [
    'a web application type',
    { application_type: 'web' },
    'invalid_client_metadata',
    /application_type/,
  ],
];

describe('instance client metadata (RFC 7591 §2, RFC 8252)', () => {
  let server: RunningServer;
  let store: ClientCountingStore;
  let token: string;

  before(async () => {
    store = new ClientCountingStore();
    server = await startExample((o) => ({ ...o, store }));
    const { tokens } = await obtainDcrToken(
      await registrationClient(server.issuer),
      new SignInBrowser(),
    );
    token = tokens.access_token;
  });
  after(async () => {
    await server.close();
    await store.close();
  });

  const register = (body: object) =>
    fetch(new URL('/reg', server.issuer), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [APP_REDIRECT_URI], ...body }),
    });

  for (const [name, body, error, description] of REFUSALS) {
    it(`refuses ${name}`, async () => {
      const res = await register(body);
      assert.equal(res.status, 400);
      const answer = await json(res);
      assert.equal(answer.error, error);
      assert.match(answer.error_description, description);
      assert.equal(store.clientWrites, 0);
    });
  }

  it('after all those refusals the single-use DCR token still registers, with safe defaults', async () => {
    const res = await register({
      client_name: 'Phone',
      unknown_extension: 'ignored (RFC 7591 §2)',
    });
    assert.equal(res.status, 201);
    const client = await json(res);
    assert.equal(client.application_type, 'native');
    assert.deepEqual(client.grant_types, ['authorization_code', 'refresh_token']);
    assert.equal(client.token_endpoint_auth_method, 'client_secret_basic');
    // The default scope is every scope the example server offers instances (payments is left
    // out whenever the instance is loaded: its level, none, is below payments' minimum).
    assert.equal(client.scope, 'openid profile email offline_access devices payments');
    assert.equal(client.unknown_extension, undefined);
    assert.equal(store.clientWrites, 1);
  });

  it('a private_key_jwt instance registers with its public key and no secret', async () => {
    const { tokens } = await obtainDcrToken(
      await registrationClient(server.issuer),
      new SignInBrowser(),
    );
    token = tokens.access_token;
    const { generateKeyPair, exportJWK } = await import('jose');
    const { publicKey } = await generateKeyPair('ES256');
    const res = await register({
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [{ ...(await exportJWK(publicKey)), alg: 'ES256' }] },
    });
    assert.equal(res.status, 201);
    const client = await json(res);
    assert.equal(client.token_endpoint_auth_method, 'private_key_jwt');
    assert.equal(client.client_secret, undefined);
  });
});
