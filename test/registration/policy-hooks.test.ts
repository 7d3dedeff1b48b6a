// Registration policy hooks: amend or reject instance metadata (RFC 7591 §3.2.2 errors), in
// order, on create and on RFC 7592 update — and never leave a client behind when they reject.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RegistrationPolicyError, type RegistrationPolicyInput } from 'mobile-oidc-provider';
import { ClientCountingStore } from '../helpers/client-counter.js';
import {
  APP_REDIRECT_URI,
  type RunningServer,
  registrationClient,
  startExample,
} from '../helpers/example.js';
import { json } from '../helpers/json.js';
import { obtainDcrToken, SignInBrowser } from '../helpers/sign-in.js';

describe('registration policy hooks', () => {
  let server: RunningServer;
  let store: ClientCountingStore;
  let browser: SignInBrowser;
  const seen: Array<
    Omit<RegistrationPolicyInput, 'metadata'> & { metadata: Record<string, unknown> }
  > = [];

  before(async () => {
    store = new ClientCountingStore();
    server = await startExample((o) => ({
      ...o,
      store,
      registration: {
        policies: [
          async (input) => {
            seen.push({ ...input, metadata: structuredClone(input.metadata) });
            input.metadata.client_name ??= `Device of ${input.accountId}`;
          },
          async ({ metadata }) => {
            if (metadata.client_name === 'reject me') {
              throw new RegistrationPolicyError(
                'invalid_client_metadata',
                'client_name is not acceptable',
              );
            }
            if (metadata.client_name === 'crash') throw new TypeError('policy bug');
            if (metadata.client_name === 'widen') metadata.grant_types = ['client_credentials'];
            if (metadata.client_name === 'bad redirect')
              metadata.redirect_uris = ['http://evil.example/cb'];
          },
        ],
      },
    }));
    browser = new SignInBrowser();
  });
  after(async () => {
    await server.close();
    await store.close();
  });

  async function register(body: object) {
    const { tokens } = await obtainDcrToken(await registrationClient(server.issuer), browser);
    const res = await fetch(new URL('/reg', server.issuer), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${tokens.access_token}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ redirect_uris: [APP_REDIRECT_URI], ...body }),
    });
    return { res, token: tokens.access_token };
  }

  it('a hook sees who registers and may amend the metadata', async () => {
    seen.length = 0;
    const { res } = await register({});
    assert.equal(res.status, 201);
    const body = await json(res);
    assert.equal(body.client_name, 'Device of demouser');
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.operation, 'create');
    assert.equal(seen[0]?.accountId, 'demouser');
    assert.equal(seen[0]?.registrationClientId, 'mobile-dcr-client');
    assert.equal(seen[0]?.account?.claims.email, 'demouser@example.com');
    assert.equal(seen[0]?.template, undefined, 'a full-metadata registration has no template');
    assert.match(seen[0]?.ip ?? '', /127\.0\.0\.1/);
    assert.equal(seen[0]?.clientId, body.client_id);
    // Hooks run after the built-in rules, so they see the defaults filled in.
    assert.equal(seen[0]?.metadata.token_endpoint_auth_method, 'client_secret_basic');
  });

  it('a hook rejects with an RFC 7591 error and no client is created', async () => {
    const written = store.clientWrites;
    const { res } = await register({ client_name: 'reject me' });
    assert.equal(res.status, 400);
    assert.deepEqual(await json(res), {
      error: 'invalid_client_metadata',
      error_description: 'client_name is not acceptable',
    });
    assert.equal(store.clientWrites, written);
  });

  it('a hook that crashes fails closed with server_error, no stack trace, no client', async () => {
    const written = store.clientWrites;
    const { res } = await register({ client_name: 'crash' });
    assert.equal(res.status, 500);
    const body = await json(res);
    assert.equal(body.error, 'server_error');
    assert.doesNotMatch(JSON.stringify(body), /policy bug|at .*\.ts/);
    assert.equal(store.clientWrites, written);
  });

  it('a hook cannot widen what an instance may do: the built-in rules run again after it', async () => {
    const written = store.clientWrites;
    const widened = await register({ client_name: 'widen' });
    assert.equal(widened.res.status, 400);
    assert.equal((await json(widened.res)).error, 'invalid_client_metadata');
    const redirected = await register({ client_name: 'bad redirect' });
    assert.equal(redirected.res.status, 400);
    assert.equal((await json(redirected.res)).error, 'invalid_redirect_uri');
    assert.equal(store.clientWrites, written);
  });

  it('hooks run again on RFC 7592 update, as operation "update", with the original owner', async () => {
    const { res } = await register({ client_name: 'Phone' });
    const created = await json(res);
    seen.length = 0;
    const update = (client_name: string) =>
      fetch(created.registration_client_uri, {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${created.registration_access_token}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          client_id: created.client_id,
          redirect_uris: [APP_REDIRECT_URI],
          client_name,
        }),
      });
    const refused = await update('reject me');
    assert.equal(refused.status, 400);
    assert.equal(seen[0]?.operation, 'update');
    assert.equal(seen[0]?.accountId, 'demouser');
    assert.equal(seen[0]?.account?.claims.email, 'demouser@example.com');
    const ok = await update('Tablet');
    assert.equal(ok.status, 200);
    assert.equal((await json(ok)).client_name, 'Tablet');
  });
});
