import * as oidc from 'openid-client';
import { CookieJar } from 'tough-cookie';
import { APP_REDIRECT_URI, registrationClient } from './example.js';
import { APP_SOFTWARE_ID } from './fixture.js';
import { instanceConfiguration, postRegistration } from './registration.js';

/** A cookie-keeping HTTP client that plays the user's browser on the sign-in pages. */
export class SignInBrowser {
  readonly jar = new CookieJar();

  /** One request, no automatic redirects, cookies kept. */
  async request(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const href = String(url);
    const cookie = await this.jar.getCookieString(href);
    const headers = new Headers(init.headers);
    if (cookie) headers.set('cookie', cookie);
    const res = await fetch(href, { ...init, headers, redirect: 'manual' });
    for (const setCookie of res.headers.getSetCookie()) {
      await this.jar.setCookie(setCookie, href);
    }
    return res;
  }
}

/** A form on one of the sign-in pages. */
export interface PageForm {
  action: string;
  fields: Record<string, string>;
}

/** The forms of a page of ours, with their hidden inputs (our markup is simple and regular). */
export function formsOf(html: string, base: string): PageForm[] {
  return [...html.matchAll(/<form\b[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)].map(
    ([, action, inner]) => ({
      action: new URL((action as string).replaceAll('&amp;', '&'), base).href,
      fields: Object.fromEntries(
        [...(inner as string).matchAll(/<input\b[^>]*type="hidden"[^>]*>/g)].map(([input]) => [
          /name="([^"]+)"/.exec(input)?.[1] ?? '',
          /value="([^"]*)"/.exec(input)?.[1] ?? '',
        ]),
      ),
    }),
  );
}

/** What the user does on each page. */
export interface SignInChoices {
  username?: string;
  password?: string;
  /** Allow (true) or deny (false) on the consent page. @default true */
  consent?: boolean;
}

/** Where the sign-in ended, and which pages the user saw on the way. */
export interface SignInResult {
  callback: URL;
  pages: Array<'login' | 'consent'>;
}

/**
 * Follows an authorization request through the sign-in pages like a user would, until the
 * server redirects to the app's redirect URI.
 */
export async function signIn(
  browser: SignInBrowser,
  authorizationUrl: URL,
  choices: SignInChoices = {},
): Promise<SignInResult> {
  const ended = await walkSignIn(browser, authorizationUrl, choices, false);
  if (!('callback' in ended)) throw new Error('sign-in stopped at the consent page');
  return ended;
}

/** Follows the sign-in pages up to the consent page, and returns its Allow form unsent. */
export async function signInUntilConsent(
  browser: SignInBrowser,
  authorizationUrl: URL,
  choices: SignInChoices = {},
): Promise<PageForm> {
  const ended = await walkSignIn(browser, authorizationUrl, choices, true);
  if ('callback' in ended) throw new Error('sign-in ended without a consent page');
  return ended.allow;
}

async function walkSignIn(
  browser: SignInBrowser,
  authorizationUrl: URL,
  { username = 'demouser', password = 'Password1', consent = true }: SignInChoices,
  stopAtConsent: boolean,
): Promise<SignInResult | { allow: PageForm }> {
  const pages: SignInResult['pages'] = [];
  // The sign-in ends where the server sends the user back to the app (or to whoever registered
  // the redirect URI).
  const redirectUri = authorizationUrl.searchParams.get('redirect_uri') ?? APP_REDIRECT_URI;
  let res = await browser.request(authorizationUrl);
  let url = authorizationUrl.href;
  for (let step = 0; step < 20; step += 1) {
    const location = res.headers.get('location');
    if (location && res.status >= 300 && res.status < 400) {
      if (location.startsWith(redirectUri)) return { callback: new URL(location), pages };
      url = new URL(location, url).href;
      res = await browser.request(url);
      continue;
    }
    const html = await res.text();
    if (res.status !== 200)
      throw new Error(`sign-in stopped at ${url} with ${res.status}: ${html}`);
    const forms = formsOf(html, url);
    const login = forms.find((f) => f.action.endsWith('/login'));
    const confirm = forms.find((f) => f.action.endsWith('/confirm'));
    const abort = forms.find((f) => f.action.endsWith('/abort'));
    let form: PageForm | undefined;
    let fields: Record<string, string> = {};
    if (login) {
      pages.push('login');
      form = login;
      fields = { username, password };
    } else if (confirm && abort) {
      if (stopAtConsent) return { allow: confirm };
      pages.push('consent');
      form = consent ? confirm : abort;
    }
    if (!form) throw new Error(`no sign-in form at ${url}`);
    url = form.action;
    res = await browser.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...form.fields, ...fields }).toString(),
    });
  }
  throw new Error('sign-in did not finish in 20 steps');
}

/**
 * Submits a form of the sign-in pages (e.g. the Allow form {@link signInUntilConsent} returned)
 * and follows the redirects to the redirect URI.
 */
export async function submitAndFollow(
  browser: SignInBrowser,
  form: PageForm,
  redirectUri = APP_REDIRECT_URI,
): Promise<URL> {
  let res = await browser.request(form.action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form.fields).toString(),
  });
  let url = form.action;
  for (let step = 0; step < 10; step += 1) {
    const location = res.headers.get('location');
    if (!location || res.status < 300 || res.status >= 400) break;
    if (location.startsWith(redirectUri)) return new URL(location);
    url = new URL(location, url).href;
    res = await browser.request(url);
  }
  throw new Error(`the form did not lead to ${redirectUri}`);
}

/** A DCR authorization request (scope `dcr`, PKCE S256) for the registration client. */
export async function dcrAuthorizationUrl(
  registrationClient: oidc.Configuration,
  verifier = oidc.randomPKCECodeVerifier(),
): Promise<URL> {
  return oidc.buildAuthorizationUrl(registrationClient, {
    redirect_uri: APP_REDIRECT_URI,
    scope: 'dcr',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  });
}

/** Flow 1: the user signs in through the registration client; resolves the DCR token. */
export async function obtainDcrToken(
  registrationClient: oidc.Configuration,
  browser: SignInBrowser,
  choices: SignInChoices = {},
): Promise<{
  tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
  result: SignInResult;
}> {
  const verifier = oidc.randomPKCECodeVerifier();
  const result = await signIn(
    browser,
    await dcrAuthorizationUrl(registrationClient, verifier),
    choices,
  );
  const tokens = await oidc.authorizationCodeGrant(registrationClient, result.callback, {
    pkceCodeVerifier: verifier,
  });
  return { tokens, result };
}

/** A DCR token from a fresh sign-in (its own browser, no SSO session) at `issuer`. */
export async function freshDcrToken(issuer: string): Promise<string> {
  const { tokens } = await obtainDcrToken(await registrationClient(issuer), new SignInBrowser());
  return tokens.access_token;
}

/** Flow 2: registers an instance client with the DCR token (client_secret_basic by default). */
export function registerInstance(
  issuer: string,
  dcrToken: string,
  metadata: Partial<oidc.ClientMetadata> = {},
): Promise<oidc.Configuration> {
  return oidc.dynamicClientRegistration(
    new URL(issuer),
    { redirect_uris: [APP_REDIRECT_URI], ...metadata },
    oidc.ClientSecretBasic(),
    { execute: [oidc.allowInsecureRequests], initialAccessToken: dcrToken },
  );
}

/** An authorization code for the instance, with what its exchange needs (flow 3). */
export interface CodeForInstance {
  callback: URL;
  checks: { pkceCodeVerifier: string; expectedNonce: string };
}

/**
 * Flow 3 up to the code: the instance's authorization request (PKCE S256, and `prompt=consent`
 * so `offline_access` yields a refresh token), signed in through `browser`.
 */
export async function codeForInstance(
  browser: SignInBrowser,
  instance: oidc.Configuration,
  scope = 'openid offline_access',
  choices: SignInChoices = {},
): Promise<CodeForInstance> {
  const pkceCodeVerifier = oidc.randomPKCECodeVerifier();
  const expectedNonce = oidc.randomNonce();
  const { callback } = await signIn(
    browser,
    oidc.buildAuthorizationUrl(instance, {
      redirect_uri: APP_REDIRECT_URI,
      scope,
      prompt: 'consent',
      nonce: expectedNonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(pkceCodeVerifier),
      code_challenge_method: 'S256',
    }),
    choices,
  );
  return { callback, checks: { pkceCodeVerifier, expectedNonce } };
}

/**
 * The same instance client (its id and secret) at another server of the same deployment: a
 * second process sharing the store, reached at `issuer`.
 */
export async function sameClientAt(
  instance: oidc.Configuration,
  issuer: string,
): Promise<oidc.Configuration> {
  const { client_id, client_secret } = instance.clientMetadata();
  const discovered = await oidc.discovery(new URL(issuer), 'x', undefined, undefined, {
    execute: [oidc.allowInsecureRequests],
  });
  const elsewhere = new oidc.Configuration(
    discovered.serverMetadata(),
    client_id,
    client_secret as string,
  );
  oidc.allowInsecureRequests(elsewhere);
  return elsewhere;
}

/** An install {@link browserInstall} made: its client id, openid-client view and tokens. */
export interface BrowserInstall {
  clientId: string;
  instance: oidc.Configuration;
  tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
}

/** What {@link browserInstall} registers and how it signs in. */
export interface BrowserInstallOptions {
  /** Its `client_name`. */
  name: string;
  /** `demouser` (password `Password1`) or `otheruser` (`Password2`). @default 'demouser' */
  username?: string;
  /** The scope of its sign-in. @default 'openid offline_access' */
  scope?: string;
}

/**
 * An install of the tests' app (`software_version` 1.4.2) registered with `username`'s DCR token
 * and signed in through `browser`'s pages only, its code exchanged; the browser stays signed in.
 */
export async function browserInstall(
  issuer: string,
  browser: SignInBrowser,
  { name, username = 'demouser', scope = 'openid offline_access' }: BrowserInstallOptions,
): Promise<BrowserInstall> {
  const password = username === 'demouser' ? 'Password1' : 'Password2';
  const { tokens: dcr } = await obtainDcrToken(await registrationClient(issuer), browser, {
    username,
    password,
  });
  const registered = await postRegistration(
    issuer,
    { software_id: APP_SOFTWARE_ID, software_version: '1.4.2', client_name: name },
    dcr.access_token,
  );
  if (registered.status !== 201) {
    throw new Error(`registration failed: ${registered.status} ${JSON.stringify(registered.body)}`);
  }
  const instance = await instanceConfiguration(issuer, registered.body);
  const { callback, checks } = await codeForInstance(browser, instance, scope, {
    username,
    password,
  });
  const tokens = await oidc.authorizationCodeGrant(instance, callback, checks);
  return { clientId: instance.clientMetadata().client_id, instance, tokens };
}
