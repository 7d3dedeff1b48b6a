// Failed sign-ins behind a proxy (issue #25). A botnet guessing one account from many addresses
// meets a cap per username across all addresses (`signInRateLimit.perUsername`): after it, every
// sign-in with that username waits out a short cool-down — the right password too, or the cap
// would stop nothing — that ends by itself with the window, so no victim is locked out for good.
// The clients are real sockets from distinct loopback addresses behind a real forwarding proxy
// (`proxy: true`). IPv6 clients are keyed by their /64: one host's many addresses share a budget.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type { AuthServerOptions, SignInThrottledEvent } from 'mobile-oidc-provider';
import { RedisStore } from 'mobile-oidc-provider/adapters/redis';
import { type RunningServer, registrationClient, startExample } from '../helpers/example.js';
import {
  BrowserAt,
  type ForwardingProxy,
  startForwardingProxy,
} from '../helpers/forwarding-proxy.js';
import { TEST_REDIS_URL } from '../helpers/redis-url.js';
import { dcrAuthorizationUrl, formsOf, type PageForm, SignInBrowser } from '../helpers/sign-in.js';

// The default interactions.signInRateLimit.perUsername.
const CAP = { points: 20, duration: 300 };

type SignInLimits = NonNullable<NonNullable<AuthServerOptions['interactions']>['signInRateLimit']>;

/** A test server behind `proxy`; `authenticate` records the usernames it checks. */
interface Behind {
  server: RunningServer;
  calls: string[];
  events: SignInThrottledEvent[];
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startServer(
  overrides: (o: AuthServerOptions) => Partial<AuthServerOptions>,
): Promise<Behind> {
  const calls: string[] = [];
  const server = await startExample((o) => {
    const accounts = o.accounts;
    return {
      ...o,
      accounts: {
        findAccount: (accountId) => accounts.findAccount(accountId),
        authenticate: async (username, password) => {
          calls.push(username);
          return accounts.authenticate(username, password);
        },
      },
      ...overrides(o),
    };
  });
  cleanups.push(() => server.close());
  const events: SignInThrottledEvent[] = [];
  server.auth.on('signin.throttled', (event) => events.push(event));
  return { server, calls, events };
}

/** Opens a sign-in from `browser` at `issuer`, sending `headers`; its login form. */
async function openLogin(
  issuer: string,
  browser: SignInBrowser,
  headers: Record<string, string> = {},
) {
  const redirect = await browser.request(
    await dcrAuthorizationUrl(await registrationClient(issuer)),
    {
      headers,
    },
  );
  assert.equal(redirect.status, 303);
  const pageUrl = new URL(redirect.headers.get('location') as string, issuer).href;
  const [form] = formsOf(await (await browser.request(pageUrl, { headers })).text(), pageUrl);
  assert.ok(form, 'the login page has a form');
  return { browser, form, headers };
}

/** Posts the login form; the status and Retry-After. */
async function submit(
  login: { browser: SignInBrowser; form: PageForm; headers: Record<string, string> },
  username: string,
  password: string,
) {
  const res = await login.browser.request(login.form.action, {
    method: 'POST',
    headers: { ...login.headers, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...login.form.fields, username, password }).toString(),
  });
  await res.body?.cancel();
  return { status: res.status, retryAfter: Number(res.headers.get('retry-after')) };
}

describe('the per-username cap across all addresses (credential stuffing from a botnet)', () => {
  /** The server on Redis behind a real proxy hop; `proxy: true`, these sign-in limits. */
  async function behindProxy(signInRateLimit: SignInLimits = {}) {
    const keyPrefix = `test:signin-cap:${randomUUID()}:`;
    const store = new RedisStore({ client: TEST_REDIS_URL, keyPrefix });
    const redis = new Redis(TEST_REDIS_URL);
    const proxy: ForwardingProxy = await startForwardingProxy();
    cleanups.push(
      () => store.close(),
      () => redis.quit(),
      () => proxy.close(),
    );
    const behind = await startServer((o) => ({
      store,
      proxy: true,
      issuer: proxy.url,
      interactions: { ...o.interactions, signInRateLimit },
    }));
    proxy.upstreams.push(behind.server.http.url);
    /** The Redis keys of the cap's counters, under this test's own prefix. */
    const capKeys = async () => {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, found] = await redis.scan(
          cursor,
          'MATCH',
          `${keyPrefix}rate:{signin-username:*`,
          'COUNT',
          1000,
        );
        keys.push(...found);
        cursor = next;
      } while (cursor !== '0');
      return keys;
    };
    return { ...behind, issuer: proxy.url, redis, capKeys };
  }

  /** The loopback address of botnet member `n` (a real, distinct socket address). */
  const member = (n: number) => `127.0.1.${n}`;

  it('attack: 32 distinct addresses failing for one username are refused after the cap, the right password too, each for at most the window', async () => {
    const { issuer, calls, events, redis, capKeys } = await behindProxy();
    // 20 members each fail once: no address comes near its own limits.
    for (let n = 1; n <= CAP.points; n += 1) {
      const login = await openLogin(issuer, new BrowserAt(member(n)));
      assert.equal((await submit(login, 'demouser', `guess-${n}`)).status, 401, `member ${n}`);
    }
    // Every further member is refused without its password being checked.
    for (let n = CAP.points + 1; n <= 32; n += 1) {
      const login = await openLogin(issuer, new BrowserAt(member(n)));
      const refused = await submit(login, 'DemoUser ', `guess-${n}`);
      assert.equal(refused.status, 429, `member ${n}`);
      assert.ok(refused.retryAfter >= 1 && refused.retryAfter <= CAP.duration);
    }
    assert.equal(calls.length, CAP.points, 'only the first 20 guesses were checked');
    assert.deepEqual(new Set(events.map((e) => e.limit)), new Set(['username']));
    assert.deepEqual(
      events.map((e) => e.ip),
      Array.from({ length: 32 - CAP.points }, (_, i) => member(CAP.points + 1 + i)),
      'each refusal names its own real client',
    );

    // The victim, from a new address, is in the cool-down too: a right password is not checked.
    const victim = await openLogin(issuer, new BrowserAt('127.0.2.1'));
    const refused = await submit(victim, 'demouser', 'Password1');
    assert.equal(refused.status, 429);
    assert.equal(calls.length, CAP.points);

    // Never a permanent lock: the one counter behind the cap expires with the window.
    const [key, ...others] = await capKeys();
    assert.ok(key && others.length === 0);
    const ttl = await redis.pttl(key);
    assert.ok(ttl > 0 && ttl <= CAP.duration * 1000, `the cool-down ends in ${ttl} ms`);
  });

  it('control: another username is unaffected, and after the cool-down the right password signs in', async () => {
    const { issuer, calls, redis, capKeys } = await behindProxy();
    for (let n = 1; n <= CAP.points; n += 1) {
      const login = await openLogin(issuer, new BrowserAt(member(n)));
      assert.equal((await submit(login, 'demouser', `guess-${n}`)).status, 401);
    }
    const victim = await openLogin(issuer, new BrowserAt('127.0.2.1'));
    assert.equal((await submit(victim, 'demouser', 'Password1')).status, 429);

    // The cap is per username: otheruser signs in from a member's address right away.
    const other = await openLogin(issuer, new BrowserAt(member(1)));
    assert.equal((await submit(other, 'otheruser', 'Password2')).status, 303);

    // The window passes (Redis expires the counter, as time would after Retry-After).
    const [key] = await capKeys();
    assert.ok(key);
    await redis.pexpire(key, 1);
    await sleep(20);
    assert.equal((await submit(victim, 'demouser', 'Password1')).status, 303, 'signed in');
    assert.equal(calls.at(-1), 'demouser');
  });

  it('attack: one address cannot lock a user out; its own limit stops it before the cap', async () => {
    const { issuer, calls } = await behindProxy();
    const attacker = await openLogin(issuer, new BrowserAt(member(99)));
    const statuses: number[] = [];
    for (let i = 0; i < 30; i += 1) {
      statuses.push((await submit(attacker, 'demouser', `guess-${i}`)).status);
    }
    // perAccount (10) refuses it long before the per-username cap (20) could be reached.
    assert.equal(statuses.filter((s) => s === 401).length, 10, String(statuses));
    assert.equal(calls.length, 10);
    const victim = await openLogin(issuer, new BrowserAt('127.0.2.1'));
    assert.equal((await submit(victim, 'demouser', 'Password1')).status, 303, 'the user signs in');
  });

  it('control: with perUsername false, 30 distinct addresses are each checked', async () => {
    const { issuer, calls } = await behindProxy({ perUsername: false });
    for (let n = 1; n <= 30; n += 1) {
      const login = await openLogin(issuer, new BrowserAt(member(n)));
      assert.equal((await submit(login, 'demouser', `guess-${n}`)).status, 401);
    }
    assert.equal(calls.length, 30);
  });
});

describe('IPv6 clients are keyed by their /64', () => {
  const perIp = { points: 3, duration: 60 };

  it('two addresses in one /64 share a budget; an address in another /64 has its own', async () => {
    const { server, calls, events } = await startServer((o) => ({
      proxy: true,
      interactions: { ...o.interactions, signInRateLimit: { perIp, perUsername: false } },
    }));
    // The test's own connection is the trusted proxy hop; it names the client it saw.
    const from = (address: string) =>
      openLogin(server.issuer, new SignInBrowser(), { 'x-forwarded-for': address });

    assert.equal((await submit(await from('2001:db8:1:2::a'), 'alice', 'x')).status, 401);
    assert.equal((await submit(await from('2001:db8:1:2::a'), 'bob', 'x')).status, 401);
    // Another address of the same /64: the third failure of that one budget.
    assert.equal((await submit(await from('2001:db8:1:2:ffff::b'), 'carol', 'x')).status, 401);
    const sameNet = await submit(await from('2001:db8:1:2:1234::c'), 'demouser', 'Password1');
    assert.equal(sameNet.status, 429, 'a fresh address in the /64 is limited too');
    assert.deepEqual(events.at(-1), {
      username: 'demouser',
      ip: '2001:db8:1:2:1234::c',
      limit: 'ip',
      retryAfterSeconds: sameNet.retryAfter,
    });

    // Control: the next /64 over is another client.
    const otherNet = await submit(await from('2001:db8:1:3::a'), 'demouser', 'Password1');
    assert.equal(otherNet.status, 303);
    assert.deepEqual(calls, ['alice', 'bob', 'carol', 'demouser']);
  });

  it('an IPv4-mapped IPv6 address and its IPv4 address share a budget', async () => {
    const { server } = await startServer((o) => ({
      proxy: true,
      interactions: { ...o.interactions, signInRateLimit: { perIp, perUsername: false } },
    }));
    const from = (address: string) =>
      openLogin(server.issuer, new SignInBrowser(), { 'x-forwarded-for': address });
    for (const address of ['203.0.113.5', '::ffff:203.0.113.5', '::ffff:cb00:7105']) {
      assert.equal((await submit(await from(address), 'alice', 'x')).status, 401, address);
    }
    assert.equal((await submit(await from('203.0.113.5'), 'demouser', 'Password1')).status, 429);
    assert.equal((await submit(await from('203.0.113.6'), 'demouser', 'Password1')).status, 303);
  });
});
