// Browserless first-party sign-in against the example server (`npm start`) as its own process
// (issue #29's done-when): the app, with fetch only, signs demouser in through the Authorization
// Challenge Endpoint from a provisioned-key fallback install — with the password, a passkey, and
// the id_token of its native "Sign in with Google" (a real oidc-provider on loopback stands in
// for Google, set up from GOOGLE_* as for any deployment) — exchanges the code with its PKCE
// verifier and refreshes; a shared-secret fallback install (cal none) and a user-registered
// install (a template without firstParty) are refused.
import assert from 'node:assert/strict';
import type { webcrypto } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair } from 'jose';
import * as oidc from 'openid-client';
import { Browser } from '../helpers/browser.js';
import { registrationClient } from '../helpers/example.js';
import {
  type Answer,
  challengeOf,
  type Install,
  type Json,
  postAs,
  registerFallbackInstall,
  verifier,
} from '../helpers/first-party.js';
import {
  APP_SOFTWARE_ID,
  FALLBACK_CLIENT_ID,
  FALLBACK_CLIENT_SECRET,
  FALLBACK_PKI_CLIENT_ID,
} from '../helpers/fixture.js';
import { json } from '../helpers/json.js';
import { linkAccount } from '../helpers/linking.js';
import { enrolledAuthenticator } from '../helpers/passkeys.js';
import { postRegistration } from '../helpers/registration.js';
import { freshDcrToken, obtainDcrToken } from '../helpers/sign-in.js';
import { type SpawnedExample, spawnExample } from '../helpers/spawn.js';
import { callbackClient, startUpstreamIdp, type UpstreamIdp } from '../helpers/upstream-idp.js';

// The app's Google client id (the audience of its native id_tokens) and the server's secret for
// the browser flow, which the linked accounts page uses.
const GOOGLE_CLIENT_ID = 'android.apps.googleusercontent.example';
const GOOGLE_CLIENT_SECRET = 'example-google-secret-for-the-first-party-test';

describe('first-party sign-in with the example server', { timeout: 120_000 }, () => {
  let server: SpawnedExample;
  let issuer: string;
  let pkiKey: webcrypto.CryptoKey;
  let google: UpstreamIdp;

  before(async () => {
    google = await startUpstreamIdp({ quirks: 'google' });
    // A provisioned-key fallback install, as docs/example-server.md makes one: the fallback
    // client's public JWKS in FALLBACK_CLIENT_JWKS, its private key on the "device".
    const keys = await generateKeyPair('ES256');
    pkiKey = keys.privateKey;
    const jwks = { keys: [{ ...(await exportJWK(keys.publicKey)), alg: 'ES256' }] };
    server = await spawnExample('examples/server/main.ts', {
      FALLBACK_CLIENT_JWKS: JSON.stringify(jwks),
      LOG_LEVEL: 'silent',
      GOOGLE_CLIENT_IDS: GOOGLE_CLIENT_ID,
      GOOGLE_ISSUER: google.issuer,
      GOOGLE_CLIENT_SECRET,
      // A developer's shell may set these; the test needs Google alone, for any domain.
      GOOGLE_HOSTED_DOMAIN: '',
      APPLE_BUNDLE_IDS: '',
    });
    issuer = `http://localhost:${server.port}`;
    google.setClients([callbackClient(issuer, 'google', GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET)]);
  });
  after(async () => {
    await server?.stop();
    await google?.close();
  });

  /** A POST of a form as `install` (client_secret_basic), answered as JSON. */
  const post = (path: string, install: Install, body: Record<string, string>) =>
    postAs(`${issuer}${path}`, install, body);
  const challenge = (install: Install, body: Record<string, string>) =>
    post('/authorize-challenge', install, body);

  /** Registers a fallback-template install with the DCR token of the fallback client `auth`. */
  const fallbackInstall = (clientId: string, auth: oidc.ClientAuth) =>
    registerFallbackInstall(issuer, clientId, auth);

  const provisionedInstall = async () => {
    const registered = await fallbackInstall(FALLBACK_PKI_CLIENT_ID, oidc.PrivateKeyJwt(pkiKey));
    assert.equal(registered.cal, 'by-provisioned-key');
    return registered as unknown as Install;
  };

  /** The first step: the request's parameters, no credential. */
  const start = (install: Install, v: string) =>
    challenge(install, {
      scope: 'openid offline_access',
      code_challenge: challengeOf(v),
      code_challenge_method: 'S256',
    });

  /** The claims of an ID token this server just issued (read, not verified: not under test). */
  const claimsOf = (idToken: unknown) =>
    JSON.parse(Buffer.from(String(idToken).split('.')[1] ?? '', 'base64url').toString()) as Json;

  /**
   * The app's native "Sign in with Google" as `sub` (with the server's nonce), its id_token
   * posted to the Authorization Challenge Endpoint, the code exchanged: the token response.
   */
  async function googleSignIn(install: Install, sub: string, claims: Json = {}) {
    const nonce = await fetch(`${issuer}/federation/nonce`, { method: 'POST' });
    assert.equal(nonce.status, 200);
    const idToken = await google.mintIdToken({
      sub,
      aud: GOOGLE_CLIENT_ID,
      nonce: (await json(nonce)).nonce as string,
      claims,
    });
    const v = verifier();
    const started = await start(install, v);
    const done = await challenge(install, {
      auth_session: started.body.auth_session as string,
      id_token: idToken,
    });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    const tokens = await post('/token', install, {
      grant_type: 'authorization_code',
      code: done.body.authorization_code as string,
      code_verifier: v,
    });
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    return tokens.body;
  }

  it('discovery advertises the Authorization Challenge Endpoint', async () => {
    const res = await fetch(`${issuer}/.well-known/openid-configuration`);
    const metadata = (await res.json()) as Json;
    assert.equal(metadata.authorization_challenge_endpoint, `${issuer}/authorize-challenge`);
  });

  it('a provisioned-key install signs demouser in with a password, exchanges the code and refreshes', async () => {
    const install = await provisionedInstall();
    const v = verifier();

    const started = await start(install, v);
    assert.equal(started.status, 400, JSON.stringify(started.body));
    assert.equal(started.body.error, 'insufficient_authorization');
    assert.deepEqual(started.body.required, ['username', 'password']);
    // The example server takes passkeys, and native id_tokens from the Google it is set up with.
    assert.deepEqual(started.body.alternatives, [['id_token'], ['method']]);

    const signedIn = await challenge(install, {
      auth_session: started.body.auth_session as string,
      username: 'demouser',
      password: 'Password1',
    });
    assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
    const code = signedIn.body.authorization_code as string;
    assert.ok(code);

    const tokens = await post('/token', install, {
      grant_type: 'authorization_code',
      code,
      code_verifier: v,
    });
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    assert.ok(tokens.body.access_token);
    assert.ok(tokens.body.id_token);
    const refreshToken = tokens.body.refresh_token as string;
    assert.ok(refreshToken);

    const userinfo = await fetch(`${issuer}/me`, {
      headers: { authorization: `Bearer ${tokens.body.access_token}` },
    });
    assert.equal(userinfo.status, 200);
    assert.equal(((await userinfo.json()) as Json).sub, 'demouser');

    const refreshed = await post('/token', install, {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
    });
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    assert.ok(refreshed.body.access_token);
    // Rotated: once its successor is used, the old refresh token is a replay.
    const successor = refreshed.body.refresh_token as string;
    assert.notEqual(successor, refreshToken);
    const again = await post('/token', install, {
      grant_type: 'refresh_token',
      refresh_token: successor,
    });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    const replayed = await post('/token', install, {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
    });
    assert.equal(replayed.body.error, 'invalid_grant');
  });

  it('control: the code is refused without the PKCE verifier it was started with', async () => {
    const install = await provisionedInstall();
    const v = verifier();
    const started = await start(install, v);
    const signedIn = await challenge(install, {
      auth_session: started.body.auth_session as string,
      username: 'demouser',
      password: 'Password1',
    });
    assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
    const tokens = await post('/token', install, {
      grant_type: 'authorization_code',
      code: signedIn.body.authorization_code as string,
      code_verifier: verifier(),
    });
    assert.equal(tokens.status, 400);
    assert.equal(tokens.body.error, 'invalid_grant');
  });

  /** Asserts that `answer` refused with `error` and issued nothing: no code, no auth_session. */
  function assertRefused(answer: Answer, error: string) {
    assert.equal(answer.status, 400, JSON.stringify(answer.body));
    assert.equal(answer.body.error, error);
    assert.equal(answer.body.authorization_code, undefined);
    assert.equal(answer.body.auth_session, undefined);
  }

  it('a wrong password is access_denied, with no code', async () => {
    const install = await provisionedInstall();
    const started = await start(install, verifier());
    const refused = await challenge(install, {
      auth_session: started.body.auth_session as string,
      username: 'demouser',
      password: 'not-the-password',
    });
    assertRefused(refused, 'access_denied');
  });

  // Installs refused whatever they send: at the first step, and with credentials at once.
  const refusedInstalls: Array<[string, () => Promise<Install>]> = [
    [
      'a shared-secret fallback install (cal none) is refused with unauthorized_client',
      async () => {
        const registered = await fallbackInstall(
          FALLBACK_CLIENT_ID,
          oidc.ClientSecretBasic(FALLBACK_CLIENT_SECRET),
        );
        assert.equal(registered.cal, 'none');
        return registered as unknown as Install;
      },
    ],
    [
      'a user-registered install (a template without firstParty) is refused with unauthorized_client',
      async () => {
        const registered = await postRegistration(
          issuer,
          { software_id: APP_SOFTWARE_ID, software_version: '1.2.0' },
          await freshDcrToken(issuer),
        );
        assert.equal(registered.status, 201, JSON.stringify(registered.body));
        return registered.body as unknown as Install;
      },
    ],
  ];
  for (const [name, refusedInstall] of refusedInstalls) {
    it(name, async () => {
      const install = await refusedInstall();
      const v = verifier();
      assertRefused(await start(install, v), 'unauthorized_client');
      const direct = await challenge(install, {
        scope: 'openid',
        code_challenge: challengeOf(v),
        code_challenge_method: 'S256',
        username: 'demouser',
        password: 'Password1',
      });
      assertRefused(direct, 'unauthorized_client');
    });
  }

  it('a provisioned-key install signs demouser in with a passkey, exchanges the code and refreshes', async () => {
    // The passkey is enrolled on the account page (in a browser, once); the sign-in is fetch only.
    const authenticator = await enrolledAuthenticator(issuer);

    const install = await provisionedInstall();
    const v = verifier();
    const started = await start(install, v);
    const asked = await challenge(install, {
      auth_session: started.body.auth_session as string,
      method: 'passkey',
    });
    assert.equal(asked.status, 400, JSON.stringify(asked.body));
    assert.deepEqual(asked.body.required, ['passkey_assertion']);
    const options = asked.body.passkey_options as Record<string, unknown>;
    assert.equal(options.rpId, 'localhost');

    const done = await challenge(install, {
      auth_session: asked.body.auth_session as string,
      passkey_assertion: JSON.stringify(authenticator.get(options)),
    });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    const tokens = await post('/token', install, {
      grant_type: 'authorization_code',
      code: done.body.authorization_code as string,
      code_verifier: v,
    });
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    assert.equal(claimsOf(tokens.body.id_token).sub, 'demouser');
    const refreshed = await post('/token', install, {
      grant_type: 'refresh_token',
      refresh_token: tokens.body.refresh_token as string,
    });
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    assert.equal(claimsOf(refreshed.body.id_token).sub, 'demouser');
  });

  it('a provisioned-key install signs demouser in with a native Google id_token, exchanges the code and refreshes', async () => {
    // The example's accounts link a Google identity to an existing account only on the linked
    // accounts page, after a fresh sign-in (never by email): demouser does that once, in a browser.
    const browser = new Browser();
    await obtainDcrToken(await registrationClient(issuer), browser, {
      username: 'demouser',
      password: 'Password1',
    });
    await linkAccount(browser, issuer, google, 'g-demouser-phone');

    // The app, without a browser from here on.
    const install = await provisionedInstall();
    const tokens = await googleSignIn(install, 'g-demouser-phone');
    assert.equal(
      claimsOf(tokens.id_token).sub,
      'demouser',
      "the linked identity signs in to demouser's account",
    );
    const refreshed = await post('/token', install, {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token as string,
    });
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    assert.ok(refreshed.body.access_token);

    // demouser's device page lists the install, "signed in with the app" with Google.
    const page = await browser.request(`${issuer}/account/devices`, {
      headers: { 'accept-language': 'en' },
    });
    const item = (await page.text())
      .split('<li>')
      .find((li) => li.includes(`/account/devices/${install.client_id}/revoke`));
    assert.match(item ?? '', /Signed in with the app <time[^>]*>[^<]+<\/time>, with Google<\/p>/);
  });

  it("control: a Google identity nobody linked, with demouser's verified email, signs up an account of its own", async () => {
    const install = await provisionedInstall();
    const tokens = await googleSignIn(install, 'g-stranger', {
      email: 'demouser@example.com',
      email_verified: true,
    });
    const { sub } = claimsOf(tokens.id_token);
    assert.ok(sub !== 'demouser' && sub !== 'otheruser', `a new account, not ${String(sub)}`);
  });
});
