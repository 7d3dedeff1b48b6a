// Fail closed when storage fails: every endpoint answers an OAuth-style 503
// `temporarily_unavailable` (no token, code or client issued, no stack trace), and the server
// serves again as soon as the store does, without a restart. Only real outages are 503: a bug
// is a 500.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { ClientCountingStore } from '../helpers/client-counter.js';
import {
  APP_REDIRECT_URI,
  type RunningServer,
  registrationClient,
  startExample,
} from '../helpers/example.js';
import { json } from '../helpers/json.js';
import { rawRefresh } from '../helpers/registration.js';
import {
  codeForInstance,
  obtainDcrToken,
  registerInstance,
  SignInBrowser,
} from '../helpers/sign-in.js';

/** A store that can be switched to fail every operation, as an unreachable Redis would. */
class SwitchableStore extends ClientCountingStore {
  down = false;
  override async takeUse(key: string, maxUses: number, ttl: number) {
    if (this.down) throw new Error('ECONNREFUSED (test)');
    return super.takeUse(key, maxUses, ttl);
  }
}

describe('when storage fails', () => {
  let server: RunningServer;
  let store: SwitchableStore;
  let instance: oidc.Configuration;
  let refreshToken: string;
  let dcrToken: string;
  const models = [
    'AccessToken',
    'RefreshToken',
    'Grant',
    'Client',
    'Session',
    'Interaction',
    'AuthorizationCode',
  ];

  before(async () => {
    store = new SwitchableStore();
    server = await startExample((o) => ({ ...o, store }));
    const browser = new SignInBrowser();
    const reg = await registrationClient(server.issuer);
    const { tokens } = await obtainDcrToken(reg, browser);
    instance = await registerInstance(server.issuer, tokens.access_token);
    dcrToken = (await obtainDcrToken(reg, browser)).tokens.access_token;
    const code = await codeForInstance(browser, instance);
    const signedIn = await oidc.authorizationCodeGrant(instance, code.callback, code.checks);
    refreshToken = signedIn.refresh_token as string;
  });
  after(() => server.close());

  function breakStore() {
    store.down = true;
    for (const model of models) store.failingModels.add(model);
  }
  function mendStore() {
    store.down = false;
    store.failingModels.clear();
  }

  it('the token endpoint answers 503 temporarily_unavailable and issues nothing', async () => {
    breakStore();
    try {
      const res = await rawRefresh(instance, refreshToken);
      assert.equal(res.status, 503);
      const body = await json(res);
      assert.equal(body.error, 'temporarily_unavailable');
      assert.doesNotMatch(JSON.stringify(body), /ECONNREFUSED|at .*\.(ts|js)/);
    } finally {
      mendStore();
    }
  });

  it('the registration endpoint answers 503 and creates no client', async () => {
    const written = store.clientWrites;
    breakStore();
    try {
      const res = await fetch(new URL('/reg', server.issuer), {
        method: 'POST',
        headers: { authorization: `Bearer ${dcrToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ redirect_uris: [APP_REDIRECT_URI] }),
      });
      assert.equal(res.status, 503);
      assert.equal((await json(res)).error, 'temporarily_unavailable');
    } finally {
      mendStore();
    }
    assert.equal(store.clientWrites, written);
  });

  it('a bug in a store operation is a logged 500 server_error, not a false 503', async () => {
    const errors: unknown[] = [];
    const listener = (_ctx: unknown, error: unknown) => errors.push(error);
    server.auth.provider.on('server_error', listener);
    store.buggyModels.add('RefreshToken');
    try {
      const res = await rawRefresh(instance, refreshToken);
      assert.equal(res.status, 500);
      const body = await json(res);
      assert.equal(body.error, 'server_error');
      assert.doesNotMatch(JSON.stringify(body), /Maximum call stack|at .*\.(ts|js)/);
      assert.ok(errors.some((e) => e instanceof RangeError));
    } finally {
      store.buggyModels.clear();
      server.auth.provider.off('server_error', listener);
    }
  });

  it('serves again as soon as the store does: the same refresh token still works', async () => {
    const refreshed = await oidc.refreshTokenGrant(instance, refreshToken);
    assert.ok(refreshed.access_token);
    const res = await fetch(new URL('/reg', server.issuer), {
      method: 'POST',
      headers: { authorization: `Bearer ${dcrToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [APP_REDIRECT_URI] }),
    });
    assert.equal(res.status, 201, 'the DCR token was not used up by the failed attempt');
  });
});
