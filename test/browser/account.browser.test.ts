// The account pages and passkeys in a real browser (headless Chromium), issue #18: a user signed
// in with a password adds a passkey on `/account/passkeys` (the page's own script runs the
// WebAuthn ceremony against a virtual authenticator), then signs in with it on another browser,
// with the "Sign in with a passkey" button and with autofill; revokes an app install on
// `/account/devices`; and sees the login page in German. Every page is checked at desktop width
// and on a 390 px phone for serious or critical axe-core violations, sideways scrolling, touch
// targets under 44 CSS px and CSP refusals; elements are found by accessible role and name.
//
// The server runs at `http://localhost:<port>`: Chromium refuses an IP address as a WebAuthn RP
// ID, and the RP ID is the issuer's host.
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import * as oidc from 'openid-client';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import {
  addVirtualAuthenticator,
  appRedirect,
  buttonSizes,
  documentWidth,
  seriousAxeViolations,
  useChromium,
  type Viewport,
  type VirtualAuthenticator,
} from '../helpers/chromium.js';
import { APP_REDIRECT_URI, type RunningServer, registrationClient } from '../helpers/example.js';
import { startWithPasskeys } from '../helpers/passkeys.js';
import {
  codeForInstance,
  dcrAuthorizationUrl,
  registerInstance,
  SignInBrowser,
} from '../helpers/sign-in.js';

const chromium = useChromium();

/** WCAG 2.5.5 (target size, enhanced) and Apple's guidelines: 44 CSS px. */
const MIN_TARGET = 44;
/** A whole flow in the browser; generous for a loaded 2-core CI machine, but bounded. */
const FLOW_TIMEOUT = 120_000;

let server: RunningServer;
let client: oidc.Configuration;
before(async () => {
  server = await startWithPasskeys((o) => ({
    ...o,
    issuer: o.issuer.replace('//127.0.0.1:', '//localhost:'),
  }));
  client = await registrationClient(server.issuer);
});
after(() => server.close());

/** A page and the CSP refusals its console reports. */
interface WatchedPage {
  page: Page;
  refused: string[];
}

/** Records the CSP refusals `page` reports. */
function watch(page: Page): WatchedPage {
  const refused: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) refused.push(message.text());
  });
  return { page, refused };
}

/** A page in a new context of its own (no cookies, no authenticator) at `viewport`. */
async function freshPage(viewport: Viewport): Promise<WatchedPage> {
  return watch(await chromium.newPage({ viewport }));
}

/** Another page in `context`: the same cookies, so the same signed-in session. */
async function pageIn(context: BrowserContext): Promise<WatchedPage> {
  return watch(await context.newPage());
}

/**
 * The checks every page gets, each a subtest so one failing hides none of the others: axe-core,
 * the page's width, its buttons' heights, and its CSP.
 */
async function checkPage(t: TestContext, { page, refused }: WatchedPage, name: string) {
  await t.test(`${name}: no serious or critical axe-core violations`, async () => {
    assert.deepEqual(await seriousAxeViolations(page), []);
  });
  await t.test(`${name}: no horizontal scrolling`, async () => {
    const { scrollWidth, innerWidth } = await documentWidth(page);
    assert.ok(scrollWidth <= innerWidth, `the page is ${scrollWidth} px wide in ${innerWidth} px`);
  });
  await t.test(`${name}: every button at least ${MIN_TARGET} px tall`, async () => {
    const small = (await buttonSizes(page))
      .filter((b) => b.height < MIN_TARGET)
      .map((b) => `"${b.name}" is ${b.height.toFixed(1)} px tall`);
    assert.deepEqual(small, []);
  });
  await t.test(`${name}: nothing refused by the page's CSP`, () => {
    // Taken, so that the next page's check reports that page's refusals only.
    assert.deepEqual(refused.splice(0), []);
  });
}

/** A DCR authorization request (with `extra` parameters) opened in `page`; resolves its verifier. */
async function openAuthorization(page: Page, extra: Record<string, string> = {}): Promise<string> {
  const verifier = oidc.randomPKCECodeVerifier();
  const url = await dcrAuthorizationUrl(client, verifier);
  for (const [name, value] of Object.entries(extra)) url.searchParams.set(name, value);
  await page.goto(url.href);
  return verifier;
}

/** Allows on the consent page and resolves the app's callback once the browser is sent there. */
async function allowAndCapture(page: Page, allowLabel = 'Allow'): Promise<URL> {
  const allow = page.getByRole('button', { name: allowLabel, exact: true });
  await allow.waitFor();
  const callback = await appRedirect(page, APP_REDIRECT_URI, () => allow.click());
  assert.equal(`${callback.protocol}${callback.pathname}`, APP_REDIRECT_URI);
  assert.equal(callback.searchParams.get('error'), null, callback.href);
  return callback;
}

/** The code of `callback` exchanged with its PKCE verifier: the DCR token response. */
function exchange(callback: URL, verifier: string) {
  return oidc.authorizationCodeGrant(client, callback, { pkceCodeVerifier: verifier });
}

/** The account an access token was issued for, as the server introspects it. */
async function accountOf(accessToken: string): Promise<unknown> {
  const introspected = await server.auth.introspect(accessToken);
  assert.equal(introspected.active, true);
  return introspected.sub;
}

/**
 * A user signed in with a password in a new context at `viewport`, through a DCR authorization
 * request allowed on the consent page. The page that saw the app redirect is left alone: open
 * the next page in the same context (it keeps the session cookie).
 */
async function signedInWithPassword(viewport: Viewport) {
  const { page } = await freshPage(viewport);
  const verifier = await openAuthorization(page);
  await page.getByLabel('Username').fill('demouser');
  await page.getByLabel('Password', { exact: true }).fill('Password1');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  const tokens = await exchange(await allowAndCapture(page), verifier);
  assert.equal(tokens.scope, 'dcr');
  return { context: page.context(), tokens };
}

/**
 * A copy of `from`'s one passkey put into `to`, private key and signature counter included (the
 * counter as last used: a lower one would be refused as a cloned authenticator's).
 */
async function copyPasskey(from: VirtualAuthenticator, to: VirtualAuthenticator) {
  const { credentials } = await from.cdp.send('WebAuthn.getCredentials', {
    authenticatorId: from.id,
  });
  const [credential] = credentials;
  assert.ok(credential && credentials.length === 1, 'one passkey to copy');
  await to.cdp.send('WebAuthn.addCredential', { authenticatorId: to.id, credential });
}

/** The text of the element `locator` finds, trimmed. */
async function textOf(locator: Locator): Promise<string> {
  return ((await locator.textContent()) ?? '').trim();
}

/** Whether `error` is a token endpoint's `invalid_client` (RFC 6749 §5.2). */
const isInvalidClient = (error: unknown) =>
  (error instanceof oidc.ResponseBodyError && error.error === 'invalid_client') ||
  (error instanceof oidc.WWWAuthenticateChallengeError &&
    error.cause.some((c) => c.parameters.error === 'invalid_client'));

for (const viewport of ['desktop', 'phone'] as const) {
  const at = viewport === 'phone' ? 'on a 390 px phone' : 'at desktop width';

  describe(`account pages in Chromium, ${at}`, () => {
    it('adds a passkey on the passkey page, then signs in with it: the button, then autofill', {
      timeout: FLOW_TIMEOUT,
    }, async (t) => {
      const passkeyName = `Test key (${viewport})`;
      const { context } = await signedInWithPassword(viewport);

      // The passkey page of the signed-in browser, its script running the ceremony.
      const account = await pageIn(context);
      const firstKey = await addVirtualAuthenticator(account.page);
      await account.page.goto(`${server.issuer}/account/passkeys`);
      const add = account.page.getByRole('button', { name: 'Add a passkey', exact: true });
      await add.waitFor(); // shown by the page's nonce'd script where WebAuthn works
      assert.equal(await account.page.locator('html').getAttribute('lang'), 'en');
      await checkPage(t, account, 'passkey page');

      await account.page.getByLabel('Name (optional)').fill(passkeyName);
      await add.click();
      await account.page.waitForURL(/\/account\/passkeys\?done=added$/);
      assert.equal(await textOf(account.page.getByRole('status')), 'The passkey was added.');
      const item = account.page.getByRole('listitem').filter({ hasText: passkeyName });
      assert.equal(await item.count(), 1, 'the new passkey is listed');
      assert.match(await textOf(item), /Added .+ UTC/);
      assert.match(await textOf(item), /Not used yet/);
      await item.getByRole('button', { name: `Remove ${passkeyName}`, exact: true }).waitFor();
      const made = await firstKey.credentials();
      assert.deepEqual(
        made.map(({ rpId, isResidentCredential }) => ({ rpId, isResidentCredential })),
        [{ rpId: 'localhost', isResidentCredential: true }],
        'a discoverable credential for the issuer’s host',
      );
      assert.deepEqual(
        (await server.auth.passkeys.list('demouser'))
          .filter((p) => p.name === passkeyName)
          .map((p) => p.id),
        [Buffer.from(made[0]?.credentialId ?? '', 'base64').toString('base64url')],
        'stored for the account under the authenticator’s credential id',
      );
      await checkPage(t, account, 'passkey page with a passkey');

      // Another browser (no session) holding the same passkey signs in with the button. The
      // passkey is put in after the page has loaded, so the page's autofill request, already
      // pending without it, does not answer: the button's request does.
      const second = await freshPage(viewport);
      const secondKey = await addVirtualAuthenticator(second.page);
      const buttonVerifier = await openAuthorization(second.page);
      const passkeyButton = second.page.getByRole('button', {
        name: 'Sign in with a passkey',
        exact: true,
      });
      await passkeyButton.waitFor(); // shown by the page's script where WebAuthn works
      await checkPage(t, second, 'login page with the passkey button');
      const posted: string[] = [];
      second.page.on('request', (r) => {
        if (r.method() === 'POST') posted.push(new URL(r.url()).pathname);
      });
      await copyPasskey(firstKey, secondKey);
      assert.deepEqual(posted, [], 'nothing posted before the button is pressed');
      await passkeyButton.click();
      const byButton = await exchange(await allowAndCapture(second.page), buttonVerifier);
      assert.ok(
        posted.some((path) => /^\/interaction\/[^/]+\/passkey$/.test(path)),
        `the passkey was posted to the interaction, posted ${JSON.stringify(posted)}`,
      );
      assert.equal(byButton.scope, 'dcr');
      assert.equal(await accountOf(byButton.access_token), 'demouser');
      await t.test('second browser: nothing refused by the CSP through consent', () => {
        assert.deepEqual(second.refused.splice(0), []);
      });

      // A third browser, the passkey in it from the start (its counter as last used): autofill (conditional mediation)
      // answers as the login page loads, and the sign-in goes on with no click.
      const third = await freshPage(viewport);
      const thirdKey = await addVirtualAuthenticator(third.page);
      await copyPasskey(secondKey, thirdKey);
      const autofilled = third.page.waitForRequest(
        (r) => r.method() === 'POST' && /\/interaction\/[^/]+\/passkey$/.test(r.url()),
      );
      const autofillVerifier = await openAuthorization(third.page);
      await autofilled;
      const byAutofill = await exchange(await allowAndCapture(third.page), autofillVerifier);
      assert.equal(await accountOf(byAutofill.access_token), 'demouser');
      await t.test('third browser: nothing refused by the CSP through consent', () => {
        assert.deepEqual(third.refused.splice(0), []);
      });

      // Back on the passkey page: last used now, then removed with its button.
      await account.page.reload();
      assert.match(await textOf(item), /Last used .+ UTC/);
      await item.getByRole('button', { name: `Remove ${passkeyName}`, exact: true }).click();
      await account.page.waitForURL(/\/account\/passkeys\?done=removed$/);
      assert.match(await textOf(account.page.getByRole('status')), /passkey was removed/);
      assert.equal(await item.count(), 0, 'no longer listed');
      await t.test('the passkey page: nothing refused by the CSP after adding and removing', () => {
        assert.deepEqual(account.refused.splice(0), []);
      });
    });

    it('lists an install on the device page and revokes it: it can no longer authenticate', {
      timeout: FLOW_TIMEOUT,
    }, async (t) => {
      const installName = `Test phone (${viewport})`;
      const { context, tokens: dcr } = await signedInWithPassword(viewport);
      // The app registers its install with the DCR token, and signs in with it (over HTTP).
      const instance = await registerInstance(server.issuer, dcr.access_token, {
        client_name: installName,
      });
      const { client_id: clientId } = instance.clientMetadata();
      const { callback, checks } = await codeForInstance(new SignInBrowser(), instance);
      let { refresh_token: refreshToken } = await oidc.authorizationCodeGrant(
        instance,
        callback,
        checks,
      );
      assert.ok(refreshToken);
      // The control: until it is revoked, the install authenticates at the token endpoint.
      ({ refresh_token: refreshToken } = await oidc.refreshTokenGrant(instance, refreshToken));
      assert.ok(refreshToken);

      const devices = await pageIn(context);
      await devices.page.goto(`${server.issuer}/account/devices`);
      await devices.page.getByRole('heading', { name: 'Your devices' }).waitFor();
      const item = devices.page.getByRole('listitem').filter({ hasText: installName });
      assert.equal(await item.count(), 1, 'the install is listed');
      assert.match(await textOf(item), /Registered .+ UTC/);
      assert.match(await textOf(item), /Last used .+ UTC/);
      assert.match(await textOf(item), /Registered when you signed in/);
      const revoke = item.getByRole('button', { name: `Revoke ${installName}`, exact: true });
      await revoke.waitFor();
      await checkPage(t, devices, 'device page');

      await revoke.click();
      await devices.page.waitForURL(/\/account\/devices\?done=revoked$/);
      assert.match(await textOf(devices.page.getByRole('status')), /The install was revoked/);
      assert.match(await textOf(item), /Revoked .+ UTC/);
      assert.equal(await revoke.count(), 0, 'no revoke button on a revoked install');
      assert.equal((await server.auth.devices.get(clientId))?.status, 'revoked');
      await checkPage(t, devices, 'device page after revoking');

      await assert.rejects(oidc.refreshTokenGrant(instance, refreshToken), isInvalidClient);
    });

    it('shows the login page in German for ui_locales=de, through to the consent page', {
      timeout: FLOW_TIMEOUT,
    }, async (t) => {
      const login = await freshPage(viewport);
      const verifier = await openAuthorization(login.page, { ui_locales: 'de' });
      await login.page
        .getByRole('button', { name: 'Mit einem Passkey anmelden', exact: true })
        .waitFor();
      assert.equal(await login.page.locator('html').getAttribute('lang'), 'de');
      await login.page.getByRole('heading', { name: 'Anmelden' }).waitFor();
      await checkPage(t, login, 'German login page');

      await login.page.getByLabel('Benutzername').fill('demouser');
      await login.page.getByLabel('Passwort', { exact: true }).fill('Password1');
      await login.page.getByRole('button', { name: 'Anmelden', exact: true }).click();
      await login.page.getByRole('heading', { name: 'Zugriff erlauben?' }).waitFor();
      assert.equal(await login.page.locator('html').getAttribute('lang'), 'de');
      const tokens = await exchange(await allowAndCapture(login.page, 'Erlauben'), verifier);
      assert.equal(await accountOf(tokens.access_token), 'demouser');
      await t.test('German pages: nothing refused by the CSP', () => {
        assert.deepEqual(login.refused.splice(0), []);
      });
    });
  });
}
