// Phone approval across server processes (issue #30): two processes serve one issuer on one Redis
// (started for this file). The web client starts the request at A, the install lists and approves
// it at B, and the web client gets its tokens at A; the same answer replayed at A is refused,
// since the approval's single use is the store's atomic consume, seen by every process. The
// sign-in page's "Approve on your phone" likewise: the page starts at A, the install approves at B,
// the browser continues at B; a second continue (at A) after that gives no second code, and two
// continues at once (at A and at B) give one code, the page answer being taken atomically.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type CryptoKey, exportJWK, generateKeyPair } from 'jose';
import * as oidc from 'openid-client';
import { APP_REDIRECT_URI, insecure, resourceServer } from '../helpers/example.js';
import { challengeOf, type Json, verifier } from '../helpers/first-party.js';
import {
  FALLBACK_PKI_CLIENT_ID,
  FALLBACK_SOFTWARE_ID,
  RESOURCE_SERVER_SECRET,
} from '../helpers/fixture.js';
import { signAnswer } from '../helpers/phone-approval.js';
import {
  continueToApp,
  continueUrl,
  loginPage,
  statusOf,
  toApp,
  waiting,
} from '../helpers/phone-page.js';
import { type OwnRedis, startOwnRedis } from '../helpers/redis-server.js';
import { postRegistration } from '../helpers/registration.js';
import { type SpawnedExample, spawnTwoServingOneIssuer } from '../helpers/spawn.js';

const WEB_SECRET = 'web-portal-secret-for-two-processes-0123456789';
const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

describe('phone approval across two processes sharing one Redis', { timeout: 120_000 }, () => {
  const processes: SpawnedExample[] = [];
  let redis: OwnRedis;
  let urls: [string, string];
  let issuer: string;
  let install: { client_id: string; client_secret: string };
  let key: CryptoKey;

  before(async () => {
    redis = await startOwnRedis();
    const pki = await generateKeyPair('ES256');
    const pkiJwks = { keys: [{ ...(await exportJWK(pki.publicKey)), alg: 'ES256' }] };
    // One deployment: the same signing and cookie keys, so a browser's cookies work on both.
    const signing = await generateKeyPair('RS256', { extractable: true });
    const jwk = {
      ...(await exportJWK(signing.privateKey)),
      kid: 'shared',
      alg: 'RS256',
      use: 'sig',
    };
    const started = await spawnTwoServingOneIssuer('test/helpers/server-process.ts', {
      NODE_ENV: 'test',
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: `phone-approval-processes:${randomBytes(6).toString('hex')}:`,
      FIRST_PARTY_JWKS: JSON.stringify(pkiJwks),
      PHONE_APPROVAL_SECRET: WEB_SECRET,
      JWKS: JSON.stringify({ keys: [jwk] }),
      COOKIE_KEYS: randomBytes(32).toString('base64url'),
      RESOURCE_SERVER_SECRET,
    });
    issuer = started.issuer;
    processes.push(...started.processes);
    const [a, b] = started.processes;
    urls = [`http://127.0.0.1:${a.port}`, `http://127.0.0.1:${b.port}`];
    // The install registers at A with the fallback client's provisioned key, and its own key.
    const config = await oidc.discovery(
      new URL(started.issuer),
      FALLBACK_PKI_CLIENT_ID,
      undefined,
      oidc.PrivateKeyJwt(pki.privateKey),
      insecure,
    );
    const dcr = await oidc.clientCredentialsGrant(config, { scope: 'dcr' });
    const own = await generateKeyPair('ES256');
    key = own.privateKey;
    const registered = await postRegistration(
      started.issuer,
      {
        software_id: FALLBACK_SOFTWARE_ID,
        jwks: { keys: [{ ...(await exportJWK(own.publicKey)), alg: 'ES256' }] },
      },
      dcr.access_token,
    );
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    install = registered.body as unknown as typeof install;
    // It belongs to demouser once demouser signs in through it (at B).
    const signedIn = await post(urls[1], '/authorize-challenge', asInstall(), {
      scope: 'openid',
      code_challenge: challengeOf(verifier()),
      code_challenge_method: 'S256',
      username: 'demouser',
      password: 'Password1',
    });
    assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
  });
  after(async () => {
    await Promise.all(processes.map((process_) => process_.stop()));
    await redis?.destroy();
  });

  const asInstall = () => basic(install.client_id, install.client_secret);
  async function post(
    base: string,
    path: string,
    authorization: string,
    body: Record<string, string>,
  ) {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(body),
    });
    return { status: res.status, body: (await res.json()) as Json };
  }

  it('started at A, approved at B, tokens at A; the answer replayed at A is refused', async () => {
    const [a, b] = urls;
    const web = basic('web-portal', WEB_SECRET);
    const started = await post(a, '/backchannel', web, {
      scope: 'openid',
      login_hint: 'demouser',
      binding_message: 'TWO-1',
    });
    assert.equal(started.status, 200, JSON.stringify(started.body));
    const listed = await post(b, '/approvals', asInstall(), {});
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    const [approval] = listed.body.approvals as Json[];
    assert.equal(approval?.binding_message, 'TWO-1');
    const answer = await signAnswer(key, {
      approval_id: approval?.approval_id,
      binding_message: 'TWO-1',
      challenge: approval?.challenge,
      decision: 'approve',
    });
    const path = `/approvals/${approval?.approval_id}`;
    const answered = await post(b, path, asInstall(), { answer });
    assert.equal(answered.status, 200, JSON.stringify(answered.body));
    const replayed = await post(a, path, asInstall(), { answer });
    assert.equal(replayed.status, 400, JSON.stringify(replayed.body));
    const tokens = await post(a, '/token', web, {
      grant_type: 'urn:openid:params:grant-type:ciba',
      auth_req_id: started.body.auth_req_id as string,
    });
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    assert.equal(typeof tokens.body.id_token, 'string');
  });

  it('the sign-in page: started at A, approved at B, continued at B; a second continue gives no code', async () => {
    const b = urls[1];
    // The browser knows the issuer's processes by the issuer's host name, its cookies by host.
    const atB = `http://localhost:${new URL(b).port}`;
    const page = await loginPage(issuer);
    assert.equal(new URL(page.url).origin, issuer, 'the page is served by A');
    const shown = await waiting(page, 'demouser');
    const listed = await post(b, '/approvals', asInstall(), {});
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    const approval = (listed.body.approvals as Json[]).find(
      (x) => x.binding_message === shown.binding,
    );
    assert.ok(approval, JSON.stringify(listed.body));
    assert.equal(approval.client_name, 'Example App');
    // Not answered yet: both processes show it pending.
    assert.deepEqual((await statusOf(page.browser, page, atB)).body, { status: 'pending' });
    const answer = await signAnswer(key, {
      approval_id: approval.approval_id,
      binding_message: approval.binding_message,
      challenge: approval.challenge,
      decision: 'approve',
    });
    const answered = await post(b, `/approvals/${approval.approval_id}`, asInstall(), { answer });
    assert.equal(answered.status, 200, JSON.stringify(answered.body));
    assert.deepEqual((await statusOf(page.browser, page)).body, { status: 'done' });

    const callback = await continueToApp(page, atB);
    const tokens = await oidc.authorizationCodeGrant(page.client, callback, {
      pkceCodeVerifier: page.verifier,
    });
    const introspected = await oidc.tokenIntrospection(
      await resourceServer(issuer),
      tokens.access_token,
    );
    assert.equal(introspected.sub, 'demouser');

    // Attack: the browser continues once more, at A: the answer was taken once, no second code.
    const again = await page.browser.follow(await page.browser.get(continueUrl(page)), {
      callbackPrefix: APP_REDIRECT_URI,
    });
    assert.equal(again.response.status, 400);
    assert.equal(again.location, undefined);
  });

  it('two continues at once, at A and at B, after one approval: one code, not two', async () => {
    const atB = `http://localhost:${new URL(urls[1]).port}`;
    const page = await loginPage(issuer);
    const shown = await waiting(page, 'demouser');
    const listed = await post(urls[1], '/approvals', asInstall(), {});
    const approval = (listed.body.approvals as Json[]).find(
      (x) => x.binding_message === shown.binding,
    );
    assert.ok(approval, JSON.stringify(listed.body));
    const answer = await signAnswer(key, {
      approval_id: approval.approval_id,
      binding_message: approval.binding_message,
      challenge: approval.challenge,
      decision: 'approve',
    });
    const answered = await post(urls[0], `/approvals/${approval.approval_id}`, asInstall(), {
      answer,
    });
    assert.equal(answered.status, 200, JSON.stringify(answered.body));
    const both = await Promise.all(
      [undefined, atB].map(async (base) =>
        page.browser.follow(await page.browser.get(continueUrl(page, base)), {
          callbackPrefix: APP_REDIRECT_URI,
        }),
      ),
    );
    // One takes the answer and goes on (to consent); the other, with nothing left to take, gets
    // by timing the waiting page (answer taken, page not yet forgotten), the login page (401) or,
    // once the interaction is gone, the error page (400): never a code.
    const onward = both.filter((f) => !new URL(f.url).pathname.endsWith('/phone'));
    assert.equal(onward.length, 1, JSON.stringify(both.map((f) => [f.response.status, f.url])));
    const [winner] = onward;
    const [loser] = both.filter((f) => f !== winner);
    assert.ok(winner && loser);
    assert.equal(loser.location, undefined);
    const loserHtml = await loser.response.text();
    const seen = `${loser.response.status} ${loserHtml.replace(/<(style|script)[\s\S]*?<\/\1>/g, '')}`;
    assert.ok([200, 400, 401].includes(loser.response.status), seen);
    if (loser.response.status === 200) assert.match(loserHtml, /Waiting for your phone/);
    if (loser.response.status === 401) assert.match(loserHtml, /type="password"/);
    const callback = await toApp(page.browser, winner.response);
    assert.ok(callback.searchParams.get('code'));
    // The loser's page continued again after the sign-in finished: nothing to finish.
    const late = await page.browser.get(continueUrl(page, atB));
    assert.equal(late.status, 400);
    assert.equal(late.headers.get('location'), null);
  });
});
