// The Redis store against a real Redis (TEST_REDIS_URL, by default 127.0.0.1:6379, which .ci/run
// makes sure is up): the shared store contract, plus what only Redis has — a TTL on every key of
// an expiring record, grant indexes that stay bounded, JSON that survives consume, the documented
// key layout. No Redis is a failure, never a skip.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { describeStoreContract } from 'mobile-oidc-provider/testing';
import type { AdapterPayload } from 'oidc-provider';
import { RedisStore } from '../../adapters/redis.js';
import { AlreadyConsumedError } from '../../lib/storage/index.js';
import { passDate, restoreDate, stopDate } from '../helpers/clock.js';
import { ageKeys } from '../helpers/redis-expiry.js';
import { startOwnRedis } from '../helpers/redis-server.js';
import { TEST_REDIS_URL } from '../helpers/redis-url.js';

/** Fails the whole file, fast, when Redis is not there. */
async function requireRedis(): Promise<void> {
  const probe = new Redis(TEST_REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 2000,
    commandTimeout: 2000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  let cause: unknown;
  probe.on('error', (error) => {
    cause = error;
  });
  try {
    await probe.connect();
    assert.equal(await probe.ping(), 'PONG');
  } catch (error) {
    throw new Error(
      `these tests need a Redis at ${TEST_REDIS_URL} (see .ci/run): ${cause ?? error}`,
    );
  } finally {
    probe.disconnect();
  }
}
await requireRedis();

// The contract's time on Redis: this connection cuts the TTLs of the store's keys.
const admin = new Redis(TEST_REDIS_URL, { commandTimeout: 2000 });
after(() => admin.quit());
afterEach(restoreDate);
let contractPrefix = '';

describeStoreContract('RedisStore (standalone)', {
  // A URL, so the store owns its connection and the contract's close() closes it. One process's
  // clock agrees with itself: no tolerance, so expiry is exact.
  create: async () => {
    contractPrefix = `test:${randomUUID()}:`;
    return new RedisStore({
      client: TEST_REDIS_URL,
      keyPrefix: contractPrefix,
      clockToleranceSeconds: 0,
    });
  },
  // Time passes at once, for this process's Date and for the TTLs of the store's keys.
  advanceTime: async (_store, seconds) => {
    passDate(seconds * 1000);
    await ageKeys(admin, contractPrefix, seconds * 1000);
  },
});

describe('RedisStore on Redis', () => {
  let redis: Redis;
  let store: RedisStore;
  let prefix: string;

  before(() => {
    redis = new Redis(TEST_REDIS_URL, { commandTimeout: 2000 });
    prefix = `test:${randomUUID()}:`;
    // A client passed in: the store must leave it open.
    store = new RedisStore({ client: redis, keyPrefix: prefix });
  });
  after(async () => {
    await store.close();
    await redis.quit();
  });

  /** Every key under the test's prefix (SCAN is fine in a test; the store never scans). */
  async function keysUnder(p: string): Promise<string[]> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${p}*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    return keys.sort();
  }

  /**
   * A store with a fresh prefix on the shared client, and that prefix; clocks of one process
   * agree, so no clock tolerance unless a test gives one.
   */
  function freshStore(clockToleranceSeconds = 0): { s: RedisStore; p: string } {
    const p = `test:${randomUUID()}:`;
    return { s: new RedisStore({ client: redis, keyPrefix: p, clockToleranceSeconds }), p };
  }

  it('writes exactly the documented, hash-tagged keys, with the documented types', async () => {
    const { s, p } = freshStore();
    const [session, sessionUid, code, userCode, grantId] = [
      randomUUID(),
      randomUUID(),
      randomUUID(),
      randomUUID(),
      randomUUID(),
    ];
    await s.adapter('Session').upsert(session, { jti: session, uid: sessionUid, grantId }, 60);
    await s.adapter('DeviceCode').upsert(code, { jti: code, userCode, grantId }, 60);
    await s.takeUse('dcr:t1', 1, 60);
    await s.addToIndex('client-grants:c1', grantId, 60);

    assert.deepEqual(
      await keysUnder(p),
      [
        `${p}DeviceCode:userCode:{${userCode}}`,
        `${p}DeviceCode:{${code}}`,
        `${p}Session:uid:{${sessionUid}}`,
        `${p}Session:{${session}}`,
        `${p}grant:{${grantId}}`,
        `${p}index:{client-grants:c1}`,
        `${p}use:{dcr:t1}`,
      ].sort(),
    );
    assert.equal(await redis.type(`${p}Session:{${session}}`), 'string');
    assert.equal(
      await redis.get(`${p}Session:{${session}}`),
      JSON.stringify({ jti: session, uid: sessionUid, grantId }),
    );
    assert.equal(await redis.get(`${p}Session:uid:{${sessionUid}}`), session);
    assert.equal(await redis.get(`${p}DeviceCode:userCode:{${userCode}}`), code);
    assert.deepEqual((await redis.zrange(`${p}grant:{${grantId}}`, 0, '-1')).sort(), [
      `DeviceCode:${code}`,
      `Session:${session}`,
    ]);
    assert.deepEqual(await redis.zrange(`${p}index:{client-grants:c1}`, 0, '-1'), [grantId]);
    assert.equal(await redis.get(`${p}use:{dcr:t1}`), '1');

    await s.adapter('DeviceCode').consume(code);
    const consumed = await redis.get(`${p}DeviceCode:consumed:{${code}}`);
    assert.ok(consumed && Math.abs(Number(consumed) - Date.now() / 1000) < 5, String(consumed));
    // The record itself is untouched by its consume.
    assert.equal(
      await redis.get(`${p}DeviceCode:{${code}}`),
      JSON.stringify({ jti: code, userCode, grantId }),
    );
  });

  it('gives every key of an expiring record a TTL, and keeps it through consume', async () => {
    const { s, p } = freshStore();
    const [session, sessionUid, code, userCode, grantId] = [
      randomUUID(),
      randomUUID(),
      randomUUID(),
      randomUUID(),
      randomUUID(),
    ];
    await s.adapter('Session').upsert(session, { jti: session, uid: sessionUid, grantId }, 60);
    await s.adapter('DeviceCode').upsert(code, { jti: code, userCode, grantId }, 30);
    await s.adapter('DeviceCode').consume(code);
    await s.takeUse('dcr:t1', 2, 60);
    await s.returnUse('dcr:t1');
    await s.addToIndex('client-grants:c1', grantId, 60);

    const keys = await keysUnder(p);
    assert.equal(keys.length, 8);
    for (const key of keys) {
      const ttl = await redis.pttl(key);
      assert.ok(ttl > 0 && ttl <= 60_000, `${key} has PTTL ${ttl}`);
    }
    const codeTtl = await redis.pttl(`${p}DeviceCode:{${code}}`);
    assert.ok(codeTtl > 25_000 && codeTtl <= 30_000, `consumed record PTTL ${codeTtl}`);
    // The consumed marker lives as long as its record.
    const markerTtl = await redis.pttl(`${p}DeviceCode:consumed:{${code}}`);
    assert.ok(markerTtl >= codeTtl - 100 && markerTtl <= 30_000, `marker PTTL ${markerTtl}`);
    assert.ok((await redis.pttl(`${p}DeviceCode:userCode:{${userCode}}`)) <= 30_000);
    // The grant index lives as long as its longest-lived member (the Session, 60 s).
    assert.ok((await redis.pttl(`${p}grant:{${grantId}}`)) > 55_000);
  });

  it('keeps a consumed marker past its record by the clock tolerance, also after a find', async () => {
    const { s, p } = freshStore(5);
    const tokens = s.adapter('RefreshToken');
    const [found, unread] = [randomUUID(), randomUUID()];
    const exp = Math.floor(Date.now() / 1000) + 30;
    await tokens.upsert(found, { jti: found, exp }, 30);
    await tokens.upsert(unread, { jti: unread, exp }, 30);
    assert.ok(await tokens.find(found)); // consume then knows the record's expiry
    await tokens.consume(found);
    await tokens.consume(unread); // consume reads the record's TTL itself
    for (const id of [found, unread]) {
      const ttl = await redis.pttl(`${p}RefreshToken:consumed:{${id}}`);
      assert.ok(ttl > 33_000 && ttl <= 35_000, `marker PTTL ${ttl}`);
    }
  });

  it("leaves a tombstone of a revoked record, and of a consumed one destroyed, for the record's lifetime plus the clock tolerance", async () => {
    const { s, p } = freshStore(5);
    const tokens = s.adapter('RefreshToken');
    const [revoked, destroyed, unused, grantId] = [
      randomUUID(),
      randomUUID(),
      randomUUID(),
      randomUUID(),
    ];
    for (const id of [revoked, destroyed, unused]) {
      await tokens.upsert(id, { jti: id, grantId }, 30);
    }
    await tokens.consume(destroyed);
    await tokens.destroy(destroyed);
    await tokens.destroy(unused);
    await tokens.revokeByGrantId(grantId);

    for (const id of [revoked, destroyed]) {
      assert.equal(await redis.exists(`${p}RefreshToken:{${id}}`), 0);
      const ttl = await redis.pttl(`${p}RefreshToken:consumed:{${id}}`);
      assert.ok(ttl > 33_000 && ttl <= 35_000, `tombstone PTTL ${ttl}`);
      await assert.rejects(tokens.consume(id), AlreadyConsumedError);
    }
    // Control: a destroyed record never consumed leaves no key at all.
    assert.deepEqual(await keysUnder(`${p}RefreshToken:consumed:{${unused}}`), []);
    await tokens.consume(unused);
    assert.deepEqual(await keysUnder(`${p}RefreshToken:consumed:{${unused}}`), []);
  });

  it('refuses the consume of a revoked record on either path: after a find (SET NX) and without one (the script)', async () => {
    const { s } = freshStore(5);
    const tokens = s.adapter('RefreshToken');
    const [found, unread, grantId] = [randomUUID(), randomUUID(), randomUUID()];
    const exp = Math.floor(Date.now() / 1000) + 30;
    await tokens.upsert(found, { jti: found, exp, grantId }, 30);
    await tokens.upsert(unread, { jti: unread, exp, grantId }, 30);
    assert.ok(await tokens.find(found)); // its consume is then one SET NX of the marker
    await tokens.revokeByGrantId(grantId);
    await assert.rejects(tokens.consume(found), AlreadyConsumedError);
    await assert.rejects(tokens.consume(unread), AlreadyConsumedError);
  });

  it('keeps a consumed 0.1 hash record consumed once destroyed', async () => {
    const { s, p } = freshStore();
    const id = randomUUID();
    await redis.hset(`${p}RefreshToken:{${id}}`, {
      payload: JSON.stringify({ jti: id }),
      consumed: '1700000000',
    });
    await redis.pexpire(`${p}RefreshToken:{${id}}`, 60_000);
    const tokens = s.adapter('RefreshToken');
    await tokens.destroy(id);
    assert.equal(await tokens.find(id), undefined);
    assert.equal(await redis.get(`${p}RefreshToken:consumed:{${id}}`), '1700000000');
    await assert.rejects(tokens.consume(id), AlreadyConsumedError);
  });

  it('never expires a record written without expiresIn, nor its lookup; its grant index lives a century', async () => {
    const { s, p } = freshStore();
    const [id, sessionUid, grantId] = [randomUUID(), randomUUID(), randomUUID()];
    await s.adapter('Session').upsert(id, { jti: id, uid: sessionUid, grantId });
    assert.equal(await redis.pttl(`${p}Session:{${id}}`), -1);
    assert.equal(await redis.pttl(`${p}Session:uid:{${sessionUid}}`), -1);
    const century = 99 * 365 * 24 * 3600 * 1000;
    assert.ok((await redis.pttl(`${p}grant:{${grantId}}`)) > century);

    // A member with a lifetime added later does not shorten the index.
    const token = randomUUID();
    await s.adapter('AccessToken').upsert(token, { jti: token, grantId }, 1);
    assert.ok((await redis.pttl(`${p}grant:{${grantId}}`)) > century);
    assert.equal(await redis.zscore(`${p}grant:{${grantId}}`, `Session:${id}`), 'inf');
  });

  it('never shortens a grant index: a shorter-lived token keeps the longer expiry', async () => {
    const { s, p } = freshStore();
    const grantId = randomUUID();
    const tokens = s.adapter('AccessToken');
    const id = randomUUID();
    await tokens.upsert(id, { jti: id, grantId }, 60);
    await tokens.upsert(randomUUID(), { grantId }, 1);
    await tokens.upsert(id, { jti: id, grantId }, 2); // rewritten shorter: its member keeps 60 s
    assert.ok((await redis.pttl(`${p}grant:{${grantId}}`)) > 55_000);
    const score = Number(await redis.zscore(`${p}grant:{${grantId}}`, `AccessToken:${id}`));
    assert.ok(score - Date.now() > 55_000, `member expiry ${score}`);
  });

  it('writes the grant index once for all tokens of the grant written in the same tick', async () => {
    const { s, p } = freshStore();
    const grantId = randomUUID();
    const [rt, at] = [randomUUID(), randomUUID()];
    const sent: string[] = [];
    const monitor = await redis.monitor();
    // MONITOR shows commands in the order Redis ran them: once it shows this one, sent on the
    // store's connection after the writes, it has shown the writes.
    const marker = `monitor-caught-up:${randomUUID()}`;
    const caughtUp = new Promise<void>((resolve) => {
      monitor.on('monitor', (_time: string, args: string[], source: string) => {
        if (args[1] === marker) resolve();
        if (source !== 'lua' && args.some((a) => a.includes(p))) sent.push(String(args[0]));
      });
    });
    try {
      await Promise.all([
        s.adapter('RefreshToken').upsert(rt, { jti: rt, grantId }, 60),
        s.adapter('AccessToken').upsert(at, { jti: at, grantId }, 10),
      ]);
      await redis.echo(marker);
      await caughtUp;
    } finally {
      monitor.disconnect();
    }
    // Two SETs and one index write (its ZADD carries both members), nothing else.
    assert.deepEqual(sent.map((c) => c.toLowerCase()).sort(), [
      'pexpire',
      'pexpire',
      'set',
      'set',
      'zadd',
      'zremrangebyscore',
    ]);
    assert.deepEqual(
      (await redis.zrange(`${p}grant:{${grantId}}`, 0, '-1')).sort(),
      [`AccessToken:${at}`, `RefreshToken:${rt}`].sort(),
    );
    assert.ok((await redis.pttl(`${p}grant:{${grantId}}`)) > 55_000);
  });

  it('drops a rotated refresh token from its grant index with its successor, in the same write', async () => {
    const { s, p } = freshStore();
    const grantId = randomUUID();
    const refreshTokens = s.adapter('RefreshToken');
    const exp = () => Math.floor(Date.now() / 1000) + 60;
    let current = randomUUID();
    await refreshTokens.upsert(current, { jti: current, grantId, exp: exp() }, 60);
    for (let i = 0; i < 20; i += 1) {
      assert.ok(await refreshTokens.find(current)); // the consume knows the token's grant
      const next = randomUUID();
      // As a rotation sends them: the consume and both new tokens in one tick.
      await Promise.all([
        refreshTokens.consume(current),
        refreshTokens.upsert(next, { jti: next, grantId, exp: exp() }, 60),
        s.adapter('AccessToken').upsert(randomUUID(), { grantId }, 60),
      ]);
      current = next;
    }
    const members = await redis.zrange(`${p}grant:{${grantId}}`, 0, '-1');
    assert.deepEqual(
      members.filter((m) => m.startsWith('RefreshToken:')),
      [`RefreshToken:${current}`],
    );
    assert.equal(members.filter((m) => m.startsWith('AccessToken:')).length, 20);
    // The rotated tokens stay consumed until they expire.
    await assert.rejects(refreshTokens.consume(current).then(() => refreshTokens.consume(current)));

    // Control: a consume with no write to the index in its tick leaves the member to expire.
    const alone = randomUUID();
    const otherGrant = randomUUID();
    await refreshTokens.upsert(alone, { jti: alone, grantId: otherGrant, exp: exp() }, 60);
    await refreshTokens.find(alone);
    await refreshTokens.consume(alone);
    assert.deepEqual(await redis.zrange(`${p}grant:{${otherGrant}}`, 0, '-1'), [
      `RefreshToken:${alone}`,
    ]);
  });

  it('does not let a grant index grow with tokens that expired', async (t) => {
    const { s, p } = freshStore();
    const grantId = randomUUID();
    const tokens = s.adapter('AccessToken');
    // Index members expire by this process's clock (their score), not by a Redis TTL.
    const pass = stopDate(t);
    for (let i = 0; i < 5; i += 1) await tokens.upsert(randomUUID(), { grantId }, 1);
    assert.equal(await redis.zcard(`${p}grant:{${grantId}}`), 5);
    pass(1100);
    const last = randomUUID();
    await tokens.upsert(last, { jti: last, grantId }, 60);
    assert.deepEqual(await redis.zrange(`${p}grant:{${grantId}}`, 0, '-1'), [
      `AccessToken:${last}`,
    ]);

    // The library's indexes are pruned the same way.
    for (let i = 0; i < 5; i += 1) await s.addToIndex('idx', `m${i}`, 1);
    pass(1100);
    await s.addToIndex('idx', 'last', 60);
    assert.equal(await redis.zcard(`${p}index:{idx}`), 1);
  });

  it('prunes and hides index members only once the clock tolerance has passed too', async (t) => {
    const { s, p } = freshStore(3);
    const pass = stopDate(t);
    await s.addToIndex('idx', 'long', 60);
    for (let i = 0; i < 3; i += 1) await s.addToIndex('idx', `m${i}`, 1);
    pass(1100);
    await s.addToIndex('idx', 'last', 60);
    // Expired by this clock, but within what another process's clock may still call live.
    assert.equal(await redis.zcard(`${p}index:{idx}`), 5);
    assert.equal((await s.readIndex('idx')).length, 5);
  });

  it('keeps empty arrays and nested objects through consume (no JSON re-encoding)', async () => {
    const id = randomUUID();
    const codes = store.adapter('AuthorizationCode');
    const json = '{"amr":[],"claims":{"a":[]}}';
    const payload: AdapterPayload = JSON.parse(json);
    await codes.upsert(id, payload, 60);
    await codes.consume(id);
    const found = await codes.find(id);
    assert.ok(found);
    const { consumed, ...rest } = found;
    assert.deepEqual(rest, payload);
    assert.equal(typeof consumed, 'number');
    assert.equal(await redis.get(`${prefix}AuthorizationCode:{${id}}`), json);
    await assert.rejects(codes.consume(id), AlreadyConsumedError);
  });

  it('treats a payload written with consumed as consumed', async () => {
    const id = randomUUID();
    const tokens = store.adapter('RefreshToken');
    await tokens.upsert(id, { jti: id, consumed: 1_700_000_000 }, 60);
    assert.equal((await tokens.find(id))?.consumed, 1_700_000_000);
    await assert.rejects(tokens.consume(id), AlreadyConsumedError);
  });

  it('reads, consumes, destroys and revokes records written by 0.1 (a hash per record)', async () => {
    const { s, p } = freshStore();
    const grantId = randomUUID();
    const [fresh, used, gone] = [randomUUID(), randomUUID(), randomUUID()];
    const legacy = async (id: string, fields: Record<string, string>) => {
      await redis.hset(`${p}RefreshToken:{${id}}`, fields);
      await redis.pexpire(`${p}RefreshToken:{${id}}`, 60_000);
      await redis.zadd(`${p}grant:{${grantId}}`, Date.now() + 60_000, `RefreshToken:${id}`);
    };
    await legacy(fresh, { payload: JSON.stringify({ jti: fresh, grantId }) });
    await legacy(used, { payload: JSON.stringify({ jti: used, grantId }), consumed: '1700000000' });
    await legacy(gone, { payload: JSON.stringify({ jti: gone, grantId }) });
    const tokens = s.adapter('RefreshToken');

    assert.deepEqual(await tokens.find(fresh), { jti: fresh, grantId });
    assert.equal((await tokens.find(used))?.consumed, 1_700_000_000);
    await tokens.consume(fresh);
    assert.ok((await tokens.find(fresh))?.consumed);
    await assert.rejects(tokens.consume(fresh), AlreadyConsumedError);
    await assert.rejects(tokens.consume(used), AlreadyConsumedError);

    await tokens.destroy(gone);
    assert.equal(await redis.exists(`${p}RefreshToken:{${gone}}`), 0);
    await tokens.revokeByGrantId(grantId);
    // What stays are the consumed records' markers, as tombstones that expire with the records.
    const markers = [fresh, used].map((id) => `${p}RefreshToken:consumed:{${id}}`);
    assert.deepEqual(await keysUnder(`${p}RefreshToken`), [...markers].sort());
    for (const marker of markers) {
      const ttl = await redis.pttl(marker);
      assert.ok(ttl > 0 && ttl <= 60_000, `tombstone PTTL ${ttl}`);
    }
    assert.equal(await redis.get(`${p}RefreshToken:consumed:{${used}}`), '1700000000');
    await assert.rejects(tokens.consume(used), AlreadyConsumedError);
  });

  it('cleans the keys of destroyed and revoked records, leaving other models in the grant index', async () => {
    const { s, p } = freshStore();
    const [session, sessionUid, grantId, at, rt] = [
      randomUUID(),
      randomUUID(),
      randomUUID(),
      randomUUID(),
      randomUUID(),
    ];
    await s.adapter('Session').upsert(session, { jti: session, uid: sessionUid }, 60);
    await s.adapter('Session').destroy(session);
    assert.equal(
      await redis.exists(`${p}Session:{${session}}`, `${p}Session:uid:{${sessionUid}}`),
      0,
    );

    await s.adapter('AccessToken').upsert(at, { jti: at, grantId }, 60);
    await s.adapter('RefreshToken').upsert(rt, { jti: rt, grantId }, 60);
    await s.adapter('AccessToken').consume(at);
    await s.adapter('AccessToken').revokeByGrantId(grantId);
    assert.equal(await redis.exists(`${p}AccessToken:{${at}}`), 0);
    // Its marker stays as a tombstone, no longer than the record would have lived.
    const tombstoneTtl = await redis.pttl(`${p}AccessToken:consumed:{${at}}`);
    assert.ok(tombstoneTtl > 0 && tombstoneTtl <= 60_000, `tombstone PTTL ${tombstoneTtl}`);
    assert.equal(await redis.exists(`${p}RefreshToken:{${rt}}`), 1);
    assert.deepEqual(await redis.zrange(`${p}grant:{${grantId}}`, 0, '-1'), [`RefreshToken:${rt}`]);
  });

  it('fails the upsert when an index write fails', async () => {
    const { s, p } = freshStore();
    const grantId = randomUUID();
    await redis.set(`${p}grant:{${grantId}}`, 'not a sorted set');
    await assert.rejects(
      s.adapter('AccessToken').upsert(randomUUID(), { grantId }, 60),
      /WRONGTYPE/,
    );
  });

  it('keeps a use count at least as long as the longest TTL, and never below zero', async () => {
    const { s, p } = freshStore();
    assert.equal(await s.takeUse('k', 3, 60), true);
    assert.equal(await s.takeUse('k', 3, 1), true);
    assert.ok((await redis.pttl(`${p}use:{k}`)) > 55_000);
    for (let i = 0; i < 4; i += 1) await s.returnUse('k');
    assert.equal(await redis.get(`${p}use:{k}`), '0');
    assert.ok((await redis.pttl(`${p}use:{k}`)) > 55_000);
    await s.returnUse('never-taken');
    assert.equal(await redis.exists(`${p}use:{never-taken}`), 0);
  });

  it('keeps working after Redis lost its scripts (SCRIPT FLUSH, as after a restart)', async () => {
    // On a Redis of its own: the shared one's scripts belong to every test using it.
    const own = await startOwnRedis();
    const client = new Redis(own.url, { commandTimeout: 2000 });
    const flushed = new RedisStore({ client, keyPrefix: prefix });
    try {
      const tokens = flushed.adapter('AccessToken');
      // A consume without a find first runs a script: now this Redis has it, then loses it.
      const earlier = randomUUID();
      await tokens.upsert(earlier, { jti: earlier }, 60);
      await tokens.consume(earlier);
      const id = randomUUID();
      await tokens.upsert(id, { jti: id }, 60);
      await client.script('FLUSH');
      await tokens.consume(id);
      assert.ok((await tokens.find(id))?.consumed);
    } finally {
      await flushed.close();
      client.disconnect();
      await own.destroy();
    }
  });

  it('leaves a client passed in open; closes a connection it opened from a URL', async () => {
    const own = new RedisStore({ client: TEST_REDIS_URL, keyPrefix: prefix });
    assert.equal(await own.takeUse(randomUUID(), 1, 1), true);
    await own.close();
    await own.close();
    await assert.rejects(own.takeUse(randomUUID(), 1, 1), /Connection is closed/);

    const shared = new RedisStore({ client: redis, keyPrefix: prefix });
    await shared.close();
    assert.equal(await redis.ping(), 'PONG');
  });
});
