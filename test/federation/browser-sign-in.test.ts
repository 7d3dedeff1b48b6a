// "Continue with Apple / Google / …" on the sign-in page (#16, the browser flow): the
// authorization code flow with PKCE (RFC 7636) against real upstream OpenID providers on
// loopback, the state single-use and bound to the browser's interaction (RFC 6749 §10.12), the
// nonce checked in the id_token (OpenID Connect Core §3.1.2.1). openid-client plays the app; a
// cookie-keeping client without automatic redirects plays the user's browser. Linking (#25): an
// unknown identity is linked only to an account that signed in on this browser moments ago,
// without the app demanding a new sign-in (OpenID Connect Core §3.1.2.1 prompt=login, max_age),
// and only after the user confirmed it on the link page.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { exportPKCS8, generateKeyPair } from 'jose';
import {
  type FederatedAccountEvent,
  type FederatedIdentity,
  MemoryStore,
  type SignInEvent,
} from 'mobile-oidc-provider';
import * as oidc from 'openid-client';
import {
  BrowserFederation,
  BrowserSignInError,
  type BrowserState,
} from '../../lib/federation/browser.js';
import type { ResolvedFederatedProvider } from '../../lib/federation/options.js';
import { Browser, formOf, formsOf } from '../helpers/browser.js';
import {
  APP_REDIRECT_URI,
  type RunningServer,
  registrationClient,
  startExample,
} from '../helpers/example.js';
import { deliver } from '../helpers/linking.js';
import { freePort } from '../helpers/listen.js';
import { ModelOutageStore } from '../helpers/outage-store.js';
import { dcrAuthorizationUrl, obtainDcrToken, registerInstance } from '../helpers/sign-in.js';
import { startUpstreamIdp, type UpstreamIdp, type UpstreamUser } from '../helpers/upstream-idp.js';

const GOOGLE_CLIENT_ID = 'our-server.apps.googleusercontent.example';
const GOOGLE_CLIENT_SECRET = 'google-client-secret-for-tests-only';
const APPLE_SERVICES_ID = 'io.example.signin';
const APPLE_TEAM_ID = 'TEAM123456';
const APPLE_KEY_ID = 'KEY7654321';
const CORP_CLIENT_ID = 'our-server-at-corp';
const UNIT_CLIENT_ID = 'unit-test-client';
const UNIT_ISSUER = 'https://rp.example';
const STATE_MODEL = 'FederatedBrowserState';

/** A page of ours the browser stopped at. */
interface Page {
  status: number;
  html: string;
  url: string;
}

/** Where a sign-in ended: back at the app with a code, or on a page of ours. */
type Outcome = { callback: URL } | { page: Page };

function callbackOf(outcome: Outcome): URL {
  if ('page' in outcome) {
    assert.fail(`the sign-in stopped at ${outcome.page.url} (${outcome.page.status})`);
  }
  return outcome.callback;
}

function pageOf(outcome: Outcome): Page {
  if ('callback' in outcome) assert.fail('the sign-in was not refused');
  return outcome.page;
}

/** The login page again with `message`, and nothing of what went wrong inside. */
function assertLoginPageWith(page: Page, status: number, message: RegExp) {
  assert.equal(page.status, status);
  assert.match(page.html, /role="alert"/);
  assert.match(page.html, message);
  assert.match(page.html, /name="password"/, 'the password form is offered again');
  assert.match(page.html, /Continue with Google/, 'and the buttons');
  assert.doesNotMatch(page.html, /access_denied|invalid_grant|Error\b|\bat \S+ \(|127\.0\.0\.1/);
}

describe('browser sign-in through upstream providers ("Continue with …")', () => {
  let google: UpstreamIdp;
  let apple: UpstreamIdp;
  let corp: UpstreamIdp;
  let server: RunningServer;
  let reg: oidc.Configuration;
  const store = new ModelOutageStore('FederatedLinkOffer');
  const events: { name: string; event: FederatedAccountEvent }[] = [];
  const seen: FederatedIdentity[] = [];
  /** The `signin.failed` events: a refused callback is a failed federated sign-in. */
  const failures: SignInEvent[] = [];
  // Every call of accounts.link: what the user confirmed on the link page.
  const linkCalls: { key: string; accountId: string }[] = [];
  // The identities linked so far: provider + subject → account.
  const links = new Map<string, string>([
    ['google:g-demo', 'demouser'],
    ['apple:a-other', 'otheruser'],
    ['corp:c-demo', 'demouser'],
  ]);

  before(async () => {
    const appleKey = await generateKeyPair('ES256', { extractable: true });
    // A provider nobody listens for: its discovery fails.
    const downIssuer = `http://127.0.0.1:${await freePort()}`;
    [google, apple, corp] = await Promise.all([
      startUpstreamIdp({ quirks: 'google' }),
      startUpstreamIdp({
        quirks: 'apple',
        appleClientSecret: {
          clientId: APPLE_SERVICES_ID,
          teamId: APPLE_TEAM_ID,
          keyId: APPLE_KEY_ID,
          publicKey: appleKey.publicKey,
        },
      }),
      startUpstreamIdp(),
    ]);
    const privateKey = await exportPKCS8(appleKey.privateKey);
    server = await startExample((o) => ({
      ...o,
      store,
      accounts: {
        ...o.accounts,
        async federated(identity) {
          seen.push(identity);
          // The safe pattern: a linked identity resolves; an unknown one is offered for linking
          // (when this browser's account is proof of it) or refused.
          return links.get(`${identity.provider}:${identity.subject}`);
        },
        async link(identity, accountId) {
          const key = `${identity.provider}:${identity.subject}`;
          linkCalls.push({ key, accountId });
          // Linked to another account in the meantime: refused, as the contract asks.
          const linked = links.get(key);
          if (linked !== undefined && linked !== accountId) return false;
          links.set(key, accountId);
        },
      },
      federation: {
        providers: [
          {
            name: 'google',
            issuer: google.issuer,
            quirks: 'google',
            browser: { clientId: GOOGLE_CLIENT_ID, clientSecret: GOOGLE_CLIENT_SECRET },
          },
          {
            name: 'apple',
            issuer: apple.issuer,
            quirks: 'apple',
            browser: {
              clientId: APPLE_SERVICES_ID,
              appleKey: { teamId: APPLE_TEAM_ID, keyId: APPLE_KEY_ID, privateKey },
            },
          },
          // Any OpenID provider: discovery and the standard flow, a public client (PKCE only).
          {
            name: 'corp',
            issuer: corp.issuer,
            browser: { clientId: CORP_CLIENT_ID, label: 'Continue with Corp SSO' },
          },
          { name: 'down', issuer: downIssuer, browser: { clientId: 'unreachable' } },
        ],
      },
    }));
    for (const name of ['account.federated', 'account.linked'] as const) {
      server.auth.on(name, (event) => events.push({ name, event }));
    }
    server.auth.on('signin.failed', (event) => failures.push(event));
    const callback = (name: string) => [`${server.issuer}/federation/callback/${name}`];
    const code = { response_types: ['code'], grant_types: ['authorization_code'] } as const;
    google.setClients([
      {
        client_id: GOOGLE_CLIENT_ID,
        client_secret: GOOGLE_CLIENT_SECRET,
        redirect_uris: callback('google'),
        token_endpoint_auth_method: 'client_secret_basic',
        ...code,
      },
    ]);
    apple.setClients([
      {
        client_id: APPLE_SERVICES_ID,
        // Never sent: the upstream accepts only the JWT signed with the team's key.
        client_secret: 'registered-but-never-sent-secret',
        redirect_uris: callback('apple'),
        token_endpoint_auth_method: 'client_secret_post',
        ...code,
      },
    ]);
    corp.setClients([
      {
        client_id: CORP_CLIENT_ID,
        redirect_uris: callback('corp'),
        token_endpoint_auth_method: 'none',
        ...code,
      },
      {
        client_id: UNIT_CLIENT_ID,
        redirect_uris: [`${UNIT_ISSUER}/federation/callback/corp`],
        token_endpoint_auth_method: 'none',
        ...code,
      },
    ]);
    reg = await registrationClient(server.issuer);
  });
  after(async () => {
    await server.close();
    await store.close();
    await Promise.all([google, apple, corp].map((idp) => idp.close()));
  });

  /** The app's authorization request (the registration client, PKCE S256) and its verifier. */
  async function appRequest(extra: Record<string, string> = {}) {
    const verifier = oidc.randomPKCECodeVerifier();
    const url = await dcrAuthorizationUrl(reg, verifier);
    for (const [name, value] of Object.entries(extra)) url.searchParams.set(name, value);
    return { url, verifier };
  }

  /** Opens our login page for `authorizationUrl`. */
  async function loginPage(browser: Browser, authorizationUrl: URL): Promise<Page> {
    const { response, url } = await browser.follow(await browser.get(authorizationUrl));
    return { status: response.status, html: await response.text(), url };
  }

  /** Our login page, then its "Continue with <provider>" button: resolves where it sends to. */
  async function pressButton(browser: Browser, authorizationUrl: URL, provider: string) {
    const page = await loginPage(browser, authorizationUrl);
    assert.equal(page.status, 200);
    const button = formOf(page.html, page.url, `/federated/${provider}`);
    const res = await browser.postForm(button.action, button.hidden);
    assert.equal(res.status, 303);
    return { upstreamUrl: res.headers.get('location') as string, page };
  }

  /** Follows our redirects (allowing our consent page) to the app, or to a page of ours. */
  async function atOurs(browser: Browser, response: Response): Promise<Outcome> {
    let res = response;
    for (let step = 0; step < 5; step += 1) {
      const followed = await browser.follow(res);
      if (followed.location) return { callback: new URL(followed.location) };
      const html = await followed.response.text();
      const allow =
        followed.response.status === 200 &&
        formsOf(html, followed.url).find((f) => f.action.endsWith('/confirm'));
      if (!allow) return { page: { status: followed.response.status, html, url: followed.url } };
      res = await browser.postForm(allow.action, allow.hidden);
    }
    throw new Error('too many pages');
  }

  /** The whole sign-in: our login page, the button, the upstream's pages, back to the app. */
  async function federatedSignIn(
    browser: Browser,
    authorizationUrl: URL,
    provider: string,
    idp: UpstreamIdp,
    user: UpstreamUser,
  ): Promise<Outcome> {
    const { upstreamUrl } = await pressButton(browser, authorizationUrl, provider);
    const response = await idp.authorize(browser, upstreamUrl, user);
    return atOurs(browser, await deliver(browser, response));
  }

  /** Up to the upstream's response, not yet delivered: what an attacker could get hold of. */
  async function upstreamResponse(browser: Browser, provider = 'google', login = 'g-demo') {
    const { url } = await appRequest();
    const { upstreamUrl, page } = await pressButton(browser, url, provider);
    const idp = provider === 'google' ? google : provider === 'apple' ? apple : corp;
    const response = await idp.authorize(browser, upstreamUrl, { login });
    return { response, page };
  }

  /** The app's DCR token from `callback`, and the account the install it registers belongs to. */
  async function accountOf(callback: URL, verifier: string): Promise<string | undefined> {
    const tokens = await oidc.authorizationCodeGrant(reg, callback, { pkceCodeVerifier: verifier });
    const instance = await registerInstance(server.issuer, tokens.access_token);
    return (await server.auth.devices.get(instance.clientMetadata().client_id))?.accountId;
  }

  const stateRecord = (state: string) => store.adapter(STATE_MODEL).find(state);

  describe('the login page', () => {
    it('lists a button per provider with browser options, each a form with the CSRF token', async () => {
      const { url } = await appRequest();
      const page = await loginPage(new Browser(), url);
      assert.equal(page.status, 200);
      const buttons = [
        ...page.html.matchAll(/<form[^>]*action="([^"]*)"[^>]*>.*?<button[^>]*>([^<]*)</g),
      ]
        .map(([, action, label]) => ({ action, label }))
        .filter((b) => b.action?.includes('/federated/'));
      assert.deepEqual(
        buttons.map((b) => b.label),
        [
          'Continue with Google',
          'Continue with Apple',
          'Continue with Corp SSO',
          'Continue with Down',
        ],
      );
      const uid = new URL(page.url).pathname.split('/')[2];
      for (const name of ['google', 'apple', 'corp']) {
        const form = formOf(page.html, page.url, `/federated/${name}`);
        assert.equal(new URL(form.action).pathname, `/interaction/${uid}/federated/${name}`);
        assert.equal(form.method, 'post');
        assert.ok(form.hidden.csrf);
      }
    });

    it('the button starts a code flow with PKCE S256, a state bound to the interaction and a nonce', async () => {
      const browser = new Browser();
      const { url } = await appRequest();
      const { upstreamUrl, page } = await pressButton(browser, url, 'google');
      const authz = new URL(upstreamUrl);
      assert.equal(authz.origin, google.issuer);
      const p = Object.fromEntries(authz.searchParams);
      assert.equal(p.response_type, 'code');
      assert.equal(p.client_id, GOOGLE_CLIENT_ID);
      assert.equal(p.redirect_uri, `${server.issuer}/federation/callback/google`);
      assert.equal(p.scope, 'openid email profile');
      assert.equal(p.code_challenge_method, 'S256');
      assert.match(p.code_challenge ?? '', /^[\w-]{43}$/);
      assert.match(p.nonce ?? '', /^[\w-]{43}$/);
      assert.equal(p.response_mode, undefined);
      const uid = new URL(page.url).pathname.split('/')[2];
      const record = await stateRecord(p.state as string);
      assert.equal(record?.uid, uid);
      assert.equal(record?.provider, 'google');
      assert.equal(record?.nonce, p.nonce);
      assert.equal(
        await oidc.calculatePKCECodeChallenge(record?.codeVerifier as string),
        p.code_challenge,
        'the stored verifier is the challenge sent (RFC 7636 §4.2)',
      );
    });

    it('a button press without the CSRF token is refused, and starts nothing (control: with it)', async () => {
      const browser = new Browser();
      const { url } = await appRequest();
      const page = await loginPage(browser, url);
      const button = formOf(page.html, page.url, '/federated/google');
      const forged = await browser.postForm(button.action, { csrf: 'forged' });
      assert.equal(forged.status, 403);
      assert.equal(forged.headers.get('location'), null);
      const unknown = await browser.postForm(
        button.action.replace('/federated/google', '/federated/nope'),
        button.hidden,
      );
      assert.equal(unknown.status, 404);
      const get = await browser.get(button.action);
      assert.equal(get.status, 405);
      const pressed = await browser.postForm(button.action, button.hidden);
      assert.equal(pressed.status, 303);
    });
  });

  describe('end to end', () => {
    it('Google-style: the app gets a code for the linked account, then an install signs in the same way', async () => {
      const browser = new Browser();
      const { url, verifier } = await appRequest();
      const before = events.length;
      const callback = callbackOf(
        await federatedSignIn(browser, url, 'google', google, { login: 'g-demo' }),
      );
      assert.equal(await accountOf(callback, verifier), 'demouser');
      assert.deepEqual(events.slice(before), [
        {
          name: 'account.federated',
          event: {
            provider: 'google',
            subject: 'g-demo',
            accountId: 'demouser',
            via: 'browser',
            clientId: reg.clientMetadata().client_id,
          },
        },
      ]);
      const identity = seen.at(-1);
      assert.equal(identity?.via, 'browser');
      assert.equal(identity?.email, 'g-demo@example.test');
      assert.equal(identity?.signedInAccountId, undefined, 'a fresh browser proves no account');

      // The install's own code flow (openid), in another browser: the id_token's sub.
      const dcr = await obtainDcrTokenVia('google', 'g-demo');
      const instance = await registerInstance(server.issuer, dcr);
      const pkceCodeVerifier = oidc.randomPKCECodeVerifier();
      const expectedNonce = oidc.randomNonce();
      const instanceUrl = oidc.buildAuthorizationUrl(instance, {
        redirect_uri: APP_REDIRECT_URI,
        scope: 'openid',
        nonce: expectedNonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(pkceCodeVerifier),
        code_challenge_method: 'S256',
      });
      const instanceCallback = callbackOf(
        await federatedSignIn(new Browser(), instanceUrl, 'google', google, { login: 'g-demo' }),
      );
      const tokens = await oidc.authorizationCodeGrant(instance, instanceCallback, {
        pkceCodeVerifier,
        expectedNonce,
      });
      assert.equal(tokens.claims()?.sub, 'demouser');
    });

    /** A DCR token earned through a sign-in with `provider` in a fresh browser. */
    async function obtainDcrTokenVia(provider: string, login: string): Promise<string> {
      const { url, verifier } = await appRequest();
      const idp = provider === 'google' ? google : provider === 'apple' ? apple : corp;
      const callback = callbackOf(
        await federatedSignIn(new Browser(), url, provider, idp, { login }),
      );
      const tokens = await oidc.authorizationCodeGrant(reg, callback, {
        pkceCodeVerifier: verifier,
      });
      return tokens.access_token;
    }

    it('Apple-style: form_post back, the ES256 client secret at the token endpoint, string booleans made booleans', async () => {
      const browser = new Browser();
      const { url, verifier } = await appRequest();
      const { upstreamUrl } = await pressButton(browser, url, 'apple');
      const authz = new URL(upstreamUrl);
      assert.equal(authz.searchParams.get('response_mode'), 'form_post');
      assert.equal(authz.searchParams.get('scope'), 'openid email name');
      assert.equal(authz.searchParams.get('client_id'), APPLE_SERVICES_ID);
      const response = await apple.authorize(browser, upstreamUrl, { login: 'a-other' });
      assert.equal(response.method, 'POST', 'Apple posts the response to the redirect URI');
      assert.equal(response.url, `${server.issuer}/federation/callback/apple`);
      const secretsBefore = apple.appleSecrets.length;
      const callback = callbackOf(await atOurs(browser, await deliver(browser, response)));
      assert.equal(await accountOf(callback, verifier), 'otheruser');

      const [secret] = apple.appleSecrets.slice(secretsBefore);
      assert.ok(secret, 'the token endpoint accepted a JWT client secret');
      assert.deepEqual(secret.header, { alg: 'ES256', kid: APPLE_KEY_ID });
      assert.equal(secret.claims.iss, APPLE_TEAM_ID);
      assert.equal(secret.claims.sub, APPLE_SERVICES_ID);
      assert.equal(secret.claims.aud, apple.issuer);
      assert.equal((secret.claims.exp as number) - (secret.claims.iat as number), 180 * 86400);

      const identity = seen.at(-1);
      assert.equal(identity?.provider, 'apple');
      assert.equal(identity?.claims.email_verified, true);
      assert.equal(identity?.claims.is_private_email, false);
      assert.equal(identity?.email, 'a-other@example.test');
    });

    it("Apple-style (control): the upstream refuses a client secret that is not the team's JWT", async () => {
      const res = await fetch(`${apple.issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: 'whatever',
          redirect_uri: `${server.issuer}/federation/callback/apple`,
          client_id: APPLE_SERVICES_ID,
          client_secret: 'registered-but-never-sent-secret',
        }),
      });
      assert.equal(res.status, 401);
      assert.equal(((await res.json()) as { error: string }).error, 'invalid_client');
    });

    it('any OpenID provider (no quirks, public client with PKCE) works the same way', async () => {
      const { url, verifier } = await appRequest();
      const callback = callbackOf(
        await federatedSignIn(new Browser(), url, 'corp', corp, { login: 'c-demo' }),
      );
      assert.equal(await accountOf(callback, verifier), 'demouser');
      assert.equal(seen.at(-1)?.provider, 'corp');
    });
  });

  describe('the state (RFC 6749 §10.12)', () => {
    it('is single-use: a replayed response is refused (control: its first use signs in)', async () => {
      const browser = new Browser();
      const { url, verifier } = await appRequest();
      const { upstreamUrl } = await pressButton(browser, url, 'google');
      const response = await google.authorize(browser, upstreamUrl, { login: 'g-demo' });
      const forwarded = await deliver(browser, response);
      assert.equal(forwarded.status, 303);
      const atInteraction = new URL(forwarded.headers.get('location') as string, server.issuer);
      const first = await browser.get(atInteraction);
      assert.equal(first.status, 303, 'the first use finishes the interaction');
      const before = events.length;
      const replay = await browser.get(atInteraction);
      assertLoginPageWith(
        { status: replay.status, html: await replay.text(), url: atInteraction.href },
        400,
        /The sign-in with Google could not be completed/,
      );
      assert.equal(events.length, before, 'the replay signed nobody in');
      const callback = callbackOf(await atOurs(browser, first));
      assert.equal(await accountOf(callback, verifier), 'demouser');
    });

    it('from another browser (no interaction cookie) is refused, and used up: the response is worthless after', async () => {
      const victim = new Browser();
      const { response } = await upstreamResponse(victim);
      assert.equal(response.method, 'GET');
      const state = new URL(response.url).searchParams.get('state') as string;
      const before = events.length;
      const attacker = new Browser();
      const stolen = await attacker.follow(await deliver(attacker, response));
      assert.equal(stolen.response.status, 400);
      assert.match(await stolen.response.text(), /Sign-in expired/);
      assert.ok((await stateRecord(state))?.consumed, 'the state is used up');
      const late = pageOf(await atOurs(victim, await deliver(victim, response)));
      assertLoginPageWith(late, 400, /could not be completed/);
      assert.equal(events.length, before);
    });

    it("of another interaction is refused: no login CSRF into the attacker's account", async () => {
      // The attacker's own sign-in, up to the upstream's response for the attacker's account.
      const attacker = new Browser();
      const { response } = await upstreamResponse(attacker, 'google', 'g-demo');
      const params = new URL(response.url).searchParams;
      // The victim is on a login page of their own; the attacker makes them load the response.
      const victim = new Browser();
      const { url } = await appRequest();
      const page = await loginPage(victim, url);
      const uid = new URL(page.url).pathname.split('/')[2];
      const before = events.length;
      const planted = await victim.get(
        `${server.issuer}/interaction/${uid}/federated/google/callback?${params}`,
      );
      assertLoginPageWith(
        { status: planted.status, html: await planted.text(), url: planted.url },
        400,
        /could not be completed/,
      );
      assert.equal(events.length, before, 'nobody was signed in');
      assert.ok((await stateRecord(params.get('state') as string))?.consumed);
      // The victim's own sign-in is untouched (control): a password still works there.
      const again = await loginPage(victim, url);
      assert.equal(again.status, 200);
    });

    it('tampered is refused, and nothing is taken; the untampered response then signs in (control)', async () => {
      const browser = new Browser();
      const { url, verifier } = await appRequest();
      const { upstreamUrl } = await pressButton(browser, url, 'google');
      const response = await google.authorize(browser, upstreamUrl, { login: 'g-demo' });
      assert.equal(response.method, 'GET');
      const state = new URL(response.url).searchParams.get('state') as string;

      const tampered = new URL(response.url);
      tampered.searchParams.set('state', `${state.slice(0, -1)}${state.endsWith('A') ? 'B' : 'A'}`);
      const refused = pageOf(await atOurs(browser, await browser.get(tampered)));
      assertLoginPageWith(refused, 400, /could not be completed/);

      for (const bad of ['not-a-state', '']) {
        const malformed = new URL(response.url);
        malformed.searchParams.set('state', bad);
        const res = await browser.get(malformed);
        assert.equal(res.status, 400);
        assert.match(await res.text(), /not valid or has expired/);
      }
      const none = new URL(response.url);
      none.searchParams.delete('state');
      assert.equal((await browser.get(none)).status, 400);

      const record = await stateRecord(state);
      assert.equal(record?.consumed, undefined, 'the genuine state is still unused');
      const callback = callbackOf(await atOurs(browser, await deliver(browser, response)));
      assert.equal(await accountOf(callback, verifier), 'demouser');
    });
  });

  describe('PKCE (RFC 7636)', () => {
    it('an intercepted code is worthless without the verifier (control: the server redeems it)', async () => {
      const browser = new Browser();
      const { url, verifier } = await appRequest();
      const { upstreamUrl } = await pressButton(browser, url, 'google');
      const response = await google.authorize(browser, upstreamUrl, { login: 'g-demo' });
      const intercepted = new URL(response.url);
      // The attacker even has the client's credentials; the verifier stayed on the server.
      const thief = await oidc.discovery(
        new URL(google.issuer),
        GOOGLE_CLIENT_ID,
        GOOGLE_CLIENT_SECRET,
        undefined,
        { execute: [oidc.allowInsecureRequests] },
      );
      for (const pkceCodeVerifier of [undefined, oidc.randomPKCECodeVerifier()]) {
        await assert.rejects(
          oidc.authorizationCodeGrant(thief, intercepted, {
            expectedState: intercepted.searchParams.get('state') as string,
            ...(pkceCodeVerifier ? { pkceCodeVerifier } : {}),
          }),
          (error: unknown) =>
            error instanceof oidc.ResponseBodyError && error.error === 'invalid_grant',
        );
      }
      const callback = callbackOf(await atOurs(browser, await deliver(browser, response)));
      assert.equal(await accountOf(callback, verifier), 'demouser');
    });
  });

  describe('failures show the login page with a plain message', () => {
    it('the user cancels at the provider (form_post error=access_denied); the state is used up', async () => {
      const browser = new Browser();
      const { url } = await appRequest();
      const { upstreamUrl } = await pressButton(browser, url, 'apple');
      const state = new URL(upstreamUrl).searchParams.get('state') as string;
      const before = events.length;
      const failed = failures.length;
      const response = await apple.authorize(browser, upstreamUrl, { login: 'a-x', deny: true });
      assert.equal(response.method, 'POST');
      assert.equal((response as { fields: Record<string, string> }).fields.error, 'access_denied');
      const page = pageOf(await atOurs(browser, await deliver(browser, response)));
      assertLoginPageWith(page, 400, /Signing in with Apple was cancelled or refused/);
      assert.ok((await stateRecord(state))?.consumed);
      assert.equal(events.length, before);
      assert.equal(failures.length, failed, 'the user changed their mind: no refused sign-in');
    });

    it('the hook refuses the identity, reported as a failed federated sign-in (control: a linked one signs in)', async () => {
      const before = events.length;
      const failed = failures.length;
      const { url } = await appRequest();
      const page = pageOf(
        await federatedSignIn(new Browser(), url, 'google', google, { login: 'g-stranger' }),
      );
      assertLoginPageWith(page, 403, /This Google account cannot be used to sign in here/);
      assert.equal(seen.at(-1)?.subject, 'g-stranger');
      assert.equal(events.length, before, 'no sign-in reported');
      // Ids only: the method, the client and the address, never who the provider vouched for.
      assert.equal(failures.length, failed + 1);
      const failure = failures.at(-1) as SignInEvent;
      assert.deepEqual(Object.keys(failure).sort(), ['clientId', 'ip', 'method']);
      assert.equal(failure.method, 'federated');
      const linked = await appRequest();
      callbackOf(
        await federatedSignIn(new Browser(), linked.url, 'google', google, { login: 'g-demo' }),
      );
      assert.equal(failures.length, failed + 1, 'a sign-in is no failure');
    });

    it('a provider that cannot be reached: 503, said plainly, nothing stored', async () => {
      const failed = failures.length;
      const browser = new Browser();
      const { url } = await appRequest();
      const page = await loginPage(browser, url);
      const button = formOf(page.html, page.url, '/federated/down');
      const res = await browser.postForm(button.action, button.hidden);
      assertLoginPageWith(
        { status: res.status, html: await res.text(), url: button.action },
        503,
        /Down cannot be reached right now/,
      );
      assert.equal(res.headers.get('location'), null);
      assert.equal(failures.length, failed, 'an outage is no refused sign-in');
    });

    it('a callback for an unknown provider, or with another method, gets a plain page', async () => {
      const unknown = await fetch(`${server.issuer}/federation/callback/nope?state=x`);
      assert.equal(unknown.status, 404);
      const put = await fetch(`${server.issuer}/federation/callback/google`, { method: 'PUT' });
      assert.equal(put.status, 405);
      const huge = await fetch(`${server.issuer}/federation/callback/apple`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `state=${'a'.repeat(64 * 1024)}`,
      });
      assert.equal(huge.status, 413);
      for (const res of [unknown, put, huge]) {
        assert.doesNotMatch(await res.text(), /Error\b|\bat \S+ \(/);
      }
    });
  });

  describe("linking needs a fresh sign-in of the account and the user's confirmation", () => {
    /** Moves this browser's sign-in `seconds` into the past (its session's `loginTs`). */
    async function ageSignIn(browser: Browser, seconds: number) {
      const cookies = await browser.jar.getCookies(server.issuer);
      const id = cookies.find((c) => c.key === '_session')?.value;
      assert.ok(id, 'the browser has a session');
      const sessions = store.adapter('Session');
      const session = await sessions.find(id);
      assert.equal(typeof session?.loginTs, 'number');
      await sessions.upsert(
        id,
        { ...session, loginTs: (session?.loginTs as number) - seconds },
        3600,
      );
    }

    /**
     * A browser on the app's login page (interaction A) that then signs in as demouser with the
     * password in another tab (interaction B): the login page of A is still open, and the
     * browser's account signed in just now, without any demand for a new sign-in.
     */
    async function signedInBesideLoginPage(extra: Record<string, string> = {}) {
      const browser = new Browser();
      const { url, verifier } = await appRequest(extra);
      const page = await loginPage(browser, url);
      assert.equal(page.status, 200);
      await obtainDcrToken(reg, browser, { username: 'demouser', password: 'Password1' });
      return { browser, page, verifier };
    }

    /** Presses "Continue with Google" on `page` and signs in at Google as `login`. */
    async function continueWithGoogle(browser: Browser, page: Page, login: string) {
      const button = formOf(page.html, page.url, '/federated/google');
      const pressed = await browser.postForm(button.action, button.hidden);
      assert.equal(pressed.status, 303);
      const upstreamUrl = pressed.headers.get('location') as string;
      const response = await google.authorize(browser, upstreamUrl, { login });
      return atOurs(browser, await deliver(browser, response));
    }

    /** The link page `outcome` stopped at, with its Link and Cancel forms. */
    function linkPageOf(outcome: Outcome) {
      const page = pageOf(outcome);
      assert.equal(page.status, 200);
      return {
        page,
        link: formOf(page.html, page.url, '/link'),
        cancel: formOf(page.html, page.url, '/cancel-link'),
      };
    }

    /** Nothing was linked for `login` and nobody signed in since `before` events. */
    function assertNothingLinked(login: string, before: number) {
      assert.equal(links.has(`google:${login}`), false, 'the identity is linked to nobody');
      assert.equal(
        linkCalls.some((c) => c.key === `google:${login}`),
        false,
        'accounts.link was not called',
      );
      assert.deepEqual(events.slice(before), [], 'nobody signed in, nothing was linked');
    }

    it('control: a sign-in moments ago, no demand for a new one: the link page asks, Link links and signs in as that account', async () => {
      const { browser, page, verifier } = await signedInBesideLoginPage();
      const before = events.length;
      const offered = linkPageOf(await continueWithGoogle(browser, page, 'g-link-me'));
      assert.equal(seen.at(-1)?.signedInAccountId, 'demouser', 'the hook saw the proof');
      // The question names the identity the provider vouched for and the signed-in account.
      assert.match(
        offered.page.html,
        /Link your Google account <strong>g-link-me@example\.test<\/strong> to <strong>demouser@example\.com<\/strong>\?/,
      );
      assert.ok(offered.link.hidden.csrf && offered.link.hidden.offer);
      assertNothingLinked('g-link-me', before);

      const callback = callbackOf(
        await atOurs(browser, await browser.postForm(offered.link.action, offered.link.hidden)),
      );
      assert.equal(await accountOf(callback, verifier), 'demouser');
      assert.deepEqual(linkCalls.at(-1), { key: 'google:g-link-me', accountId: 'demouser' });
      const event = {
        provider: 'google',
        subject: 'g-link-me',
        accountId: 'demouser',
        via: 'browser',
        clientId: reg.clientMetadata().client_id,
      };
      assert.deepEqual(events.slice(before), [
        { name: 'account.linked', event },
        { name: 'account.federated', event },
      ]);
      // Linked for good: the identity signs in as demouser in a fresh browser.
      const again = await appRequest();
      const later = callbackOf(
        await federatedSignIn(new Browser(), again.url, 'google', google, { login: 'g-link-me' }),
      );
      assert.equal(await accountOf(later, again.verifier), 'demouser');
    });

    it('Cancel links nothing and shows the login page; its offer is gone (a later Link is refused)', async () => {
      const { browser, page } = await signedInBesideLoginPage();
      const before = events.length;
      const offered = linkPageOf(await continueWithGoogle(browser, page, 'g-cancelled'));
      const cancelled = await browser.postForm(offered.cancel.action, offered.cancel.hidden);
      assert.equal(cancelled.status, 200);
      const html = await cancelled.text();
      assert.match(html, /name="password"/, 'the login page again');
      const late = await browser.postForm(offered.link.action, offered.link.hidden);
      assert.equal(late.status, 400);
      assert.match(await late.text(), /expired or was already answered\. Nothing was linked/);
      assertNothingLinked('g-cancelled', before);
    });

    it('the confirmation cannot be replayed, forged or posted from another browser (control: the genuine one links once)', async () => {
      const { browser, page, verifier } = await signedInBesideLoginPage();
      const before = events.length;
      const { link } = linkPageOf(await continueWithGoogle(browser, page, 'g-replayed'));

      // Another browser (a stolen form, no interaction cookie): refused, offer untouched.
      const elsewhere = await new Browser().postForm(link.action, link.hidden);
      assert.equal(elsewhere.status, 400);
      assert.match(await elsewhere.text(), /Sign-in expired/);
      // A tampered CSRF token: refused before anything is read.
      const forged = await browser.postForm(link.action, { ...link.hidden, csrf: 'forged' });
      assert.equal(forged.status, 403);
      // A made-up offer, and one of another interaction: refused.
      const [uid] = link.hidden.offer?.split('.') ?? [];
      for (const offer of [`${uid}.${'A'.repeat(43)}`, `other-uid.${'A'.repeat(43)}`, '']) {
        const made = await browser.postForm(link.action, { ...link.hidden, offer });
        assert.equal(made.status, 400);
        assert.match(await made.text(), /Nothing was linked/);
      }
      assertNothingLinked('g-replayed', before);

      const first = await browser.postForm(link.action, link.hidden);
      assert.equal(first.status, 303, 'the genuine confirmation links');
      const replay = await browser.postForm(link.action, link.hidden);
      assert.equal(replay.status, 400, 'the replay is refused');
      assert.equal(linkCalls.filter((c) => c.key === 'google:g-replayed').length, 1);
      const callback = callbackOf(await atOurs(browser, first));
      assert.equal(await accountOf(callback, verifier), 'demouser');
    });

    it('attack: an identity linked to another account while the link page waited is refused by accounts.link: nothing linked, nobody signed in', async () => {
      const { browser, page } = await signedInBesideLoginPage();
      const before = events.length;
      const { link } = linkPageOf(await continueWithGoogle(browser, page, 'g-raced'));
      links.set('google:g-raced', 'otheruser');
      const refused = await browser.postForm(link.action, link.hidden);
      const html = await refused.text();
      assertLoginPageWith(
        { status: refused.status, html, url: link.action },
        409,
        /This Google account is already linked to another account\. Nothing was linked/,
      );
      assert.equal(links.get('google:g-raced'), 'otheruser', 'still the other account');
      assert.deepEqual(events.slice(before), [], 'no account.linked, no sign-in');
    });

    it('a store that cannot keep the offer: 503, said plainly, nothing linked (control: the link page once it can)', async () => {
      const { browser, page } = await signedInBesideLoginPage();
      const before = events.length;
      store.down = true;
      let outcome: Outcome;
      try {
        outcome = await continueWithGoogle(browser, page, 'g-store-down');
      } finally {
        store.down = false;
      }
      const down = pageOf(outcome);
      assert.equal(down.status, 503);
      assert.match(down.html, /Signing in is not possible right now/);
      assert.doesNotMatch(down.html, /unreachable|at .*\.(ts|js):\d+/);
      assertNothingLinked('g-store-down', before);
      const again = await signedInBesideLoginPage();
      linkPageOf(await continueWithGoogle(again.browser, again.page, 'g-store-down'));
    });

    it('attack: a sign-in longer ago than linking.maxAge proves nothing: no link page, nothing linked', async () => {
      const { browser, page } = await signedInBesideLoginPage();
      await ageSignIn(browser, 301);
      const before = events.length;
      const refused = pageOf(await continueWithGoogle(browser, page, 'g-stale'));
      assertLoginPageWith(refused, 403, /This Google account cannot be used to sign in here/);
      assert.equal(seen.at(-1)?.subject, 'g-stale');
      assert.equal(seen.at(-1)?.signedInAccountId, undefined, 'the hook saw no proof');
      assertNothingLinked('g-stale', before);
    });

    it("attack: prompt=login on a fresh session (an unlocked browser): a stranger's Google account neither completes as the user nor links", async () => {
      const browser = new Browser();
      await obtainDcrToken(reg, browser, { username: 'demouser', password: 'Password1' });
      const { url } = await appRequest({ prompt: 'login' });
      const page = await loginPage(browser, url);
      const before = events.length;
      const refused = pageOf(await continueWithGoogle(browser, page, 'g-intruder'));
      assertLoginPageWith(refused, 403, /cannot be used to sign in here/);
      assert.equal(seen.at(-1)?.subject, 'g-intruder');
      assert.equal(seen.at(-1)?.signedInAccountId, undefined);
      assertNothingLinked('g-intruder', before);
    });

    it('attack: max_age exceeded (the sign-in still within linking.maxAge): no proof, nothing linked', async () => {
      const browser = new Browser();
      const { tokens } = await obtainDcrToken(reg, browser, {
        username: 'demouser',
        password: 'Password1',
      });
      await ageSignIn(browser, 120);
      // max_age is an OpenID Connect parameter: the install's own openid request carries it.
      const instance = await registerInstance(server.issuer, tokens.access_token);
      const url = oidc.buildAuthorizationUrl(instance, {
        redirect_uri: APP_REDIRECT_URI,
        scope: 'openid',
        max_age: '60',
        code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
      });
      const page = await loginPage(browser, url);
      assert.equal(page.status, 200, 'max_age asks for a new sign-in');
      const before = events.length;
      const refused = pageOf(await continueWithGoogle(browser, page, 'g-too-old'));
      assertLoginPageWith(refused, 403, /cannot be used to sign in here/);
      assert.equal(seen.at(-1)?.signedInAccountId, undefined);
      assertNothingLinked('g-too-old', before);
    });

    it('control: prompt=login is satisfied by an identity already linked to the account', async () => {
      const browser = new Browser();
      await obtainDcrToken(reg, browser, { username: 'demouser', password: 'Password1' });
      const { url, verifier } = await appRequest({ prompt: 'login' });
      const page = await loginPage(browser, url);
      const before = events.length;
      const callback = callbackOf(await continueWithGoogle(browser, page, 'g-demo'));
      assert.equal(await accountOf(callback, verifier), 'demouser');
      assert.equal(seen.at(-1)?.signedInAccountId, undefined, 'no proof was needed');
      assert.deepEqual(
        events.slice(before).map((e) => [e.name, e.event.subject, e.event.accountId]),
        [['account.federated', 'g-demo', 'demouser']],
      );
    });

    it('a fresh browser proves no account: the hook sees no signedInAccountId (control)', async () => {
      const { url } = await appRequest();
      const page = pageOf(
        await federatedSignIn(new Browser(), url, 'google', google, { login: 'g-unproven' }),
      );
      assert.equal(page.status, 403);
      const identity = seen.at(-1);
      assert.equal(identity?.subject, 'g-unproven');
      assert.equal(identity?.signedInAccountId, undefined);
      assert.equal(links.has('google:g-unproven'), false);
    });
  });

  /** The browser flow on its own against the generic upstream, reaching it through `fetch`. */
  function unitFederation(
    fetchUpstream: typeof fetch,
    settings: Partial<ResolvedFederatedProvider> = {},
  ): BrowserFederation {
    const provider: ResolvedFederatedProvider = {
      name: 'corp',
      issuer: corp.issuer,
      audiences: [],
      clockSkewSeconds: 60,
      algorithms: ['RS256', 'ES256'],
      browser: { clientId: UNIT_CLIENT_ID },
      ...settings,
    };
    return new BrowserFederation({
      providers: [provider],
      issuer: UNIT_ISSUER,
      allowHttp: true,
      store: new MemoryStore(),
      signIn: {
        resolveAccount: async () => ({ accountId: 'demouser', linked: false }),
        reportSignIn() {},
      },
      fetch: fetchUpstream,
    });
  }

  describe('discovery', () => {
    it('a failed discovery is not kept: the next sign-in discovers again', async () => {
      let down = true;
      const federation = unitFederation(async (input, init) => {
        if (down) throw new TypeError('fetch failed');
        return fetch(input, init);
      });
      await assert.rejects(
        federation.start('uid-of-a-test', 'corp'),
        (error: unknown) => error instanceof BrowserSignInError && error.reason === 'unavailable',
      );
      down = false;
      const url = await federation.start('uid-of-a-test', 'corp');
      assert.equal(url.origin, corp.issuer);
    });
  });

  describe('the nonce (OpenID Connect Core §3.1.2.1)', () => {
    /**
     * A sign-in whose token response's id_token is replaced by one the upstream signs with
     * `nonceFor(started)`: a genuine token of another sign-in, as far as signature and audience go.
     */
    async function signInWithIdTokenNonce(
      nonceFor: (started: BrowserState) => string,
      settings: Partial<ResolvedFederatedProvider> = {},
      hd?: string,
    ) {
      let started: BrowserState | undefined;
      const federation = unitFederation(async (input, init) => {
        const res = await fetch(input, init);
        if (!String(input).endsWith('/token') || !started) return res;
        const body = (await res.json()) as Record<string, unknown>;
        body.id_token = await corp.mintIdToken({
          sub: 'c-demo',
          aud: UNIT_CLIENT_ID,
          nonce: nonceFor(started),
          ...(hd ? { hd } : {}),
        });
        return new Response(JSON.stringify(body), {
          status: res.status,
          headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
        });
      }, settings);
      const authorizationUrl = await federation.start('uid-of-a-test', 'corp');
      const response = await corp.authorize(new Browser(), authorizationUrl.href, {
        login: 'c-demo',
      });
      const params = new URL(response.url).searchParams;
      started = await federation.takeState(params.get('state'));
      assert.ok(started);
      return federation.complete(started, params, undefined);
    }
    const thisNonce = (started: BrowserState) => started.nonce;

    it("an id_token with another sign-in's nonce is refused (control: with this one's, accepted)", async () => {
      await assert.rejects(
        signInWithIdTokenNonce(() => oidc.randomNonce()),
        (error: unknown) => error instanceof BrowserSignInError && error.reason === 'exchange',
      );
      const accepted = await signInWithIdTokenNonce((started) => started.nonce);
      assert.equal(accepted.identity.subject, 'c-demo');
      assert.equal(accepted.account.accountId, 'demouser');
    });

    it("a hostedDomain provider refuses another domain's account (control: its own domain)", async () => {
      const settings = { hostedDomain: 'corp.example' };
      await assert.rejects(
        signInWithIdTokenNonce(thisNonce, settings, 'gmail.example'),
        (error: unknown) => error instanceof BrowserSignInError && error.reason === 'exchange',
      );
      const accepted = await signInWithIdTokenNonce(thisNonce, settings, 'corp.example');
      assert.equal(accepted.identity.claims.hd, 'corp.example');
    });
  });
});
