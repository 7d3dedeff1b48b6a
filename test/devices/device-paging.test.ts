// Device lists come in pages (issue #13: "an account with 1,800 installs returned 2 MB in one
// response"): `server.devices.page(accountId, { limit, cursor })`, and `?limit=` / `?cursor=` on
// the admin API's `GET /accounts/:accountId/devices` and the self-service `GET /devices`. Pages
// keep the order of `list` (oldest first), the cursor is a position that survives devices being
// revoked, deleted or added between pages, and it only ever positions within the account the
// path or the token names: another account's cursor, or an altered one, is 400 invalid_request.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DeviceInfo, Store } from 'mobile-oidc-provider';
import { RedisStore } from 'mobile-oidc-provider/adapters/redis';
import * as oidc from 'openid-client';
import {
  APP_REDIRECT_URI,
  type RunningServer,
  registrationClient,
  startExample,
} from '../helpers/example.js';
import { type JsonBody, json } from '../helpers/json.js';
import { type Listening, listen } from '../helpers/listen.js';
import { TEST_REDIS_URL } from '../helpers/redis-url.js';
import {
  codeForInstance,
  obtainDcrToken,
  registerInstance,
  SignInBrowser,
  type SignInChoices,
} from '../helpers/sign-in.js';

const ADMIN_SECRET = 'device-paging-admin-secret-0123456789abcdef';
const OTHER = { username: 'otheruser', password: 'Password2' };
const INSTALLS = 120;

interface Registered {
  client_id: string;
  registration_access_token: string;
}

/** The example server whose DCR tokens register many installs each, and whose admin API is on. */
function startServer(store?: Store) {
  return startExample(
    (o) => ({
      ...o,
      ...(store ? { store } : {}),
      registration: { ...o.registration, dcrToken: { maxUses: 1000, ttl: 3600 } },
    }),
    { ADMIN_SECRET },
  );
}

/**
 * One install signed in with the self-service scope (its access token lists the user's devices),
 * then `more` installs registered with the same DCR token: `more + 1` devices of that user.
 */
async function account(issuer: string, more: number, user: SignInChoices = {}) {
  const browser = new SignInBrowser();
  const { tokens: dcr } = await obtainDcrToken(await registrationClient(issuer), browser, user);
  const instance = await registerInstance(issuer, dcr.access_token, { client_name: 'phone' });
  const { callback, checks } = await codeForInstance(browser, instance, 'openid devices');
  const { access_token: token } = await oidc.authorizationCodeGrant(instance, callback, checks);
  const registered: Registered[] = [];
  for (let i = 0; i < more; i++) {
    const res = await fetch(`${issuer}/reg`, {
      method: 'POST',
      headers: { authorization: `Bearer ${dcr.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [APP_REDIRECT_URI], client_name: `install ${i}` }),
    });
    assert.equal(res.status, 201);
    registered.push((await json(res)) as Registered);
  }
  return { token, dcr: dcr.access_token, registered };
}

const ids = (devices: Array<{ clientId: string }>) => devices.map((d) => d.clientId);

/** Reads every page through the library, checking each is at most `limit` long. */
async function allPages(server: RunningServer, accountId: string, limit: number) {
  const sizes: number[] = [];
  const devices: DeviceInfo[] = [];
  let cursor: string | undefined;
  do {
    const page = await server.auth.devices.page(accountId, {
      limit,
      ...(cursor ? { cursor } : {}),
    });
    sizes.push(page.devices.length);
    devices.push(...page.devices);
    cursor = page.nextCursor;
  } while (cursor);
  return { sizes, devices };
}

/** Changes one character of a cursor, keeping it base64url. */
const tamper = (cursor: string, at = 4) =>
  cursor.slice(0, at) + (cursor[at] === 'A' ? 'B' : 'A') + cursor.slice(at + 1);

function describeLibraryPaging(storeName: string, makeStore?: () => Store) {
  describe(`server.devices.page on ${storeName}`, () => {
    let server: RunningServer;
    let store: Store | undefined;
    let registered: Registered[];

    before(async () => {
      store = makeStore?.();
      server = await startServer(store);
      ({ registered } = await account(server.issuer, INSTALLS - 1));
    });
    after(async () => {
      await server.close();
      await store?.close();
    });

    it(`${INSTALLS} installs in pages of 50: 50, 50, 20, no repeats, in the order of list()`, async () => {
      const listed = await server.auth.devices.list('demouser');
      assert.equal(listed.length, INSTALLS);
      const { sizes, devices } = await allPages(server, 'demouser', 50);
      assert.deepEqual(sizes, [50, 50, 20]);
      assert.equal(new Set(ids(devices)).size, INSTALLS);
      assert.deepEqual(devices, listed, 'the same devices, fields and order as list()');
      // Oldest first.
      const created = devices.map((d) => d.createdAt);
      assert.deepEqual(
        created,
        [...created].sort((a, b) => a - b),
      );
    });

    it('defaults to 50; the last page has no nextCursor; an exact fit has no empty last page', async () => {
      const first = await server.auth.devices.page('demouser');
      assert.equal(first.devices.length, 50);
      assert.equal(typeof first.nextCursor, 'string');
      const { sizes } = await allPages(server, 'demouser', 40);
      assert.deepEqual(sizes, [40, 40, 40]);
      const whole = await server.auth.devices.page('demouser', { limit: 100 });
      const rest = await server.auth.devices.page('demouser', {
        limit: 100,
        cursor: whole.nextCursor as string,
      });
      assert.equal(rest.devices.length, 20);
      assert.equal(rest.nextCursor, undefined);
    });

    it('an account without devices is one empty page', async () => {
      assert.deepEqual(await server.auth.devices.page('nobody'), { devices: [] });
    });

    it('refuses a bad limit and a bad cursor with a RangeError', async () => {
      for (const limit of [0, 101, -1, 1.5, Number.NaN]) {
        await assert.rejects(server.auth.devices.page('demouser', { limit }), RangeError);
      }
      const { nextCursor } = await server.auth.devices.page('demouser', { limit: 10 });
      for (const cursor of ['', 'garbage!', tamper(nextCursor as string), 'x'.repeat(5000)]) {
        await assert.rejects(server.auth.devices.page('demouser', { cursor }), RangeError);
      }
      await assert.rejects(
        server.auth.devices.page('otheruser', { cursor: nextCursor as string }),
        RangeError,
        "another account's cursor",
      );
    });

    it('the cursor holds its position while devices are revoked, deleted and added between pages', async () => {
      const before = ids(await server.auth.devices.list('demouser'));
      const first = await server.auth.devices.page('demouser', { limit: 50 });
      const cursor = first.nextCursor as string;
      // Delete (RFC 7592) the very device the cursor points at, and one not yet read; revoke
      // one read and one not yet read; then register a new one.
      const byId = new Map(registered.map((r) => [r.client_id, r]));
      const [lastRead, unreadDeleted, readRevoked, unreadRevoked] = [
        before[49],
        before[70],
        before[10],
        before[60],
      ] as [string, string, string, string];
      await server.auth.devices.revoke(readRevoked);
      await server.auth.devices.revoke(unreadRevoked);
      for (const id of [lastRead, unreadDeleted]) {
        const res = await fetch(`${server.issuer}/reg/${id}`, {
          method: 'DELETE',
          headers: {
            authorization: `Bearer ${(byId.get(id) as Registered).registration_access_token}`,
          },
        });
        assert.equal(res.status, 204);
      }
      const { dcr } = await account(server.issuer, 0);
      const added = await registerInstance(server.issuer, dcr, { client_name: 'late' });
      const addedId = added.clientMetadata().client_id;

      const rest: DeviceInfo[] = [];
      let next: string | undefined = cursor;
      while (next) {
        const page = await server.auth.devices.page('demouser', { limit: 50, cursor: next });
        rest.push(...page.devices);
        next = page.nextCursor;
      }
      const expected = [
        ...before.slice(50).filter((id) => id !== unreadDeleted),
        // account() signed in one more install before registering the late one.
        ...ids(await server.auth.devices.list('demouser')).slice(-2),
      ];
      assert.deepEqual(ids(rest), expected);
      assert.equal(ids(rest).at(-1), addedId);
      assert.equal(rest.find((d) => d.clientId === unreadRevoked)?.status, 'revoked');
      assert.equal(ids(rest)[0], before[50], 'the deleted device under the cursor skips nothing');
    });
  });
}

describeLibraryPaging('the in-memory store');
describeLibraryPaging(
  'Redis',
  () =>
    new RedisStore({
      client: TEST_REDIS_URL,
      keyPrefix: `mop-test-device-paging-${process.pid}-${Date.now()}:`,
    }),
);

describe('paging over HTTP: the admin API and self-service', () => {
  let server: RunningServer;
  let admin: Listening;
  let alice: { token: string };
  let other: { token: string };

  before(async () => {
    server = await startServer();
    admin = await listen();
    admin.handle(server.auth.adminCallback());
    alice = await account(server.issuer, INSTALLS - 1);
    other = await account(server.issuer, 2, OTHER);
  });
  after(async () => {
    await admin.close();
    await server.close();
  });

  const adminGet = (path: string) =>
    fetch(`${admin.url}${path}`, { headers: { authorization: `Bearer ${ADMIN_SECRET}` } });
  const selfGet = (query: string, token = alice.token) =>
    fetch(`${server.issuer}/devices${query}`, { headers: { authorization: `Bearer ${token}` } });

  /** Follows `next_cursor` from `first` to the end; returns every page's body. */
  async function follow(get: (query: string) => Promise<Response>, limit?: number) {
    const bodies: JsonBody[] = [];
    let cursor: string | undefined;
    do {
      const params = new URLSearchParams({
        ...(limit !== undefined ? { limit: String(limit) } : {}),
        ...(cursor ? { cursor } : {}),
      });
      const res = await get(params.size ? `?${params}` : '');
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      const body = await json(res);
      bodies.push(body);
      cursor = body.next_cursor;
    } while (cursor);
    return bodies;
  }

  it('admin: pages of 50 (the default), then 20, as { devices, next_cursor }, in list() order', async () => {
    const listed = await server.auth.devices.list('demouser');
    const bodies = await follow((q) => adminGet(`/accounts/demouser/devices${q}`));
    assert.deepEqual(
      bodies.map((b) => b.devices.length),
      [50, 50, 20],
    );
    assert.deepEqual(
      bodies.map((b) => Object.keys(b).sort()),
      [['devices', 'next_cursor'], ['devices', 'next_cursor'], ['devices']],
    );
    assert.deepEqual(
      bodies.flatMap((b) => b.devices),
      JSON.parse(JSON.stringify(listed)),
    );
  });

  it("self-service: pages through the token owner's devices only", async () => {
    const bodies = await follow((q) => selfGet(q), 50);
    const devices = bodies.flatMap((b) => b.devices as DeviceInfo[]);
    assert.equal(devices.length, INSTALLS);
    assert.ok(devices.every((d) => d.accountId === 'demouser'));
    assert.deepEqual(ids(devices), ids(await server.auth.devices.list('demouser')));
    const theirs = await follow((q) => selfGet(q, other.token), 1);
    assert.deepEqual(
      theirs.flatMap((b) => ids(b.devices)),
      ids(await server.auth.devices.list('otheruser')),
    );
    assert.equal(theirs.length, 3, 'three devices, one a page');
  });

  it('a page is bounded: at most limit devices, whatever the account holds', async () => {
    const full = JSON.stringify(await server.auth.devices.list('demouser'));
    for (const limit of [1, 10, 50, 100]) {
      const res = await adminGet(`/accounts/demouser/devices?limit=${limit}`);
      const text = await res.text();
      const { devices } = JSON.parse(text);
      assert.equal(devices.length, limit);
      const largest = Math.max(...devices.map((d: unknown) => JSON.stringify(d).length));
      assert.ok(text.length <= limit * largest + 400, `${text.length} bytes for ${limit}`);
    }
    const page = await (await adminGet('/accounts/demouser/devices')).text();
    assert.ok(page.length < full.length / 2, `${page.length} of ${full.length} bytes`);
  });

  it('limit other than an integer from 1 to 100 is 400 invalid_request (admin and self-service)', async () => {
    for (const limit of ['0', '101', 'abc', '', '-1', '1.5', '050', '1e2', '5&limit=6']) {
      for (const res of [
        await adminGet(`/accounts/demouser/devices?limit=${limit}`),
        await selfGet(`?limit=${limit}`),
      ]) {
        assert.equal(res.status, 400, `limit=${limit}`);
        const body = await json(res);
        assert.equal(body.error, 'invalid_request');
        assert.equal(res.headers.get('www-authenticate'), null);
      }
    }
    assert.equal((await adminGet('/accounts/demouser/devices?limit=100')).status, 200);
    assert.equal((await selfGet('?limit=1')).status, 200);
  });

  it('a malformed or altered cursor is 400 invalid_request', async () => {
    const { next_cursor: cursor } = await json(await selfGet('?limit=10'));
    const decoded = Buffer.from(cursor, 'base64url').toString();
    const [order, check, clientId] = decoded.split(':') as [string, string, string];
    const forged = [
      tamper(cursor),
      tamper(cursor, cursor.length - 2),
      `${cursor}A`,
      'not a cursor',
      '',
      'x'.repeat(5000),
      // A plausible position with the check left as it was: another device, an earlier time.
      Buffer.from(`${order}:${check}:${clientId}x`).toString('base64url'),
      Buffer.from(`${Number(order) - 1}:${check}:${clientId}`).toString('base64url'),
    ];
    for (const bad of forged) {
      for (const res of [
        await adminGet(`/accounts/demouser/devices?cursor=${encodeURIComponent(bad)}`),
        await selfGet(`?cursor=${encodeURIComponent(bad)}`),
      ]) {
        assert.equal(res.status, 400, bad);
        assert.equal((await json(res)).error, 'invalid_request');
      }
    }
    const twice = await selfGet(`?cursor=${cursor}&cursor=${cursor}`);
    assert.equal(twice.status, 400);
  });

  it("another account's cursor is 400 on your path and with your token", async () => {
    const { next_cursor: theirs } = await json(await selfGet('?limit=1', other.token));
    const { next_cursor: mine } = await json(await selfGet('?limit=1'));
    assert.equal(typeof theirs, 'string');
    for (const res of [
      await selfGet(`?cursor=${theirs}`),
      await adminGet(`/accounts/demouser/devices?cursor=${theirs}`),
      await selfGet(`?cursor=${mine}`, other.token),
      await adminGet(`/accounts/otheruser/devices?cursor=${mine}`),
    ]) {
      assert.equal(res.status, 400);
      assert.match((await json(res)).error_description, /cursor/);
    }
  });

  it('paging still needs credentials: no token is 401 before the query is read', async () => {
    const res = await fetch(`${admin.url}/accounts/demouser/devices?limit=abc`);
    assert.equal(res.status, 401);
    const self = await fetch(`${server.issuer}/devices?limit=abc`);
    assert.equal(self.status, 401);
  });
});
