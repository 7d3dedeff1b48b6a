// "Continue with Google" in a real browser (headless Chromium): the sign-in page's button leads to
// a real upstream OpenID provider (a second oidc-provider on loopback, its own login and consent
// pages), back through the callback, and the sign-in finishes as with a password: the app gets a
// DCR token for the account the identity is linked to. An unknown identity on a browser whose
// user signed in moments ago brings the link page (#25): it passes axe, and Link links. So does
// the linked accounts page (/account/links), with its password form once the sign-in is older.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MemoryStore } from 'mobile-oidc-provider';
import * as oidc from 'openid-client';
import type { Page } from 'playwright-core';
import {
  appRedirect,
  buttonSizes,
  documentWidth,
  seriousAxeViolations,
  useChromium,
} from '../helpers/chromium.js';
import {
  APP_REDIRECT_URI,
  type RunningServer,
  registrationClient,
  startExample,
} from '../helpers/example.js';
import { dcrAuthorizationUrl } from '../helpers/sign-in.js';
import { callbackClient, startUpstreamIdp, type UpstreamIdp } from '../helpers/upstream-idp.js';

const chromium = useChromium();
const GOOGLE_CLIENT_ID = 'browser-test.apps.googleusercontent.example';
const GOOGLE_CLIENT_SECRET = 'browser-test-upstream-secret-0123456789';

describe('Continue with Google, in Chromium', () => {
  let google: UpstreamIdp;
  let server: RunningServer;
  let client: oidc.Configuration;
  const seen: string[] = [];
  const linked = new Map<string, string>();
  const store = new MemoryStore();

  before(async () => {
    google = await startUpstreamIdp({ quirks: 'google' });
    server = await startExample((o) => ({
      ...o,
      store,
      accounts: {
        ...o.accounts,
        async federated(identity) {
          seen.push(identity.subject);
          return identity.subject === 'g-demo' ? 'demouser' : linked.get(identity.subject);
        },
        async link(identity, accountId) {
          linked.set(identity.subject, accountId);
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
        ],
      },
    }));
    google.setClients([
      callbackClient(server.issuer, 'google', GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET),
    ]);
    client = await registrationClient(server.issuer);
  });
  after(async () => {
    await server.close();
    await store.close();
    await google.close();
  });

  /** Signs in at the upstream's own pages (oidc-provider's development login and consent). */
  async function signInUpstream(page: import('playwright-core').Page, login: string) {
    await page.locator('input[name="login"]').fill(login);
    await page.locator('input[name="password"]').fill('any password');
    await page.locator('button[type="submit"]').click();
    await page.waitForLoadState();
    const consent = page.locator('button[type="submit"]', { hasText: /continue/i });
    if (await consent.count()) await consent.click();
  }

  it('the button leads to the provider and back; the app gets a DCR token for the linked account', async () => {
    const page = await chromium.newPage({ viewport: 'phone' });
    const verifier = oidc.randomPKCECodeVerifier();
    await page.goto((await dcrAuthorizationUrl(client, verifier)).href);
    const button = page.getByRole('button', { name: 'Continue with Google' });
    await button.waitFor();
    assert.deepEqual(await seriousAxeViolations(page), []);

    await button.click();
    await page.waitForURL((url) => url.href.startsWith(google.issuer));
    await signInUpstream(page, 'g-demo');
    const allow = page.getByRole('button', { name: 'Allow', exact: true });
    await allow.waitFor();
    const callback = await appRedirect(page, APP_REDIRECT_URI, () => allow.click());
    const tokens = await oidc.authorizationCodeGrant(client, callback, {
      pkceCodeVerifier: verifier,
    });
    assert.equal(tokens.scope, 'dcr');
    assert.equal(seen.at(-1), 'g-demo');
  });

  it('an identity the hook refuses comes back to the sign-in page with a message, and no code', async () => {
    const page = await chromium.newPage({ viewport: 'desktop' });
    const verifier = oidc.randomPKCECodeVerifier();
    await page.goto((await dcrAuthorizationUrl(client, verifier)).href);
    await page.getByRole('button', { name: 'Continue with Google' }).click();
    await page.waitForURL((url) => url.href.startsWith(google.issuer));
    const redirected: string[] = [];
    page.on('request', (request) => {
      if (request.url().startsWith(APP_REDIRECT_URI)) redirected.push(request.url());
    });
    await signInUpstream(page, 'g-stranger');
    await page.waitForURL((url) => url.href.startsWith(server.issuer));
    await page.getByRole('alert').waitFor();
    assert.match((await page.getByRole('alert').textContent()) ?? '', /\S/);
    assert.ok(await page.getByLabel('Username').isVisible(), 'the sign-in page again');
    assert.deepEqual(redirected, []);
    assert.equal(seen.at(-1), 'g-stranger');
  });

  it('the link page after a fresh password sign-in: passes axe, 44 px targets, no CSP refusal; Link links and signs in', async () => {
    for (const viewport of ['phone', 'desktop'] as const) {
      // As long as an Apple private relay address: it must wrap, not widen the page.
      const login = `g-link-${viewport}-q7x2k9p4m1n8b3v6`;
      const page = await chromium.newPage({ viewport });
      const refused: string[] = [];
      page.on('console', (message) => {
        if (/Content Security Policy/i.test(message.text())) refused.push(message.text());
      });
      // The app's login page in one tab; demouser signs in with the password in another.
      const verifier = oidc.randomPKCECodeVerifier();
      await page.goto((await dcrAuthorizationUrl(client, verifier)).href);
      const button = page.getByRole('button', { name: 'Continue with Google' });
      await button.waitFor();
      const tab = await page.context().newPage();
      await tab.goto((await dcrAuthorizationUrl(client, oidc.randomPKCECodeVerifier())).href);
      await tab.getByLabel('Username').fill('demouser');
      await tab.getByLabel('Password').fill('Password1');
      const signIn = tab.getByRole('button', { name: 'Sign in', exact: true });
      const tabAllow = tab.getByRole('button', { name: 'Allow', exact: true });
      await signIn.click();
      await tabAllow.waitFor();
      await tab.close();

      await button.click();
      await page.waitForURL((url) => url.href.startsWith(google.issuer));
      await signInUpstream(page, login);
      const heading = page.getByRole('heading', { level: 1 });
      await heading.waitFor();
      assert.equal(
        (await heading.textContent())?.trim(),
        `Link your Google account ${login}@example.test to demouser@example.com?`,
      );
      assert.deepEqual(await seriousAxeViolations(page), []);
      const { scrollWidth, innerWidth } = await documentWidth(page);
      assert.ok(
        scrollWidth <= innerWidth,
        `the page is ${scrollWidth} px wide in ${innerWidth} px`,
      );
      const small = (await buttonSizes(page)).filter((b) => b.height < 44);
      assert.deepEqual(small, []);
      assert.deepEqual(refused, []);
      assert.equal(linked.has(login), false, 'nothing linked before the user says so');

      await page.getByRole('button', { name: 'Link', exact: true }).click();
      const allow = page.getByRole('button', { name: 'Allow', exact: true });
      await allow.waitFor();
      const callback = await appRedirect(page, APP_REDIRECT_URI, () => allow.click());
      const tokens = await oidc.authorizationCodeGrant(client, callback, {
        pkceCodeVerifier: verifier,
      });
      assert.equal(tokens.scope, 'dcr');
      assert.equal(linked.get(login), 'demouser');
    }
  });

  /** The page passes axe, fits its width, and has no target under 44 px. */
  async function assertUsable(page: Page) {
    assert.deepEqual(await seriousAxeViolations(page), []);
    const { scrollWidth, innerWidth } = await documentWidth(page);
    assert.ok(scrollWidth <= innerWidth, `the page is ${scrollWidth} px wide in ${innerWidth} px`);
    assert.deepEqual(
      (await buttonSizes(page)).filter((b) => b.height < 44),
      [],
    );
  }

  it('the linked accounts page: the password form once the sign-in is older, then Link your Google account links (axe, 44 px targets, no CSP refusal)', async () => {
    for (const viewport of ['phone', 'desktop'] as const) {
      const login = `g-page-${viewport}`;
      const page = await chromium.newPage({ viewport });
      const refused: string[] = [];
      page.on('console', (message) => {
        if (/Content Security Policy/i.test(message.text())) refused.push(message.text());
      });
      await page.goto((await dcrAuthorizationUrl(client, oidc.randomPKCECodeVerifier())).href);
      await page.getByLabel('Username').fill('demouser');
      await page.getByLabel('Password').fill('Password1');
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('button', { name: 'Allow', exact: true }).waitFor();

      // The sign-in, moved past linking.maxAge: the page asks for the password first.
      const cookie = (await page.context().cookies(server.issuer)).find(
        (c) => c.name === '_session',
      );
      assert.ok(cookie, 'signed in');
      const sessions = store.adapter('Session');
      const session = await sessions.find(cookie.value);
      await sessions.upsert(
        cookie.value,
        { ...session, loginTs: (session?.loginTs as number) - 301 },
        3600,
      );
      await page.goto(`${server.issuer}/account/links`);
      assert.equal(
        (await page.getByRole('heading', { level: 1 }).textContent())?.trim(),
        'Linked accounts',
      );
      const linkButton = page.getByRole('button', { name: 'Link your Google account' });
      assert.equal(await linkButton.count(), 0, 'no button before the password');
      await assertUsable(page);
      await page.getByLabel('Username').fill('demouser');
      await page.getByLabel('Password').fill('Password1');
      await page.getByRole('button', { name: 'Confirm', exact: true }).click();
      await page.getByRole('status').waitFor();
      assert.match(
        (await page.getByRole('status').textContent()) ?? '',
        /You can link an account now/,
      );
      await assertUsable(page);

      await linkButton.click();
      await page.waitForURL((url) => url.href.startsWith(google.issuer));
      await signInUpstream(page, login);
      const heading = page.getByRole('heading', { level: 1 });
      await heading.waitFor();
      assert.equal(
        (await heading.textContent())?.trim(),
        `Link your Google account ${login}@example.test to demouser@example.com?`,
      );
      assert.equal(linked.has(login), false, 'nothing linked before the user says so');
      await page.getByRole('button', { name: 'Link', exact: true }).click();
      await page.waitForURL((url) => url.pathname === '/account/links');
      assert.match(
        (await page.getByRole('status').textContent()) ?? '',
        /Linked\. You can now sign in/,
      );
      await assertUsable(page);
      assert.deepEqual(refused, []);
      assert.equal(linked.get(login), 'demouser');
    }
  });
});
