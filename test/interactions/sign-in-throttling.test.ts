// Sign-in throttling (issue #13): failed sign-ins are counted per username + IP and per IP in the
// store; while a limit is reached the login page answers 429 with Retry-After and the password is
// not checked at all (the right one is refused too). Unknown usernames are throttled exactly like
// known ones, only failures count, the limit holds across servers sharing one Redis, and a store
// that cannot be read fails closed with 503.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type AuthServerOptions,
  MemoryStore,
  type RateDecision,
  type RateLimitWindow,
  type SignInThrottledEvent,
  type Store,
} from 'mobile-oidc-provider';
import { RedisStore } from 'mobile-oidc-provider/adapters/redis';
import { type RunningServer, registrationClient, startExample } from '../helpers/example.js';
import { TEST_REDIS_URL } from '../helpers/redis-url.js';
import { dcrAuthorizationUrl, formsOf, type PageForm, SignInBrowser } from '../helpers/sign-in.js';

type Limits = NonNullable<NonNullable<AuthServerOptions['interactions']>['signInRateLimit']>;

/** A running example server whose `accounts.authenticate` counts its calls. */
interface Throttled {
  server: RunningServer;
  /** The usernames `authenticate` was called with, in order. */
  calls: string[];
  events: SignInThrottledEvent[];
}

const running: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

/**
 * Starts the example server with these limits (and `store`); `authenticate` counts its calls and
 * takes `delayMs` more, like a real password hash or a remote account service.
 */
async function startThrottled(
  signInRateLimit: Limits,
  store?: Store,
  delayMs = 0,
): Promise<Throttled> {
  const calls: string[] = [];
  const server = await startExample((o) => {
    const accounts = o.accounts;
    return {
      ...o,
      ...(store ? { store } : {}),
      accounts: {
        findAccount: (accountId) => accounts.findAccount(accountId),
        authenticate: async (username, password) => {
          calls.push(username);
          if (delayMs > 0) await sleep(delayMs);
          return accounts.authenticate(username, password);
        },
      },
      interactions: { ...o.interactions, signInRateLimit },
    };
  });
  running.push(server);
  const events: SignInThrottledEvent[] = [];
  server.auth.on('signin.throttled', (event) => events.push(event));
  return { server, calls, events };
}

/** Opens a new sign-in (a DCR authorization request) and returns its login form. */
async function openLogin(issuer: string, browser = new SignInBrowser()) {
  const reg = await registrationClient(issuer);
  const url = await dcrAuthorizationUrl(reg);
  const redirect = await browser.request(url);
  assert.equal(redirect.status, 303);
  const pageUrl = new URL(redirect.headers.get('location') as string, issuer).href;
  const [form] = formsOf(await (await browser.request(pageUrl)).text(), pageUrl);
  assert.ok(form, 'the login page has a form');
  return { browser, form };
}

/** Posts the login form (always the same interaction and CSRF token). */
function submit(
  login: { browser: SignInBrowser; form: PageForm },
  username: string,
  password: string,
): Promise<Response> {
  return login.browser.request(login.form.action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...login.form.fields, username, password }).toString(),
  });
}

/** Submits `count` wrong passwords for `username`; each is checked and refused with 401. */
async function fail(
  login: { browser: SignInBrowser; form: PageForm },
  username: string,
  count: number,
) {
  for (let i = 0; i < count; i += 1) {
    const res = await submit(login, username, `wrong-password-${i}`);
    assert.equal(res.status, 401, `failure ${i + 1} of ${username} is a normal 401`);
    await res.body?.cancel();
  }
}

/** Asserts a 429 throttled page: Retry-After within the window, a plain message, the username kept. */
async function assertThrottled(res: Response, username: string, window: RateLimitWindow) {
  assert.equal(res.status, 429);
  const retryAfter = Number(res.headers.get('retry-after'));
  assert.ok(
    Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= window.duration,
    `Retry-After ${res.headers.get('retry-after')}`,
  );
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.match(res.headers.get('content-type') ?? '', /text\/html/);
  const html = await res.text();
  assert.match(html, /Too many failed sign-in attempts\./);
  assert.match(html, /try again in \d+ (second|minute)s?\./);
  assert.match(html, new RegExp(`name="username"[^>]*value="${username}"`));
  assert.match(html, /name="password" type="password"/);
  assert.doesNotMatch(html, /wrong-password|Password1/);
  return retryAfter;
}

const three = { points: 3, duration: 60 };

describe('sign-in throttling', () => {
  it('after N wrong passwords the right one gets 429 with Retry-After, and authenticate is not called', async () => {
    const { server, calls } = await startThrottled({ perAccount: three, perIp: false });
    const login = await openLogin(server.issuer);
    await fail(login, 'demouser', 3);
    assert.equal(calls.length, 3);

    const res = await submit(login, 'demouser', 'Password1');
    await assertThrottled(res, 'demouser', three);
    assert.equal(calls.length, 3, 'the right password was not even checked');

    // A new sign-in from the same IP is throttled as well: the limit is not per interaction.
    const again = await submit(await openLogin(server.issuer), 'demouser', 'Password1');
    await assertThrottled(again, 'demouser', three);
    assert.equal(calls.length, 3);
  });

  it('an unknown username is throttled after the same count (no enumeration through the limiter)', async () => {
    const { server, calls } = await startThrottled({ perAccount: three, perIp: false });
    const login = await openLogin(server.issuer);
    await fail(login, 'nobody-at-all', 3);
    await assertThrottled(await submit(login, 'nobody-at-all', 'anything'), 'nobody-at-all', three);
    assert.deepEqual(calls, ['nobody-at-all', 'nobody-at-all', 'nobody-at-all']);
  });

  it('keys the username trimmed and lower-cased: variants share one budget', async () => {
    const { server, calls } = await startThrottled({ perAccount: three, perIp: false });
    const login = await openLogin(server.issuer);
    await fail(login, 'demouser', 1);
    await fail(login, ' DemoUser', 1);
    await fail(login, 'DEMOUSER  ', 1);
    await assertThrottled(await submit(login, 'demouser', 'Password1'), 'demouser', three);
    assert.equal(calls.length, 3);
  });

  it('control: another username from the same IP still signs in (the limit is per account + IP)', async () => {
    const { server, calls } = await startThrottled({
      perAccount: three,
      perIp: { points: 50, duration: 60 },
    });
    const login = await openLogin(server.issuer);
    await fail(login, 'demouser', 3);
    await assertThrottled(await submit(login, 'demouser', 'Password1'), 'demouser', three);

    const other = await submit(login, 'otheruser', 'Password2');
    assert.equal(other.status, 303, 'otheruser signs in');
    assert.deepEqual(calls.at(-1), 'otheruser');
  });

  it('control: a successful sign-in does not use up the budget; only failures count', async () => {
    const { server, calls } = await startThrottled({ perAccount: three, perIp: false });
    await fail(await openLogin(server.issuer), 'demouser', 2);

    // Several successes below the limit: none of them is counted.
    for (let i = 0; i < 3; i += 1) {
      const ok = await submit(await openLogin(server.issuer), 'demouser', 'Password1');
      assert.equal(ok.status, 303, `success ${i + 1} signs in`);
    }
    // Had a success counted, the budget of 3 would be spent by now. It is not: the next wrong
    // password is still checked (the third failure), and only then is the account + IP limited.
    const login = await openLogin(server.issuer);
    await fail(login, 'demouser', 1);
    await assertThrottled(await submit(login, 'demouser', 'Password1'), 'demouser', three);
    assert.equal(calls.length, 2 + 3 + 1);
  });

  it('limits failures per IP across usernames', async () => {
    const { server, calls, events } = await startThrottled({
      perAccount: { points: 10, duration: 60 },
      perIp: three,
    });
    const login = await openLogin(server.issuer);
    await fail(login, 'alice', 1);
    await fail(login, 'bob', 1);
    await fail(login, 'carol', 1);
    // demouser has no failure of its own; the IP has three.
    await assertThrottled(await submit(login, 'demouser', 'Password1'), 'demouser', three);
    await assertThrottled(await submit(login, 'otheruser', 'Password2'), 'otheruser', three);
    assert.deepEqual(calls, ['alice', 'bob', 'carol']);
    assert.deepEqual(
      events.map((e) => e.limit),
      ['ip', 'ip'],
    );
  });

  it('parallel guesses on one server cannot all slip past the check: exactly N are checked', async () => {
    // A slow password check: without per-key ordering every guess would pass the check while
    // the first is still being verified.
    const { server, calls } = await startThrottled(
      { perAccount: three, perIp: false },
      undefined,
      50,
    );
    const login = await openLogin(server.issuer);
    const statuses = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const res = await submit(login, 'demouser', `parallel-guess-${i}`);
        await res.body?.cancel();
        return res.status;
      }),
    );
    assert.equal(statuses.filter((s) => s === 401).length, 3, String(statuses));
    assert.equal(statuses.filter((s) => s === 429).length, 9, String(statuses));
    assert.equal(calls.length, 3);
  });

  it('holds across two servers sharing one Redis', async () => {
    const keyPrefix = `test:signin:${randomUUID()}:`;
    // Each store opens its own connection (two processes on one Redis).
    const storeA = new RedisStore({ client: TEST_REDIS_URL, keyPrefix });
    const storeB = new RedisStore({ client: TEST_REDIS_URL, keyPrefix });
    try {
      const a = await startThrottled({ perAccount: three, perIp: false }, storeA);
      const b = await startThrottled({ perAccount: three, perIp: false }, storeB);
      const loginA = await openLogin(a.server.issuer);
      const loginB = await openLogin(b.server.issuer);
      await fail(loginA, 'demouser', 2);
      await fail(loginB, 'demouser', 1);
      await assertThrottled(await submit(loginA, 'demouser', 'Password1'), 'demouser', three);
      await assertThrottled(await submit(loginB, 'demouser', 'Password1'), 'demouser', three);
      assert.equal(a.calls.length, 2);
      assert.equal(b.calls.length, 1);
      // otheruser is not limited on either server.
      assert.equal((await submit(loginB, 'otheruser', 'Password2')).status, 303);
    } finally {
      await Promise.all(running.splice(0).map((s) => s.close()));
      await Promise.all([storeA.close(), storeB.close()]);
    }
  });

  it('emits signin.throttled with the username hint, IP, limit and Retry-After, never the password', async () => {
    const { server, events } = await startThrottled({ perAccount: three, perIp: false });
    const login = await openLogin(server.issuer);
    await fail(login, 'demouser', 3);
    const retryAfter = await assertThrottled(
      await submit(login, 'demouser', 'Password1'),
      'demouser',
      three,
    );
    assert.deepEqual(events, [
      { username: 'demouser', ip: '127.0.0.1', limit: 'account', retryAfterSeconds: retryAfter },
    ]);
    assert.doesNotMatch(JSON.stringify(events), /Password1|wrong-password/);

    // A long username is cut to 64 characters in the event.
    const long = `${'u'.repeat(100)}`;
    await fail(login, long, 3);
    const res = await submit(login, long, 'Secret-Attempt-1');
    assert.equal(res.status, 429);
    await res.body?.cancel();
    const last = events.at(-1);
    assert.equal(last?.username, 'u'.repeat(64));
    assert.doesNotMatch(JSON.stringify(last), /Secret-Attempt-1/);
  });

  it('a store that cannot read the limits fails closed: 503, and authenticate is not called', async () => {
    class RateStoreDown extends MemoryStore {
      override async consumeRate(): Promise<RateDecision> {
        throw new Error('rate limit storage unreachable (test)');
      }
    }
    const { server, calls } = await startThrottled({ perAccount: three }, new RateStoreDown());
    try {
      const login = await openLogin(server.issuer);
      const res = await submit(login, 'demouser', 'Password1');
      assert.equal(res.status, 503);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      const html = await res.text();
      assert.match(html, /Signing in is not possible right now/);
      assert.doesNotMatch(html, /unreachable|at .*\.(ts|js):\d+/);
      assert.deepEqual(calls, []);
    } finally {
      // A store passed in stays open; this one only has its sweep timer.
      await Promise.all(running.splice(0).map((s) => s.close()));
    }
  });

  it('with every limit false nothing is throttled', async () => {
    const { server, calls } = await startThrottled({
      perAccount: false,
      perIp: false,
      perUsername: false,
    });
    const login = await openLogin(server.issuer);
    await fail(login, 'demouser', 5);
    assert.equal((await submit(login, 'demouser', 'Password1')).status, 303);
    assert.equal(calls.length, 6);
  });
});
