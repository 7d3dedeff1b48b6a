// Behind a proxy, the limits key on the client our own proxies saw, not on the X-Forwarded-For
// text a client writes (issue #25). Two server processes share one Redis behind a real
// forwarding proxy (a load balancer taking turns, appending the peer it saw to X-Forwarded-For),
// and clients are real sockets from distinct loopback addresses. The attacker rotates a forged
// X-Forwarded-For on every request: with `proxy: true` only the rightmost entry, the one the
// proxy wrote, names the client, so its wrong passwords and nonce requests are counted together.
// The control puts a second real proxy hop in front (`proxy: 2`): distinct real clients are
// still counted apart.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair } from 'jose';
import { registrationClient } from '../helpers/example.js';
import {
  BrowserAt,
  type ForwardingProxy,
  fetchFrom,
  startForwardingProxy,
} from '../helpers/forwarding-proxy.js';
import { TEST_REDIS_URL } from '../helpers/redis-url.js';
import { dcrAuthorizationUrl, formsOf, type PageForm } from '../helpers/sign-in.js';
import { type SpawnedExample, spawnExample } from '../helpers/spawn.js';
import { startUpstreamIdp, type UpstreamIdp } from '../helpers/upstream-idp.js';

// The defaults: interactions.signInRateLimit.perAccount and federation.nonce.rateLimit.
const PER_ACCOUNT = 10;
const NONCES_PER_MINUTE = 60;

let forged = 0;
/** A fresh forged X-Forwarded-For, as a client rotating it on every request would write. */
function forgedHeader(): Record<string, string> {
  forged += 1;
  return { 'x-forwarded-for': `198.51.${Math.floor(forged / 250) % 250}.${(forged % 250) + 1}` };
}

/**
 * Two server processes on one Redis behind the proxy chain `hops` (the outermost first; the last
 * forwards to the servers), started with `PROXY=proxy`. The issuer is the outermost proxy's URL.
 */
function serversBehind(proxy: string, hopCount: number) {
  const state = {
    hops: [] as ForwardingProxy[],
    processes: [] as SpawnedExample[],
    upstream: undefined as UpstreamIdp | undefined,
    get issuer(): string {
      return (state.hops[0] as ForwardingProxy).url;
    },
  };
  before(async () => {
    state.upstream = await startUpstreamIdp({ quirks: 'google' });
    for (let i = 0; i < hopCount; i += 1) state.hops.push(await startForwardingProxy());
    // Each hop forwards to the next; the last one takes turns between the two servers.
    for (let i = 0; i + 1 < hopCount; i += 1) {
      (state.hops[i] as ForwardingProxy).upstreams.push((state.hops[i + 1] as ForwardingProxy).url);
    }
    // Shared keys: a sign-in's cookies, set by one process, are read by the other.
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const jwk = { ...(await exportJWK(privateKey)), kid: 'shared', alg: 'RS256', use: 'sig' };
    const env = {
      NODE_ENV: 'test',
      ISSUER: state.issuer,
      JWKS: JSON.stringify({ keys: [jwk] }),
      COOKIE_KEYS: randomBytes(32).toString('base64url'),
      PROXY: proxy,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: `proxy-trust:${randomBytes(6).toString('hex')}:`,
      FEDERATION_ISSUER: state.upstream.issuer,
    };
    const [a, b] = await Promise.all([
      spawnExample('test/helpers/server-process.ts', env),
      spawnExample('test/helpers/server-process.ts', env),
    ]);
    state.processes.push(a, b);
    (state.hops.at(-1) as ForwardingProxy).upstreams.push(
      `http://127.0.0.1:${a.port}`,
      `http://127.0.0.1:${b.port}`,
    );
  });
  after(async () => {
    await Promise.all(state.processes.map((p) => p.stop()));
    await Promise.all(state.hops.map((h) => h.close()));
    await state.upstream?.close();
  });
  return state;
}

/** Opens a sign-in (a DCR authorization request) from `browser` and returns its login form. */
async function openLogin(issuer: string, browser: BrowserAt) {
  const url = await dcrAuthorizationUrl(await registrationClient(issuer));
  const redirect = await browser.request(url, { headers: forgedHeader() });
  assert.equal(redirect.status, 303);
  const pageUrl = new URL(redirect.headers.get('location') as string, issuer).href;
  const page = await browser.request(pageUrl, { headers: forgedHeader() });
  const [form] = formsOf(await page.text(), pageUrl);
  assert.ok(form, 'the login page has a form');
  return { browser, form };
}

/** Posts the login form with a freshly forged X-Forwarded-For; the status and Retry-After. */
async function submit(
  login: { browser: BrowserAt; form: PageForm },
  username: string,
  password: string,
) {
  const res = await login.browser.request(login.form.action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...forgedHeader() },
    body: new URLSearchParams({ ...login.form.fields, username, password }).toString(),
  });
  await res.body?.cancel();
  return { status: res.status, retryAfter: res.headers.get('retry-after') };
}

/** Asks for `count` native sign-in nonces from `localAddress`, forging X-Forwarded-For each time. */
async function nonces(issuer: string, localAddress: string, count: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const res = await fetchFrom(localAddress)(`${issuer}/federation/nonce`, {
      method: 'POST',
      headers: forgedHeader(),
    });
    if (res.status === 429) {
      const body = (await res.json()) as Record<string, unknown>;
      assert.ok(typeof body.error === 'string' && typeof body.error_description === 'string');
      assert.ok(Number(res.headers.get('retry-after')) >= 1);
    } else {
      await res.body?.cancel();
    }
    statuses.push(res.status);
  }
  return statuses;
}

const count = (statuses: number[], status: number) => statuses.filter((s) => s === status).length;

describe('proxy: true behind one proxy, two processes on one Redis: a forged X-Forwarded-For changes nothing', {
  timeout: 180_000,
}, () => {
  const servers = serversBehind('true', 1);
  const ATTACKER = '127.0.0.66';

  it('attack: 30 wrong passwords for one account, each with a new forged X-Forwarded-For, are throttled after the limit; the right one is refused too', async () => {
    const login = await openLogin(servers.issuer, new BrowserAt(ATTACKER));
    const statuses: number[] = [];
    for (let i = 0; i < 30; i += 1) {
      statuses.push((await submit(login, 'demouser', `wrong-password-${i}`)).status);
    }
    // The proxy took turns: both processes answered, and counted in the one Redis.
    assert.deepEqual(statuses.slice(0, PER_ACCOUNT), Array(PER_ACCOUNT).fill(401));
    assert.deepEqual(statuses.slice(PER_ACCOUNT), Array(30 - PER_ACCOUNT).fill(429));
    const right = await submit(login, 'demouser', 'Password1');
    assert.equal(right.status, 429, 'the right password is not even checked');
    assert.ok(Number(right.retryAfter) >= 1 && Number(right.retryAfter) <= 900);
  });

  it('attack: 70 nonce requests with rotating forged X-Forwarded-For: exactly the 60 a minute are issued', async () => {
    const statuses = await nonces(servers.issuer, ATTACKER, NONCES_PER_MINUTE + 10);
    assert.equal(count(statuses, 200), NONCES_PER_MINUTE, String(statuses));
    assert.deepEqual(statuses.slice(NONCES_PER_MINUTE), Array(10).fill(429));
  });

  it('control: another real client behind the same proxy still signs in and gets a nonce', async () => {
    const login = await openLogin(servers.issuer, new BrowserAt('127.0.0.67'));
    assert.equal((await submit(login, 'otheruser', 'Password2')).status, 303);
    assert.deepEqual(await nonces(servers.issuer, '127.0.0.67', 1), [200]);
  });
});

describe('control: proxy: 2 behind two real proxy hops, two processes on one Redis', {
  timeout: 180_000,
}, () => {
  const servers = serversBehind('2', 2);

  it('distinct real clients are counted apart: one reaching its limit leaves the other signing in', async () => {
    const x = await openLogin(servers.issuer, new BrowserAt('127.0.0.20'));
    for (let i = 0; i < PER_ACCOUNT; i += 1) {
      assert.equal((await submit(x, 'demouser', `wrong-password-${i}`)).status, 401);
    }
    // Forging X-Forwarded-For through two hops does not help x either.
    assert.equal((await submit(x, 'demouser', 'Password1')).status, 429);

    const y = await openLogin(servers.issuer, new BrowserAt('127.0.0.21'));
    assert.equal((await submit(y, 'demouser', 'Password1')).status, 303, 'y is not x');
  });

  it('nonces: one real client reaching its limit leaves another with its own', async () => {
    const x = await nonces(servers.issuer, '127.0.0.22', NONCES_PER_MINUTE + 1);
    assert.equal(count(x, 200), NONCES_PER_MINUTE);
    assert.equal(x.at(-1), 429);
    assert.deepEqual(await nonces(servers.issuer, '127.0.0.23', 1), [200]);
  });
});
