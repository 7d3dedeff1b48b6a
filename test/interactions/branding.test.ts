// Pages a product can own (issue #18): a render hook per page gets a typed view model and its HTML
// is served under a CSP with a per-response nonce; the built-in pages come in the language of
// ui_locales, then Accept-Language; scopes are shown once each by their description; the consent
// page names the app and its https return host; field errors are tied to their fields; a hook
// that throws gives a 500 page with no internals; view-model strings are escaped.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  type AuthServerOptions,
  ConfigurationError,
  type ConsentView,
  createAuthServer,
  type ErrorView,
  type LoginView,
  type LogoutSuccessView,
  type LogoutView,
  type PageView,
} from 'mobile-oidc-provider';
import type * as oidc from 'openid-client';
import { Browser, type Followed, formOf, formsOf } from '../helpers/browser.js';
import { type RunningServer, registrationClient, startExample } from '../helpers/example.js';
import { testServerOptions } from '../helpers/fixture.js';
import { dcrAuthorizationUrl } from '../helpers/sign-in.js';

const WEB_APP = 'web-app';
const WEB_APP_CALLBACK = 'https://app.example.com/signed-in';
const HOSTILE_APP = 'hostile-app';
const HOSTILE_NAME = '<script>alert("pwned")</script> & Co';

/** The web apps of these tests: static clients with a claimed https redirect URI. */
const webClients: NonNullable<AuthServerOptions['clients']> = [
  {
    client_id: WEB_APP,
    client_secret: 'web-app-secret-for-tests-only-0123456789abcdef',
    client_name: 'Photo Print',
    redirect_uris: [WEB_APP_CALLBACK],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
  },
  {
    client_id: HOSTILE_APP,
    client_secret: 'hostile-app-secret-for-tests-only-0123456789ab',
    client_name: HOSTILE_NAME,
    redirect_uris: ['https://hostile.example/cb'],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  },
];

/** The test server with these `interactions` options and the web apps. */
function startBranded(
  interactions: NonNullable<AuthServerOptions['interactions']>,
  extra: Partial<AuthServerOptions> = {},
): Promise<RunningServer> {
  return startExample((o) => ({
    ...o,
    ...extra,
    clients: [...(o.clients ?? []), ...webClients],
    interactions: { ...o.interactions, ...interactions },
  }));
}

/** An authorization request with PKCE S256 for `clientId`. */
function authorizationUrl(
  issuer: string,
  clientId: string,
  redirectUri: string,
  extra: Record<string, string> = {},
): URL {
  const url = new URL(`${issuer}/auth`);
  url.search = new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: 'openid',
    state: 'state-1',
    code_challenge: createHash('sha256').update(randomBytes(32)).digest('base64url'),
    code_challenge_method: 'S256',
    ...extra,
  }).toString();
  return url;
}

/** A page the browser stopped at: status, headers, HTML and its URL. */
interface Page {
  response: Response;
  html: string;
  url: string;
}

async function pageOf(followed: Followed): Promise<Page> {
  return { response: followed.response, html: await followed.response.text(), url: followed.url };
}

/** Opens `url` in `browser` and follows the redirects to the page it lands on. */
async function open(browser: Browser, url: URL | string, headers: Record<string, string> = {}) {
  let response = await browser.request(url, { headers });
  let at = String(url);
  for (let hops = 0; hops < 10; hops += 1) {
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || !location) break;
    await response.arrayBuffer();
    at = new URL(location, at).href;
    response = await browser.request(at, { headers });
  }
  return pageOf({ response, url: at });
}

/** Signs in on a login page and resolves the next page (consent). */
async function signInFrom(browser: Browser, login: Page, headers: Record<string, string> = {}) {
  const form = formOf(login.html, login.url, '/login');
  const posted = await browser.request(form.action, {
    method: 'POST',
    headers: {
      ...headers,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ ...form.hidden, username: 'demouser', password: 'Password1' }),
  });
  assert.equal(posted.status, 303);
  return open(browser, new URL(posted.headers.get('location') as string, form.action), headers);
}

const langOf = (html: string) => /<html lang="([^"]*)"/.exec(html)?.[1];
const titleOf = (html: string) => /<title>([^<]*)<\/title>/.exec(html)?.[1];
/** The page without its head (the stylesheet names the attributes too). */
const bodyOf = (html: string) => html.slice(html.indexOf('<body>'));
/** The opening tag of the input with this id. */
const inputTag = (html: string, id: string) =>
  new RegExp(`<input id="${id}"[^>]*>`).exec(html)?.[0] ?? '';

describe('pages a product can own', () => {
  describe('render hooks', () => {
    let server: RunningServer;
    let reg: oidc.Configuration;
    const views: PageView[] = [];
    const logged: unknown[] = [];
    let failLogin: 'no' | 'throw' | 'no string' = 'no';
    let failError = false;

    before(async () => {
      server = await startBranded(
        {
          pages: {
            login(view: LoginView) {
              views.push(view);
              if (failLogin === 'throw') {
                throw new Error('template broke at /srv/templates/login.js:12:3');
              }
              if (failLogin === 'no string') return undefined as unknown as string;
              // A page of the product's own, with a script the CSP allows by its nonce.
              return (
                `<!doctype html><html lang="${view.language}"><head><title>${view.title}</title>` +
                `<script nonce="${view.cspNonce}">window.brand = true;</script></head><body>` +
                `<form method="post" action="${view.form.action}">` +
                `<input type="hidden" name="${view.form.csrf.name}" value="${view.form.csrf.value}">` +
                '<input name="username"><input name="password" type="password"></form></body></html>'
              );
            },
            async consent(view: ConsentView) {
              views.push(view);
              return `<p>consent for ${view.client.name}</p>${[view.allow, view.deny]
                .map(
                  (f) =>
                    `<form method="post" action="${f.action}"><input type="hidden" name="${f.csrf.name}" value="${f.csrf.value}"></form>`,
                )
                .join('')}`;
            },
            error(view: ErrorView) {
              views.push(view);
              if (failError) throw new Error('the error template broke too');
              return `<h1>Branded error ${view.status}: ${view.heading}</h1>`;
            },
            logout(view: LogoutView) {
              views.push(view);
              return `<form method="post" action="${view.form.action}"><input type="hidden" name="${view.form.csrf.name}" value="${view.form.csrf.value}"><button name="${view.signOut.name}" value="${view.signOut.value}">out</button></form>`;
            },
            logoutSuccess(view: LogoutSuccessView) {
              views.push(view);
              return `<p>Bye from ${view.productName}</p>`;
            },
          },
        },
        {
          logger: {
            error: (fields: unknown) => logged.push(fields),
            warn() {},
            info() {},
            debug() {},
          },
        },
      );
      reg = await registrationClient(server.issuer);
    });
    after(() => server.close());

    it('the login hook gets the view model, and its HTML is served with a CSP that allows its nonce', async () => {
      views.length = 0;
      const browser = new Browser();
      const login = await open(browser, await dcrAuthorizationUrl(reg));
      assert.equal(login.response.status, 200);
      const view = views.pop() as LoginView;
      assert.equal(view.page, 'login');
      assert.equal(view.status, 200);
      assert.equal(view.language, 'en');
      assert.equal(view.title, 'Sign in – Example App');
      assert.equal(view.productName, 'Example App');
      assert.equal(view.messages.signInButton, 'Sign in');
      assert.equal(view.form.action, `${new URL(login.url).pathname}/login`);
      assert.equal(view.form.csrf.name, 'csrf');
      assert.ok(view.form.csrf.value);
      assert.deepEqual(view.fieldErrors, {});
      assert.equal(view.focus, 'username');
      assert.equal(view.username, '');
      assert.deepEqual(view.federation, []);
      assert.match(view.cspNonce, /^[A-Za-z0-9+/]{22}==$/);

      // Served as the hook returned it, with the page headers and the nonce in the CSP.
      assert.match(
        login.html,
        new RegExp(`<script nonce="${view.cspNonce.replace(/[+/]/g, '\\$&')}">`),
      );
      assert.equal(login.response.headers.get('content-type'), 'text/html; charset=utf-8');
      assert.equal(login.response.headers.get('cache-control'), 'no-store');
      assert.equal(login.response.headers.get('x-frame-options'), 'DENY');
      const csp = login.response.headers.get('content-security-policy') ?? '';
      assert.match(csp, /^default-src 'none'; /);
      assert.ok(csp.includes(`script-src 'nonce-${view.cspNonce}';`), csp);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);

      // Each response has its own nonce.
      const again = await browser.get(login.url);
      await again.text();
      const next = views.pop() as LoginView;
      assert.notEqual(next.cspNonce, view.cspNonce);
      assert.ok(again.headers.get('content-security-policy')?.includes(`'nonce-${next.cspNonce}'`));
    });

    it('the custom forms work: consent hook with the app, its scope by description, Allow to the app', async () => {
      views.length = 0;
      const browser = new Browser();
      const login = await open(browser, await dcrAuthorizationUrl(reg));
      const consentPage = await signInFrom(browser, login);
      assert.equal(consentPage.response.status, 200);
      assert.equal(consentPage.html.startsWith('<p>consent for Example App</p>'), true);
      const view = views.pop() as ConsentView;
      assert.equal(view.page, 'consent');
      assert.equal(view.title, 'Allow access – Example App');
      assert.deepEqual(view.client, { id: 'mobile-dcr-client', name: 'Example App' });
      assert.equal(view.accountId, 'demouser');
      assert.deepEqual(view.scopes, [{ scope: 'dcr', description: 'Register this device' }]);
      assert.deepEqual(view.claims, []);
      assert.ok(view.allow.action.endsWith('/confirm'));
      assert.ok(view.deny.action.endsWith('/abort'));
      const allow = formOf(consentPage.html, consentPage.url, '/confirm');
      const allowed = await browser.postForm(allow.action, allow.hidden);
      assert.equal(allowed.status, 303);
      const { location } = await browser.follow(allowed);
      assert.ok(location?.startsWith('io.example.app:/callback?code='), location);
    });

    it('the error hook renders the library error pages and oidc-provider errors', async () => {
      views.length = 0;
      const expired = await fetch(`${server.issuer}/interaction/no-such-interaction`);
      assert.equal(expired.status, 400);
      assert.equal(await expired.text(), '<h1>Branded error 400: Sign-in expired</h1>');
      const view = views.pop() as ErrorView;
      assert.equal(view.page, 'error');
      assert.equal(view.heading, 'Sign-in expired');
      assert.equal(view.message, view.messages.expiredMessage);
      assert.equal(view.title, 'Sign-in expired – Example App');

      // oidc-provider's renderError: an unknown client cannot be redirected back to.
      const unknown = await fetch(
        authorizationUrl(server.issuer, 'no-such-client', WEB_APP_CALLBACK),
        {
          headers: { accept: 'text/html' },
        },
      );
      assert.equal(unknown.status, 400);
      assert.match(await unknown.text(), /^<h1>Branded error 400: Something went wrong<\/h1>$/);
      const providerView = views.pop() as ErrorView;
      assert.equal(providerView.error, 'invalid_client');
      assert.ok(providerView.errorDescription);
      assert.ok(
        unknown.headers
          .get('content-security-policy')
          ?.includes(`'nonce-${providerView.cspNonce}'`),
      );
    });

    it('the sign-out hooks get the form with its CSRF field, and signing out works', async () => {
      const browser = new Browser();
      const login = await open(browser, await dcrAuthorizationUrl(reg));
      const consentPage = await signInFrom(browser, login);
      const allow = formOf(consentPage.html, consentPage.url, '/confirm');
      await browser.follow(await browser.postForm(allow.action, allow.hidden));

      views.length = 0;
      const logout = await open(
        browser,
        `${server.issuer}/session/end?client_id=mobile-dcr-client`,
      );
      assert.equal(logout.response.status, 200);
      const view = views.pop() as LogoutView;
      assert.equal(view.page, 'logout');
      assert.equal(view.title, 'Sign out – Example App');
      assert.equal(view.form.csrf.name, 'xsrf');
      assert.ok(view.form.csrf.value);
      assert.deepEqual(view.signOut, { name: 'logout', value: 'yes' });
      assert.deepEqual(view.client, { id: 'mobile-dcr-client', name: 'Example App' });
      const [form] = formsOf(logout.html, logout.url);
      assert.ok(form);
      const out = await browser.postForm(form.action, { ...form.hidden, logout: 'yes' });
      assert.equal(out.status, 303);
      const done = await pageOf(await browser.follow(out));
      assert.equal(done.response.status, 200);
      assert.equal(done.html, '<p>Bye from Example App</p>');
      assert.equal((views.pop() as LogoutSuccessView).page, 'logoutSuccess');
    });

    it('a hook that throws, or returns no string, gives a 500 error page with no internals, logged', async () => {
      const browser = new Browser();
      const url = await dcrAuthorizationUrl(reg);
      for (const failure of ['throw', 'no string'] as const) {
        failLogin = failure;
        logged.length = 0;
        try {
          const page = await open(browser, url);
          assert.equal(page.response.status, 500, failure);
          // The product's error page, for the failed login page.
          assert.equal(page.html, '<h1>Branded error 500: Something went wrong</h1>');
          assert.doesNotMatch(page.html, /template broke|login\.js|\bat \S+:\d+/);
          assert.equal(logged.length, 1, 'the failure is logged as an unexpected error');
        } finally {
          failLogin = 'no';
        }
      }

      // The error hook failing too: the built-in 500 page.
      failLogin = 'throw';
      failError = true;
      logged.length = 0;
      try {
        const page = await open(browser, url);
        assert.equal(page.response.status, 500);
        assert.match(page.response.headers.get('content-type') ?? '', /text\/html/);
        assert.match(page.html, /<h1>Something went wrong<\/h1>/);
        assert.match(page.html, /This page cannot be shown right now/);
        assert.doesNotMatch(page.html, /template broke|login\.js|\bat \S+:\d+|Error\b/);
        assert.equal(logged.length, 2, 'both failures are logged');
      } finally {
        failLogin = 'no';
        failError = false;
      }

      // Control: the hook works again.
      const page = await open(browser, url);
      assert.equal(page.response.status, 200);
      assert.match(page.html, /window\.brand/);
    });
  });

  describe('the built-in pages', () => {
    let server: RunningServer;
    let reg: oidc.Configuration;

    before(async () => {
      server = await startBranded({
        messages: {
          fr: { loginHeading: 'Connexion', signInButton: 'Se connecter' },
          de: { consentHeading: 'Zugriff für <App> erlauben?' },
        },
        scopeDescriptions: {
          profile: { en: 'See your public profile', de: 'Ihr öffentliches Profil sehen' },
          payments: 'Make <payments> for you',
        },
      });
      reg = await registrationClient(server.issuer);
    });
    after(() => server.close());

    it('discovery lists the languages the pages come in (ui_locales_supported)', () => {
      const metadata = reg.serverMetadata() as Record<string, unknown>;
      assert.deepEqual(metadata.ui_locales_supported, ['en', 'de', 'fr']);
    });

    it('come in German for ui_locales=de, and <html lang> and Content-Language follow', async () => {
      const url = await dcrAuthorizationUrl(reg);
      url.searchParams.set('ui_locales', 'de-AT en');
      const browser = new Browser();
      const login = await open(browser, url);
      assert.equal(login.response.status, 200);
      assert.equal(langOf(login.html), 'de');
      assert.equal(login.response.headers.get('content-language'), 'de');
      assert.equal(titleOf(login.html), 'Anmelden – Example App');
      assert.match(login.html, /<label for="username">Benutzername<\/label>/);
      assert.match(login.html, /<label for="password">Passwort<\/label>/);
      assert.match(login.html, /<button type="submit" class="primary">Anmelden<\/button>/);
      assert.doesNotMatch(login.html, /Username|Password<|Sign in/);

      // The consent page of the same request: German too, with a product override escaped.
      const consent = await signInFrom(browser, login);
      assert.equal(langOf(consent.html), 'de');
      assert.equal(titleOf(consent.html), 'Zugriff erlauben – Example App');
      assert.match(consent.html, /<h1>Zugriff für &#60;App&#62; erlauben\?<\/h1>/);
      assert.match(consent.html, /<li>Dieses Gerät registrieren<\/li>/);
      assert.match(consent.html, /<button type="submit" class="primary">Erlauben<\/button>/);
      assert.match(consent.html, /<button type="submit" class="secondary">Ablehnen<\/button>/);
    });

    it('come in German for Accept-Language by q-value, and ui_locales wins over it', async () => {
      const url = await dcrAuthorizationUrl(reg);
      for (const [acceptLanguage, expected] of [
        ['it-IT, de;q=0.9, en;q=0.8', 'de'],
        ['en;q=0.5, de-CH', 'de'],
        ['de;q=0, en-GB;q=0.7', 'en'],
        ['fr-CA,fr;q=0.9', 'fr'],
        ['ja, *;q=0.1', 'en'],
      ] as const) {
        const page = await open(new Browser(), url, { 'accept-language': acceptLanguage });
        assert.equal(langOf(page.html), expected, acceptLanguage);
      }
      const german = await open(new Browser(), url, { 'accept-language': 'de' });
      assert.match(german.html, /Benutzername/);
      // A product catalogue: its strings, English for the rest.
      const french = await open(new Browser(), url, { 'accept-language': 'fr' });
      assert.match(french.html, /<h1>Connexion<\/h1>/);
      assert.match(french.html, />Se connecter<\/button>/);
      assert.match(french.html, /<label for="username">Username<\/label>/);
      // Control: no preference is English.
      const english = await open(new Browser(), url);
      assert.equal(langOf(english.html), 'en');
      assert.equal(titleOf(english.html), 'Sign in – Example App');
      // ui_locales first.
      const asked = new URL(url);
      asked.searchParams.set('ui_locales', 'en');
      const first = await open(new Browser(), asked, { 'accept-language': 'de' });
      assert.equal(langOf(first.html), 'en');
    });

    it('the consent page lists each scope once by its description, names the app and its https return host', async () => {
      // The DCR request: dcr is an OpenID scope and the registration endpoint's scope, shown once.
      const browser = new Browser();
      const dcrConsent = await signInFrom(
        browser,
        await open(browser, await dcrAuthorizationUrl(reg)),
      );
      assert.equal(dcrConsent.html.match(/Register this device/g)?.length, 1);
      assert.doesNotMatch(dcrConsent.html, /<code>dcr<\/code>/);
      assert.match(dcrConsent.html, /<strong>Example App<\/strong> asks for:/);
      assert.doesNotMatch(dcrConsent.html, /is sent back to/, 'no return host for a custom scheme');

      const web = new Browser();
      const login = await open(
        web,
        authorizationUrl(server.issuer, WEB_APP, WEB_APP_CALLBACK, {
          scope: 'openid profile email offline_access payments',
          prompt: 'consent',
        }),
      );
      const consent = await signInFrom(web, login);
      assert.equal(consent.response.status, 200, consent.html);
      const items = [...consent.html.matchAll(/<li>(.*?)<\/li>/g)].map(([, item]) => item);
      assert.deepEqual(items, [
        'Confirm who you are',
        'See your public profile',
        'See your email address',
        'Stay signed in',
        'Make &#60;payments&#62; for you',
      ]);
      assert.match(consent.html, /<strong>Photo Print<\/strong> asks for:/);
      assert.match(
        consent.html,
        /Your answer is sent back to <strong>app\.example\.com<\/strong>\./,
      );
      assert.equal(titleOf(consent.html), 'Allow access – Example App');
      // Allow is the primary action, Deny is not.
      const [allow, deny] = formsOf(consent.html, consent.url);
      assert.ok(allow?.action.endsWith('/confirm') && deny?.action.endsWith('/abort'));
      assert.match(consent.html, /<button type="submit" class="primary">Allow<\/button>/);
      assert.match(consent.html, /<button type="submit" class="secondary">Deny<\/button>/);
      assert.match(consent.html, /button\.primary\{[^}]*background:#0969da/);

      // The same in German: the product's German description, the built-in others.
      const de = new Browser();
      const deConsent = await signInFrom(
        de,
        await open(
          de,
          authorizationUrl(server.issuer, WEB_APP, WEB_APP_CALLBACK, {
            scope: 'openid profile',
            prompt: 'consent',
            ui_locales: 'de',
          }),
        ),
      );
      const deItems = [...deConsent.html.matchAll(/<li>(.*?)<\/li>/g)].map(([, item]) => item);
      assert.deepEqual(deItems, ['Bestätigen, wer Sie sind', 'Ihr öffentliches Profil sehen']);
      assert.match(deConsent.html, /an <strong>app\.example\.com<\/strong> zurückgesendet/);
    });

    it('ties field errors to their fields (aria-invalid, aria-describedby) and focuses the field in error', async () => {
      const browser = new Browser();
      const login = await open(browser, await dcrAuthorizationUrl(reg));
      // Control: a fresh page has no errors and focuses the username.
      assert.match(inputTag(login.html, 'username'), / autofocus/);
      assert.doesNotMatch(bodyOf(login.html), /aria-invalid|aria-describedby/);
      assert.doesNotMatch(inputTag(login.html, 'password'), /autofocus/);

      const form = formOf(login.html, login.url, '/login');
      const post = (fields: Record<string, string>) =>
        browser.postForm(form.action, { ...form.hidden, ...fields });

      // Both left empty: an error on each, focus on the first; no sign-in attempt.
      const empty = await post({ username: ' ', password: '' });
      assert.equal(empty.status, 400);
      const emptyHtml = await empty.text();
      const username = inputTag(emptyHtml, 'username');
      assert.match(username, /aria-invalid="true"/);
      assert.match(username, /aria-describedby="username-error"/);
      assert.match(username, / autofocus/);
      assert.match(
        emptyHtml,
        /<p class="field-error" id="username-error">Enter your username\.<\/p>/,
      );
      const password = inputTag(emptyHtml, 'password');
      assert.match(password, /aria-invalid="true"/);
      assert.match(password, /aria-describedby="password-error"/);
      assert.doesNotMatch(password, /autofocus/);
      assert.match(
        emptyHtml,
        /<p class="field-error" id="password-error">Enter your password\.<\/p>/,
      );

      // A wrong password: the error on the password field, which gets the focus.
      const wrong = await post({ username: 'demouser', password: 'not-it' });
      assert.equal(wrong.status, 401);
      const wrongHtml = await wrong.text();
      const wrongPassword = inputTag(wrongHtml, 'password');
      assert.match(wrongPassword, /aria-invalid="true"/);
      assert.match(wrongPassword, /aria-describedby="password-error"/);
      assert.match(wrongPassword, / autofocus/);
      assert.match(wrongHtml, /id="password-error">Wrong username or password\.</);
      const kept = inputTag(wrongHtml, 'username');
      assert.match(kept, /value="demouser"/);
      assert.doesNotMatch(kept, /autofocus|aria-invalid/);

      // In German too.
      const de = await browser.request(form.action, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'accept-language': 'de',
        },
        body: new URLSearchParams({ ...form.hidden, username: 'demouser', password: '' }),
      });
      assert.match(await de.text(), /id="password-error">Geben Sie Ihr Passwort ein\.</);
    });

    it('are usable on a phone: viewport, 44 px touch targets, one column under 30rem, distinct titles', async () => {
      const login = await open(new Browser(), await dcrAuthorizationUrl(reg));
      assert.match(
        login.html,
        /<meta name="viewport" content="width=device-width, initial-scale=1">/,
      );
      const style = /<style>([\s\S]*?)<\/style>/.exec(login.html)?.[1] ?? '';
      assert.match(style, /input\{[^}]*min-height:44px/);
      assert.match(style, /button\{[^}]*min-height:44px/);
      assert.match(style, /button\{[^}]*width:100%/);
      assert.match(style, /@media \(max-width:30rem\)/);
      // The style block is allowed by its hash; nothing inline runs.
      const hash = createHash('sha256').update(style).digest('base64');
      const csp = login.response.headers.get('content-security-policy') ?? '';
      assert.ok(csp.includes(`style-src 'sha256-${hash}' 'nonce-`), csp);
      assert.doesNotMatch(login.html, /<script|\son\w+=/i);

      const expired = await fetch(`${server.issuer}/interaction/unknown`);
      const titles = new Set([
        titleOf(login.html),
        titleOf(await expired.text()),
        'Allow access – Example App',
      ]);
      assert.equal(titles.size, 3);
    });

    it('escape view-model strings: an app name with <script> (attack) and a plain one (control)', async () => {
      const attack = new Browser();
      const consent = await signInFrom(
        attack,
        await open(
          attack,
          authorizationUrl(server.issuer, HOSTILE_APP, 'https://hostile.example/cb'),
        ),
      );
      assert.equal(consent.response.status, 200, consent.html);
      assert.doesNotMatch(consent.html, /<script/i);
      assert.match(
        consent.html,
        /<strong>&#60;script&#62;alert\(&#34;pwned&#34;\)&#60;\/script&#62; &#38; Co<\/strong> asks for:/,
      );

      const control = new Browser();
      const plain = await signInFrom(
        control,
        await open(control, authorizationUrl(server.issuer, WEB_APP, WEB_APP_CALLBACK)),
      );
      assert.match(plain.html, /<strong>Photo Print<\/strong> asks for:/);
    });

    it('the sign-out pages are built in and translated too', async () => {
      const browser = new Browser();
      const login = await open(browser, await dcrAuthorizationUrl(reg));
      const consent = await signInFrom(browser, login);
      const allow = formOf(consent.html, consent.url, '/confirm');
      await browser.follow(await browser.postForm(allow.action, allow.hidden));

      const logout = await open(
        browser,
        `${server.issuer}/session/end?client_id=mobile-dcr-client&ui_locales=de`,
      );
      assert.equal(logout.response.status, 200);
      assert.equal(langOf(logout.html), 'de');
      assert.equal(titleOf(logout.html), 'Abmelden – Example App');
      assert.match(logout.html, /Sie melden sich von <strong>Example App<\/strong> ab\./);
      assert.match(
        logout.html,
        /<button type="submit" class="primary" name="logout" value="yes">Abmelden<\/button>/,
      );
      const [form] = formsOf(logout.html, logout.url);
      assert.ok(form?.hidden.xsrf);
      const out = await browser.postForm(form.action, { ...form.hidden, logout: 'yes' });
      const done = await pageOf(await browser.follow(out));
      assert.equal(done.response.status, 200);
      assert.equal(langOf(done.html), 'en');
      assert.match(done.html, /<h1>You are signed out<\/h1>/);
    });
  });

  describe('options', () => {
    const base = () => testServerOptions({ issuer: 'http://127.0.0.1:1' });
    const refused = async (interactions: AuthServerOptions['interactions'], message: string) => {
      await assert.rejects(createAuthServer({ ...base(), interactions }), (error: unknown) => {
        assert.ok(error instanceof ConfigurationError);
        assert.ok(error.message.includes(message), `expected "${message}" in: ${error.message}`);
        return true;
      });
    };

    it('refuses a default language without a catalogue, unknown messages, bad tags, hooks and descriptions', async () => {
      await refused(
        { defaultLanguage: 'fr' },
        "options.interactions.defaultLanguage 'fr' has no catalogue",
      );
      await refused(
        { messages: { de: { signInButon: 'x' } as never } },
        'options.interactions.messages.de.signInButon is not a known option',
      );
      await refused(
        { messages: { 'not a tag': {} } },
        'options.interactions.messages.not a tag is not a BCP 47 language tag',
      );
      await refused(
        { pages: { login: 'login.html' as never } },
        'options.interactions.pages.login must be a function',
      );
      await refused(
        { scopeDescriptions: { profile: { de: 7 as never } } },
        'options.interactions.scopeDescriptions.profile.de must be a non-empty string',
      );
      await refused(
        { scopeDescriptions: { profile: 3 as never } },
        'options.interactions.scopeDescriptions.profile must be a string or an object',
      );
    });

    it('accepts a default language of a product catalogue (control)', async () => {
      const warn = console.warn;
      console.warn = () => {};
      try {
        const auth = await createAuthServer({
          ...base(),
          interactions: { defaultLanguage: 'fr', messages: { fr: { loginTitle: 'Connexion' } } },
        });
        await auth.close();
      } finally {
        console.warn = warn;
      }
    });
  });
});
