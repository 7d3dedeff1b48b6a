// Step-up (RFC 9470) after `redirect_to_web`, and on the sign-in pages generally: each way of
// signing in in the browser gives the same acr as the Authorization Challenge Endpoint's step of
// that kind (FIRST_PARTY_ACR), and a request's `acr_values` naming some the pages give is
// honoured: only those ways are offered and taken (a password for a passkey acr is not checked),
// a session of another acr signs in again (prompt=none: login_required). So a first-party sign-in
// sent to the browser with acr_values / max_age ends with tokens an API requiring them accepts.
// The pages are driven over real HTTP; the passkey is the tests' software authenticator, Google a
// real oidc-provider on loopback.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { FIRST_PARTY_ACR, type FirstPartyDecision, type SignInEvent } from 'mobile-oidc-provider';
import {
  createTokenVerifier,
  requireAuthentication,
  type TokenVerifier,
} from '../../lib/resource-server/index.js';
import { Browser, formOf } from '../helpers/browser.js';
import { APP_REDIRECT_URI } from '../helpers/example.js';
import {
  challengeOf,
  type FirstPartyServer,
  type Install,
  startFirstParty,
  verifier,
} from '../helpers/first-party.js';
import {
  followToApp,
  formById,
  passkeyPage,
  postCredential,
  postForm,
  signedInBrowser,
} from '../helpers/passkeys.js';
import { SoftwareAuthenticator } from '../helpers/software-authenticator.js';
import { callbackClient, startUpstreamIdp, type UpstreamIdp } from '../helpers/upstream-idp.js';
import { JWT_API, refusal, requestTo } from '../resource-server/helpers.js';

const { password: PASSWORD, id_token: FEDERATED, passkey: PASSKEY } = FIRST_PARTY_ACR;
const GOOGLE_CLIENT_ID = 'our-server.apps.googleusercontent.example';
const GOOGLE_CLIENT_SECRET = 'google-client-secret-for-tests-only';
const PUSHED_REQUEST_URN = 'urn:ietf:params:oauth:request_uri:';

/** A page of ours the browser stopped at. */
interface Page {
  status: number;
  html: string;
  url: string;
}

describe('step-up in the browser: acr_values and max_age after redirect_to_web, and on the sign-in pages', () => {
  let fp: FirstPartyServer;
  let google: UpstreamIdp;
  let authenticator: SoftwareAuthenticator;
  let api: TokenVerifier;
  let answer: FirstPartyDecision = 'allow';
  const signIns: Array<['succeeded' | 'failed', SignInEvent]> = [];

  before(async () => {
    google = await startUpstreamIdp({ quirks: 'google' });
    fp = await startFirstParty((o) => ({
      ...o,
      passkeys: { enabled: true, origins: [new URL(o.issuer).origin] },
      apis: [{ resource: JWT_API, scope: 'payments', accessTokenFormat: 'jwt' }],
      accounts: {
        ...o.accounts,
        federated: async (identity) =>
          identity.provider === 'google' && identity.subject === 'g-demo' ? 'demouser' : undefined,
      },
      federation: {
        providers: [
          {
            name: 'google',
            issuer: google.issuer,
            quirks: 'google',
            browser: { clientId: GOOGLE_CLIENT_ID, clientSecret: GOOGLE_CLIENT_SECRET },
          },
        ],
      },
      interactions: {
        ...o.interactions,
        signInRateLimit: { perAccount: false, perIp: false, perUsername: false },
      },
      firstParty: { policy: () => answer },
    }));
    const { issuer } = fp.server;
    google.setClients([callbackClient(issuer, 'google', GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET)]);
    fp.server.auth.on('signin.succeeded', (e) => signIns.push(['succeeded', e]));
    fp.server.auth.on('signin.failed', (e) => signIns.push(['failed', e]));
    const browser = await signedInBrowser(issuer, 'demouser');
    authenticator = new SoftwareAuthenticator(issuer);
    const { add } = await passkeyPage(browser, issuer);
    assert.equal(
      (await postCredential(browser, add, authenticator.create(add.options))).status,
      303,
    );
    api = createTokenVerifier({
      issuer,
      audience: JWT_API,
      allowHttp: true,
      server: fp.server.auth,
    });
  });
  after(async () => {
    await fp.close();
    await google.close();
  });

  /** Follows `url` to our login page. */
  async function loginPage(browser: Browser, url: URL): Promise<Page> {
    const { response, url: at } = await browser.follow(await browser.get(url));
    return { status: response.status, html: await response.text(), url: at };
  }

  /** Where the request ends without any page: the redirect back to the app. */
  async function silently(browser: Browser, url: URL): Promise<URL> {
    const { location, url: at } = await browser.follow(await browser.get(url));
    assert.ok(location, `a page at ${at} instead of the redirect to the app`);
    return new URL(location);
  }

  /** The login page's passkey sign-in, through to the redirect back to the app. */
  async function passkeySignIn(browser: Browser, page: Page): Promise<URL> {
    const form = formById(page.html, 'passkey-form', page.url);
    const res = await postCredential(browser, form, authenticator.get(JSON.parse(form.options)));
    assert.equal(res.status, 303);
    return followToApp(browser, res, form.action);
  }

  /** The login page's password sign-in as posted; its response (not followed). */
  function postPassword(browser: Browser, page: Page, password = 'Password1') {
    const csrf = formById(page.html, 'passkey-form', page.url).fields.csrf as string;
    return postForm(browser, `${page.url}/login`, { csrf, username: 'demouser', password });
  }

  /** The install's access token for JWT_API from a code, as the API verifies it; and the ID token's claims. */
  async function tokensOf(install: Install, code: string, v: string) {
    const tokens = await fp.token(install, {
      grant_type: 'authorization_code',
      code,
      code_verifier: v,
      resource: JWT_API,
    });
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    const accessToken = await api.verify(
      requestTo(`${JWT_API}pay`, { authorization: `Bearer ${tokens.body.access_token}` }),
    );
    return { accessToken, idToken: decodeJwt(tokens.body.id_token as string) };
  }

  /** The app's request to the challenge endpoint with `extra`, answered with redirect_to_web: its request_uri. */
  async function pushedWith(install: Install, v: string, extra: Record<string, string>) {
    const start = {
      scope: 'openid payments',
      resource: JWT_API,
      code_challenge: challengeOf(v),
      code_challenge_method: 'S256',
      ...extra,
    };
    answer = 'web';
    let pushed: Awaited<ReturnType<FirstPartyServer['challenge']>>;
    if (extra.acr_values === PASSKEY) {
      // A passkey acr: the endpoint takes only the passkey step, then the policy says web.
      const asked = await fp.challenge(install, { ...start, method: 'passkey' });
      assert.equal(asked.body.error, 'insufficient_authorization', JSON.stringify(asked.body));
      pushed = await fp.challenge(install, {
        auth_session: asked.body.auth_session as string,
        passkey_assertion: JSON.stringify(authenticator.get(asked.body.passkey_options as object)),
      });
    } else {
      pushed = await fp.challenge(install, {
        ...start,
        username: 'demouser',
        password: 'Password1',
      });
    }
    assert.equal(pushed.body.error, 'redirect_to_web', JSON.stringify(pushed.body));
    return String(pushed.body.request_uri);
  }

  it('redirect_to_web with a passkey acr and max_age: the browser takes only a passkey, and its code gives tokens the API accepts', async () => {
    const install = await fp.install();
    const v = verifier();
    const requestUri = await pushedWith(install, v, { acr_values: PASSKEY, max_age: '300' });
    // The pushed request carries the step-up parameters.
    const pushed = await fp.server.auth.provider.PushedAuthorizationRequest.find(
      requestUri.slice(PUSHED_REQUEST_URN.length),
    );
    const request = decodeJwt(String(pushed?.request));
    assert.equal(request.acr_values, PASSKEY);
    assert.equal(request.max_age, 300);

    const browser = new Browser();
    const page = await loginPage(browser, await fp.browserUrl(install, requestUri));
    assert.equal(page.status, 200, page.html);
    assert.match(page.html, /id="passkey-form"/);
    assert.doesNotMatch(page.html, /name="password"/, 'no password form');
    assert.doesNotMatch(page.html, /Continue with Google/, 'no federated button');
    assert.match(page.html, /one of the ways shown here/);

    // Attack: a password posted all the same is not checked: a wrong one fails nothing, a right one signs nobody in.
    signIns.length = 0;
    for (const password of ['wrong-password', 'Password1']) {
      const refused = await postPassword(browser, page, password);
      assert.equal(refused.status, 400);
      assert.equal(refused.headers.get('location'), null);
      assert.match(await refused.text(), /id="passkey-form"/);
    }
    assert.deepEqual(signIns, [], 'no sign-in was attempted');

    const before = Math.floor(Date.now() / 1000);
    const callback = await passkeySignIn(browser, page);
    assert.ok(callback.href.startsWith(APP_REDIRECT_URI), callback.href);
    const code = callback.searchParams.get('code');
    assert.ok(code, callback.href);
    const { accessToken, idToken } = await tokensOf(install, code, v);
    assert.equal(accessToken.acr, PASSKEY);
    assert.ok((accessToken.authTime ?? 0) >= before);
    assert.equal(
      requireAuthentication(accessToken, { acrValues: [PASSKEY], maxAge: 300 }),
      accessToken,
    );
    assert.equal(idToken.acr, PASSKEY);
    assert.equal(idToken.auth_time, accessToken.authTime);
  });

  it('control: redirect_to_web without acr_values offers the password, whose tokens carry the password acr (refused where a passkey is required)', async () => {
    const install = await fp.install();
    const v = verifier();
    const requestUri = await pushedWith(install, v, {});
    const browser = new Browser();
    const page = await loginPage(browser, await fp.browserUrl(install, requestUri));
    assert.match(page.html, /name="password"/);
    assert.match(page.html, /id="passkey-form"/);
    assert.match(page.html, /Continue with Google/);
    assert.doesNotMatch(page.html, /one of the ways shown here/);
    const res = await postPassword(browser, page);
    assert.equal(res.status, 303);
    const callback = await followToApp(browser, res, `${page.url}/login`);
    const { accessToken } = await tokensOf(install, callback.searchParams.get('code') as string, v);
    assert.equal(accessToken.acr, PASSWORD);
    const refused = await refusal(() =>
      requireAuthentication(accessToken, { acrValues: [PASSKEY] }),
    );
    assert.equal(refused.status, 401);
  });

  describe("an install's own authorization requests in a browser", () => {
    /** The install's authorization request (openid, PKCE S256) with `extra` parameters, and its verifier. */
    async function authRequest(install: Install, extra: Record<string, string>) {
      const pkce = verifier();
      const discovery = await fetch(`${fp.server.issuer}/.well-known/openid-configuration`);
      const url = new URL(
        ((await discovery.json()) as { authorization_endpoint: string }).authorization_endpoint,
      );
      for (const [name, value] of Object.entries({
        client_id: install.client_id,
        response_type: 'code',
        scope: 'openid',
        redirect_uri: APP_REDIRECT_URI,
        code_challenge: challengeOf(pkce),
        code_challenge_method: 'S256',
        ...extra,
      })) {
        url.searchParams.set(name, value);
      }
      return { url, pkce };
    }

    /** The acr of the access token a callback's code gives. */
    async function acrOf(install: Install, callback: URL, pkce: string) {
      const code = callback.searchParams.get('code');
      assert.ok(code, callback.href);
      const tokens = await fp.token(install, {
        grant_type: 'authorization_code',
        code,
        code_verifier: pkce,
      });
      assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
      return (await fp.server.auth.introspect(tokens.body.access_token as string)).acr;
    }

    /** A browser whose session signed in with demouser's password, through `install`. */
    async function passwordSession(install: Install): Promise<Browser> {
      const browser = new Browser();
      const { url, pkce } = await authRequest(install, {});
      const page = await loginPage(browser, url);
      const res = await postPassword(browser, page);
      const callback = await followToApp(browser, res, `${page.url}/login`);
      assert.equal(await acrOf(install, callback, pkce), PASSWORD);
      return browser;
    }

    it('a passkey acr asks for a new sign-in (prompt=none: login_required); control: the password acr, or acr values the pages do not give, are served from the session', async () => {
      const install = await fp.install();
      const browser = await passwordSession(install);
      const none = await authRequest(install, { acr_values: PASSKEY, prompt: 'none' });
      const refused = await silently(browser, none.url);
      assert.equal(refused.searchParams.get('error'), 'login_required', refused.href);
      assert.equal(refused.searchParams.get('code'), null);

      for (const acrValues of [PASSWORD, 'urn:example:loa4', `${PASSKEY} ${PASSWORD}`]) {
        const { url, pkce } = await authRequest(install, { acr_values: acrValues });
        assert.equal(await acrOf(install, await silently(browser, url), pkce), PASSWORD, acrValues);
      }

      const stepUp = await authRequest(install, { acr_values: PASSKEY });
      const page = await loginPage(browser, stepUp.url);
      assert.equal(page.status, 200);
      assert.doesNotMatch(page.html, /name="password"/);
      assert.equal(await acrOf(install, await passkeySignIn(browser, page), stepUp.pkce), PASSKEY);
      // The session's sign-in is the passkey's now: the next passkey request is silent.
      const again = await authRequest(install, { acr_values: PASSKEY });
      assert.equal(await acrOf(install, await silently(browser, again.url), again.pkce), PASSKEY);
    });

    it('"Continue with Google" gives the federated acr; with a passkey acr the button is gone, and pressing it anyway does not leave for Google', async () => {
      const install = await fp.install();
      const browser = new Browser();
      const { url, pkce } = await authRequest(install, {});
      const page = await loginPage(browser, url);
      const button = formOf(page.html, page.url, '/federated/google');
      const pressed = await browser.postForm(button.action, button.hidden);
      assert.equal(pressed.status, 303);
      const upstream = await google.authorize(browser, pressed.headers.get('location') as string, {
        login: 'g-demo',
      });
      assert.equal(upstream.method, 'GET');
      const callback = await followToApp(browser, await browser.get(upstream.url), upstream.url);
      assert.equal(await acrOf(install, callback, pkce), FEDERATED);

      const stepUp = await authRequest(install, { acr_values: PASSKEY });
      const other = new Browser();
      const restricted = await loginPage(other, stepUp.url);
      assert.doesNotMatch(restricted.html, /Continue with Google/);
      const csrf = formById(restricted.html, 'passkey-form', restricted.url).fields.csrf as string;
      const refused = await other.postForm(`${restricted.url}/federated/google`, { csrf });
      assert.equal(refused.status, 400);
      assert.equal(refused.headers.get('location'), null);
    });
  });
});
