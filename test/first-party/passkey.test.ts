// The passkey step of the Authorization Challenge Endpoint (issue #29, DESIGN flow 11): the app
// asks for a passkey challenge (`method=passkey`), gets WebAuthn request options bound to the new
// auth_session, signs them with the platform's passkey API and posts the assertion; the passkeys
// feature verifies it (RP ID, origins, user verification, a rising counter) and the app gets a code.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PasskeyRefusalEvent, SignInEvent } from 'mobile-oidc-provider';
import {
  challengeOf,
  FIRST_PARTY_STORES,
  type FirstPartyServer,
  type Install,
  startFirstParty,
  verifier,
} from '../helpers/first-party.js';
import { enrolledAuthenticator } from '../helpers/passkeys.js';

const ANDROID_ORIGIN = `android:apk-key-hash:${Buffer.alloc(32, 7).toString('base64url')}`;

for (const [storeName, makeStore] of FIRST_PARTY_STORES) {
  describe(`first-party sign-in with a passkey (${storeName})`, () => {
    let fp: FirstPartyServer;
    const failed: SignInEvent[] = [];
    const succeeded: SignInEvent[] = [];
    const refusals: PasskeyRefusalEvent[] = [];

    before(async () => {
      // Unthrottled: the attack tests fail several sign-ins of one account; the throttle has its own tests.
      fp = await startFirstParty(
        (o) => ({
          ...o,
          // The Android app's origin too: its assertions come from the platform API, not a page.
          passkeys: { enabled: true, origins: [new URL(o.issuer).origin, ANDROID_ORIGIN] },
        }),
        { store: makeStore, unthrottled: true },
      );
      fp.server.auth.on('signin.failed', (e) => failed.push(e));
      fp.server.auth.on('signin.succeeded', (e) => succeeded.push(e));
      fp.server.auth.on('passkey.refused', (e) => refusals.push(e));
    });
    after(() => fp.close());

    /** An authenticator holding a passkey of `username`, added through the account page. */
    const enrolled = (username = 'demouser', settings: { counts?: boolean } = {}) =>
      enrolledAuthenticator(fp.server.issuer, username, settings);

    /** Asks for a passkey challenge: the new auth_session and the WebAuthn request options. */
    async function passkeyChallenge(install: Install, v = verifier()) {
      const asked = await fp.challenge(install, {
        auth_session: await fp.start(install, v),
        method: 'passkey',
      });
      assert.equal(asked.status, 400, JSON.stringify(asked.body));
      assert.equal(asked.body.error, 'insufficient_authorization');
      assert.deepEqual(asked.body.required, ['passkey_assertion']);
      return {
        v,
        auth_session: asked.body.auth_session as string,
        options: asked.body.passkey_options as Record<string, unknown>,
      };
    }

    const post = (install: Install, auth_session: string, assertion: unknown) =>
      fp.challenge(install, {
        auth_session,
        passkey_assertion: typeof assertion === 'string' ? assertion : JSON.stringify(assertion),
      });

    function assertRefused(
      answer: { status: number; body: Record<string, unknown> },
      install: Install,
    ) {
      assert.equal(answer.status, 400, JSON.stringify(answer.body));
      assert.equal(answer.body.error, 'access_denied');
      assert.equal(answer.body.authorization_code, undefined);
      assert.equal(answer.body.auth_session, undefined);
      assert.ok(failed.some((e) => e.method === 'passkey' && e.clientId === install.client_id));
    }

    it('the first answer offers the passkey step as an alternative to the password', async () => {
      const started = await fp.challenge(await fp.install(), {
        code_challenge: challengeOf(verifier()),
        code_challenge_method: 'S256',
      });
      assert.deepEqual(started.body.alternatives, [['method']]);
    });

    it('a provisioned-key install signs demouser in with a passkey and exchanges the code', async () => {
      const authenticator = await enrolled();
      const install = await fp.install();
      const { v, auth_session, options } = await passkeyChallenge(install);
      assert.equal(options.rpId, '127.0.0.1');
      assert.equal(options.userVerification, 'required');
      assert.match(String(options.challenge), /^[\w-]{48}$/);
      const done = await post(install, auth_session, authenticator.get(options));
      assert.equal(done.status, 200, JSON.stringify(done.body));
      assert.ok(
        succeeded.some(
          (e) =>
            e.method === 'passkey' &&
            e.accountId === 'demouser' &&
            e.clientId === install.client_id,
        ),
      );
      const tokens = await fp.token(install, {
        grant_type: 'authorization_code',
        code: done.body.authorization_code as string,
        code_verifier: v,
      });
      assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
      assert.equal(
        (await fp.server.auth.introspect(tokens.body.access_token as string)).sub,
        'demouser',
      );
      assert.equal((await fp.server.auth.instances.get(install.client_id))?.accountId, 'demouser');
    });

    it('method=passkey may start the request: no auth_session first', async () => {
      const authenticator = await enrolled();
      const install = await fp.install();
      const asked = await fp.challenge(install, {
        code_challenge: challengeOf(verifier()),
        code_challenge_method: 'S256',
        method: 'passkey',
      });
      assert.equal(asked.body.error, 'insufficient_authorization');
      const done = await post(
        install,
        asked.body.auth_session as string,
        authenticator.get(asked.body.passkey_options as object),
      );
      assert.equal(done.status, 200, JSON.stringify(done.body));
    });

    it("an assertion for another session's challenge is refused; control: its own session's", async () => {
      const authenticator = await enrolled();
      const install = await fp.install();
      const a = await passkeyChallenge(install);
      const b = await passkeyChallenge(install);
      refusals.length = 0;
      assertRefused(await post(install, b.auth_session, authenticator.get(a.options)), install);
      assert.equal(refusals.at(-1)?.reason, 'challenge');
      // The refused attempt spent session b; session a still takes its own challenge.
      const again = await post(install, b.auth_session, authenticator.get(b.options));
      assert.equal(again.body.error, 'invalid_session');
      const control = await post(install, a.auth_session, authenticator.get(a.options));
      assert.equal(control.status, 200, JSON.stringify(control.body));
    });

    it('a replayed assertion is refused, and so is a counter that did not rise; control: the next one', async () => {
      const authenticator = await enrolled('demouser', { counts: true });
      const install = await fp.install();
      const first = await passkeyChallenge(install);
      const assertion = authenticator.get(first.options);
      assert.equal((await post(install, first.auth_session, assertion)).status, 200);
      // The same assertion with a new session: its challenge is not this session's.
      const replay = await passkeyChallenge(install);
      assertRefused(await post(install, replay.auth_session, assertion), install);
      // A cloned authenticator answers the right challenge with a counter already seen.
      const stale = await passkeyChallenge(install);
      refusals.length = 0;
      assertRefused(
        await post(install, stale.auth_session, authenticator.get(stale.options, { counter: 1 })),
        install,
      );
      assert.equal(refusals.at(-1)?.reason, 'counter');
      const control = await passkeyChallenge(install);
      assert.equal(
        (await post(install, control.auth_session, authenticator.get(control.options))).status,
        200,
      );
    });

    it("another account's passkey on an install bound to demouser is refused; control: demouser's", async () => {
      const mine = await enrolled('demouser');
      const theirs = await enrolled('otheruser');
      const install = await fp.install();
      const bound = await passkeyChallenge(install);
      assert.equal((await post(install, bound.auth_session, mine.get(bound.options))).status, 200);
      failed.length = 0;
      const other = await passkeyChallenge(install);
      const refused = await post(install, other.auth_session, theirs.get(other.options));
      assertRefused(refused, install);
      assert.match(String(refused.body.error_description), /another account/);
      assert.equal((await fp.server.auth.instances.get(install.client_id))?.accountId, 'demouser');
      const control = await passkeyChallenge(install);
      assert.equal(
        (await post(install, control.auth_session, mine.get(control.options))).status,
        200,
      );
    });

    it("an assertion from the Android app's configured origin signs in", async () => {
      const authenticator = await enrolled();
      const install = await fp.install();
      const { auth_session, options } = await passkeyChallenge(install);
      const done = await post(
        install,
        auth_session,
        authenticator.get(options, { origin: ANDROID_ORIGIN }),
      );
      assert.equal(done.status, 200, JSON.stringify(done.body));
    });

    it('an assertion from a foreign origin or without user verification is refused', async () => {
      const authenticator = await enrolled();
      const install = await fp.install();
      const foreign = await passkeyChallenge(install);
      assertRefused(
        await post(
          install,
          foreign.auth_session,
          authenticator.get(foreign.options, { origin: 'https://evil.example' }),
        ),
        install,
      );
      const unverified = await passkeyChallenge(install);
      assertRefused(
        await post(
          install,
          unverified.auth_session,
          authenticator.get(unverified.options, { flags: 0x01 }),
        ),
        install,
      );
    });

    it('malformed or prototype-laden assertions are access_denied, never a 500', async () => {
      const install = await fp.install();
      for (const bad of ['{', '[]', '"x"', '{"__proto__":{"id":"x"}}', '{"id":1}', 'null']) {
        const { auth_session } = await passkeyChallenge(install);
        const answer = await post(install, auth_session, bad);
        assert.equal(answer.status, 400, bad);
        assert.equal(answer.body.error, 'access_denied', bad);
      }
    });

    it('an assertion without a passkey challenge first, or another method, is invalid_request', async () => {
      const authenticator = await enrolled();
      const install = await fp.install();
      const auth_session = await fp.start(install, verifier());
      const { options } = await passkeyChallenge(install);
      const early = await post(install, auth_session, authenticator.get(options));
      assert.equal(early.body.error, 'invalid_request');
      assert.match(String(early.body.error_description), /method=passkey/);
      const otp = await fp.challenge(install, {
        auth_session: await fp.start(install, verifier()),
        method: 'otp',
      });
      assert.equal(otp.body.error, 'invalid_request');
      assert.equal(otp.body.auth_session, undefined);
    });

    it('without passkeys.enabled, method=passkey is invalid_request and not offered', async () => {
      const off = await startFirstParty();
      try {
        const install = await off.install();
        const started = await off.challenge(install, {
          code_challenge: challengeOf(verifier()),
          code_challenge_method: 'S256',
        });
        assert.deepEqual(started.body.alternatives, []);
        const asked = await off.challenge(install, {
          auth_session: started.body.auth_session as string,
          method: 'passkey',
        });
        assert.equal(asked.body.error, 'invalid_request');
        assert.match(String(asked.body.error_description), /passkeys/);
      } finally {
        await off.close();
      }
    });
  });
}

describe('first-party sign-in with a passkey, while the account is throttled', () => {
  let fp: FirstPartyServer;
  const events: Array<[string, unknown]> = [];

  before(async () => {
    fp = await startFirstParty((o) => ({
      ...o,
      passkeys: { enabled: true, origins: [new URL(o.issuer).origin] },
      // Two failures of one username from one address pause it.
      interactions: {
        ...o.interactions,
        signInRateLimit: {
          perAccount: { points: 2, duration: 600 },
          perIp: false,
          perUsername: false,
        },
      },
    }));
    for (const name of [
      'signin.succeeded',
      'signin.failed',
      'signin.throttled',
      'passkey.refused',
    ] as const) {
      fp.server.auth.on(name, (event: unknown) => events.push([name, event]));
    }
  });
  after(() => fp.close());

  const enrolled = (username: string) => enrolledAuthenticator(fp.server.issuer, username);

  async function passkeyChallenge(install: Install) {
    const asked = await fp.challenge(install, {
      auth_session: await fp.start(install, verifier()),
      method: 'passkey',
    });
    assert.deepEqual(asked.body.required, ['passkey_assertion'], JSON.stringify(asked.body));
    return {
      auth_session: asked.body.auth_session as string,
      options: asked.body.passkey_options as Record<string, unknown>,
    };
  }

  it("429 with Retry-After and the assertion unchecked (a valid one signs nobody in, another session's is not refused); control: another account's passkey", async () => {
    const mine = await enrolled('demouser');
    const theirs = await enrolled('otheruser');
    const install = await fp.install();
    // demouser's password guessed wrong until the throttle pauses the account.
    for (let i = 0; i < 2; i++) {
      const wrong = await fp.challenge(install, {
        auth_session: await fp.start(install, verifier()),
        username: 'demouser',
        password: `guess-${i}`,
      });
      assert.equal(wrong.body.error, 'access_denied', JSON.stringify(wrong.body));
    }

    events.length = 0;
    const valid = await passkeyChallenge(install);
    const other = await passkeyChallenge(install);
    for (const [session, assertion] of [
      [valid.auth_session, mine.get(valid.options)],
      // Signed over another session's challenge: a refusal, were it checked.
      [other.auth_session, mine.get(valid.options)],
    ] as const) {
      const res = await fetch(`${fp.server.issuer}/authorize-challenge`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(install.client_id)}:${encodeURIComponent(install.client_secret)}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({
          auth_session: session,
          passkey_assertion: JSON.stringify(assertion),
        }),
      });
      const body = (await res.json()) as Record<string, unknown>;
      assert.equal(res.status, 429, JSON.stringify(body));
      assert.equal(body.error, 'temporarily_unavailable');
      assert.equal(body.authorization_code, undefined);
      assert.ok(Number(res.headers.get('retry-after')) > 0);
    }
    assert.deepEqual(
      events.map(([name]) => name),
      ['signin.throttled', 'signin.throttled'],
      'no sign-in checked, no passkey refused',
    );
    assert.equal((await fp.server.auth.instances.get(install.client_id))?.accountId, undefined);

    // Control: otheruser's passkey is not throttled and signs in.
    const stranger = await fp.install();
    const control = await passkeyChallenge(stranger);
    const done = await fp.challenge(stranger, {
      auth_session: control.auth_session,
      passkey_assertion: JSON.stringify(theirs.get(control.options)),
    });
    assert.equal(done.status, 200, JSON.stringify(done.body));
  });
});
