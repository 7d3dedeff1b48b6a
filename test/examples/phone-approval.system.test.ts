// Phone approval against the example server (`npm start`) as its own process (issue #30's
// done-when, first part): with WEB_PORTAL_SECRET set, the static web client `web-portal` starts
// CIBA for demouser; demouser's provisioned-key install (registered with a key of its own) lists
// the request, approves it with its key, and the web client gets demouser's tokens. Second part:
// the sign-in page's "Approve on your phone" signs demouser into the app the same way.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair } from 'jose';
import * as oidc from 'openid-client';
import { APP_REDIRECT_URI, insecure, resourceServer } from '../helpers/example.js';
import { challengeOf, type Install, type Json, verifier } from '../helpers/first-party.js';
import {
  FALLBACK_PKI_CLIENT_ID,
  FALLBACK_SOFTWARE_ID,
  RESOURCE_SERVER_SECRET,
} from '../helpers/fixture.js';
import { signAnswer } from '../helpers/phone-approval.js';
import { continueToApp, continueUrl, loginPage, toApp, waiting } from '../helpers/phone-page.js';
import { postRegistration } from '../helpers/registration.js';
import { registerInstance } from '../helpers/sign-in.js';
import { type SpawnedExample, spawnExample } from '../helpers/spawn.js';

const WEB_SECRET = 'web-portal-secret-for-the-example-0123456789';
const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

describe('phone approval with the example server', { timeout: 120_000 }, () => {
  let server: SpawnedExample;
  let issuer: string;

  before(async () => {
    const pki = await generateKeyPair('ES256');
    server = await spawnExample('examples/server/main.ts', {
      FALLBACK_CLIENT_JWKS: JSON.stringify({
        keys: [{ ...(await exportJWK(pki.publicKey)), alg: 'ES256' }],
      }),
      WEB_PORTAL_SECRET: WEB_SECRET,
      RESOURCE_SERVER_SECRET,
      LOG_LEVEL: 'silent',
    });
    issuer = `http://localhost:${server.port}`;
    installKey = await generateKeyPair('ES256');
    const config = await oidc.discovery(
      new URL(issuer),
      FALLBACK_PKI_CLIENT_ID,
      undefined,
      oidc.PrivateKeyJwt(pki.privateKey),
      insecure,
    );
    const dcr = await oidc.clientCredentialsGrant(config, { scope: 'dcr' });
    const registered = await postRegistration(
      issuer,
      {
        software_id: FALLBACK_SOFTWARE_ID,
        jwks: { keys: [{ ...(await exportJWK(installKey.publicKey)), alg: 'ES256' }] },
      },
      dcr.access_token,
    );
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    install = registered.body as unknown as Install;
    // The install is demouser's once demouser signed in through it (first-party, no browser).
    const signedIn = await post(
      '/authorize-challenge',
      basic(install.client_id, install.client_secret),
      {
        scope: 'openid',
        code_challenge: challengeOf(verifier()),
        code_challenge_method: 'S256',
        username: 'demouser',
        password: 'Password1',
      },
    );
    assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
  });
  after(async () => {
    await server?.stop();
  });

  let install: Install;
  let installKey: Awaited<ReturnType<typeof generateKeyPair>>;

  async function post(path: string, authorization: string, body: Record<string, string>) {
    const res = await fetch(`${issuer}${path}`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(body),
    });
    return { status: res.status, body: (await res.json()) as Json };
  }

  /** The install's pending approval whose binding message is `binding`, answered `decision`. */
  async function answerPending(binding: string, decision: 'approve' | 'deny') {
    const asInstall = basic(install.client_id, install.client_secret);
    const listed = await post('/approvals', asInstall, {});
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    const found = (listed.body.approvals as Json[]).filter((a) => a.binding_message === binding);
    assert.equal(found.length, 1, JSON.stringify(listed.body));
    const approval = found[0] as Json;
    const answer = await signAnswer(installKey.privateKey, {
      approval_id: approval.approval_id,
      binding_message: approval.binding_message,
      challenge: approval.challenge,
      decision,
    });
    const answered = await post(`/approvals/${approval.approval_id}`, asInstall, { answer });
    assert.equal(answered.status, 200, JSON.stringify(answered.body));
    return approval;
  }

  it('the web portal starts CIBA for demouser, the install approves, the portal gets tokens', async () => {
    const web = basic('web-portal', WEB_SECRET);
    const started = await post('/backchannel', web, {
      scope: 'openid profile',
      login_hint: 'demouser',
      binding_message: 'EXAMPLE-1',
    });
    assert.equal(started.status, 200, JSON.stringify(started.body));
    const approval = await answerPending('EXAMPLE-1', 'approve');
    assert.equal(approval.client_name, 'Web Portal');

    const tokens = await post('/token', web, {
      grant_type: 'urn:openid:params:grant-type:ciba',
      auth_req_id: started.body.auth_req_id as string,
    });
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    const userinfo = await fetch(`${issuer}/me`, {
      headers: { authorization: `Bearer ${tokens.body.access_token}` },
    });
    assert.equal(((await userinfo.json()) as Json).sub, 'demouser');
  });

  it('the sign-in page\'s "Approve on your phone" signs demouser into the app with acr urn:mobile-oidc:phone', async () => {
    const page = await loginPage(issuer);
    assert.match(page.html, /Approve on your phone/);
    const shown = await waiting(page, 'demouser');
    assert.match(shown.binding, /^\d{4}$/);
    // A page sign-in is listed like a CIBA one: the app's name, the 4-digit code the page shows,
    // and the scope it asked for (not the web portal's).
    const listed = await answerPending(shown.binding, 'approve');
    assert.equal(listed.client_name, 'Example App');
    assert.equal(listed.scope, 'dcr');

    const callback = await continueToApp(page);
    const tokens = await oidc.authorizationCodeGrant(page.client, callback, {
      pkceCodeVerifier: page.verifier,
    });
    const introspected = await oidc.tokenIntrospection(
      await resourceServer(issuer),
      tokens.access_token,
    );
    assert.equal(introspected.active, true);
    assert.equal(introspected.sub, 'demouser');
    // The app registered with that DCR token signs in silently on this browser (SSO), its ID
    // token naming demouser and the phone's acr.
    const app = await registerInstance(issuer, tokens.access_token);
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const nonce = oidc.randomNonce();
    const appCallback = await toApp(
      page.browser,
      await page.browser.get(
        oidc.buildAuthorizationUrl(app, {
          redirect_uri: APP_REDIRECT_URI,
          scope: 'openid',
          acr_values: 'urn:mobile-oidc:phone',
          nonce,
          code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
          code_challenge_method: 'S256',
        }),
      ),
    );
    const appTokens = await oidc.authorizationCodeGrant(app, appCallback, {
      pkceCodeVerifier: codeVerifier,
      expectedNonce: nonce,
    });
    assert.equal(appTokens.claims()?.sub, 'demouser');
    assert.equal(appTokens.claims()?.acr, 'urn:mobile-oidc:phone');
  });

  it('control: denied on the phone, the page is the login page again and no code is issued', async () => {
    const page = await loginPage(issuer);
    const shown = await waiting(page, 'demouser');
    await answerPending(shown.binding, 'deny');
    const denied = await page.browser.get(continueUrl(page));
    const html = await denied.text();
    assert.equal(denied.status, 401);
    assert.equal(denied.headers.get('location'), null);
    assert.match(html, /declined on your phone/);
    assert.match(html, /Approve on your phone/);
    assert.match(html, /type="password"/);
  });
});
