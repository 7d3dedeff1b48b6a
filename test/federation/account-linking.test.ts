// Linking an upstream identity from the linked accounts page (#25): `<issuer>/account/links` in
// the browser of a signed-in user offers "Link your Google account" only while the session's
// account signed in (or confirmed its password there) within federation.linking.maxAge. The
// button starts the authorization code flow with PKCE (RFC 7636) and a nonce (OpenID Connect
// Core §3.1.2.1) against a real upstream on loopback, its state single-use and bound to the
// session (RFC 6749 §10.12) and served by the same redirect URI as the sign-in page's; the user
// then confirms the link on the link page. The example server's account store (its
// `accounts.link` refuses an identity linked elsewhere) is the one under test.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type {
  AccountOptions,
  FederatedAccountEvent,
  FederatedIdentity,
} from 'mobile-oidc-provider';
import * as oidc from 'openid-client';
import { demoAccounts } from '../../examples/server/accounts.js';
import { Browser, formOf, formsOf } from '../helpers/browser.js';
import { type RunningServer, registrationClient, startExample } from '../helpers/example.js';
import { deliver, pressLink } from '../helpers/linking.js';
import { ModelOutageStore } from '../helpers/outage-store.js';
import { dcrAuthorizationUrl, obtainDcrToken } from '../helpers/sign-in.js';
import { callbackClient, startUpstreamIdp, type UpstreamIdp } from '../helpers/upstream-idp.js';

const GOOGLE_CLIENT_ID = 'our-server.apps.googleusercontent.example';
const GOOGLE_CLIENT_SECRET = 'google-client-secret-for-tests-only';
// Signs in with the password like demouser; its failures alone fill its throttle budget.
const THIRD_USER = { username: 'thirduser', password: 'Password3' };
const MAX_AGE = 300;

/** A page of ours the browser stopped at. */
interface Page {
  status: number;
  html: string;
  url: string;
}

describe('the linked accounts page (/account/links)', () => {
  let google: UpstreamIdp;
  let server: RunningServer;
  let reg: oidc.Configuration;
  const store = new ModelOutageStore('FederatedAccountLinkOffer');
  const events: { name: string; event: FederatedAccountEvent }[] = [];
  const throttled: unknown[] = [];
  // What the example's hooks were asked and answered.
  const federatedCalls: { identity: FederatedIdentity; accountId: string | undefined }[] = [];
  const linkCalls: { key: string; accountId: string; result: unknown }[] = [];

  before(async () => {
    google = await startUpstreamIdp({ quirks: 'google' });
    const example = demoAccounts();
    const accounts: AccountOptions = {
      ...example,
      async authenticate(username, password) {
        if (username === THIRD_USER.username) {
          return password === THIRD_USER.password ? THIRD_USER.username : undefined;
        }
        return example.authenticate(username, password);
      },
      async findAccount(accountId) {
        if (accountId === THIRD_USER.username) return { claims: { name: 'Third User' } };
        return example.findAccount(accountId);
      },
      async federated(identity) {
        const resolved = await example.federated?.(identity);
        const accountId = typeof resolved === 'string' ? resolved : resolved?.accountId;
        federatedCalls.push({ identity, accountId });
        return resolved;
      },
      async link(identity, accountId) {
        const result = await example.link?.(identity, accountId);
        linkCalls.push({ key: `${identity.provider}:${identity.subject}`, accountId, result });
        return result;
      },
    };
    server = await startExample((o) => ({
      ...o,
      store,
      accounts,
      interactions: {
        ...o.interactions,
        signInRateLimit: { perAccount: { points: 3, duration: 900 }, perIp: false },
      },
      federation: {
        providers: [
          {
            name: 'google',
            issuer: google.issuer,
            quirks: 'google',
            browser: { clientId: GOOGLE_CLIENT_ID, clientSecret: GOOGLE_CLIENT_SECRET },
          },
        ],
        linking: { maxAge: MAX_AGE },
      },
    }));
    for (const name of ['account.federated', 'account.linked'] as const) {
      server.auth.on(name, (event) => events.push({ name, event }));
    }
    server.auth.on('signin.throttled', (event) => throttled.push(event));
    google.setClients([
      callbackClient(server.issuer, 'google', GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET),
    ]);
    reg = await registrationClient(server.issuer);
  });
  after(async () => {
    await server.close();
    await store.close();
    await google.close();
  });

  const linksUrl = () => `${server.issuer}/account/links`;

  /** A browser signed in as `username` just now (a password sign-in through the app). */
  async function signedIn(username = 'demouser', password = 'Password1') {
    const browser = new Browser();
    await obtainDcrToken(reg, browser, { username, password });
    return browser;
  }

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
    return session?.uid as string;
  }

  /** Opens a page of ours and reads it. */
  async function open(browser: Browser, url: string): Promise<Page> {
    const { response, url: at } = await browser.follow(
      await browser.request(url, { headers: { 'accept-language': 'en' } }),
    );
    return { status: response.status, html: await response.text(), url: at };
  }

  /** Follows our redirects from `response` to a page of ours. */
  async function pageAfter(browser: Browser, response: Response): Promise<Page> {
    const { response: last, url } = await browser.follow(response);
    return { status: last.status, html: await last.text(), url };
  }

  /** The "Link your Google account" form on the linked accounts page, if offered. */
  const linkButton = (page: Page) =>
    formsOf(page.html, page.url).find((f) => f.action.endsWith('/account/links/start/google'));

  /** Link your Google account, signed in at Google as `login`: the page it ends at. */
  async function linkGoogle(browser: Browser, login: string) {
    const upstreamUrl = await pressLink(browser, server.issuer);
    const response = await google.authorize(browser, upstreamUrl.href, { login });
    return { response, page: await pageAfter(browser, await deliver(browser, response)) };
  }

  /** The link page `page` is, with its Link and Cancel forms. */
  function linkPageOf(page: Page) {
    assert.equal(page.status, 200, page.html.slice(0, 400));
    return {
      page,
      link: formOf(page.html, page.url, '/account/links/link'),
      cancel: formOf(page.html, page.url, '/account/links/cancel'),
    };
  }

  /** `login`'s identity was not linked by any call since `before` events and links. */
  function assertNothingLinked(login: string, before: { events: number; links: number }) {
    assert.deepEqual(
      linkCalls.slice(before.links).filter((c) => c.key === `google:${login}`),
      [],
      'accounts.link was not called',
    );
    assert.deepEqual(events.slice(before.events), [], 'nothing was linked, nobody signed in');
  }

  const mark = () => ({ events: events.length, links: linkCalls.length });

  /**
   * "Continue with Google" on the app's login page in a fresh browser, as `login`: the account
   * the sign-in resolved to (what `account.federated` said), or the page it stopped at.
   */
  async function signInWithGoogle(login: string): Promise<string | Page> {
    const browser = new Browser();
    const url = await dcrAuthorizationUrl(reg, oidc.randomPKCECodeVerifier());
    const page = await open(browser, url.href);
    const button = formOf(page.html, page.url, '/federated/google');
    const pressed = await browser.postForm(button.action, button.hidden);
    const response = await google.authorize(browser, pressed.headers.get('location') as string, {
      login,
    });
    const before = events.length;
    let res = await deliver(browser, response);
    for (let step = 0; step < 5; step += 1) {
      const followed = await browser.follow(res);
      if (followed.location) {
        const signedInAs = events.slice(before).find((e) => e.name === 'account.federated');
        return signedInAs?.event.accountId ?? assert.fail('no account.federated event');
      }
      const html = await followed.response.text();
      const allow = formsOf(html, followed.url).find((f) => f.action.endsWith('/confirm'));
      if (!allow) return { status: followed.response.status, html, url: followed.url };
      res = await browser.postForm(allow.action, allow.hidden);
    }
    throw new Error('too many pages');
  }

  describe('the page', () => {
    it('without a session says to sign in through the app, like the other account pages', async () => {
      const page = await open(new Browser(), linksUrl());
      assert.equal(page.status, 401);
      assert.match(page.html, /You are not signed in/);
      assert.equal(linkButton(page), undefined);
    });

    it('is in the account pages\' navigation, and offers "Link your Google account" after a sign-in moments ago', async () => {
      const browser = await signedIn();
      const devices = await open(browser, `${server.issuer}/account/devices`);
      assert.match(devices.html, /<a href="\/account\/links">Linked accounts<\/a>/);
      const page = await open(browser, linksUrl());
      assert.equal(page.status, 200);
      assert.match(page.html, /<h1>Linked accounts<\/h1>/);
      assert.match(page.html, /<a href="\/account\/links" aria-current="page">Linked accounts/);
      const button = linkButton(page);
      assert.ok(button?.hidden.csrf, 'a POST form with the CSRF field');
      assert.equal(button?.method, 'post');
      assert.match(page.html, />Link your Google account<\/button>/);
      assert.doesNotMatch(page.html, /name="password"/, 'no password asked when fresh');
    });

    it('a press without the CSRF token is refused and starts nothing (control: with it)', async () => {
      const browser = await signedIn();
      const page = await open(browser, linksUrl());
      const button = linkButton(page);
      assert.ok(button);
      const forged = await browser.postForm(button.action, { csrf: 'forged' });
      assert.equal(forged.status, 403);
      assert.equal(forged.headers.get('location'), null);
      const genuine = await browser.postForm(button.action, button.hidden);
      assert.equal(genuine.status, 303);
    });
  });

  describe('linking from a fresh session', () => {
    it('control: Link your Google account → Google → the question → Link: linked, and the identity signs in as the account from a fresh browser', async () => {
      const browser = await signedIn();
      const before = mark();
      const federatedBefore = federatedCalls.length;
      const upstreamUrl = await pressLink(browser, server.issuer);
      // The code flow with PKCE S256 and a nonce, to the one registered redirect URI.
      assert.equal(upstreamUrl.searchParams.get('code_challenge_method'), 'S256');
      assert.ok(upstreamUrl.searchParams.get('code_challenge'));
      assert.ok(upstreamUrl.searchParams.get('nonce'));
      assert.match(upstreamUrl.searchParams.get('state') ?? '', /^account\.link\.[\w-]{43}$/);
      assert.equal(
        upstreamUrl.searchParams.get('redirect_uri'),
        `${server.issuer}/federation/callback/google`,
      );
      const response = await google.authorize(browser, upstreamUrl.href, { login: 'g-link-me' });
      const offered = linkPageOf(await pageAfter(browser, await deliver(browser, response)));
      assert.match(
        offered.page.html,
        /Link your Google account <strong>g-link-me@example\.test<\/strong> to <strong>demouser@example\.com<\/strong>\?/,
      );
      assert.ok(offered.link.hidden.csrf && offered.link.hidden.offer);
      assertNothingLinked('g-link-me', before);
      assert.equal(federatedCalls.length, federatedBefore, 'accounts.federated is never asked');

      const linked = await browser.postForm(offered.link.action, offered.link.hidden);
      assert.equal(linked.status, 303);
      assert.equal(linked.headers.get('location'), '/account/links?done=linked&provider=google');
      const after = await pageAfter(browser, linked);
      assert.match(after.html, /role="status">Linked\. You can now sign in with Google\./);
      assert.deepEqual(linkCalls.slice(before.links), [
        { key: 'google:g-link-me', accountId: 'demouser', result: undefined },
      ]);
      assert.deepEqual(events.slice(before.events), [
        {
          name: 'account.linked',
          event: {
            provider: 'google',
            subject: 'g-link-me',
            accountId: 'demouser',
            via: 'browser',
          },
        },
      ]);
      // Linked for good: a fresh browser's "Continue with Google" signs in as demouser.
      assert.equal(await signInWithGoogle('g-link-me'), 'demouser');
    });

    it('Cancel links nothing and goes back to the page; its offer is gone (a later Link is refused)', async () => {
      const browser = await signedIn();
      const before = mark();
      const offered = linkPageOf((await linkGoogle(browser, 'g-cancelled')).page);
      const cancelled = await browser.postForm(offered.cancel.action, offered.cancel.hidden);
      assert.equal(cancelled.status, 303);
      assert.equal(cancelled.headers.get('location'), '/account/links');
      const late = await browser.postForm(offered.link.action, offered.link.hidden);
      assert.equal(late.status, 400);
      assert.match(await late.text(), /expired or was already answered\. Nothing was linked/);
      assertNothingLinked('g-cancelled', before);
    });
  });

  describe('failures', () => {
    it('a store that cannot keep the offer: 503, said plainly, nothing linked (control: the question once it can)', async () => {
      const browser = await signedIn();
      const before = mark();
      store.down = true;
      let down: Page;
      try {
        down = (await linkGoogle(browser, 'g-store-down')).page;
      } finally {
        store.down = false;
      }
      assert.equal(down.status, 503);
      assert.doesNotMatch(down.html, /unreachable|at .*\.(ts|js):\d+/);
      assertNothingLinked('g-store-down', before);
      linkPageOf((await linkGoogle(browser, 'g-store-down')).page);
    });

    it('the user cancels at Google: the page again with a plain message, nothing linked', async () => {
      const browser = await signedIn();
      const before = mark();
      const upstreamUrl = await pressLink(browser, server.issuer);
      const response = await google.authorize(browser, upstreamUrl.href, {
        login: 'g-denied',
        deny: true,
      });
      const page = await pageAfter(browser, await deliver(browser, response));
      assert.equal(page.status, 400);
      assert.match(page.html, /Signing in with Google was cancelled or refused/);
      assert.ok(linkButton(page), 'the buttons again');
      assertNothingLinked('g-denied', before);
    });
  });

  describe("linking needs a fresh sign-in of the session's account", () => {
    it('attack: a sign-in older than linking.maxAge offers no button and cannot start a link; the password form is asked instead', async () => {
      const browser = await signedIn();
      const before = mark();
      const fresh = await open(browser, linksUrl());
      const button = linkButton(fresh);
      assert.ok(button);
      await ageSignIn(browser, MAX_AGE + 1);
      const page = await open(browser, linksUrl());
      assert.equal(page.status, 200);
      assert.equal(linkButton(page), undefined, 'no button');
      assert.match(page.html, /enter your password first\. You then have 5 minutes to link/);
      formOf(page.html, page.url, '/account/links/reauthenticate');
      // The form of moments ago, posted now: refused, nothing started at Google.
      const pressed = await browser.postForm(button.action, button.hidden);
      assert.equal(pressed.status, 403);
      assert.equal(pressed.headers.get('location'), null);
      assert.match(await pressed.text(), /name="password"/);
      assertNothingLinked('g-stale', before);
    });

    it("attack: a wrong password, or ANOTHER account's right one, is refused; control: the account's own password lets it link", async () => {
      const browser = await signedIn();
      await ageSignIn(browser, MAX_AGE + 1);
      const page = await open(browser, linksUrl());
      const form = formOf(page.html, page.url, '/account/links/reauthenticate');
      const attempt = (username: string, password: string) =>
        browser.postForm(form.action, { ...form.hidden, username, password });

      const wrong = await attempt('demouser', 'not-the-password');
      assert.equal(wrong.status, 401);
      const wrongHtml = await wrong.text();
      assert.match(wrongHtml, /Wrong username or password for this account\./);
      assert.match(wrongHtml, /value="demouser"/, 'the username is kept');
      assert.doesNotMatch(wrongHtml, /\/account\/links\/start\/google/);

      const other = await attempt('otheruser', 'Password2');
      assert.equal(other.status, 401, "another account's password proves nothing here");
      assert.doesNotMatch(await other.text(), /\/account\/links\/start\/google/);
      assert.equal(linkButton(await open(browser, linksUrl())), undefined);

      const right = await attempt('demouser', 'Password1');
      assert.equal(right.status, 303);
      assert.equal(right.headers.get('location'), '/account/links?done=confirmed');
      const confirmed = await pageAfter(browser, right);
      assert.match(confirmed.html, /You can link an account now\./);
      assert.ok(linkButton(confirmed), 'the button, now');

      const before = mark();
      const offered = linkPageOf((await linkGoogle(browser, 'g-after-password')).page);
      const linked = await browser.postForm(offered.link.action, offered.link.hidden);
      assert.equal(linked.status, 303);
      assert.deepEqual(linkCalls.slice(before.links), [
        { key: 'google:g-after-password', accountId: 'demouser', result: undefined },
      ]);
    });

    it("the password confirmation is this session's only, and lasts linking.maxAge", async () => {
      const browser = await signedIn();
      const sessionUid = await ageSignIn(browser, MAX_AGE + 1);
      const page = await open(browser, linksUrl());
      const form = formOf(page.html, page.url, '/account/links/reauthenticate');
      const right = await browser.postForm(form.action, {
        ...form.hidden,
        username: 'demouser',
        password: 'Password1',
      });
      assert.equal(right.status, 303);
      // Another browser of the same account, its sign-in as old: still asked.
      const elsewhere = await signedIn();
      await ageSignIn(elsewhere, MAX_AGE + 1);
      assert.equal(linkButton(await open(elsewhere, linksUrl())), undefined);
      // The confirmation, moved past linking.maxAge: asked again.
      const records = store.adapter('AccountReauthentication');
      const record = await records.find(sessionUid);
      assert.equal(record?.accountId, 'demouser');
      await records.upsert(sessionUid, { ...record, at: (record?.at as number) - MAX_AGE - 1 }, 60);
      assert.equal(linkButton(await open(browser, linksUrl())), undefined);
    });

    it('attack: failed passwords count in the sign-in throttle: the next try is refused (429) even with the right password, here and on the login page', async () => {
      const browser = await signedIn(THIRD_USER.username, THIRD_USER.password);
      await ageSignIn(browser, MAX_AGE + 1);
      const page = await open(browser, linksUrl());
      const form = formOf(page.html, page.url, '/account/links/reauthenticate');
      const attempt = (password: string) =>
        browser.postForm(form.action, { ...form.hidden, username: THIRD_USER.username, password });
      for (let i = 0; i < 3; i += 1) assert.equal((await attempt(`guess-${i}`)).status, 401);
      const before = throttled.length;
      const refused = await attempt(THIRD_USER.password);
      assert.equal(refused.status, 429);
      assert.ok(Number(refused.headers.get('retry-after')) > 0);
      assert.match(await refused.text(), /Too many failed sign-in attempts/);
      assert.equal(throttled.length, before + 1, 'signin.throttled was emitted');
      assert.equal(linkButton(await open(browser, linksUrl())), undefined, 'still not confirmed');
      // The same budget as the login page's: signing in with the password is paused too.
      await assert.rejects(obtainDcrToken(reg, new Browser(), THIRD_USER), /with 429/);
    });
  });

  describe("the state and the confirmation are this session's, once (RFC 6749 §10.12)", () => {
    it('attack: a replayed callback is refused (control: its first use brings the question)', async () => {
      const browser = await signedIn();
      const before = mark();
      const { response, page } = await linkGoogle(browser, 'g-replayed-state');
      linkPageOf(page);
      const replayed = await pageAfter(browser, await deliver(browser, response));
      assert.equal(replayed.status, 400);
      assert.match(replayed.html, /could not be completed/);
      assert.equal(
        formsOf(replayed.html, replayed.url).some((f) => f.action.endsWith('/link')),
        false,
      );
      assertNothingLinked('g-replayed-state', before);
    });

    it("attack: the callback used from another browser (another account's session, or none) is refused and used up", async () => {
      const victim = await signedIn();
      const attacker = await signedIn('otheruser', 'Password2');
      const before = mark();
      const upstreamUrl = await pressLink(victim, server.issuer);
      const response = await google.authorize(victim, upstreamUrl.href, { login: 'g-stolen' });
      const other = await pageAfter(attacker, await deliver(attacker, response));
      assert.equal(other.status, 400);
      assert.match(other.html, /could not be completed/);
      const stranger = new Browser();
      const none = await pageAfter(stranger, await deliver(stranger, response));
      assert.notEqual(none.status, 200);
      // Used up: worthless in its own browser now.
      const own = await pageAfter(victim, await deliver(victim, response));
      assert.equal(own.status, 400);
      assertNothingLinked('g-stolen', before);

      // Control: without the detour, the same steps bring the question.
      const url = await pressLink(victim, server.issuer);
      const fine = await google.authorize(victim, url.href, { login: 'g-stolen' });
      linkPageOf(await pageAfter(victim, await deliver(victim, fine)));
    });

    it('attack: the confirmation with a bad CSRF token, from another session, or twice links once only (control: the genuine one links)', async () => {
      const browser = await signedIn();
      const attacker = await signedIn('otheruser', 'Password2');
      const before = mark();
      const { link } = linkPageOf((await linkGoogle(browser, 'g-confirm-once')).page);

      const forged = await browser.postForm(link.action, { ...link.hidden, csrf: 'forged' });
      assert.equal(forged.status, 403);
      // The attacker's own page gives a valid CSRF token for the attacker's session.
      const attackerPage = await open(attacker, linksUrl());
      const attackerCsrf = linkButton(attackerPage)?.hidden.csrf ?? '';
      const foreign = await attacker.postForm(link.action, {
        csrf: attackerCsrf,
        offer: link.hidden.offer ?? '',
      });
      assert.equal(foreign.status, 400);
      assert.match(await foreign.text(), /expired or was already answered/);
      const withVictimsToken = await attacker.postForm(link.action, link.hidden);
      assert.equal(withVictimsToken.status, 403, "the victim's CSRF token is not the attacker's");
      assertNothingLinked('g-confirm-once', before);

      const genuine = await browser.postForm(link.action, link.hidden);
      assert.equal(genuine.status, 303);
      const twice = await browser.postForm(link.action, link.hidden);
      assert.equal(twice.status, 400);
      assert.deepEqual(
        linkCalls.slice(before.links).map((c) => [c.key, c.accountId]),
        [['google:g-confirm-once', 'demouser']],
      );
      assert.equal(
        events.slice(before.events).filter((e) => e.name === 'account.linked').length,
        1,
      );
    });

    it('a response posted back (form_post, as Apple sends it) reaches the account page through the one redirect URI', async () => {
      const browser = await signedIn();
      const upstreamUrl = await pressLink(browser, server.issuer);
      const response = await google.authorize(browser, upstreamUrl.href, { login: 'g-posted' });
      assert.equal(response.method, 'GET');
      const back = new URL(response.url);
      const posted = await browser.postForm(
        `${back.origin}${back.pathname}`,
        Object.fromEntries(back.searchParams),
      );
      assert.equal(posted.status, 303);
      const location = new URL(posted.headers.get('location') as string, server.issuer);
      assert.equal(location.pathname, '/account/links/callback/google');
      linkPageOf(await pageAfter(browser, posted));
    });

    it('attack: a callback without a state, with a made-up one, or with an interaction-shaped one shows a plain refusal', async () => {
      const browser = await signedIn();
      const before = mark();
      for (const query of [
        'code=abc',
        `state=account.link.${'A'.repeat(43)}&code=abc`,
        `state=someinteraction.${'A'.repeat(43)}&code=abc`,
        `state=account.link.${'A'.repeat(43)}&code=${'x'.repeat(5000)}`,
      ]) {
        const page = await open(browser, `${server.issuer}/account/links/callback/google?${query}`);
        assert.equal(page.status, 400, query.slice(0, 40));
        assert.match(page.html, /could not be completed/);
        assert.doesNotMatch(page.html, /Error\b|\bat \S+ \(/);
      }
      const unknown = await open(browser, `${server.issuer}/account/links/callback/nope?code=abc`);
      assert.equal(unknown.status, 404);
      assertNothingLinked('g-none', before);
    });

    it('attack: a confirmation after the sign-in went stale links nothing', async () => {
      const browser = await signedIn();
      const before = mark();
      const { link } = linkPageOf((await linkGoogle(browser, 'g-went-stale')).page);
      await ageSignIn(browser, MAX_AGE + 1);
      const late = await browser.postForm(link.action, link.hidden);
      assert.equal(late.status, 403);
      assert.match(await late.text(), /Nothing was linked/);
      assertNothingLinked('g-went-stale', before);
    });
  });

  describe('an identity linked to another account', () => {
    it('attack: cannot be linked to this one (a clear refusal, nothing linked, nobody signed in here), and keeps signing in as its own account', async () => {
      // Someone signed up with this Google account: the example gives it an account of its own.
      const owner = await signInWithGoogle('g-taken');
      assert.equal(typeof owner, 'string');
      assert.notEqual(owner, 'demouser');

      const browser = await signedIn();
      const before = mark();
      const federatedBefore = federatedCalls.length;
      const { link } = linkPageOf((await linkGoogle(browser, 'g-taken')).page);
      const refused = await browser.postForm(link.action, link.hidden);
      assert.equal(refused.status, 409);
      const html = await refused.text();
      assert.match(
        html,
        /This Google account is already linked to another account\. Nothing was linked/,
      );
      assert.deepEqual(linkCalls.slice(before.links), [
        { key: 'google:g-taken', accountId: 'demouser', result: false },
      ]);
      assert.deepEqual(events.slice(before.events), [], 'no account.linked, no sign-in');
      assert.equal(federatedCalls.length, federatedBefore, 'accounts.federated never asked');
      // Still the other account's, never demouser's.
      assert.equal(await signInWithGoogle('g-taken'), owner);
    });

    it('control: linking an identity again to its own account is fine (idempotent)', async () => {
      const browser = await signedIn();
      const { link } = linkPageOf((await linkGoogle(browser, 'g-link-me')).page);
      const again = await browser.postForm(link.action, link.hidden);
      assert.equal(again.status, 303);
      assert.equal(await signInWithGoogle('g-link-me'), 'demouser');
    });
  });
});
