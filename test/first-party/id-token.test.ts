// The id_token step of the Authorization Challenge Endpoint (issue #29, DESIGN flow 11): an install
// proven by a provisioned key posts the id_token its native "Sign in with Google" gave it, checked
// exactly as the native token exchange checks it (the upstream's JWKS, the configured audiences,
// the server's single-use nonce, expiry, accounts.federated), and gets a code without a browser.
// The upstream providers are real oidc-provider instances on loopback.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FederatedAccountEvent, SignInEvent } from 'mobile-oidc-provider';
import {
  challengeOf,
  FIRST_PARTY_STORES,
  type FirstPartyServer,
  type Install,
  startFirstParty,
  verifier,
} from '../helpers/first-party.js';
import { json } from '../helpers/json.js';
import { startUpstreamIdp, type UpstreamIdp } from '../helpers/upstream-idp.js';

const GOOGLE_CLIENT_ID = 'android-and-web.apps.googleusercontent.example';

for (const [storeName, makeStore] of FIRST_PARTY_STORES) {
  describe(`first-party sign-in with a native id_token (${storeName})`, () => {
    let google: UpstreamIdp;
    let webOnly: UpstreamIdp;
    let fp: FirstPartyServer;
    const federated: FederatedAccountEvent[] = [];
    const failed: SignInEvent[] = [];
    const links = new Map([
      ['google:g-demo', 'demouser'],
      ['google:g-other', 'otheruser'],
    ]);

    before(async () => {
      [google, webOnly] = await Promise.all([
        startUpstreamIdp({ quirks: 'google' }),
        startUpstreamIdp({ quirks: 'google' }),
      ]);
      fp = await startFirstParty(
        (o) => ({
          ...o,
          accounts: {
            ...o.accounts,
            // Only pre-linked identities: nothing links by email.
            federated: async (identity) => links.get(`${identity.provider}:${identity.subject}`),
          },
          federation: {
            providers: [
              {
                name: 'google',
                issuer: google.issuer,
                quirks: 'google',
                audiences: [GOOGLE_CLIENT_ID],
              },
              {
                name: 'webonly',
                issuer: webOnly.issuer,
                browser: { clientId: 'web-client', clientSecret: 'web-secret' },
              },
            ],
          },
        }),
        { store: makeStore },
      );
      fp.server.auth.on('account.federated', (e) => federated.push(e));
      fp.server.auth.on('signin.failed', (e) => failed.push(e));
    });
    after(async () => {
      await fp.close();
      await Promise.all([google.close(), webOnly.close()]);
    });

    async function freshNonce(): Promise<string> {
      const res = await fetch(new URL('/federation/nonce', fp.server.issuer), { method: 'POST' });
      assert.equal(res.status, 200);
      return (await json(res)).nonce as string;
    }

    const googleToken = async (sub = 'g-demo', extra: Record<string, unknown> = {}) =>
      google.mintIdToken({ sub, aud: GOOGLE_CLIENT_ID, nonce: await freshNonce(), ...extra });

    /** Posts `idToken` with a fresh auth_session; the answer. */
    async function signIn(install: Install, idToken: string, v = verifier()) {
      const auth_session = await fp.start(install, v);
      return {
        v,
        auth_session,
        ...(await fp.challenge(install, { auth_session, id_token: idToken })),
      };
    }

    /** Asserts a refused sign-in: `error`, no code, no session to continue, `signin.failed` federated. */
    function assertRefused(
      answer: { status: number; body: Record<string, unknown> },
      install: Install,
      error = 'access_denied',
      description?: RegExp,
    ) {
      assert.equal(answer.status, 400, JSON.stringify(answer.body));
      assert.equal(answer.body.error, error);
      if (description) assert.match(String(answer.body.error_description), description);
      assert.equal(answer.body.authorization_code, undefined);
      assert.equal(answer.body.auth_session, undefined);
      assert.ok(failed.some((e) => e.method === 'federated' && e.clientId === install.client_id));
    }

    it('the first answer offers id_token as an alternative to the password', async () => {
      const install = await fp.install();
      const started = await fp.challenge(install, {
        code_challenge: challengeOf(verifier()),
        code_challenge_method: 'S256',
      });
      assert.deepEqual(started.body.required, ['username', 'password']);
      assert.deepEqual(started.body.alternatives, [['id_token']]);
    });

    it('a provisioned-key install signs in with a Google id_token, no browser, and exchanges the code', async () => {
      const install = await fp.install();
      const done = await signIn(install, await googleToken());
      assert.equal(done.status, 200, JSON.stringify(done.body));
      assert.equal(typeof done.body.authorization_code, 'string');
      assert.ok(
        federated.some(
          (e) =>
            e.provider === 'google' &&
            e.subject === 'g-demo' &&
            e.accountId === 'demouser' &&
            e.via === 'native' &&
            e.clientId === install.client_id,
        ),
      );
      const tokens = await fp.token(install, {
        grant_type: 'authorization_code',
        code: done.body.authorization_code as string,
        code_verifier: done.v,
      });
      assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
      assert.equal(
        (await fp.server.auth.introspect(tokens.body.access_token as string)).sub,
        'demouser',
      );
      assert.equal((await fp.server.auth.instances.get(install.client_id))?.accountId, 'demouser');
    });

    it('an id_token may come without a prior step: the request starts and finishes at once', async () => {
      const install = await fp.install();
      const v = verifier();
      const done = await fp.challenge(install, {
        code_challenge: challengeOf(v),
        code_challenge_method: 'S256',
        id_token: await googleToken(),
      });
      assert.equal(done.status, 200, JSON.stringify(done.body));
    });

    it('a replayed nonce is refused; control: a fresh nonce signs in', async () => {
      const install = await fp.install();
      const nonce = await freshNonce();
      const first = await signIn(
        install,
        await google.mintIdToken({ sub: 'g-demo', aud: GOOGLE_CLIENT_ID, nonce }),
      );
      assert.equal(first.status, 200, JSON.stringify(first.body));
      // Another token (a later iat) with the nonce already spent.
      const replay = await signIn(
        install,
        await google.mintIdToken({
          sub: 'g-demo',
          aud: GOOGLE_CLIENT_ID,
          nonce,
          iat: Math.floor(Date.now() / 1000) + 1,
        }),
      );
      assertRefused(replay, install, 'access_denied', /nonce/);
      const control = await signIn(install, await googleToken());
      assert.equal(control.status, 200, JSON.stringify(control.body));
    });

    it('the same id_token twice is refused the second time', async () => {
      const install = await fp.install();
      const token = await googleToken();
      assert.equal((await signIn(install, token)).status, 200);
      assertRefused(await signIn(install, token), install);
    });

    it('an id_token for another audience is refused; the session is spent', async () => {
      const install = await fp.install();
      const refused = await signIn(install, await googleToken('g-demo', { aud: 'another.app' }));
      assertRefused(refused, install, 'access_denied', /aud/);
      // A wrong credential spends the auth_session: start again.
      const again = await fp.challenge(install, {
        auth_session: refused.auth_session,
        id_token: await googleToken(),
      });
      assert.equal(again.body.error, 'invalid_session');
    });

    it('an expired id_token is refused; control: a live one', async () => {
      const install = await fp.install();
      const expired = await googleToken('g-demo', {
        iat: Math.floor(Date.now() / 1000) - 3600,
        expiresIn: 600,
      });
      assertRefused(await signIn(install, expired), install, 'access_denied', /exp/);
      assert.equal((await signIn(install, await googleToken())).status, 200);
    });

    it('an identity of another account than the install is bound to is refused; control: its own account', async () => {
      const install = await fp.install();
      assert.equal((await signIn(install, await googleToken('g-demo'))).status, 200);
      failed.length = 0;
      const other = await signIn(install, await googleToken('g-other'));
      assertRefused(other, install, 'access_denied', /another account/);
      assert.equal((await fp.server.auth.instances.get(install.client_id))?.accountId, 'demouser');
      assert.equal((await signIn(install, await googleToken('g-demo'))).status, 200);
    });

    it('an identity no account takes is refused (no linking by email)', async () => {
      const install = await fp.install();
      const refused = await signIn(
        install,
        await googleToken('g-new', { email: 'demouser@example.com', email_verified: true }),
      );
      assertRefused(refused, install);
      assert.equal((await fp.server.auth.instances.get(install.client_id))?.accountId, undefined);
    });

    it('an id_token without the nonce is invalid_request', async () => {
      const install = await fp.install();
      const refused = await signIn(
        install,
        await google.mintIdToken({ sub: 'g-demo', aud: GOOGLE_CLIENT_ID }),
      );
      assert.equal(refused.body.error, 'invalid_request');
      assert.match(String(refused.body.error_description), /nonce/);
    });

    it("a browser-only provider's id_token is redirect_to_web; an unknown issuer is access_denied", async () => {
      const install = await fp.install();
      const federatedBefore = federated.length;
      const web = await signIn(
        install,
        await webOnly.mintIdToken({ sub: 'w', aud: 'web-client', nonce: await freshNonce() }),
      );
      assert.equal(web.status, 400);
      assert.equal(web.body.error, 'redirect_to_web');
      assert.match(String(web.body.request_uri), /^urn:ietf:params:oauth:request_uri:/);
      assert.equal(federated.length, federatedBefore, 'the token itself was not taken');
      const stranger = await startUpstreamIdp();
      try {
        const unknown = await signIn(
          install,
          await stranger.mintIdToken({
            sub: 's',
            aud: GOOGLE_CLIENT_ID,
            nonce: await freshNonce(),
          }),
        );
        assertRefused(unknown, install);
      } finally {
        await stranger.close();
      }
    });

    it('two credentials at once, or garbage as the id_token, answer OAuth errors without a session', async () => {
      const install = await fp.install();
      const auth_session = await fp.start(install, verifier());
      const mixed = await fp.challenge(install, {
        auth_session,
        id_token: await googleToken(),
        username: 'demouser',
        password: 'Password1',
      });
      assert.equal(mixed.status, 400);
      assert.equal(mixed.body.error, 'invalid_request');
      for (const garbage of ['a.b.c', 'not a jwt', `${'x'.repeat(5000)}`]) {
        const answer = await fp.challenge(install, {
          auth_session: await fp.start(install, verifier()),
          id_token: garbage,
        });
        assert.equal(answer.status, 400, garbage);
        assert.ok(
          ['access_denied', 'invalid_request'].includes(answer.body.error as string),
          garbage,
        );
        assert.equal(answer.body.auth_session, undefined);
      }
    });
  });
}
