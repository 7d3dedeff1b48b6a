// Every consent page lists what its Allow grants. oidc-provider prompts native apps for consent
// on every authorization, but its prompt details name only what the grant lacks, so a second
// consent in the same browser once read "Example App asks for:" followed by nothing, and Allow
// still issued a DCR token. Now the page lists all the request asks for (a DCR token always reads
// "Register this device"), each DCR consent starts a fresh grant, and a consent with nothing to
// list is refused with invalid_scope (RFC 6749 §4.1.2.1) instead of being shown.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { AuthServerOptions } from 'mobile-oidc-provider';
import Provider, { type Configuration, interactionPolicy } from 'oidc-provider';
import * as oidc from 'openid-client';
import { listRequestedOnConsent } from '../../lib/interactions/consent.js';
import { csrfToken } from '../../lib/interactions/csrf.js';
import { interactionUrl } from '../../lib/interactions/index.js';
import { createInteractionRoutes } from '../../lib/interactions/interaction-routes.js';
import { Browser, formOf } from '../helpers/browser.js';
import {
  APP_REDIRECT_URI,
  REGISTRATION_CLIENT_ID,
  type RunningServer,
  registrationClient,
  startExample,
} from '../helpers/example.js';
import { APP_SOFTWARE_ID, appTemplate } from '../helpers/fixture.js';
import { type Listening, listen } from '../helpers/listen.js';
import { postRegistration } from '../helpers/registration.js';
import {
  dcrAuthorizationUrl,
  formsOf,
  obtainDcrToken,
  SignInBrowser,
  submitAndFollow,
} from '../helpers/sign-in.js';

const OTHER = { username: 'otheruser', password: 'Password2' };
const SHARED_SOFTWARE_ID = 'io.example.shared-tablet';

/** Follows redirects inside the server from `url`; resolves the page reached, or the callback. */
async function open(
  browser: SignInBrowser,
  url: URL | string,
): Promise<{ html: string; status: number; url: string } | { callback: URL }> {
  let current = new URL(url);
  for (let hop = 0; hop < 10; hop += 1) {
    const res = await browser.request(current);
    const location = res.headers.get('location');
    if (!location || res.status < 300 || res.status >= 400) {
      return { html: await res.text(), status: res.status, url: current.href };
    }
    if (location.startsWith(APP_REDIRECT_URI)) return { callback: new URL(location) };
    current = new URL(location, current);
  }
  throw new Error(`no page within 10 redirects of ${url}`);
}

/** The lines of a consent page's list of what the app asks for. */
function consentItems(html: string): string[] {
  const list = /<ul[^>]*>([\s\S]*?)<\/ul>/.exec(html)?.[1] ?? '';
  return [...list.matchAll(/<li>([\s\S]*?)<\/li>/g)].map(([, item]) =>
    (item ?? '').replace(/<[^>]+>/g, ''),
  );
}

describe('every consent page lists what it grants', () => {
  let server: RunningServer;

  before(async () => {
    server = await startExample(
      (o): AuthServerOptions => ({
        ...o,
        registration: {
          ...o.registration,
          templates: [
            ...(o.registration?.templates ?? []),
            { ...appTemplate, software_id: SHARED_SOFTWARE_ID, sharedDevices: true },
          ],
        },
      }),
    );
  });
  after(() => server.close());

  it('the second DCR consent in one browser lists "Register this device", and its token registers a device', async () => {
    const registration = await registrationClient(server.issuer);
    const browser = new SignInBrowser();
    const first = await obtainDcrToken(registration, browser);
    assert.deepEqual(first.result.pages, ['login', 'consent']);

    // The same browser again: signed in (SSO), and a grant of the first consent exists.
    const verifier = oidc.randomPKCECodeVerifier();
    const page = await open(browser, await dcrAuthorizationUrl(registration, verifier));
    assert.ok('html' in page);
    assert.equal(page.status, 200, page.html);
    assert.deepEqual(consentItems(page.html), ['Register this device']);

    const allow = formsOf(page.html, page.url).find((f) => f.action.endsWith('/confirm'));
    assert.ok(allow);
    const callback = await submitAndFollow(browser, allow);
    const tokens = await oidc.authorizationCodeGrant(registration, callback, {
      pkceCodeVerifier: verifier,
    });
    assert.equal(tokens.scope, 'dcr');
    // The second consent made a grant of its own: an earlier DCR consent is not carried along.
    const { AccessToken, Grant } = server.auth.provider;
    const grantOf = async (token: string) => (await AccessToken.find(token))?.grantId;
    const grantId = await grantOf(tokens.access_token);
    assert.ok(grantId);
    assert.notEqual(grantId, await grantOf(first.tokens.access_token));
    assert.equal((await Grant.find(grantId))?.getResourceScope(`${server.issuer}/reg`), 'dcr');
    const registered = await postRegistration(
      server.issuer,
      { software_id: APP_SOFTWARE_ID, software_version: '1.0.0' },
      tokens.access_token,
    );
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
  });

  it('in German the second DCR consent reads "Dieses Gerät registrieren"', async () => {
    const registration = await registrationClient(server.issuer);
    const browser = new SignInBrowser();
    await obtainDcrToken(registration, browser);
    const url = await dcrAuthorizationUrl(registration);
    url.searchParams.set('ui_locales', 'de');
    const page = await open(browser, url);
    assert.ok('html' in page);
    assert.deepEqual(consentItems(page.html), ['Dieses Gerät registrieren']);
  });

  it("a shared install's second consent for another account lists the scopes again", async () => {
    const { tokens } = await obtainDcrToken(
      await registrationClient(server.issuer),
      new SignInBrowser(),
    );
    const registered = await postRegistration(
      server.issuer,
      { software_id: SHARED_SOFTWARE_ID, software_version: '1.0.0' },
      tokens.access_token,
    );
    assert.equal(registered.status, 201);
    const authorize = async () => {
      const url = new URL(`${server.issuer}/auth`);
      url.search = new URLSearchParams({
        client_id: String(registered.body.client_id),
        redirect_uri: APP_REDIRECT_URI,
        response_type: 'code',
        scope: 'openid profile',
        code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
      }).toString();
      return url;
    };
    // otheruser (not the owner: no auto-consent) signs in and allows once…
    const browser = new SignInBrowser();
    const login = await open(browser, await authorize());
    assert.ok('html' in login);
    const loginForm = formsOf(login.html, login.url).find((f) => f.action.endsWith('/login'));
    assert.ok(loginForm);
    const afterLogin = await browser.request(loginForm.action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...loginForm.fields, ...OTHER }).toString(),
    });
    const firstConsent = await open(
      browser,
      new URL(afterLogin.headers.get('location') ?? '', server.issuer),
    );
    assert.ok('html' in firstConsent);
    const expected = ['Confirm who you are', 'See your name and profile'];
    assert.deepEqual(consentItems(firstConsent.html), expected);
    const allow = formsOf(firstConsent.html, firstConsent.url).find((f) =>
      f.action.endsWith('/confirm'),
    );
    assert.ok(allow);
    assert.ok((await submitAndFollow(browser, allow)).searchParams.get('code'));

    // …and the next consent for the same request lists the same scopes, not nothing.
    const second = await open(browser, await authorize());
    assert.ok('html' in second);
    assert.deepEqual(consentItems(second.html), expected);
  });

  it('a consent that would grant nothing is never shown: the app gets invalid_scope', async () => {
    const registration = await registrationClient(server.issuer);
    const url = oidc.buildAuthorizationUrl(registration, {
      redirect_uri: APP_REDIRECT_URI,
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    assert.equal(url.searchParams.get('client_id'), REGISTRATION_CLIENT_ID);
    const browser = new SignInBrowser();
    const login = await open(browser, url);
    assert.ok('html' in login);
    const loginForm = formsOf(login.html, login.url).find((f) => f.action.endsWith('/login'));
    assert.ok(loginForm);
    const afterLogin = await browser.request(loginForm.action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        ...loginForm.fields,
        username: 'demouser',
        password: 'Password1',
      }).toString(),
    });
    const ended = await open(
      browser,
      new URL(afterLogin.headers.get('location') ?? '', server.issuer),
    );
    assert.ok('callback' in ended, 'no consent page is shown');
    assert.equal(ended.callback.searchParams.get('error'), 'invalid_scope');
    assert.equal(ended.callback.searchParams.get('code'), null);
  });
});

// The Allow action itself, posted straight to an interaction whose consent has nothing to list
// (its page, had it been fetched, would have refused already): defence in depth.
describe('Allow on a consent with nothing to list', () => {
  const CALLBACK = 'io.example.app:/callback';
  const CSRF_SECRET = 'csrf-secret-for-tests-only';
  let http: Listening;

  before(async () => {
    http = await listen();
    const configuration: Configuration = {
      clients: [
        {
          client_id: 'native-app',
          token_endpoint_auth_method: 'none',
          application_type: 'native',
          redirect_uris: [CALLBACK],
          grant_types: ['authorization_code'],
          response_types: ['code'],
        },
      ],
      cookies: { keys: ['cookie-key-for-tests-only'] },
      interactions: {
        url: (_ctx, interaction) => interactionUrl('', interaction.uid),
        policy: listRequestedOnConsent(interactionPolicy.base()),
      },
      findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
    };
    const warn = console.warn;
    console.warn = () => {}; // development keys and in-memory adapter warnings are expected here
    let provider: Provider;
    try {
      provider = new Provider(http.url, configuration);
    } finally {
      console.warn = warn;
    }
    provider.use(
      createInteractionRoutes(provider, {
        authenticate: async (username, password) =>
          username === 'demouser' && password === 'Password1' ? 'account-1' : undefined,
        csrfSecret: CSRF_SECRET,
        basePath: '',
        autoConsent: () => false,
      }),
    );
    http.handle(provider.callback());
  });
  after(() => http.close());

  /** Signs in and resolves the consent interaction's URL, its page not fetched. */
  async function untilConsent(browser: Browser, scope?: string) {
    const verifier = randomBytes(32).toString('base64url');
    const url = new URL('/auth', http.url);
    url.search = new URLSearchParams({
      client_id: 'native-app',
      response_type: 'code',
      redirect_uri: CALLBACK,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      ...(scope ? { scope } : {}),
    }).toString();
    const { response, url: pageUrl } = await browser.follow(await browser.get(url));
    const login = formOf(await response.text(), pageUrl, '/login');
    const posted = await browser.postForm(login.action, {
      ...login.hidden,
      username: 'demouser',
      password: 'Password1',
    });
    // The resume answers with a redirect to the consent interaction: stop before fetching it.
    const resumed = await browser.get(new URL(posted.headers.get('location') ?? '', http.url));
    const consent = new URL(resumed.headers.get('location') ?? '', http.url);
    assert.match(consent.pathname, /^\/interaction\/[\w-]+$/);
    return consent;
  }

  async function allow(browser: Browser, consent: URL) {
    const uid = consent.pathname.split('/').at(-1) ?? '';
    const posted = await browser.postForm(`${consent.href}/confirm`, {
      csrf: csrfToken(CSRF_SECRET, uid),
    });
    const { location } = await browser.follow(posted);
    return new URL(location ?? '');
  }

  it('is refused with invalid_scope, and no code is issued', async () => {
    const browser = new Browser();
    const callback = await allow(browser, await untilConsent(browser));
    assert.equal(callback.searchParams.get('error'), 'invalid_scope');
    assert.equal(callback.searchParams.get('code'), null);
  });

  it('control: Allow on a consent that lists openid issues a code', async () => {
    const browser = new Browser();
    const callback = await allow(browser, await untilConsent(browser, 'openid'));
    assert.ok(callback.searchParams.get('code'));
  });
});
