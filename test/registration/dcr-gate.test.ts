// The DCR token gate: POST /reg opens only for a live, unused `dcr` access token that a user
// earned through a registration client (RFC 7591 §3 initial access token; RFC 6750 §3 errors).
// Every refusal is a 401 `invalid_token` and leaves no client behind.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { ClientCountingStore } from '../helpers/client-counter.js';
import { dateNow, stopDate } from '../helpers/clock.js';
import {
  APP_REDIRECT_URI,
  insecure,
  type RunningServer,
  registrationClient,
  startExample,
} from '../helpers/example.js';
import { json } from '../helpers/json.js';
import { obtainDcrToken, SignInBrowser, signIn } from '../helpers/sign-in.js';

const METADATA = { redirect_uris: [APP_REDIRECT_URI] };

function register(issuer: string, authorization: string | undefined, body: object = METADATA) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (authorization !== undefined) headers.authorization = authorization;
  return fetch(new URL('/reg', issuer), { method: 'POST', headers, body: JSON.stringify(body) });
}

async function assertRefused(res: Response, description: RegExp) {
  assert.equal(res.status, 401);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  const body = await json(res);
  assert.equal(body.error, 'invalid_token');
  assert.match(body.error_description, description);
  assert.match(
    res.headers.get('www-authenticate') ?? '',
    /^Bearer realm="[^"]+", error="invalid_token"/,
  );
}

describe('the DCR token gate', () => {
  let server: RunningServer;
  let store: ClientCountingStore;
  let browser: SignInBrowser;
  let reg: oidc.Configuration;

  before(async () => {
    store = new ClientCountingStore();
    server = await startExample((o) => ({ ...o, store }));
    browser = new SignInBrowser();
    reg = await registrationClient(server.issuer);
  });
  after(async () => {
    await server.close();
    await store.close();
  });

  const dcrToken = async () => (await obtainDcrToken(reg, browser)).tokens.access_token;

  it('no token at all: 401 with a bare Bearer challenge (RFC 6750 §3.1)', async () => {
    const res = await register(server.issuer, undefined);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), `Bearer realm="${server.issuer}"`);
    assert.equal((await json(res)).error, 'invalid_token');
    assert.equal(store.clientWrites, 0);
  });

  it('a token in another scheme is refused', async () => {
    await assertRefused(await register(server.issuer, `Basic ${btoa('a:b')}`), /Bearer/);
    await assertRefused(await register(server.issuer, 'Bearer'), /Bearer/);
    assert.equal(store.clientWrites, 0);
  });

  it('an unknown token is refused', async () => {
    await assertRefused(
      await register(server.issuer, 'Bearer not-a-real-token'),
      /unknown, expired or revoked/,
    );
    assert.equal(store.clientWrites, 0);
  });

  it('a revoked DCR token is refused (RFC 7009)', async () => {
    const token = await dcrToken();
    await oidc.tokenRevocation(reg, token);
    await assertRefused(
      await register(server.issuer, `Bearer ${token}`),
      /unknown, expired or revoked/,
    );
    assert.equal(store.clientWrites, 0);
  });

  async function newInstance() {
    return oidc.dynamicClientRegistration(
      new URL(server.issuer),
      METADATA,
      oidc.ClientSecretBasic(),
      {
        ...insecure,
        initialAccessToken: await dcrToken(),
      },
    );
  }

  async function authorizationError(instance: oidc.Configuration, params: Record<string, string>) {
    const url = oidc.buildAuthorizationUrl(instance, {
      redirect_uri: APP_REDIRECT_URI,
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
      ...params,
    });
    const { callback } = await signIn(browser, url);
    return callback.searchParams.get('error');
  }

  it('no client but a registration client may obtain the dcr scope (invalid_scope)', async () => {
    const instance = await newInstance();
    assert.equal(await authorizationError(instance, { scope: 'openid dcr' }), 'invalid_scope');
    assert.equal(await authorizationError(instance, { scope: 'dcr' }), 'invalid_scope');
  });

  it('no client but a registration client may target the registration endpoint (invalid_target)', async () => {
    const instance = await newInstance();
    const resource = new URL('/reg', server.issuer).href;
    assert.equal(
      await authorizationError(instance, { scope: 'openid', resource }),
      'invalid_target',
    );
  });

  it('a registration client may obtain only the dcr scope', async () => {
    assert.equal(await authorizationError(reg, { scope: 'openid dcr' }), 'invalid_scope');
  });

  it('an access token without the dcr scope and audience is refused', async () => {
    const instance = await newInstance();
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(instance, {
      redirect_uri: APP_REDIRECT_URI,
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      nonce: 'n-0S6_WzA2Mj',
    });
    const { callback } = await signIn(browser, url);
    const tokens = await oidc.authorizationCodeGrant(instance, callback, {
      pkceCodeVerifier: verifier,
      expectedNonce: 'n-0S6_WzA2Mj',
    });
    // Counted after the sign-in: the instance's first token made its record permanent (a write).
    const written = store.clientWrites;
    await assertRefused(
      await register(server.issuer, `Bearer ${tokens.access_token}`),
      /not a DCR token/,
    );
    assert.equal(store.clientWrites, written);
  });

  it('a DCR token is single-use by default, and parallel registrations create exactly one client', async () => {
    const token = await dcrToken();
    const written = store.clientWrites;
    const results = await Promise.all(
      Array.from({ length: 20 }, () => register(server.issuer, `Bearer ${token}`)),
    );
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [201, ...Array(19).fill(401)]);
    assert.equal(store.clientWrites, written + 1);
    await assertRefused(await register(server.issuer, `Bearer ${token}`), /used up/);
  });

  it('the one-request initial access token the gate swaps in never reaches the store', async () => {
    const res = await register(server.issuer, `Bearer ${await dcrToken()}`);
    assert.equal(res.status, 201);
    assert.ok(store.modelsOpened.has('Client'), 'the control: the client was stored');
    assert.ok(!store.modelsOpened.has('InitialAccessToken'));
  });

  it('a registration that fails gives its use back', async () => {
    const token = await dcrToken();
    const written = store.clientWrites;
    const bad = await register(server.issuer, `Bearer ${token}`, {
      redirect_uris: ['http://evil.example/cb'],
    });
    assert.equal(bad.status, 400);
    assert.equal((await json(bad)).error, 'invalid_redirect_uri');
    assert.equal(store.clientWrites, written);
    const good = await register(server.issuer, `Bearer ${token}`);
    assert.equal(good.status, 201);
  });

  it('a registration that fails after the client is stored leaves no client behind', async () => {
    const token = await dcrToken();
    const written = store.clientWrites;
    store.failingWrites.add('RegistrationAccessToken');
    try {
      const failed = await register(server.issuer, `Bearer ${token}`);
      assert.equal(failed.status, 503);
      assert.equal((await json(failed)).error, 'temporarily_unavailable');
    } finally {
      store.failingWrites.delete('RegistrationAccessToken');
    }
    assert.equal(store.clientWrites, written + 1, 'oidc-provider stored the client first');
    const orphan = store.clientIds.at(-1) as string;
    assert.equal(await store.adapter('Client').find(orphan), undefined, 'and the gate removed it');
    const retried = await register(server.issuer, `Bearer ${token}`);
    assert.equal(retried.status, 201, 'the use was given back');
  });

  it('the DCR token cannot be sent in the query string or the body instead', async () => {
    const token = await dcrToken();
    const written = store.clientWrites;
    const res = await fetch(new URL(`/reg?access_token=${token}`, server.issuer), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(METADATA),
    });
    assert.equal(res.status, 401);
    assert.equal(store.clientWrites, written);
  });
});

describe('DCR token settings', () => {
  it('maxUses lets one token register that many clients, and no more', async () => {
    const store = new ClientCountingStore();
    const server = await startExample((o) => ({
      ...o,
      store,
      registration: { ...o.registration, dcrToken: { maxUses: 3 } },
    }));
    try {
      const browser = new SignInBrowser();
      const { tokens } = await obtainDcrToken(await registrationClient(server.issuer), browser);
      const results = await Promise.all(
        Array.from({ length: 10 }, () => register(server.issuer, `Bearer ${tokens.access_token}`)),
      );
      assert.equal(results.filter((r) => r.status === 201).length, 3);
      assert.equal(store.clientWrites, 3);
    } finally {
      await server.close();
      await store.close();
    }
  });

  it('an expired DCR token is refused', async (t) => {
    const store = new ClientCountingStore({ now: dateNow });
    const server = await startExample((o) => ({
      ...o,
      store,
      registration: { ...o.registration, dcrToken: { ttl: 1 } },
    }));
    try {
      const browser = new SignInBrowser();
      const { tokens } = await obtainDcrToken(await registrationClient(server.issuer), browser);
      assert.equal(tokens.expires_in, 1);
      stopDate(t)(2100);
      await assertRefused(
        await register(server.issuer, `Bearer ${tokens.access_token}`),
        /unknown, expired or revoked/,
      );
      assert.equal(store.clientWrites, 0);
    } finally {
      await server.close();
      await store.close();
    }
  });
});
