// The passkey tests' browser side over HTTP: a signed-in browser, the account page's forms and
// WebAuthn options, the login page's passkey form, and following a sign-in to the app's redirect.
import assert from 'node:assert/strict';
import type { AuthServerOptions } from 'mobile-oidc-provider';
import * as oidc from 'openid-client';
import {
  APP_REDIRECT_URI,
  type RunningServer,
  registrationClient,
  startExample,
} from './example.js';
import { dcrAuthorizationUrl, formsOf, obtainDcrToken, SignInBrowser } from './sign-in.js';
import { SoftwareAuthenticator } from './software-authenticator.js';

/** The test server with passkeys on (RP ID and origin from its loopback issuer), and `more`. */
export function startWithPasskeys(
  more: (options: AuthServerOptions) => AuthServerOptions = (o) => o,
): Promise<RunningServer> {
  return startExample((o) => more({ ...o, passkeys: { enabled: true } }));
}

/** Undoes escapeHtml (`&#NN;`) and the usual named entities in an attribute value. */
export const unescapeHtml = (value: string) =>
  value
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');

/** A form of our pages with its hidden fields and, for the passkey forms, its WebAuthn options. */
export interface OptionsForm {
  action: string;
  fields: Record<string, string>;
  options: string;
}

/** The form with `id` on the page, with its `data-options`. */
export function formById(html: string, id: string, base: string): OptionsForm {
  const tag = new RegExp(`<form\\b[^>]*\\bid="${id}"[^>]*>`).exec(html)?.[0];
  assert.ok(tag, `the page has form#${id}`);
  const action = unescapeHtml(/\baction="([^"]*)"/.exec(tag)?.[1] ?? '');
  const [form] = formsOf(html.slice(html.indexOf(tag)), base);
  assert.ok(form);
  return {
    action: new URL(action, base).href,
    fields: form.fields,
    options: unescapeHtml(/\bdata-options="([^"]*)"/.exec(tag)?.[1] ?? ''),
  };
}

/** A browser signed in as `username` (through the DCR sign-in, which leaves the SSO session). */
export async function signedInBrowser(
  issuer: string,
  username = 'demouser',
  password = username === 'demouser' ? 'Password1' : 'Password2',
): Promise<SignInBrowser> {
  const browser = new SignInBrowser();
  await obtainDcrToken(await registrationClient(issuer), browser, { username, password });
  return browser;
}

/** Posts `fields` as a form. */
export function postForm(
  browser: SignInBrowser,
  action: string,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Response> {
  return browser.request(action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

/** The passkey page of the signed-in browser, and its "Add a passkey" form. */
export async function passkeyPage(browser: SignInBrowser, issuer: string, query = '') {
  const url = `${issuer}/account/passkeys${query}`;
  const res = await browser.request(url);
  const html = await res.text();
  assert.equal(res.status, 200, html);
  return { html, add: formById(html, 'passkey-register-form', url), url };
}

/** An authenticator holding a new passkey of `username`, added on the account page of `issuer`. */
export async function enrolledAuthenticator(
  issuer: string,
  username = 'demouser',
  settings: SoftwareAuthenticator['settings'] = {},
): Promise<SoftwareAuthenticator> {
  const browser = await signedInBrowser(issuer, username);
  const authenticator = new SoftwareAuthenticator(issuer, settings);
  const { add } = await passkeyPage(browser, issuer);
  const res = await postCredential(browser, add, authenticator.create(add.options));
  assert.equal(res.status, 303);
  return authenticator;
}

/** The login page of a new DCR sign-in in `browser`, and its passkey form. */
export async function passkeyLogin(issuer: string, browser = new SignInBrowser()) {
  const verifier = oidc.randomPKCECodeVerifier();
  const registration = await registrationClient(issuer);
  const authorization = await dcrAuthorizationUrl(registration, verifier);
  const redirect = await browser.request(authorization);
  assert.equal(redirect.status, 303);
  const url = new URL(redirect.headers.get('location') as string, issuer).href;
  const res = await browser.request(url);
  const html = await res.text();
  assert.equal(res.status, 200, html);
  return { browser, url, html, form: formById(html, 'passkey-form', url), verifier, registration };
}

/** Posts a credential to a passkey form (its CSRF field and the credential JSON). */
export function postCredential(
  browser: SignInBrowser,
  form: OptionsForm,
  credential: unknown,
  extra: Record<string, string> = {},
): Promise<Response> {
  return postForm(browser, form.action, {
    ...form.fields,
    credential: typeof credential === 'string' ? credential : JSON.stringify(credential),
    ...extra,
  });
}

/**
 * Follows a sign-in from a response of the login page (a 303 after the passkey) to the app's
 * redirect URI, allowing on the consent page on the way; resolves the callback URL.
 */
export async function followToApp(
  browser: SignInBrowser,
  first: Response,
  from: string,
): Promise<URL> {
  let res = first;
  let url = from;
  for (let step = 0; step < 10; step += 1) {
    const location = res.headers.get('location');
    if (location && res.status >= 300 && res.status < 400) {
      if (location.startsWith(APP_REDIRECT_URI)) return new URL(location);
      url = new URL(location, url).href;
      res = await browser.request(url);
      continue;
    }
    const html = await res.text();
    const confirm = formsOf(html, url).find((f) => f.action.endsWith('/confirm'));
    assert.ok(confirm, `the sign-in stopped at ${url} with ${res.status}: ${html}`);
    url = confirm.action;
    res = await postForm(browser, confirm.action, confirm.fields);
  }
  throw new Error('the sign-in did not reach the app');
}

/** The account a DCR sign-in ended with: the code exchanged and the token introspected. */
export async function signedInAccount(
  server: RunningServer,
  login: Awaited<ReturnType<typeof passkeyLogin>>,
  callback: URL,
): Promise<unknown> {
  const tokens = await oidc.authorizationCodeGrant(login.registration, callback, {
    pkceCodeVerifier: login.verifier,
  });
  return (await server.auth.introspect(tokens.access_token)).sub;
}
