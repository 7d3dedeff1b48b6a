// Browserless first-party sign-in (draft-ietf-oauth-first-party-apps-04; DESIGN flow 11), over
// real HTTP as a native app would do it: an install proven by a provisioned key posts the user's
// username and password to the Authorization Challenge Endpoint, exchanges the authorization code
// at the token endpoint with its PKCE verifier (RFC 7636), and refreshes. On memory and on Redis.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ServerEvents } from 'mobile-oidc-provider';
import * as oidc from 'openid-client';
import { insecure, resourceServer } from '../helpers/example.js';
import {
  type Answer,
  basicAuth,
  challengeOf,
  FIRST_PARTY_STORES,
  type FirstPartyServer,
  type Install,
  type Json,
  startFirstParty,
  verifier,
} from '../helpers/first-party.js';
import { APP_SOFTWARE_ID } from '../helpers/fixture.js';
import { postRegistration } from '../helpers/registration.js';
import { obtainDcrToken, SignInBrowser } from '../helpers/sign-in.js';

for (const [storeName, makeStore] of FIRST_PARTY_STORES) {
  describe(`first-party sign-in at the Authorization Challenge Endpoint (${storeName})`, () => {
    let fp: FirstPartyServer;
    const events: Array<[keyof ServerEvents, Json]> = [];

    before(async () => {
      fp = await startFirstParty(undefined, { store: makeStore });
      for (const event of ['signin.succeeded', 'signin.failed', 'signin.throttled'] as const) {
        fp.server.auth.on(event, (payload) => events.push([event, payload as unknown as Json]));
      }
    });
    after(() => fp.close());

    const endpoint = () => `${fp.server.issuer}/authorize-challenge`;

    /** The whole flow up to the code, in two steps (start, then username + password). */
    async function codeFor(
      install: Install,
      v: string,
      username = 'demouser',
      password = 'Password1',
    ) {
      const started = await fp.challenge(install, {
        scope: 'openid offline_access',
        code_challenge: challengeOf(v),
        code_challenge_method: 'S256',
      });
      assert.equal(started.status, 400, JSON.stringify(started.body));
      return fp.challenge(install, {
        auth_session: started.body.auth_session as string,
        username,
        password,
      });
    }

    it('discovery advertises authorization_challenge_endpoint (RFC 8414 metadata of the draft)', async () => {
      const metadata = (await (
        await fetch(`${fp.server.issuer}/.well-known/openid-configuration`)
      ).json()) as Json;
      assert.equal(metadata.authorization_challenge_endpoint, endpoint());
    });

    it('a provisioned-key install signs demouser in with username + password, exchanges the code with its verifier, and refreshes', async () => {
      const install = await fp.install();
      const v = verifier();
      const started = await fp.challenge(install, {
        scope: 'openid offline_access',
        code_challenge: challengeOf(v),
        code_challenge_method: 'S256',
      });
      assert.equal(started.status, 400);
      assert.equal(started.body.error, 'insufficient_authorization');
      assert.deepEqual(started.body.required, ['username', 'password']);
      assert.match(String(started.body.auth_session), /^[A-Za-z0-9_-]{43}$/);
      assert.equal(started.headers.get('cache-control'), 'no-store');

      // A username alone continues, with a fresh session that asks for the password.
      const named = await fp.challenge(install, {
        auth_session: started.body.auth_session as string,
        username: 'demouser',
      });
      assert.equal(named.body.error, 'insufficient_authorization');
      assert.deepEqual(named.body.required, ['password']);
      assert.notEqual(named.body.auth_session, started.body.auth_session);

      const done = await fp.challenge(install, {
        auth_session: named.body.auth_session as string,
        password: 'Password1',
      });
      assert.equal(done.status, 200, JSON.stringify(done.body));
      assert.equal(typeof done.body.authorization_code, 'string');
      assert.ok(
        events.some(
          ([e, p]) =>
            e === 'signin.succeeded' && p.clientId === install.client_id && p.method === 'password',
        ),
      );

      const tokens = await fp.token(install, {
        grant_type: 'authorization_code',
        code: done.body.authorization_code as string,
        code_verifier: v,
      });
      assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
      assert.equal(typeof tokens.body.refresh_token, 'string');
      assert.equal(typeof tokens.body.id_token, 'string');
      const introspection = await oidc.tokenIntrospection(
        await resourceServer(fp.server.issuer),
        tokens.body.access_token as string,
      );
      assert.equal(introspection.active, true);
      assert.equal(introspection.sub, 'demouser');
      assert.equal(introspection.cal, 'by-provisioned-key');
      assert.equal((await fp.server.auth.instances.get(install.client_id))?.accountId, 'demouser');

      const refreshed = await fp.token(install, {
        grant_type: 'refresh_token',
        refresh_token: tokens.body.refresh_token as string,
      });
      assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
      assert.equal(typeof refreshed.body.access_token, 'string');
    });

    it('a shared-secret install (cal none) is unauthorized_client; control: a provisioned-key install is served', async () => {
      const secretInstall = await fp.install('secret');
      const refused = await fp.challenge(secretInstall, {
        code_challenge: challengeOf(verifier()),
        code_challenge_method: 'S256',
      });
      assert.equal(refused.status, 400);
      assert.equal(refused.body.error, 'unauthorized_client');
      assert.equal(refused.body.auth_session, undefined);
      const control = await fp.challenge(await fp.install(), {
        code_challenge: challengeOf(verifier()),
        code_challenge_method: 'S256',
      });
      assert.equal(control.body.error, 'insufficient_authorization');
    });

    it('an install of a template without firstParty is unauthorized_client', async () => {
      const registrationClient = await oidc.discovery(
        new URL(fp.server.issuer),
        'mobile-dcr-client',
        undefined,
        oidc.None(),
        insecure,
      );
      const { tokens } = await obtainDcrToken(registrationClient, new SignInBrowser());
      const registered = await postRegistration(
        fp.server.issuer,
        { software_id: APP_SOFTWARE_ID, software_version: '1.0.0' },
        tokens.access_token,
      );
      assert.equal(registered.status, 201, JSON.stringify(registered.body));
      const refused = await fp.challenge(registered.body as unknown as Install, {
        code_challenge: challengeOf(verifier()),
        code_challenge_method: 'S256',
      });
      assert.equal(refused.body.error, 'unauthorized_client');
    });

    it("a wrong client secret is invalid_client (the token endpoint's client authentication)", async () => {
      const install = await fp.install();
      const refused = await fp.challenge({ ...install, client_secret: 'wrong' }, {});
      assert.equal(refused.status, 401);
      assert.equal(refused.body.error, 'invalid_client');
    });

    it('an auth_session is single-use: replayed → invalid_session; control: its successor continues', async () => {
      const install = await fp.install();
      const started = await fp.challenge(install, {
        code_challenge: challengeOf(verifier()),
        code_challenge_method: 'S256',
      });
      const session = started.body.auth_session as string;
      const next = await fp.challenge(install, { auth_session: session, username: 'demouser' });
      assert.equal(next.body.error, 'insufficient_authorization');
      const replayed = await fp.challenge(install, {
        auth_session: session,
        username: 'demouser',
        password: 'Password1',
      });
      assert.equal(replayed.status, 400);
      assert.equal(replayed.body.error, 'invalid_session');
      const control = await fp.challenge(install, {
        auth_session: next.body.auth_session as string,
        password: 'Password1',
      });
      assert.equal(control.status, 200);
    });

    it("another install's auth_session → invalid_session, and it stays its owner's", async () => {
      const owner = await fp.install();
      const thief = await fp.install();
      const started = await fp.challenge(owner, {
        code_challenge: challengeOf(verifier()),
        code_challenge_method: 'S256',
      });
      const session = started.body.auth_session as string;
      const stolen = await fp.challenge(thief, {
        auth_session: session,
        username: 'demouser',
        password: 'Password1',
      });
      assert.equal(stolen.body.error, 'invalid_session');
      const control = await fp.challenge(owner, {
        auth_session: session,
        username: 'demouser',
        password: 'Password1',
      });
      assert.equal(control.status, 200);
    });

    it('the request bound to a session cannot change: another code_challenge → invalid_request', async () => {
      const install = await fp.install();
      const started = await fp.challenge(install, {
        code_challenge: challengeOf(verifier()),
        code_challenge_method: 'S256',
      });
      const changed = await fp.challenge(install, {
        auth_session: started.body.auth_session as string,
        code_challenge: challengeOf(verifier()),
        username: 'demouser',
        password: 'Password1',
      });
      assert.equal(changed.body.error, 'invalid_request');
    });

    it('login_hint binds the account: the first answer asks only for its password, which signs it in; another username → invalid_request', async () => {
      const install = await fp.install();
      const start = { code_challenge: challengeOf(verifier()), code_challenge_method: 'S256' };
      const hinted = await fp.challenge(install, { ...start, login_hint: 'demouser' });
      assert.equal(hinted.body.error, 'insufficient_authorization');
      assert.deepEqual(hinted.body.required, ['password']);
      const done = await fp.challenge(install, {
        auth_session: hinted.body.auth_session as string,
        password: 'Password1',
      });
      assert.equal(done.status, 200, JSON.stringify(done.body));

      const other = await fp.challenge(install, { ...start, login_hint: 'demouser' });
      const switched = await fp.challenge(install, {
        auth_session: other.body.auth_session as string,
        username: 'otheruser',
        password: 'Password2',
      });
      assert.equal(switched.body.error, 'invalid_request', 'the hinted account is bound');
      const both = await fp.challenge(install, {
        ...start,
        login_hint: 'demouser',
        username: 'otheruser',
      });
      assert.equal(both.body.error, 'invalid_request');
      assert.equal(both.body.auth_session, undefined, 'no session issued');
    });

    it('PKCE is required: no code_challenge, or the plain method → invalid_request, no session', async () => {
      const install = await fp.install();
      const v = verifier();
      const bodies: Record<string, string>[] = [
        {},
        { code_challenge: v, code_challenge_method: 'plain' },
        { code_challenge: v },
      ];
      for (const body of bodies) {
        const refused = await fp.challenge(install, body);
        assert.equal(refused.body.error, 'invalid_request', JSON.stringify(body));
        assert.equal(refused.body.auth_session, undefined);
      }
    });

    it('a code exchanged without the verifier or with a wrong one → invalid_grant; control: the right one', async () => {
      const install = await fp.install();
      const v = verifier();
      const first = await codeFor(install, v);
      const without = await fp.token(install, {
        grant_type: 'authorization_code',
        code: first.body.authorization_code as string,
      });
      assert.equal(without.body.error, 'invalid_grant');
      const second = await codeFor(install, v);
      const wrong = await fp.token(install, {
        grant_type: 'authorization_code',
        code: second.body.authorization_code as string,
        code_verifier: verifier(),
      });
      assert.equal(wrong.body.error, 'invalid_grant');
      const third = await codeFor(install, v);
      const control = await fp.token(install, {
        grant_type: 'authorization_code',
        code: third.body.authorization_code as string,
        code_verifier: v,
      });
      assert.equal(control.status, 200, JSON.stringify(control.body));
    });

    it('an install bound to another account refuses that account (access_denied, no code); control: its owner', async () => {
      const install = await fp.install();
      assert.equal((await codeFor(install, verifier())).status, 200);
      const other = await codeFor(install, verifier(), 'otheruser', 'Password2');
      assert.equal(other.status, 400);
      assert.equal(other.body.error, 'access_denied');
      assert.equal(other.body.authorization_code, undefined);
      assert.equal((await codeFor(install, verifier())).status, 200);
    });

    it('a password spray through the endpoint hits 429 with Retry-After, as the sign-in page does', async () => {
      const install = await fp.install();
      const wrong = await codeFor(install, verifier(), 'spray-target', 'nope');
      assert.equal(wrong.status, 400);
      assert.equal(wrong.body.error, 'access_denied');
      let throttled: Answer | undefined;
      for (let i = 0; i < 30 && !throttled; i++) {
        const attempt = await codeFor(install, verifier(), 'spray-target', `guess-${i}`);
        if (attempt.status === 429) throttled = attempt;
        else assert.equal(attempt.body.error, 'access_denied');
      }
      assert.ok(throttled, 'never throttled');
      assert.equal(throttled.body.error, 'temporarily_unavailable');
      assert.ok(Number(throttled.headers.get('retry-after')) > 0);
      assert.ok(events.some(([e]) => e === 'signin.throttled'));
      assert.ok(events.some(([e, p]) => e === 'signin.failed' && p.clientId === install.client_id));
    });

    it('a polluted body (__proto__, a repeated parameter) → invalid_request, nothing issued', async () => {
      const install = await fp.install();
      const c = challengeOf(verifier());
      for (const body of [
        `__proto__=x&code_challenge=${c}&code_challenge_method=S256`,
        `constructor=x&code_challenge=${c}&code_challenge_method=S256`,
        `scope=openid&scope=offline_access&code_challenge=${c}&code_challenge_method=S256`,
        `code_challenge=${c}&code_challenge=${c}&code_challenge_method=S256`,
      ]) {
        const refused = await fp.challenge(install, body);
        assert.equal(refused.status, 400, body);
        assert.equal(refused.body.error, 'invalid_request', body);
        assert.equal(refused.body.auth_session, undefined);
      }
      const odd = await fetch(endpoint(), {
        method: 'POST',
        headers: { authorization: basicAuth(install), 'content-type': 'application/json' },
        body: '{}',
      });
      assert.equal(odd.status, 400);
      assert.equal(((await odd.json()) as Json).error, 'invalid_request');
      const get = await fetch(endpoint());
      assert.equal(get.status, 405);
    });
  });
}
