// The authorization endpoint is no open redirector (RFC 9700 §4.11.2). Anyone with an account can
// register an app install and choose its redirect URI, so an error for such an install is shown
// on the server's error page while no user has signed in in the browser: an attacker's link with
// `prompt=none`, a bad scope or an abandoned sign-in never sends the victim to the attacker's
// site. Successful responses, errors after a user signed in, and redirect URIs fixed by a
// template or a static client keep RFC 6749 §4.1.2.1's redirect.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuthServerOptions } from 'mobile-oidc-provider';
import * as oidc from 'openid-client';
import {
  APP_REDIRECT_URI,
  REGISTRATION_CLIENT_ID,
  type RunningServer,
  registrationClient,
  startExample,
} from '../helpers/example.js';
import { APP_SOFTWARE_ID, appTemplate } from '../helpers/fixture.js';
import { postRegistration } from '../helpers/registration.js';
import { formsOf, obtainDcrToken, SignInBrowser, signIn } from '../helpers/sign-in.js';

const EVIL = 'https://evil.example/cb';
// A template that lets each install choose its redirect URIs (https ones too).
const OPEN_SOFTWARE_ID = 'io.example.open-redirects';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

/** Registers an install with the DCR token demouser earns by signing in. */
async function register(server: RunningServer, metadata: Record<string, unknown>) {
  const { tokens } = await obtainDcrToken(
    await registrationClient(server.issuer),
    new SignInBrowser(),
  );
  const registered = await postRegistration(server.issuer, metadata, tokens.access_token);
  assert.equal(registered.status, 201, JSON.stringify(registered.body));
  return { id: String(registered.body.client_id), secret: String(registered.body.client_secret) };
}

/** The redirect URI a response was sent to: the URL without its query and fragment. */
const endpointOf = (url: URL) => url.href.split(/[?#]/)[0];

/** A raw authorization request: code flow with PKCE, `overrides` on top (`null` drops one). */
function authorize(
  server: RunningServer,
  clientId: string,
  redirectUri: string,
  overrides: Record<string, string | null> = {},
): URL {
  const url = new URL(`${server.issuer}/auth`);
  const params: Record<string, string | null> = {
    client_id: clientId,
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: 'openid',
    code_challenge: CHALLENGE,
    code_challenge_method: 'S256',
    state: 'attacker-state',
    ...overrides,
  };
  for (const [name, value] of Object.entries(params)) {
    if (value !== null) url.searchParams.set(name, value);
  }
  return url;
}

/** Asserts the response is the server's error page for `error`, and leads nowhere near EVIL. */
async function assertErrorPage(res: Response, error: string) {
  const body = await res.text();
  assert.equal(res.status, 400, body);
  assert.equal(res.headers.get('location'), null, 'no redirect');
  assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
  assert.ok(body.includes(error), `the page names ${error}`);
  // Not in a Location, nor in a form_post form or a web_message script.
  assert.ok(!body.includes('evil.example'), 'the page does not lead to the redirect URI');
}

describe('errors of installs with user-registered redirect URIs (RFC 9700 §4.11.2)', () => {
  let server: RunningServer;
  let evilInstall: { id: string; secret: string };

  before(async () => {
    server = await startExample(
      (o): AuthServerOptions => ({
        ...o,
        registration: {
          ...o.registration,
          templates: [
            ...(o.registration?.templates ?? []),
            {
              ...appTemplate,
              software_id: OPEN_SOFTWARE_ID,
              instanceFields: ['client_name', 'software_version', 'redirect_uris'],
              allowedRedirectSchemes: ['https', 'io.example.app'],
            },
          ],
        },
        // JARM and PAR on, so their response modes and requests are covered too.
        oidcProvider: {
          ...o.oidcProvider,
          features: {
            ...o.oidcProvider?.features,
            jwtResponseModes: { enabled: true },
            pushedAuthorizationRequests: { enabled: true },
          },
        },
      }),
    );
    evilInstall = await register(server, {
      client_name: 'Example App',
      redirect_uris: [EVIL],
      scope: 'openid profile',
    });
  });
  after(() => server.close());

  describe('attacks: an anonymous browser is not sent to the registrant’s redirect URI', () => {
    for (const mode of [undefined, 'query', 'fragment', 'form_post', 'jwt', 'query.jwt']) {
      it(`prompt=none ends at the error page (login_required), response_mode ${mode ?? 'default'}`, async () => {
        const res = await new SignInBrowser().request(
          authorize(server, evilInstall.id, EVIL, { prompt: 'none', response_mode: mode ?? null }),
        );
        await assertErrorPage(res, 'login_required');
      });
    }

    it('an invalid request ends at the error page: a scope the install may not ask for, unsupported response_type, no PKCE', async () => {
      const browser = new SignInBrowser();
      await assertErrorPage(
        await browser.request(authorize(server, evilInstall.id, EVIL, { scope: 'openid email' })),
        'invalid_scope',
      );
      await assertErrorPage(
        await browser.request(authorize(server, evilInstall.id, EVIL, { response_type: 'token' })),
        'unsupported_response_type',
      );
      await assertErrorPage(
        await browser.request(authorize(server, evilInstall.id, EVIL, { code_challenge: null })),
        'invalid_request',
      );
    });

    it('a pushed authorization request (RFC 9126) ends at the error page', async () => {
      // The registrant holds the install's secret, so it can push requests too.
      const pushed = authorize(server, evilInstall.id, EVIL, { prompt: 'none' });
      const res = await fetch(`${server.issuer}/request`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${btoa(`${evilInstall.id}:${evilInstall.secret}`)}`,
        },
        body: pushed.searchParams.toString(),
      });
      const { request_uri } = (await res.json()) as { request_uri: string };
      assert.equal(res.status, 201);
      const url = new URL(`${server.issuer}/auth`);
      url.searchParams.set('client_id', evilInstall.id);
      url.searchParams.set('request_uri', request_uri);
      await assertErrorPage(await new SignInBrowser().request(url), 'login_required');
    });

    it('a sign-in abandoned on the login page ends at the error page (access_denied)', async () => {
      const browser = new SignInBrowser();
      const start = await browser.request(authorize(server, evilInstall.id, EVIL));
      assert.equal(start.status, 303);
      const loginUrl = new URL(start.headers.get('location') ?? '', server.issuer);
      const login = await browser.request(loginUrl);
      assert.equal(login.status, 200);
      const [form] = formsOf(await login.text(), loginUrl.href);
      assert.ok(form);
      // The user walks away through the interaction's abort action, signed in as no one.
      const aborted = await browser.request(form.action.replace(/\/login$/, '/abort'), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form.fields).toString(),
      });
      assert.equal(aborted.status, 303);
      const resume = aborted.headers.get('location') ?? '';
      assert.ok(!resume.startsWith(EVIL));
      await assertErrorPage(await browser.request(new URL(resume, server.issuer)), 'access_denied');
    });

    it('a template that lets installs choose redirect URIs: the chosen one is not trusted either', async () => {
      const { id: clientId } = await register(server, {
        software_id: OPEN_SOFTWARE_ID,
        software_version: '1.0.0',
        redirect_uris: [EVIL, APP_REDIRECT_URI],
      });
      const browser = new SignInBrowser();
      await assertErrorPage(
        await browser.request(authorize(server, clientId, EVIL, { prompt: 'none' })),
        'login_required',
      );
      // Control: the template's own redirect URI is fixed by the server, so RFC 6749 applies.
      const fixed = await browser.request(
        authorize(server, clientId, APP_REDIRECT_URI, { prompt: 'none' }),
      );
      const location = new URL(fixed.headers.get('location') ?? '');
      assert.equal(endpointOf(location), APP_REDIRECT_URI);
      assert.equal(location.searchParams.get('error'), 'login_required');
    });
  });

  describe('controls: RFC 6749 §4.1.2.1 redirects where the redirect URI is trusted', () => {
    it('an install whose redirect URI the template fixes gets error=login_required', async () => {
      const { id: clientId } = await register(server, {
        software_id: APP_SOFTWARE_ID,
        software_version: '1.0.0',
      });
      const res = await new SignInBrowser().request(
        authorize(server, clientId, APP_REDIRECT_URI, { prompt: 'none' }),
      );
      assert.equal(res.status, 303);
      const location = new URL(res.headers.get('location') ?? '');
      assert.equal(endpointOf(location), APP_REDIRECT_URI);
      assert.equal(location.searchParams.get('error'), 'login_required');
      assert.equal(location.searchParams.get('state'), 'attacker-state');
    });

    it('a static client (the registration client) gets error=login_required', async () => {
      const res = await new SignInBrowser().request(
        authorize(server, REGISTRATION_CLIENT_ID, APP_REDIRECT_URI, {
          prompt: 'none',
          scope: 'dcr',
        }),
      );
      assert.equal(res.status, 303);
      const location = new URL(res.headers.get('location') ?? '');
      assert.equal(location.searchParams.get('error'), 'login_required');
    });

    it('the signed-in owner of the user-registered install gets a code at its redirect URI', async () => {
      const verifier = oidc.randomPKCECodeVerifier();
      const url = authorize(server, evilInstall.id, EVIL, {
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      });
      const result = await signIn(new SignInBrowser(), url);
      assert.equal(endpointOf(result.callback), EVIL);
      assert.ok(result.callback.searchParams.get('code'));
    });

    it('another account, refused after signing in, is sent back with error=access_denied', async () => {
      const result = await signIn(new SignInBrowser(), authorize(server, evilInstall.id, EVIL), {
        username: 'otheruser',
        password: 'Password2',
      });
      assert.equal(endpointOf(result.callback), EVIL);
      assert.equal(result.callback.searchParams.get('error'), 'access_denied');
      assert.equal(result.callback.searchParams.get('code'), null);
    });

    it('a signed-in user (SSO) whose request is invalid is sent back with the error', async () => {
      const browser = new SignInBrowser();
      // demouser signs in in this browser through the install's own flow.
      const first = await signIn(browser, authorize(server, evilInstall.id, EVIL));
      assert.ok(first.callback.searchParams.get('code'));
      const res = await browser.request(
        authorize(server, evilInstall.id, EVIL, { scope: 'openid email' }),
      );
      assert.equal(res.status, 303);
      const location = new URL(res.headers.get('location') ?? '');
      assert.equal(endpointOf(location), EVIL);
      assert.equal(location.searchParams.get('error'), 'invalid_scope');
    });
  });
});
