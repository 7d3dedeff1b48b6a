// The sign-in pages in a real browser (headless Chromium): a DCR authorization request from the
// app's registration client, signed in with a password, at desktop width and on a phone. Every
// page is checked for serious or critical axe-core violations, sideways scrolling and touch
// targets under 44 CSS px; elements are found by accessible role and name, never by class, so
// that the checks hold through a rework of the markup.
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import * as oidc from 'openid-client';
import type { Page } from 'playwright-core';
import {
  appRedirect,
  buttonSizes,
  documentWidth,
  seriousAxeViolations,
  useChromium,
  type Viewport,
} from '../helpers/chromium.js';
import {
  APP_REDIRECT_URI,
  type RunningServer,
  registrationClient,
  startExample,
} from '../helpers/example.js';
import { dcrAuthorizationUrl } from '../helpers/sign-in.js';

const chromium = useChromium();

/** WCAG 2.5.5 (target size, enhanced) and Apple's guidelines: 44 CSS px (Android's say 48 dp). */
const MIN_TARGET = 44;

let server: RunningServer;
let client: oidc.Configuration;
before(async () => {
  server = await startExample();
  client = await registrationClient(server.issuer);
});
after(() => server.close());

/** A page at `viewport` that records what the pages' CSP refuses. */
async function signInPage(viewport: Viewport): Promise<{ page: Page; refused: string[] }> {
  const page = await chromium.newPage({ viewport });
  const refused: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) refused.push(message.text());
  });
  return { page, refused };
}

/** Opens a DCR authorization request in `page`; resolves its PKCE verifier. */
async function startSignIn(page: Page): Promise<string> {
  const verifier = oidc.randomPKCECodeVerifier();
  await page.goto((await dcrAuthorizationUrl(client, verifier)).href);
  return verifier;
}

/** Fills in the login form, submits it, and waits for the page it leads to. */
async function submitPassword(page: Page, username: string, password: string): Promise<void> {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  // The next document (after any redirects), not the form's own: it may be at the same URL.
  const next = page.waitForEvent('framenavigated', (frame) => frame === page.mainFrame());
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await next;
  await page.waitForLoadState();
}

/**
 * The checks every page gets, each a subtest of its own so that one failing neither hides the
 * others nor stops the sign-in: axe-core, the page's width, its buttons' heights, and its CSP.
 */
async function checkPage(t: TestContext, page: Page, name: string, refused: string[]) {
  await t.test(`${name}: no serious or critical axe-core violations`, async () => {
    assert.deepEqual(await seriousAxeViolations(page), []);
  });
  await t.test(`${name}: no horizontal scrolling`, async () => {
    const { scrollWidth, innerWidth } = await documentWidth(page);
    assert.ok(scrollWidth <= innerWidth, `the page is ${scrollWidth} px wide in ${innerWidth} px`);
  });
  await t.test(`${name}: every button at least ${MIN_TARGET} px tall`, async () => {
    const buttons = await buttonSizes(page);
    assert.ok(buttons.length > 0, 'the page has buttons');
    const small = buttons
      .filter((b) => b.height < MIN_TARGET)
      .map((b) => `"${b.name}" is ${b.height.toFixed(1)} px tall`);
    assert.deepEqual(small, []);
  });
  await t.test(`${name}: nothing refused by the page's CSP`, () => {
    // Taken, so that the next page's check reports that page's refusals only.
    assert.deepEqual(refused.splice(0), []);
  });
}

/**
 * The messages the page announces to assistive technology: visible, non-empty text in a live
 * region (`role=alert`, `role=status`, `aria-live` other than `off`), or the accessible
 * description or error message of a form field (`aria-describedby`, `aria-errormessage`).
 */
function announcedMessages(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(`(() => {
    const visible = (el) => !!el && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
    const live = [...document.querySelectorAll('[role=alert], [role=status], [aria-live]')]
      .filter((el) => el.getAttribute('aria-live') !== 'off');
    const described = [...document.querySelectorAll('input, select, textarea')].flatMap((field) =>
      [field.getAttribute('aria-describedby'), field.getAttribute('aria-errormessage')]
        .join(' ').split(/\\s+/).filter(Boolean).map((id) => document.getElementById(id)));
    return [...new Set([...live, ...described])]
      .filter(visible)
      .map((el) => el.innerText.trim())
      .filter(Boolean);
  })()`);
}

for (const viewport of ['desktop', 'phone'] as const) {
  describe(`sign-in in Chromium, ${viewport === 'phone' ? 'on a 390 px phone' : 'at desktop width'}`, () => {
    it('signs in with a password, allows, and the app exchanges the code for a DCR token', async (t) => {
      const { page, refused } = await signInPage(viewport);
      const verifier = await startSignIn(page);
      await page.getByLabel('Username').waitFor();
      await checkPage(t, page, 'login', refused);

      await submitPassword(page, 'demouser', 'Password1');
      const allow = page.getByRole('button', { name: 'Allow', exact: true });
      await allow.waitFor();
      await checkPage(t, page, 'consent', refused);

      const callback = await appRedirect(page, APP_REDIRECT_URI, () => allow.click());
      assert.equal(`${callback.protocol}${callback.pathname}`, APP_REDIRECT_URI);
      assert.equal(callback.searchParams.get('error'), null);
      assert.match(callback.searchParams.get('code') ?? '', /\S/);
      const tokens = await oidc.authorizationCodeGrant(client, callback, {
        pkceCodeVerifier: verifier,
      });
      assert.equal(tokens.token_type.toLowerCase(), 'bearer');
      assert.match(tokens.access_token, /\S/);
      assert.equal(tokens.scope, 'dcr');
    });

    it('wrong password: the error is shown and announced, and a retry signs in', async (t) => {
      const { page, refused } = await signInPage(viewport);
      await startSignIn(page);
      await page.getByLabel('Username').waitFor();
      const before = await announcedMessages(page);

      await submitPassword(page, 'demouser', 'not the password');
      const shown = (await announcedMessages(page)).filter((message) => !before.includes(message));
      assert.ok(
        shown.some((message) => /password/i.test(message)),
        `a visible, announced message about the password, got ${JSON.stringify(shown)}`,
      );
      assert.equal(await page.getByLabel('Username').inputValue(), 'demouser', 'username kept');
      await checkPage(t, page, 'login with an error', refused);

      await submitPassword(page, 'demouser', 'Password1');
      await page.getByRole('button', { name: 'Allow', exact: true }).waitFor();
    });

    it('Deny on the consent page ends at the app with error=access_denied', async () => {
      const { page } = await signInPage(viewport);
      await startSignIn(page);
      await submitPassword(page, 'demouser', 'Password1');
      const deny = page.getByRole('button', { name: 'Deny', exact: true });
      await deny.waitFor();
      const callback = await appRedirect(page, APP_REDIRECT_URI, () => deny.click());
      assert.equal(`${callback.protocol}${callback.pathname}`, APP_REDIRECT_URI);
      assert.equal(callback.searchParams.get('error'), 'access_denied');
      assert.equal(callback.searchParams.get('code'), null);
      assert.equal(callback.searchParams.get('iss'), server.issuer);
    });
  });
}
