// The built-in sign-in pages: a plain HTML form that works without JavaScript, clear errors,
// CSRF protection, strict security headers, escaped output, and no internals on error pages.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type * as oidc from 'openid-client';
import { type RunningServer, registrationClient, startExample } from '../helpers/example.js';
import { dcrAuthorizationUrl, formsOf, SignInBrowser, signIn } from '../helpers/sign-in.js';

describe('the sign-in pages', () => {
  let server: RunningServer;
  let reg: oidc.Configuration;

  before(async () => {
    server = await startExample();
    reg = await registrationClient(server.issuer);
  });
  after(() => server.close());

  /** Starts a DCR authorization request and returns the login page it lands on. */
  async function openLoginPage(browser = new SignInBrowser()) {
    const url = await dcrAuthorizationUrl(reg);
    const redirect = await browser.request(url);
    assert.equal(redirect.status, 303);
    const pageUrl = new URL(redirect.headers.get('location') as string, server.issuer).href;
    const page = await browser.request(pageUrl);
    const html = await page.text();
    const [form] = formsOf(html, pageUrl);
    assert.ok(form, 'the login page has a form');
    return { browser, page, html, pageUrl, form };
  }

  const post = (browser: SignInBrowser, url: string, fields: Record<string, string>) =>
    browser.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });

  it('serves a plain form with username and password fields and no script', async () => {
    const { page, html, form } = await openLoginPage();
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(html, /<form method="post"/);
    assert.match(html, /name="username"/);
    assert.match(html, /name="password" type="password"/);
    assert.doesNotMatch(html, /<script/i);
    assert.ok(form.fields.csrf, 'a CSRF token rides in the form');
  });

  it('sends headers that forbid framing, caching, scripts and referrers', async () => {
    const { page } = await openLoginPage();
    assert.equal(page.headers.get('cache-control'), 'no-store');
    assert.equal(page.headers.get('x-frame-options'), 'DENY');
    assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline/);
  });

  it('a wrong password gets 401, a clear message, the username kept and the password not echoed', async () => {
    const { browser, form } = await openLoginPage();
    const res = await post(browser, form.action, {
      ...form.fields,
      username: 'demouser',
      password: 'wrong-Pa55',
    });
    assert.equal(res.status, 401);
    const html = await res.text();
    assert.match(html, /Wrong username or password\./);
    assert.match(html, /value="demouser"/);
    assert.doesNotMatch(html, /wrong-Pa55/);
  });

  it('what the user typed is HTML-escaped when shown back', async () => {
    const { browser, form } = await openLoginPage();
    const res = await post(browser, form.action, {
      ...form.fields,
      username: '"><script>alert(1)</script>',
      password: 'x',
    });
    const html = await res.text();
    assert.doesNotMatch(html, /<script>alert/);
    assert.match(html, /&#34;&#62;&#60;script&#62;/);
  });

  it('a post without the CSRF token, or with a wrong one, is refused with 403 and signs nobody in', async () => {
    const { browser, form } = await openLoginPage();
    const missing = await post(browser, form.action, {
      username: 'demouser',
      password: 'Password1',
    });
    assert.equal(missing.status, 403);
    const wrong = await post(browser, form.action, {
      csrf: 'forged',
      username: 'demouser',
      password: 'Password1',
    });
    assert.equal(wrong.status, 403);
    // The same interaction still asks for a login: nothing was submitted.
    const again = await browser.request(form.action.replace(/\/login$/, ''));
    assert.match(await again.text(), /name="password"/);
  });

  it('a post from another browser (no interaction cookie) is refused as an expired sign-in', async () => {
    const { form } = await openLoginPage();
    const res = await post(new SignInBrowser(), form.action, {
      ...form.fields,
      username: 'demouser',
      password: 'Password1',
    });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /expired or is unknown/);
  });

  it('an unknown interaction gets a 400 page without internals', async () => {
    const res = await fetch(new URL('/interaction/does-not-exist', server.issuer));
    assert.equal(res.status, 400);
    const html = await res.text();
    assert.match(html, /Start signing in again/);
    assert.doesNotMatch(html, /at .*\.(ts|js):\d+|SessionNotFound/);
  });

  it('an oversized form body is refused with 413', async () => {
    const { browser, form } = await openLoginPage();
    const res = await post(browser, form.action, {
      ...form.fields,
      username: 'x'.repeat(20_000),
      password: 'x',
    });
    assert.equal(res.status, 413);
  });

  it('denying consent returns access_denied to the app (RFC 6749 §4.1.2.1)', async () => {
    const url = await dcrAuthorizationUrl(reg);
    const { callback, pages } = await signIn(new SignInBrowser(), url, { consent: false });
    assert.deepEqual(pages, ['login', 'consent']);
    assert.equal(callback.searchParams.get('error'), 'access_denied');
    assert.equal(callback.searchParams.get('code'), null);
  });

  it('the consent page names the app and the dcr scope it asks for, by its description', async () => {
    const { browser, form } = await openLoginPage();
    const res = await post(browser, form.action, {
      ...form.fields,
      username: 'demouser',
      password: 'Password1',
    });
    assert.equal(res.status, 303);
    const consentUrl = new URL(res.headers.get('location') as string, server.issuer);
    const next = await browser.request(consentUrl);
    const consentPageUrl = new URL(next.headers.get('location') as string, server.issuer).href;
    const html = await (await browser.request(consentPageUrl)).text();
    assert.match(html, /Example App/);
    assert.match(html, /<li>Register this device<\/li>/);
  });
});
