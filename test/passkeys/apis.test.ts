// Passkeys in the JSON APIs: the self-service endpoint (the user's own access token with
// `devices.selfServiceScope`) lists and removes the user's own passkeys, and another user's is
// 404; the admin API lists an account's, gets and removes any; `server.passkeys` in code.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PasskeyEvents } from 'mobile-oidc-provider';
import * as oidc from 'openid-client';
import { type RunningServer, registrationClient } from '../helpers/example.js';
import { json } from '../helpers/json.js';
import { listen } from '../helpers/listen.js';
import {
  passkeyPage,
  postCredential,
  signedInBrowser,
  startWithPasskeys,
} from '../helpers/passkeys.js';
import {
  codeForInstance,
  obtainDcrToken,
  registerInstance,
  SignInBrowser,
} from '../helpers/sign-in.js';
import { SoftwareAuthenticator } from '../helpers/software-authenticator.js';

const ADMIN_SECRET = 'passkey-tests-admin-secret-0123456789abcdef';

let server: RunningServer;
const removals: PasskeyEvents['passkey.removed'][] = [];

before(async () => {
  server = await startWithPasskeys((o) => ({
    ...o,
    devices: { ...o.devices, adminSecret: ADMIN_SECRET },
  }));
  server.auth.on('passkey.removed', (e) => removals.push(e));
});
after(() => server.close());

/** A passkey of `username`, added on the account page; resolves its credential id. */
async function addPasskey(username: string): Promise<string> {
  const browser = await signedInBrowser(server.issuer, username);
  const authenticator = new SoftwareAuthenticator(server.issuer);
  const { add } = await passkeyPage(browser, server.issuer);
  assert.equal((await postCredential(browser, add, authenticator.create(add.options))).status, 303);
  return [...authenticator.credentials.keys()][0] as string;
}

/** An access token of `username`'s app install with the self-service scope. */
async function userToken(username: string): Promise<string> {
  const browser = new SignInBrowser();
  const password = username === 'demouser' ? 'Password1' : 'Password2';
  const { tokens: dcr } = await obtainDcrToken(await registrationClient(server.issuer), browser, {
    username,
    password,
  });
  const instance = await registerInstance(server.issuer, dcr.access_token);
  const { callback, checks } = await codeForInstance(browser, instance, 'openid devices', {
    username,
    password,
  });
  return (await oidc.authorizationCodeGrant(instance, callback, checks)).access_token;
}

const call = (path: string, token: string, method = 'GET') =>
  fetch(`${server.issuer}${path}`, { method, headers: { authorization: `Bearer ${token}` } });

describe('passkeys in the self-service API', () => {
  it('lists the user’s own passkeys and removes one; another user’s is 404', async () => {
    const mine = await addPasskey('demouser');
    const theirs = await addPasskey('otheruser');
    const token = await userToken('demouser');
    const list = await call('/passkeys', token);
    assert.equal(list.status, 200);
    assert.equal(list.headers.get('cache-control'), 'no-store');
    const body = await json(list);
    const ids = (body.passkeys as { id: string }[]).map((p) => p.id);
    assert.ok(ids.includes(mine));
    assert.ok(!ids.includes(theirs));
    assert.ok(!JSON.stringify(body).includes('publicKey'), 'no key material');

    const foreign = await call(`/passkeys/${theirs}`, token, 'DELETE');
    assert.equal(foreign.status, 404);
    assert.equal((await json(foreign)).error, 'not_found');
    assert.ok(await server.auth.passkeys.get(theirs), 'still there');

    const removed = await call(`/passkeys/${mine}`, token, 'DELETE');
    assert.equal(removed.status, 200);
    assert.equal((await json(removed)).id, mine);
    assert.equal(await server.auth.passkeys.get(mine), undefined);
    assert.deepEqual(removals.at(-1), { credentialId: mine, accountId: 'demouser', by: 'user' });
  });

  it('needs the user’s token (401 without one)', async () => {
    const res = await fetch(`${server.issuer}/passkeys`);
    assert.equal(res.status, 401);
    await res.body?.cancel();
  });
});

describe('passkeys in the admin API', () => {
  it('lists an account’s, gets one, removes one (by admin), and answers 404 after', async () => {
    const id = await addPasskey('otheruser');
    const admin = server.auth.adminCallback();
    const http = await listen();
    http.handle(admin);
    try {
      const get = (path: string, method = 'GET') =>
        fetch(`${http.url}${path}`, {
          method,
          headers: { authorization: `Bearer ${ADMIN_SECRET}` },
        });
      const list = await json(await get('/accounts/otheruser/passkeys'));
      assert.ok((list.passkeys as { id: string }[]).some((p) => p.id === id));
      const one = await get(`/passkeys/${id}`);
      assert.equal(one.status, 200);
      assert.equal((await json(one)).accountId, 'otheruser');
      const removed = await get(`/passkeys/${id}`, 'DELETE');
      assert.equal(removed.status, 200);
      await removed.body?.cancel();
      assert.deepEqual(removals.at(-1), { credentialId: id, accountId: 'otheruser', by: 'admin' });
      assert.equal((await get(`/passkeys/${id}`)).status, 404);
      assert.equal((await get(`/passkeys/${id}`, 'DELETE')).status, 404);
      const unauthenticated = await fetch(`${http.url}/passkeys/${id}`);
      assert.equal(unauthenticated.status, 401);
      await unauthenticated.body?.cancel();
    } finally {
      await http.close();
    }
  });
});

describe('server.passkeys', () => {
  it('lists, gets and removes (by api)', async () => {
    const id = await addPasskey('demouser');
    assert.ok((await server.auth.passkeys.list('demouser')).some((p) => p.id === id));
    assert.equal((await server.auth.passkeys.remove(id))?.id, id);
    assert.deepEqual(removals.at(-1), { credentialId: id, accountId: 'demouser', by: 'api' });
    assert.equal(await server.auth.passkeys.remove(id), undefined);
  });
});
