// The example server with "Sign in with Google / Apple" turned on from its environment, started
// as `npm start` starts it, the upstreams being real oidc-providers on loopback: the app exchanges
// their id_tokens, and someone new signs up (#25): an account of their own, never a demo user's
// by email. In process, the same options show which account each sign-in reached, and a demo
// user who signed in moments ago links a Google account on the link page.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type AuthServer, type AuthServerOptions, createAuthServer } from 'mobile-oidc-provider';
import * as oidc from 'openid-client';
import { exampleOptions } from '../../examples/server/app.js';
import { Browser, formOf, formsOf } from '../helpers/browser.js';
import { registrationClient } from '../helpers/example.js';
import { json } from '../helpers/json.js';
import { type Listening, listen } from '../helpers/listen.js';
import { postRegistration } from '../helpers/registration.js';
import { dcrAuthorizationUrl, obtainDcrToken, registerInstance } from '../helpers/sign-in.js';
import { type SpawnedExample, spawnEarly, spawnExample } from '../helpers/spawn.js';
import { callbackClient, startUpstreamIdp, type UpstreamIdp } from '../helpers/upstream-idp.js';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';
const GOOGLE_CLIENT_IDS = [
  'ios.apps.googleusercontent.example',
  'web.apps.googleusercontent.example',
];
const APPLE_BUNDLE_ID = 'io.example.app';

const sha256hex = (value: string) => createHash('sha256').update(value).digest('hex');

// A developer's shell may set these; the tests need them unset.
const UNSET = {
  GOOGLE_CLIENT_SECRET: '',
  GOOGLE_HOSTED_DOMAIN: '',
  APPLE_SERVICES_ID: '',
  APPLE_TEAM_ID: '',
  APPLE_KEY_ID: '',
  APPLE_PRIVATE_KEY_FILE: '',
};

// Started now, beside the first suite's server: it only has to show federation off.
const withoutFederation = spawnEarly('examples/server/main.ts', {
  ...UNSET,
  GOOGLE_CLIENT_IDS: '',
  APPLE_BUNDLE_IDS: '',
});

describe('the example server with federation from its environment', { timeout: 120_000 }, () => {
  let google: UpstreamIdp;
  let apple: UpstreamIdp;
  let example: SpawnedExample;
  let issuer: string;
  let reg: oidc.Configuration;

  before(async () => {
    [google, apple] = await Promise.all([
      startUpstreamIdp({ quirks: 'google' }),
      startUpstreamIdp({ quirks: 'apple' }),
    ]);
    example = await spawnExample('examples/server/main.ts', {
      ...UNSET,
      GOOGLE_CLIENT_IDS: GOOGLE_CLIENT_IDS.join(','),
      GOOGLE_ISSUER: google.issuer,
      APPLE_BUNDLE_IDS: APPLE_BUNDLE_ID,
      APPLE_ISSUER: apple.issuer,
    });
    issuer = `http://localhost:${example.port}`;
    reg = await registrationClient(issuer);
  });
  after(async () => {
    await example?.stop();
    await Promise.all([google, apple].map((idp) => idp?.close()));
  });

  async function freshNonce(): Promise<string> {
    const endpoint = reg.serverMetadata().native_sign_in_nonce_endpoint as string;
    const res = await fetch(endpoint, { method: 'POST' });
    assert.equal(res.status, 200);
    return (await json(res)).nonce as string;
  }

  function exchange(subjectToken: string) {
    return oidc.genericGrantRequest(reg, TOKEN_EXCHANGE, {
      subject_token: subjectToken,
      subject_token_type: ID_TOKEN_TYPE,
    });
  }

  /** Registers an install of the example app with the DCR token; resolves the HTTP status. */
  async function registerWith(dcrToken: string): Promise<number> {
    const registered = await postRegistration(
      issuer,
      { software_id: 'io.example.app', software_version: '1.0.0' },
      dcrToken,
    );
    return registered.status;
  }

  it('announces the providers and advertises the nonce endpoint in discovery', () => {
    assert.match(example.output(), /federation: google \(native\), apple \(native\)/);
    const metadata = reg.serverMetadata() as Record<string, unknown>;
    assert.equal(metadata.native_sign_in_nonce_endpoint, `${issuer}/federation/nonce`);
    assert.ok((metadata.grant_types_supported as string[]).includes(TOKEN_EXCHANGE));
  });

  it("a new Google user with a demo user's verified email signs up: a DCR token that registers", async () => {
    const subjectToken = await google.mintIdToken({
      sub: 'google-demo',
      // The second client id: every one listed is an accepted audience.
      aud: GOOGLE_CLIENT_IDS[1] as string,
      nonce: await freshNonce(),
      claims: { email: 'demouser@example.com', email_verified: true },
    });
    const tokens = await exchange(subjectToken);
    assert.equal(tokens.scope, 'dcr');
    assert.equal(await registerWith(tokens.access_token), 201);

    // Linked to the new account now: the same Google user signs in again without an email.
    const again = await google.mintIdToken({
      sub: 'google-demo',
      aud: GOOGLE_CLIENT_IDS[0] as string,
      nonce: await freshNonce(),
      claims: { email: undefined, email_verified: undefined },
    });
    assert.equal((await exchange(again)).scope, 'dcr');
  });

  it("an Apple id_token (the nonce's SHA-256) with a private relay email signs up the same way", async () => {
    const subjectToken = await apple.mintIdToken({
      sub: 'apple-private',
      aud: APPLE_BUNDLE_ID,
      nonce: sha256hex(await freshNonce()),
      claims: { email: 'q7x2k9p4@privaterelay.appleid.com', is_private_email: 'true' },
    });
    const tokens = await exchange(subjectToken);
    assert.equal(tokens.scope, 'dcr');
    assert.equal(await registerWith(tokens.access_token), 201);
  });

  it("an unknown identity with an unverified demo user's email signs up too: it is no demo user", async () => {
    const subjectToken = await google.mintIdToken({
      sub: 'google-stranger',
      aud: GOOGLE_CLIENT_IDS[0] as string,
      nonce: await freshNonce(),
      claims: { email: 'demouser@example.com', email_verified: false },
    });
    const tokens = await exchange(subjectToken);
    assert.equal(tokens.scope, 'dcr');
  });
});

describe('the example server without federation variables', { timeout: 60_000 }, () => {
  it('starts with federation off: no nonce endpoint, no token exchange', async () => {
    const example = await withoutFederation();
    try {
      const res = await fetch(`http://127.0.0.1:${example.port}/.well-known/openid-configuration`);
      const metadata = await json(res);
      assert.equal(metadata.native_sign_in_nonce_endpoint, undefined);
      assert.ok(!(metadata.grant_types_supported as string[]).includes(TOKEN_EXCHANGE));
      assert.match(example.output(), /federation: off/);
    } finally {
      await example.stop();
    }
  });
});

describe('the example accounts: sign-up, never by email; linking on the link page', {
  timeout: 120_000,
}, () => {
  const GOOGLE_SECRET = 'example-google-secret-for-the-system-test';
  let google: UpstreamIdp;
  let apple: UpstreamIdp;
  let http: Listening;
  let auth: AuthServer;
  let options: AuthServerOptions;
  let issuer: string;
  let reg: oidc.Configuration;

  before(async () => {
    [google, apple] = await Promise.all([
      startUpstreamIdp({ quirks: 'google' }),
      startUpstreamIdp({ quirks: 'apple' }),
    ]);
    http = await listen();
    // localhost, as the example runs: passkeys need a host name for their relying party id.
    issuer = `http://localhost:${http.port}`;
    options = await exampleOptions({
      ...UNSET,
      NODE_ENV: 'test',
      ISSUER: issuer,
      GOOGLE_CLIENT_IDS: GOOGLE_CLIENT_IDS.join(','),
      GOOGLE_ISSUER: google.issuer,
      GOOGLE_CLIENT_SECRET: GOOGLE_SECRET,
      APPLE_BUNDLE_IDS: APPLE_BUNDLE_ID,
      APPLE_ISSUER: apple.issuer,
    });
    const warn = console.warn;
    console.warn = () => {}; // development-key warnings are expected here
    try {
      auth = await createAuthServer(options);
    } finally {
      console.warn = warn;
    }
    http.handle(auth.callback());
    google.setClients([
      callbackClient(issuer, 'google', GOOGLE_CLIENT_IDS[0] as string, GOOGLE_SECRET),
    ]);
    reg = await registrationClient(issuer);
  });
  after(async () => {
    await http?.close();
    await auth?.close();
    await Promise.all([google, apple].map((idp) => idp?.close()));
  });

  /** The account a DCR token's install belongs to, and that account's claims. */
  async function accountOf(dcrToken: string) {
    const instance = await registerInstance(issuer, dcrToken);
    const accountId = (await auth.devices.get(instance.clientMetadata().client_id))?.accountId;
    assert.ok(accountId);
    return { accountId, claims: (await options.accounts.findAccount(accountId))?.claims ?? {} };
  }

  async function nativeSignIn(idp: UpstreamIdp, mint: Parameters<UpstreamIdp['mintIdToken']>[0]) {
    const endpoint = reg.serverMetadata().native_sign_in_nonce_endpoint as string;
    const nonce = (await json(await fetch(endpoint, { method: 'POST' }))).nonce as string;
    const subjectToken = await idp.mintIdToken({
      ...mint,
      nonce: idp === apple ? sha256hex(nonce) : nonce,
    });
    const tokens = await oidc.genericGrantRequest(reg, TOKEN_EXCHANGE, {
      subject_token: subjectToken,
      subject_token_type: ID_TOKEN_TYPE,
    });
    return accountOf(tokens.access_token);
  }

  /** Follows our redirects, allowing the consent page, to the app's callback or a page of ours. */
  async function atOurs(browser: Browser, response: Response) {
    let res = response;
    for (let step = 0; step < 5; step += 1) {
      const followed = await browser.follow(res);
      if (followed.location) return { callback: new URL(followed.location) };
      const html = await followed.response.text();
      const allow = formsOf(html, followed.url).find((f) => f.action.endsWith('/confirm'));
      if (!allow || followed.response.status !== 200) {
        return { page: { status: followed.response.status, html, url: followed.url } };
      }
      res = await browser.postForm(allow.action, allow.hidden);
    }
    throw new Error('too many pages');
  }

  /** "Continue with Google" on `page`, signing in at Google as `login`. */
  async function continueWithGoogle(
    browser: Browser,
    page: { html: string; url: string },
    login: string,
  ) {
    const button = formOf(page.html, page.url, '/federated/google');
    const pressed = await browser.postForm(button.action, button.hidden);
    const response = await google.authorize(browser, pressed.headers.get('location') as string, {
      login,
    });
    assert.equal(response.method, 'GET');
    return atOurs(browser, await browser.get(response.url));
  }

  async function loginPageOf(browser: Browser, verifier: string) {
    const { response, url } = await browser.follow(
      await browser.get(await dcrAuthorizationUrl(reg, verifier)),
    );
    assert.equal(response.status, 200);
    return { html: await response.text(), url };
  }

  async function dcrTokenFrom(callback: URL | undefined, verifier: string) {
    assert.ok(callback, 'the sign-in reached the app');
    const tokens = await oidc.authorizationCodeGrant(reg, callback, {
      pkceCodeVerifier: verifier,
    });
    return tokens.access_token;
  }

  it("natively, a Google user with demouser's verified email gets a new account, not demouser's", async () => {
    const first = await nativeSignIn(google, {
      sub: 'g-lookalike',
      aud: GOOGLE_CLIENT_IDS[0] as string,
      claims: { email: 'demouser@example.com', email_verified: true },
    });
    assert.notEqual(first.accountId, 'demouser');
    assert.notEqual(first.accountId, 'otheruser');
    assert.equal(first.claims.email, 'demouser@example.com', 'a verified email is kept');
    // The identity is linked to its own account now: it signs in there again.
    const again = await nativeSignIn(google, {
      sub: 'g-lookalike',
      aud: GOOGLE_CLIENT_IDS[1] as string,
    });
    assert.equal(again.accountId, first.accountId);
  });

  it("natively, an unverified email equal to demouser's: a new account, without that email", async () => {
    const account = await nativeSignIn(google, {
      sub: 'g-unverified',
      aud: GOOGLE_CLIENT_IDS[0] as string,
      claims: { email: 'demouser@example.com', email_verified: false },
    });
    assert.notEqual(account.accountId, 'demouser');
    assert.equal(account.claims.email, undefined);
  });

  it('natively, Apple with a private relay email (string booleans): signs up, the email kept', async () => {
    const account = await nativeSignIn(apple, {
      sub: 'a-private',
      aud: APPLE_BUNDLE_ID,
      claims: {
        email: 'q7x2k9p4@privaterelay.appleid.com',
        email_verified: 'true',
        is_private_email: 'true',
      },
    });
    assert.notEqual(account.accountId, 'demouser');
    assert.equal(account.claims.email, 'q7x2k9p4@privaterelay.appleid.com');
    assert.equal(account.claims.email_verified, true);
  });

  it('in the browser, a new Google user signs up: an account of their own', async () => {
    const browser = new Browser();
    const verifier = oidc.randomPKCECodeVerifier();
    const page = await loginPageOf(browser, verifier);
    const outcome = await continueWithGoogle(browser, page, 'g-newcomer');
    const account = await accountOf(await dcrTokenFrom(outcome.callback, verifier));
    assert.notEqual(account.accountId, 'demouser');
    assert.equal(account.claims.email, 'g-newcomer@example.test');
  });

  it('in the browser, demouser who signed in moments ago links a Google account on the link page', async () => {
    const browser = new Browser();
    const verifier = oidc.randomPKCECodeVerifier();
    // The app's login page is open; demouser signs in with the password in another tab.
    const page = await loginPageOf(browser, verifier);
    await obtainDcrToken(reg, browser, { username: 'demouser', password: 'Password1' });
    const offered = await continueWithGoogle(browser, page, 'g-demo-phone');
    assert.ok(offered.page, 'the link page, not a new account');
    assert.match(offered.page.html, /Link your Google account/);
    const link = formOf(offered.page.html, offered.page.url, '/link');
    const linked = await atOurs(browser, await browser.postForm(link.action, link.hidden));
    const account = await accountOf(await dcrTokenFrom(linked.callback, verifier));
    assert.equal(account.accountId, 'demouser');
    // Linked for good: a fresh browser's Google sign-in reaches demouser.
    const elsewhere = new Browser();
    const otherVerifier = oidc.randomPKCECodeVerifier();
    const later = await continueWithGoogle(
      elsewhere,
      await loginPageOf(elsewhere, otherVerifier),
      'g-demo-phone',
    );
    const again = await accountOf(await dcrTokenFrom(later.callback, otherVerifier));
    assert.equal(again.accountId, 'demouser');
  });
});
