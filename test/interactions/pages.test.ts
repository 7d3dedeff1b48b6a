// The built-in login and consent pages on a bare oidc-provider (no createAuthServer), over real
// HTTP: the whole journey to the app's custom-scheme callback, CSRF, escaping, headers, errors.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import Provider, { type Configuration } from 'oidc-provider';
import { interactionUrl } from '../../lib/interactions/index.js';
import { createInteractionRoutes } from '../../lib/interactions/interaction-routes.js';
import { Browser, formOf, formsOf } from '../helpers/browser.js';
import { type Listening, listen } from '../helpers/listen.js';

const CALLBACK = 'io.example.app:/callback';
const ASKING_CLIENT = 'third-party-app';
const FIRST_PARTY_CLIENT = 'first-party-app';
const ACCOUNT_ID = 'account-1';
const CSRF_SECRET = 'csrf-secret-for-tests-only';

describe('the built-in login and consent pages', () => {
  let http: Listening;
  const authenticateCalls: string[] = [];
  const autoConsentCalls: Array<{
    clientId: string;
    accountId: string;
    metadata: Record<string, unknown>;
  }> = [];

  before(async () => {
    http = await listen();
    const client = {
      token_endpoint_auth_method: 'none',
      application_type: 'native',
      redirect_uris: [CALLBACK],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    } as const;
    const configuration: Configuration = {
      clients: [
        { ...client, client_id: ASKING_CLIENT, client_name: 'Photo <Printer> & Co' },
        { ...client, client_id: FIRST_PARTY_CLIENT },
      ],
      cookies: { keys: ['cookie-key-for-tests-only'] },
      claims: { openid: ['sub'], email: ['email'] },
      ttl: {
        AccessToken: 600,
        AuthorizationCode: 60,
        Grant: 3600,
        IdToken: 600,
        Interaction: 600,
        Session: 3600,
      },
      features: {
        devInteractions: { enabled: false },
        claimsParameter: { enabled: true },
      },
      interactions: { url: (_ctx, interaction) => interactionUrl('', interaction.uid) },
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
        async authenticate(username, password) {
          authenticateCalls.push(username);
          return username === 'demouser' && password === 'Password1' ? ACCOUNT_ID : undefined;
        },
        csrfSecret: CSRF_SECRET,
        basePath: '',
        title: 'Example',
        autoConsent(input) {
          autoConsentCalls.push(input);
          return input.clientId === FIRST_PARTY_CLIENT;
        },
      }),
    );
    http.handle(provider.callback());
  });
  after(() => http.close());

  /** A PKCE S256 authorization request for `clientId`; resolves its URL and verifier. */
  function authorizationRequest(clientId = ASKING_CLIENT, extra: Record<string, string> = {}) {
    const verifier = randomBytes(32).toString('base64url');
    const url = new URL('/auth', http.url);
    url.search = new URLSearchParams({
      client_id: clientId,
      response_type: 'code',
      redirect_uri: CALLBACK,
      scope: 'openid',
      state: 'state-1',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      ...extra,
    }).toString();
    return { url, verifier };
  }

  /** Starts a sign-in in a fresh browser and resolves the login page it lands on. */
  async function openLoginPage(clientId = ASKING_CLIENT, extra: Record<string, string> = {}) {
    const browser = new Browser();
    const { url, verifier } = authorizationRequest(clientId, extra);
    const { response, url: pageUrl } = await browser.follow(await browser.get(url));
    const html = await response.text();
    assert.equal(response.status, 200, html);
    return { browser, response, html, pageUrl, verifier, login: formOf(html, pageUrl, '/login') };
  }

  /** Signs in on the login page and resolves where the redirects lead (a page or the app). */
  async function logIn(clientId = ASKING_CLIENT, extra: Record<string, string> = {}) {
    const opened = await openLoginPage(clientId, extra);
    const { browser, login } = opened;
    const posted = await browser.postForm(login.action, {
      ...login.hidden,
      username: 'demouser',
      password: 'Password1',
    });
    assert.equal(posted.status, 303);
    return { ...opened, next: await browser.follow(posted) };
  }

  const securityHeadersOf = (response: Response, html: string) => {
    assert.equal(response.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(response.headers.get('cache-control'), 'no-store');
    assert.equal(response.headers.get('x-frame-options'), 'DENY');
    assert.equal(response.headers.get('referrer-policy'), 'no-referrer');
    const csp = response.headers.get('content-security-policy') ?? '';
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1];
    assert.ok(style !== undefined, 'the page has its one style block');
    const hash = createHash('sha256').update(style).digest('base64');
    assert.match(csp, /^default-src 'none'; /);
    assert.ok(csp.includes(`style-src 'sha256-${hash}' `), `CSP allows the style block: ${csp}`);
    assert.match(csp, /frame-ancestors 'none'/);
    // form-action would block the final redirect to the app's custom-scheme callback.
    assert.doesNotMatch(csp, /form-action|unsafe-inline/);
    assert.doesNotMatch(html, /<script/i);
  };

  it('signs in and consents all the way to the app callback, and the code is redeemable', async () => {
    const { browser, response, html, pageUrl, verifier, login } = await openLoginPage();
    assert.match(new URL(pageUrl).pathname, /^\/interaction\/[\w-]+$/);
    assert.equal(login.method, 'post');
    assert.equal(login.action, `${pageUrl}/login`);
    assert.ok(login.hidden.csrf, 'the login form carries a CSRF token');
    assert.match(html, /<input[^>]*name="username"/);
    assert.match(html, /<input[^>]*name="password"[^>]*type="password"/);
    securityHeadersOf(response, html);

    // A wrong password: 401, a clear message, the username kept, the password never echoed.
    const wrong = await browser.postForm(login.action, {
      ...login.hidden,
      username: 'demouser',
      password: 'not-the-Passw0rd',
    });
    assert.equal(wrong.status, 401);
    const wrongHtml = await wrong.text();
    assert.match(wrongHtml, /Wrong username or password\./);
    assert.match(wrongHtml, /value="demouser"/);
    assert.doesNotMatch(wrongHtml, /not-the-Passw0rd/);
    securityHeadersOf(wrong, wrongHtml);

    // The right password leads to the consent page (this client is not first-party).
    const retry = formOf(wrongHtml, pageUrl, '/login');
    const right = await browser.postForm(retry.action, {
      ...retry.hidden,
      username: 'demouser',
      password: 'Password1',
    });
    assert.equal(right.status, 303);
    const consent = await browser.follow(right);
    const consentHtml = await consent.response.text();
    assert.equal(consent.response.status, 200, consentHtml);
    // oidc-provider starts a new interaction for the consent prompt.
    assert.match(new URL(consent.url).pathname, /^\/interaction\/[\w-]+$/);
    assert.notEqual(consent.url, pageUrl);
    assert.match(consentHtml, /Photo &#60;Printer&#62; &#38; Co/);
    assert.match(consentHtml, /<li>Confirm who you are<\/li>/, 'openid by its description');
    securityHeadersOf(consent.response, consentHtml);
    const [allow, deny] = formsOf(consentHtml, consent.url);
    assert.equal(allow?.action, `${consent.url}/confirm`);
    assert.equal(deny?.action, `${consent.url}/abort`);
    assert.ok(allow.hidden.csrf, 'Allow carries a CSRF token');
    assert.equal(deny.hidden.csrf, allow.hidden.csrf);
    assert.notEqual(allow.hidden.csrf, login.hidden.csrf, 'tokens are per interaction');

    // Allow: back through /auth to the app's custom-scheme callback with a code.
    const allowed = await browser.postForm(allow.action, allow.hidden);
    assert.equal(allowed.status, 303);
    const { location } = await browser.follow(allowed);
    assert.ok(location?.startsWith(`${CALLBACK}?`), `redirected to the app: ${location}`);
    assert.ok(location);
    const callback = new URL(location);
    const code = callback.searchParams.get('code');
    assert.ok(code);
    assert.equal(callback.searchParams.get('state'), 'state-1');

    // The code, with the PKCE verifier, gets tokens for the signed-in account.
    const token = await fetch(new URL('/token', http.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: CALLBACK,
        client_id: ASKING_CLIENT,
        code_verifier: verifier,
      }),
    });
    const tokens = (await token.json()) as { id_token?: string; scope?: string };
    assert.equal(token.status, 200, JSON.stringify(tokens));
    assert.equal(tokens.scope, 'openid');
    const payload = JSON.parse(
      Buffer.from(tokens.id_token?.split('.')[1] ?? '', 'base64url').toString(),
    ) as { sub?: string };
    assert.equal(payload.sub, ACCOUNT_ID);
  });

  it('Deny sends access_denied to the app and no code', async () => {
    const { browser, next } = await logIn();
    const html = await next.response.text();
    const denied = await browser.postForm(
      formOf(html, next.url, '/abort').action,
      formOf(html, next.url, '/abort').hidden,
    );
    assert.equal(denied.status, 303);
    const { location } = await browser.follow(denied);
    assert.ok(location?.startsWith(CALLBACK), `redirected to the app: ${location}`);
    assert.ok(location);
    const callback = new URL(location);
    assert.equal(callback.searchParams.get('error'), 'access_denied');
    assert.equal(callback.searchParams.get('code'), null);
    assert.equal(callback.searchParams.get('state'), 'state-1');
  });

  it('lists the individually requested claims on the consent page', async () => {
    const { next } = await logIn(ASKING_CLIENT, {
      claims: JSON.stringify({ id_token: { email: null } }),
    });
    const html = await next.response.text();
    assert.match(html, /<li>Confirm who you are<\/li>/);
    assert.match(html, /claim <code>email<\/code>/);
  });

  it('autoConsent skips the consent page, and is asked with the client and the account', async () => {
    autoConsentCalls.length = 0;
    const { next } = await logIn(FIRST_PARTY_CLIENT);
    assert.ok(next.location?.startsWith(`${CALLBACK}?`), `no consent page: ${next.location}`);
    assert.ok(next.location);
    assert.ok(new URL(next.location).searchParams.get('code'));
    assert.equal(autoConsentCalls.length, 1);
    const [call] = autoConsentCalls;
    assert.equal(call?.clientId, FIRST_PARTY_CLIENT);
    assert.equal(call?.accountId, ACCOUNT_ID);
    assert.equal(call?.metadata.client_id, FIRST_PARTY_CLIENT);
    assert.deepEqual(call?.metadata.redirect_uris, [CALLBACK]);
  });

  it('a post with a missing or wrong CSRF token is refused with 403 and signs nobody in', async () => {
    const { browser, login, pageUrl } = await openLoginPage();
    const other = await openLoginPage();
    authenticateCalls.length = 0;
    for (const csrf of [undefined, '', 'forged', other.login.hidden.csrf]) {
      const fields: Record<string, string> = { username: 'demouser', password: 'Password1' };
      if (csrf !== undefined) fields.csrf = csrf;
      const res = await browser.postForm(login.action, fields);
      const html = await res.text();
      assert.equal(res.status, 403, `csrf ${csrf}`);
      assert.match(html, /Start again/);
      securityHeadersOf(res, html);
    }
    assert.deepEqual(authenticateCalls, [], 'authenticate was never reached');
    // The interaction still asks for a login: nothing was submitted.
    const again = await browser.get(pageUrl);
    assert.equal(again.status, 200);
    formOf(await again.text(), pageUrl, '/login');
  });

  it('confirm and abort refuse a wrong CSRF token too', async () => {
    const { browser, next } = await logIn();
    const html = await next.response.text();
    for (const suffix of ['/confirm', '/abort']) {
      const res = await browser.postForm(formOf(html, next.url, suffix).action, { csrf: 'forged' });
      assert.equal(res.status, 403, suffix);
    }
    // Still at the consent prompt.
    const again = await browser.get(next.url);
    formOf(await again.text(), next.url, '/confirm');
  });

  it('an unknown interaction gets a 400 page saying to start again, with no internals', async () => {
    for (const path of ['/interaction/unknown-uid', '/interaction/unknown-uid/login']) {
      const res = await fetch(new URL(path, http.url), {
        method: path.endsWith('/login') ? 'POST' : 'GET',
      });
      const html = await res.text();
      assert.equal(res.status, 400, path);
      assert.match(html, /expired/);
      assert.match(html, /Start signing in again/);
      assert.doesNotMatch(html, /SessionNotFound|\bat .+:\d+:\d+|node_modules/);
      securityHeadersOf(res, html);
    }
  });

  it('what the user typed is HTML-escaped when shown back', async () => {
    const { browser, login } = await openLoginPage();
    const res = await browser.postForm(login.action, {
      ...login.hidden,
      username: '"><script>alert(1)</script>',
      password: 'x',
    });
    assert.equal(res.status, 401);
    const html = await res.text();
    assert.doesNotMatch(html, /<script/i);
    assert.match(html, /value="&#34;&#62;&#60;script&#62;alert\(1\)&#60;\/script&#62;"/);
  });

  it('a form body over 16 KiB is refused with 413', async () => {
    const { browser, login } = await openLoginPage();
    const res = await browser.postForm(login.action, {
      ...login.hidden,
      username: 'x'.repeat(17 * 1024),
      password: 'x',
    });
    assert.equal(res.status, 413);
  });

  it('a streamed (chunked) form body over 16 KiB is refused with 413 too', async () => {
    const { browser, login } = await openLoginPage();
    const chunk = new TextEncoder().encode(
      `csrf=${login.hidden.csrf}&username=${'x'.repeat(4096)}`,
    );
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent += 1;
        if (sent > 8) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const res = await browser.request(login.action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
      duplex: 'half',
    } as RequestInit);
    assert.equal(res.status, 413);
  });

  it('passes every other path on to oidc-provider', async () => {
    const res = await fetch(new URL('/.well-known/openid-configuration', http.url));
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { issuer?: string }).issuer, http.url);
  });
});
