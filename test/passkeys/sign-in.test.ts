// Signing in with a passkey (issue #18): the login page offers "Sign in with a passkey" and
// passkey autofill with request options whose challenge works once, for this interaction only;
// the assertion posted to /interaction/:uid/passkey finishes the sign-in like a password would
// (`login: { accountId }`), with user verification required, a counter that must rise (raised
// atomically in the store) and failures counted by the sign-in throttle.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PasskeyRefusalEvent, SignInThrottledEvent } from 'mobile-oidc-provider';
import { type RunningServer, registrationClient } from '../helpers/example.js';
import {
  followToApp,
  passkeyLogin,
  passkeyPage,
  postCredential,
  signedInAccount,
  signedInBrowser,
  startWithPasskeys,
} from '../helpers/passkeys.js';
import { dcrAuthorizationUrl, formsOf, SignInBrowser } from '../helpers/sign-in.js';
import { FLAGS, SoftwareAuthenticator } from '../helpers/software-authenticator.js';

let server: RunningServer;
const refusals: PasskeyRefusalEvent[] = [];

before(async () => {
  // Unthrottled: the attack tests fail many sign-ins of one account; the throttle has its own tests.
  server = await startWithPasskeys((o) => ({
    ...o,
    interactions: {
      ...o.interactions,
      signInRateLimit: { perAccount: false, perIp: false, perUsername: false },
    },
  }));
  server.auth.on('passkey.refused', (event) => refusals.push(event));
});
after(() => server.close());

/** An authenticator holding a passkey of `username`, added through the account page. */
async function enrolled(
  username = 'demouser',
  settings: ConstructorParameters<typeof SoftwareAuthenticator>[1] = {},
  on: RunningServer = server,
) {
  const browser = await signedInBrowser(on.issuer, username);
  const authenticator = new SoftwareAuthenticator(on.issuer, settings);
  const { add } = await passkeyPage(browser, on.issuer);
  const res = await postCredential(browser, add, authenticator.create(add.options));
  assert.equal(res.status, 303);
  const [id] = authenticator.credentials.keys();
  return { authenticator, id: id as string };
}

/** Signs in at a new login page with `authenticator`'s assertion (bent by `bend`). */
async function signInWith(
  authenticator: SoftwareAuthenticator,
  bend: Parameters<SoftwareAuthenticator['get']>[1] = {},
  on: RunningServer = server,
) {
  const login = await passkeyLogin(on.issuer);
  const res = await postCredential(
    login.browser,
    login.form,
    authenticator.get(login.form.options, bend),
  );
  return { login, res };
}

/** Asserts a refused passkey sign-in: the login page again, 401, with the message. */
async function assertRefused(res: Response) {
  assert.equal(res.status, 401);
  const html = await res.text();
  assert.match(html, /This passkey could not sign you in\./);
  assert.match(html, /id="passkey-form"/, 'the login page, with a fresh passkey form');
}

describe('the login page with passkeys', () => {
  it('offers a passkey button, autofill on the username field and request options', async () => {
    const login = await passkeyLogin(server.issuer);
    const options = JSON.parse(login.form.options);
    assert.equal(options.rpId, '127.0.0.1');
    assert.equal(options.userVerification, 'required');
    assert.equal(options.allowCredentials, undefined, 'discoverable: the user picks the passkey');
    assert.match(options.challenge, /^[\w-]{48}$/);
    assert.match(login.form.action, /\/interaction\/[\w-]+\/passkey$/);
    assert.ok(login.form.fields.csrf);
    assert.match(login.html, /autocomplete="username webauthn"/);
    assert.match(
      login.html,
      /<button type="button" id="passkey-button" hidden>Sign in with a passkey<\/button>/,
    );
    // No store write for the options: a page view costs nothing until a passkey is used.
    const again = await passkeyLogin(server.issuer);
    assert.notEqual(JSON.parse(again.form.options).challenge, options.challenge);
  });

  it('has no passkey parts when passkeys are off', async () => {
    const off = await startWithPasskeys((o) => ({ ...o, passkeys: { enabled: false } }));
    try {
      const browser = new SignInBrowser();
      const redirect = await browser.request(
        await dcrAuthorizationUrl(await registrationClient(off.issuer)),
      );
      const page = await browser.request(
        new URL(redirect.headers.get('location') as string, off.issuer),
      );
      const html = await page.text();
      assert.doesNotMatch(html, /passkey/);
      assert.match(html, /autocomplete="username"/);
    } finally {
      await off.close();
    }
  });
});

describe('signing in with a passkey', () => {
  it('finishes the sign-in as the passkey’s account, and records its use', async () => {
    const { authenticator, id } = await enrolled('otheruser', { synced: true });
    const { login, res } = await signInWith(authenticator);
    assert.equal(res.status, 303);
    const callback = await followToApp(login.browser, res, login.form.action);
    assert.equal(await signedInAccount(server, login, callback), 'otheruser');
    const passkey = await server.auth.passkeys.get(id);
    assert.ok(passkey?.lastUsedAt, 'last use recorded');
  });

  it('works without a user handle in the assertion (not every authenticator sends one)', async () => {
    const { authenticator } = await enrolled();
    const { res } = await signInWith(authenticator, { userHandle: null });
    assert.equal(res.status, 303);
  });

  for (const [attack, bend, reason] of [
    ['another origin', { origin: 'https://evil.example' }, 'assertion'],
    ['another RP ID', { rpId: 'evil.example' }, 'assertion'],
    ['no user verification (UV flag clear)', { flags: FLAGS.UP }, 'assertion'],
    ['no user presence (UP flag clear)', { flags: FLAGS.UV }, 'assertion'],
    ['a registration type', { type: 'webauthn.create' }, 'assertion'],
    ['another user handle', { userHandle: Buffer.alloc(32, 7).toString('base64url') }, 'assertion'],
    ['a challenge the server never issued', { challenge: 'A'.repeat(48) }, 'challenge'],
  ] as const) {
    it(`refuses an assertion with ${attack}`, async () => {
      const { authenticator, id } = await enrolled();
      const { res } = await signInWith(authenticator, bend);
      await assertRefused(res);
      assert.deepEqual(refusals.at(-1), {
        reason,
        ...(reason === 'challenge' ? {} : { credentialId: id, accountId: 'demouser' }),
        ip: '127.0.0.1',
      });
    });
  }

  it('refuses a tampered signature', async () => {
    const { authenticator } = await enrolled();
    const login = await passkeyLogin(server.issuer);
    const assertion = authenticator.get(login.form.options);
    const signature = Buffer.from(assertion.response.signature, 'base64url');
    signature[signature.length - 1] = (signature.at(-1) as number) ^ 1;
    assertion.response.signature = signature.toString('base64url');
    await assertRefused(await postCredential(login.browser, login.form, assertion));
  });

  it('takes each challenge once: a second assertion over a used challenge is refused', async () => {
    const { authenticator } = await enrolled();
    const login = await passkeyLogin(server.issuer);
    // The first use fails (wrong origin) but uses the challenge up.
    const first = authenticator.get(login.form.options, { origin: 'https://evil.example' });
    await assertRefused(await postCredential(login.browser, login.form, first));
    const replay = authenticator.get(login.form.options);
    await assertRefused(await postCredential(login.browser, login.form, replay));
    assert.equal(refusals.at(-1)?.reason, 'challenge');
    // Control: the page shown after the failure has a fresh challenge that works.
    const fresh = await login.browser.request(login.url);
    const html = await fresh.text();
    const options = /data-options="([^"]*)"/.exec(html)?.[1]?.replace(/&#34;/g, '"') as string;
    const form = { ...login.form, options };
    const ok = await postCredential(login.browser, form, authenticator.get(options));
    assert.equal(ok.status, 303);
  });

  it('refuses a challenge issued for another interaction', async () => {
    const { authenticator } = await enrolled();
    const a = await passkeyLogin(server.issuer);
    const b = await passkeyLogin(server.issuer);
    // Made over A's challenge, posted to B (with B's cookie and CSRF field).
    await assertRefused(await postCredential(b.browser, b.form, authenticator.get(a.form.options)));
    assert.equal(refusals.at(-1)?.reason, 'challenge');
    // A's challenge was not used up by the attempt at B.
    const ok = await postCredential(a.browser, a.form, authenticator.get(a.form.options));
    assert.equal(ok.status, 303);
  });

  it('refuses a passkey that was removed', async () => {
    const { authenticator, id } = await enrolled();
    assert.ok(await server.auth.passkeys.remove(id));
    const { res } = await signInWith(authenticator);
    await assertRefused(res);
    assert.equal(refusals.at(-1)?.reason, 'unknown');
  });

  it('refuses a passkey whose account is gone', async () => {
    let gone = false;
    const other = await startWithPasskeys((o) => ({
      ...o,
      accounts: {
        ...o.accounts,
        findAccount: async (id) => (gone ? undefined : o.accounts.findAccount(id)),
      },
    }));
    try {
      const { authenticator } = await enrolled('demouser', {}, other);
      gone = true;
      const { res } = await signInWith(authenticator, {}, other);
      await assertRefused(res);
    } finally {
      await other.close();
    }
  });

  it('refuses malformed and prototype-polluting credentials without a server error', async () => {
    const login = await passkeyLogin(server.issuer);
    for (const credential of [
      '',
      'null',
      '{"id":1}',
      '{"__proto__":{"x":1},"id":"a","rawId":"a"}',
    ]) {
      await assertRefused(await postCredential(login.browser, login.form, credential));
    }
  });

  it('refuses a post without the interaction’s CSRF field (403), checking nothing', async () => {
    const { authenticator } = await enrolled();
    const login = await passkeyLogin(server.issuer);
    const { csrf: _csrf, ...withoutCsrf } = login.form.fields;
    const assertion = authenticator.get(login.form.options);
    const res = await postCredential(
      login.browser,
      { ...login.form, fields: withoutCsrf },
      assertion,
    );
    assert.equal(res.status, 403);
    await res.body?.cancel();
    // The challenge was not touched: the same assertion with the field still works.
    assert.equal((await postCredential(login.browser, login.form, assertion)).status, 303);
  });
});

describe('a cloned authenticator (its counter goes backwards)', () => {
  it('is refused once the original has counted past it; the original goes on', async () => {
    const { authenticator, id } = await enrolled('demouser', { counts: true });
    const clone = authenticator.clone();
    assert.equal((await signInWith(authenticator)).res.status, 303); // counter 1
    assert.equal((await signInWith(authenticator)).res.status, 303); // counter 2
    const cloned = await signInWith(clone); // counter 1: behind
    await assertRefused(cloned.res);
    assert.deepEqual(refusals.at(-1), {
      reason: 'counter',
      credentialId: id,
      accountId: 'demouser',
      ip: '127.0.0.1',
    });
    await assertRefused((await signInWith(clone, { counter: 2 })).res); // equal is no rise
    assert.equal((await signInWith(authenticator)).res.status, 303); // counter 3
  });

  it('wins only once when two sign-ins race with the same counter', async () => {
    const { authenticator } = await enrolled('demouser', { counts: true });
    const logins = await Promise.all(Array.from({ length: 6 }, () => passkeyLogin(server.issuer)));
    // Every assertion carries counter 1, each over its own interaction's challenge.
    const assertions = logins.map((l) => authenticator.get(l.form.options, { counter: 1 }));
    const answers = await Promise.all(
      logins.map((l, i) => postCredential(l.browser, l.form, assertions[i])),
    );
    for (const a of answers) await a.body?.cancel();
    assert.deepEqual(
      answers.map((a) => a.status).sort(),
      [303, 401, 401, 401, 401, 401],
      'exactly one sign-in raised the counter',
    );
  });

  it('accepts an authenticator that keeps no counter (0 every time)', async () => {
    const { authenticator } = await enrolled('demouser', { synced: true });
    for (let i = 0; i < 3; i += 1) {
      assert.equal((await signInWith(authenticator)).res.status, 303);
    }
  });
});

describe('passkey failures and the sign-in throttle', () => {
  it('count like wrong passwords: the limit refuses even a good passkey with 429', async () => {
    const throttled = await startWithPasskeys((o) => ({
      ...o,
      interactions: {
        ...o.interactions,
        signInRateLimit: { perAccount: false, perIp: { points: 3, duration: 60 } },
      },
    }));
    const events: SignInThrottledEvent[] = [];
    throttled.auth.on('signin.throttled', (e) => events.push(e));
    try {
      const { authenticator } = await enrolled('demouser', {}, throttled);
      // One wrong password and two failed passkeys share the per-IP budget.
      const login = await passkeyLogin(throttled.issuer);
      const password = formsOf(login.html, login.url).find((f) => f.action.endsWith('/login'));
      assert.ok(password);
      const wrong = await login.browser.request(password.action, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ ...password.fields, username: 'demouser', password: 'nope' }),
      });
      assert.equal(wrong.status, 401);
      await wrong.body?.cancel();
      for (let i = 0; i < 2; i += 1) {
        await assertRefused((await signInWith(authenticator, { flags: FLAGS.UP }, throttled)).res);
      }
      const { res } = await signInWith(authenticator, {}, throttled);
      assert.equal(res.status, 429);
      assert.ok(Number(res.headers.get('retry-after')) >= 1);
      assert.match(await res.text(), /Too many failed sign-in attempts\./);
      assert.equal(events.at(-1)?.limit, 'ip');
      assert.equal(events.at(-1)?.username, 'demouser', 'keyed by the passkey’s account');
    } finally {
      await throttled.close();
    }
  });

  it('count per account from one IP (shared with that username’s password failures)', async () => {
    const throttled = await startWithPasskeys((o) => ({
      ...o,
      interactions: {
        ...o.interactions,
        signInRateLimit: { perAccount: { points: 2, duration: 60 }, perIp: false },
      },
    }));
    try {
      const demo = await enrolled('demouser', {}, throttled);
      const other = await enrolled('otheruser', {}, throttled);
      for (let i = 0; i < 2; i += 1) {
        await assertRefused(
          (await signInWith(demo.authenticator, { flags: FLAGS.UP }, throttled)).res,
        );
      }
      assert.equal((await signInWith(demo.authenticator, {}, throttled)).res.status, 429);
      // Another account's passkey from the same IP is not limited.
      assert.equal((await signInWith(other.authenticator, {}, throttled)).res.status, 303);
    } finally {
      await throttled.close();
    }
  });
});
