// The browser's side of "Approve on your phone" on the sign-in page (issue #30), shared by the
// in-process, example-server and two-process tests: a login page from an authorization request,
// pressing the button, the waiting page, its status and continue URLs, and on to the app.
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { Browser, decodeEntities, formOf, formsOf } from './browser.js';
import { APP_REDIRECT_URI, registrationClient } from './example.js';

/** A login page reached from an authorization request (of the registration client by default). */
export interface LoginPage {
  browser: Browser;
  /** The interaction's URL (`<issuer>/interaction/<uid>`). */
  url: string;
  html: string;
  verifier: string;
  client: oidc.Configuration;
}

/** The login page of a new authorization request of `client` (scope `dcr` unless `extra` says). */
export async function loginPage(
  issuer: string,
  browser = new Browser(),
  extra: Record<string, string> = {},
  client?: oidc.Configuration,
): Promise<LoginPage> {
  client ??= await registrationClient(issuer);
  const verifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(client, {
    redirect_uri: APP_REDIRECT_URI,
    scope: 'dcr',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    ...extra,
  });
  const followed = await browser.follow(await browser.get(url));
  assert.equal(followed.response.status, 200, followed.location);
  return { browser, url: followed.url, html: await followed.response.text(), verifier, client };
}

/**
 * Presses "Approve on your phone" with `username`: the login form's button (its formaction, the
 * form's csrf), or the phone's own form when the page takes no password.
 */
export async function pressPhone(page: LoginPage, username: string): Promise<Response> {
  const own = formsOf(page.html, page.url).find((f) => f.action.endsWith('/phone'));
  const form = own ?? formOf(page.html, page.url, '/login');
  const action = own ? undefined : /formaction="([^"]+)"/.exec(page.html)?.[1];
  assert.ok(own || action, 'the login page has an "Approve on your phone" button');
  const target = action ? new URL(decodeEntities(action), page.url).href : form.action;
  return page.browser.postForm(target, {
    ...form.hidden,
    username,
    ...(own ? {} : { password: '' }),
  });
}

/** Presses it and follows to the waiting page: its HTML, binding message and CSP. */
export async function waiting(page: LoginPage, username: string) {
  const started = await pressPhone(page, username);
  assert.equal(started.status, 303);
  const followed = await page.browser.follow(started);
  const html = await followed.response.text();
  assert.equal(followed.response.status, 200, html);
  const binding = /id="binding-message"><strong>([^<]+)</.exec(html)?.[1];
  assert.ok(binding, html);
  return { html, binding, csp: followed.response.headers.get('content-security-policy') ?? '' };
}

/** The waiting page's status URL, on `base` (another process of the issuer) if given. */
export const statusUrl = (page: LoginPage, base?: string) => `${at(page, base)}/phone/status`;
/** The waiting page's continue URL, on `base` (another process of the issuer) if given. */
export const continueUrl = (page: LoginPage, base?: string) => `${at(page, base)}/phone`;
const at = (page: LoginPage, base?: string) =>
  base ? `${base}${new URL(page.url).pathname}` : page.url;

/** The status URL as `browser` sees it: its JSON, or the error page's text. */
export async function statusOf(browser: Browser, page: LoginPage, base?: string) {
  const res = await browser.get(statusUrl(page, base));
  return { status: res.status, body: res.status === 200 ? await res.json() : await res.text() };
}

/** The continue link followed to the app's callback (consent allowed on the way if asked). */
export const continueToApp = async (page: LoginPage, base?: string): Promise<URL> =>
  toApp(page.browser, await page.browser.get(continueUrl(page, base)));

/** `response` followed to the app's callback, allowing consent on the way if asked. */
export async function toApp(browser: Browser, response: Response): Promise<URL> {
  let followed = await browser.follow(response, { callbackPrefix: APP_REDIRECT_URI });
  for (let i = 0; i < 3 && !followed.location; i++) {
    const html = await followed.response.text();
    assert.equal(followed.response.status, 200, html);
    const allow = formOf(html, followed.url, '/confirm');
    followed = await browser.follow(await browser.postForm(allow.action, allow.hidden), {
      callbackPrefix: APP_REDIRECT_URI,
    });
  }
  assert.ok(followed.location, 'the sign-in leads to the app');
  assert.ok(!followed.location.includes('error='), followed.location);
  return new URL(followed.location);
}
