// The per-step policy of the Authorization Challenge Endpoint (`firstParty.policy`, issue #29, DESIGN
// flow 11) and `redirect_to_web`: after each step's credential checked out the policy allows the
// code, denies it, asks for one more step of the same account, or sends the app to the browser
// with a pushed authorization request that the browser flow takes and whose code exchanges with
// the app's PKCE verifier.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FirstPartyDecision, FirstPartyPolicyContext } from 'mobile-oidc-provider';
import {
  challengeOf,
  FIRST_PARTY_STORES,
  type FirstPartyServer,
  type Install,
  startFirstParty,
  verifier,
} from '../helpers/first-party.js';
import { APP_REDIRECT_URI } from '../helpers/fixture.js';
import { enrolledAuthenticator } from '../helpers/passkeys.js';
import { SignInBrowser, signIn } from '../helpers/sign-in.js';

for (const [storeName, makeStore] of FIRST_PARTY_STORES) {
  describe(`first-party sign-in: the per-step policy and redirect_to_web (${storeName})`, () => {
    let fp: FirstPartyServer;
    /** What the policy answers next; a function of the context it sees. */
    let answer: (c: FirstPartyPolicyContext) => FirstPartyDecision = () => 'allow';
    const seen: FirstPartyPolicyContext[] = [];
    const serverErrors: unknown[] = [];

    before(async () => {
      fp = await startFirstParty(
        (o) => ({
          ...o,
          passkeys: { enabled: true },
          firstParty: {
            policy: (context) => {
              seen.push(context);
              return answer(context);
            },
          },
        }),
        { store: makeStore, unthrottled: true },
      );
      fp.server.auth.provider.on('server_error', (_ctx: unknown, error: unknown) =>
        serverErrors.push(error),
      );
    });
    after(() => fp.close());

    const password = (install: Install, auth_session: string, username = 'demouser') =>
      fp.challenge(install, {
        auth_session,
        username,
        password: username === 'demouser' ? 'Password1' : 'Password2',
      });

    const exchange = (install: Install, code: string, v: string) =>
      fp.token(install, { grant_type: 'authorization_code', code, code_verifier: v });

    const enrolled = (username: string) => enrolledAuthenticator(fp.server.issuer, username);

    /** Where the app opens the browser: the authorization endpoint with its client_id and the request_uri. */
    async function browserUrl(install: Install, requestUri: string) {
      const discovery = await fetch(`${fp.server.issuer}/.well-known/openid-configuration`);
      const url = new URL(
        ((await discovery.json()) as Record<string, string>).authorization_endpoint as string,
      );
      url.searchParams.set('client_id', install.client_id);
      url.searchParams.set('request_uri', requestUri);
      return url;
    }

    const boundAccount = async (install: Install) =>
      (await fp.server.auth.instances.get(install.client_id))?.accountId;

    it('sees the step, the account, the install and the address, never the credential; allow gives the code', async () => {
      answer = () => 'allow';
      seen.length = 0;
      const install = await fp.install();
      const v = verifier();
      const done = await password(install, await fp.start(install, v));
      assert.equal(done.status, 200, JSON.stringify(done.body));
      assert.equal(seen.length, 1);
      const context = seen[0] as FirstPartyPolicyContext;
      assert.deepEqual(
        { ...context },
        {
          clientId: install.client_id,
          softwareId: context.softwareId,
          cal: 'by-provisioned-key',
          step: 'password',
          steps: ['password'],
          accountId: 'demouser',
          ip: context.ip,
        },
      );
      assert.ok(context.softwareId.length > 0);
      assert.match(context.ip, /127\.0\.0\.1/);
      assert.doesNotMatch(JSON.stringify(context), /Password1/);
      const tokens = await exchange(install, done.body.authorization_code as string, v);
      assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    });

    it('a wrong password never reaches the policy', async () => {
      answer = () => 'allow';
      seen.length = 0;
      const install = await fp.install();
      const wrong = await fp.challenge(install, {
        auth_session: await fp.start(install, verifier()),
        username: 'demouser',
        password: 'wrong',
      });
      assert.equal(wrong.body.error, 'access_denied');
      assert.equal(seen.length, 0);
    });

    it('deny is access_denied with the session spent and the install left unbound; control: allow binds it', async () => {
      answer = () => 'deny';
      const install = await fp.install();
      const auth_session = await fp.start(install, verifier());
      const denied = await password(install, auth_session);
      assert.equal(denied.status, 400);
      assert.equal(denied.body.error, 'access_denied');
      assert.equal(denied.body.auth_session, undefined);
      assert.equal(await boundAccount(install), undefined);
      answer = () => 'allow';
      assert.equal((await password(install, auth_session)).body.error, 'invalid_session');
      const control = await password(install, await fp.start(install, verifier()));
      assert.equal(control.status, 200, JSON.stringify(control.body));
      assert.equal(await boundAccount(install), 'demouser');
    });

    it('a throwing policy is a server_error without its message, nothing written; control: the same request allowed', async () => {
      answer = () => {
        throw new Error('policy bug: secret detail');
      };
      serverErrors.length = 0;
      const install = await fp.install();
      const crashed = await password(install, await fp.start(install, verifier()));
      assert.equal(crashed.status, 500);
      assert.equal(crashed.body.error, 'server_error');
      assert.doesNotMatch(JSON.stringify(crashed.body), /policy bug|secret detail|at .*\.ts/);
      assert.equal(crashed.body.authorization_code, undefined);
      assert.equal(await boundAccount(install), undefined);
      assert.equal(serverErrors.length, 1);
      // An answer that is not a decision fails the same way.
      answer = () => ({ more: ['sms'] }) as unknown as FirstPartyDecision;
      const malformed = await password(install, await fp.start(install, verifier()));
      assert.equal(malformed.status, 500);
      assert.equal(malformed.body.error, 'server_error');
      answer = () => 'allow';
      const control = await password(install, await fp.start(install, verifier()));
      assert.equal(control.status, 200, JSON.stringify(control.body));
    });

    it('more asks for a passkey of the same account; the code carries both steps', async () => {
      const authenticator = await enrolled('demouser');
      answer = ({ steps }) => (steps.includes('passkey') ? 'allow' : { more: ['passkey'] });
      seen.length = 0;
      const install = await fp.install();
      const v = verifier();
      const first = await password(install, await fp.start(install, v));
      assert.equal(first.status, 400);
      assert.equal(first.body.error, 'insufficient_authorization');
      assert.deepEqual(first.body.required, ['method']);
      assert.equal(await boundAccount(install), undefined);
      const asked = await fp.challenge(install, {
        auth_session: first.body.auth_session as string,
        method: 'passkey',
      });
      assert.deepEqual(asked.body.required, ['passkey_assertion']);
      const done = await fp.challenge(install, {
        auth_session: asked.body.auth_session as string,
        passkey_assertion: JSON.stringify(authenticator.get(asked.body.passkey_options as object)),
      });
      assert.equal(done.status, 200, JSON.stringify(done.body));
      assert.deepEqual(seen.at(-1)?.steps, ['password', 'passkey']);
      const code = await fp.server.auth.provider.AuthorizationCode.find(
        done.body.authorization_code as string,
      );
      assert.deepEqual(code?.amr, ['pwd', 'hwk', 'user']);
      const tokens = await exchange(install, done.body.authorization_code as string, v);
      assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
      assert.equal(await boundAccount(install), 'demouser');
    });

    it('after more, another step than asked is invalid_request, and another account is access_denied', async () => {
      const other = await enrolled('otheruser');
      answer = ({ steps }) => (steps.includes('passkey') ? 'allow' : { more: ['passkey'] });
      const install = await fp.install();
      const first = await password(install, await fp.start(install, verifier()));
      assert.equal(first.body.error, 'insufficient_authorization');
      // A second password where a passkey was asked for.
      const skipped = await password(install, first.body.auth_session as string);
      assert.equal(skipped.body.error, 'invalid_request');
      const again = await password(install, await fp.start(install, verifier()));
      const asked = await fp.challenge(install, {
        auth_session: again.body.auth_session as string,
        method: 'passkey',
      });
      // otheruser's passkey after demouser's password.
      const swapped = await fp.challenge(install, {
        auth_session: asked.body.auth_session as string,
        passkey_assertion: JSON.stringify(other.get(asked.body.passkey_options as object)),
      });
      assert.equal(swapped.status, 400);
      assert.equal(swapped.body.error, 'access_denied');
      assert.equal(swapped.body.authorization_code, undefined);
      assert.equal(await boundAccount(install), undefined);
    });

    it('web answers redirect_to_web with a request_uri the browser flow takes; the code exchanges with the app verifier', async () => {
      answer = () => 'web';
      const install = await fp.install();
      const v = verifier();
      const started = await fp.challenge(install, {
        scope: 'openid offline_access',
        code_challenge: challengeOf(v),
        code_challenge_method: 'S256',
        username: 'demouser',
        password: 'Password1',
      });
      assert.equal(started.status, 400, JSON.stringify(started.body));
      assert.equal(started.body.error, 'redirect_to_web');
      assert.equal(started.body.auth_session, undefined);
      assert.equal(started.body.expires_in, 60);
      const requestUri = String(started.body.request_uri);
      assert.match(requestUri, /^urn:ietf:params:oauth:request_uri:/);
      assert.equal(await boundAccount(install), undefined);

      const url = await browserUrl(install, requestUri);
      const browser = new SignInBrowser();
      const { callback } = await signIn(browser, url, {
        username: 'demouser',
        password: 'Password1',
      });
      assert.ok(callback.href.startsWith(APP_REDIRECT_URI));
      const code = callback.searchParams.get('code');
      assert.ok(code, callback.href);
      // Another verifier is refused (the pushed request carried the app's challenge); control: its own.
      const wrong = await exchange(install, code, verifier());
      assert.equal(wrong.body.error, 'invalid_grant');
      const again = await browser.request(url);
      assert.match(String(again.headers.get('location')), /error=invalid_request_uri/, 'used once');
    });

    it('the request_uri is its install only: another install cannot start the browser flow with it', async () => {
      answer = () => 'web';
      const install = await fp.install();
      const stranger = await fp.install();
      const started = await password(install, await fp.start(install, verifier()));
      assert.equal(started.body.error, 'redirect_to_web');
      const url = await browserUrl(stranger, String(started.body.request_uri));
      const res = await new SignInBrowser().request(url);
      const location = new URL(String(res.headers.get('location')), fp.server.issuer);
      assert.ok(location.searchParams.get('error'), location.href);
      assert.equal(location.searchParams.get('code'), null);
    });

    it('the code of a request_uri exchanges with the same PKCE verifier (control for the wrong one)', async () => {
      answer = () => 'web';
      const install = await fp.install();
      const v = verifier();
      const started = await password(install, await fp.start(install, v));
      const url = await browserUrl(install, String(started.body.request_uri));
      const { callback } = await signIn(new SignInBrowser(), url);
      const tokens = await exchange(install, callback.searchParams.get('code') as string, v);
      assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
      assert.ok(tokens.body.refresh_token, 'offline_access as the app asked for it');
      assert.equal(
        (await fp.server.auth.introspect(tokens.body.access_token as string)).sub,
        'demouser',
      );
    });
  });
}
