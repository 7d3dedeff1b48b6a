// Every lifetime the library hands a store goes through one bound (the store guard): whole
// seconds, at least 1, at most a hundred years. A lifetime computed from absurd data (an
// upstream's exp of 1e300, a fractional claim, a bug's NaN) reaches neither Redis, which would
// refuse the write and so fake an outage (503, "storage unavailable"), nor any other store as
// an invalid value. Checked against a real Redis and the in-memory store.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { MemoryStore, type Store } from 'mobile-oidc-provider';
import { RedisStore } from '../../adapters/redis.js';
import {
  guardStore,
  type HealthReports,
  MAX_RECORD_LIFETIME,
  recordLifetime,
} from '../../lib/storage/guard.js';
import { TEST_REDIS_URL } from '../helpers/redis-url.js';

const ABSURD = [1e300, Number.MAX_VALUE, Number.POSITIVE_INFINITY, Number.NaN, 1e16];

describe('recordLifetime', () => {
  it('keeps sane lifetimes, rounds fractions up, bounds the rest (longer, never shorter)', () => {
    assert.equal(recordLifetime(600), 600);
    assert.equal(recordLifetime(600.2), 601);
    assert.equal(recordLifetime(0.001), 1);
    assert.equal(recordLifetime(0), 1);
    assert.equal(recordLifetime(-5), 1);
    assert.equal(recordLifetime(undefined), undefined);
    for (const ttl of ABSURD) assert.equal(recordLifetime(ttl), MAX_RECORD_LIFETIME, String(ttl));
    assert.equal(recordLifetime(MAX_RECORD_LIFETIME), MAX_RECORD_LIFETIME);
  });
});

describe('a guarded Redis store given absurd lifetimes', () => {
  let redis: Redis;
  let prefix: string;
  let raw: RedisStore;
  let store: Store;
  const failures: unknown[] = [];
  const health: HealthReports = { succeeded() {}, failed: (cause) => failures.push(cause) };

  before(() => {
    redis = new Redis(TEST_REDIS_URL, { commandTimeout: 2000 });
    prefix = `test:${randomUUID()}:`;
    raw = new RedisStore({ client: redis, keyPrefix: prefix });
    store = guardStore(raw, health);
  });
  after(async () => {
    // This test's keys would otherwise stay for a century (SCAN is fine in a test).
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
    await raw.close();
    await redis.quit();
  });

  it('attack control: unguarded, Redis refuses an EX of 1e300 seconds (what became a 503)', async () => {
    await assert.rejects(raw.takeUse('unguarded', 1, 1e300), /not an integer or out of range/);
  });

  it('every write succeeds, with a TTL of at most a hundred years; no outage is reported', async () => {
    for (const [i, ttl] of ABSURD.entries()) {
      assert.equal(await store.takeUse(`use-${i}`, 1, ttl), true);
      await store.adapter('Session').upsert(`s-${i}`, { jti: `s-${i}` }, ttl);
      assert.equal(await store.claim(`claim-${i}`, 'me', ttl), 'me');
      assert.equal(await store.replaceClaim(`claim-${i}`, 'you', ttl), 'me');
      assert.equal(await store.raiseCounter(`counter-${i}`, 1, ttl), true);
      await store.addToIndex(`index-${i}`, 'member', ttl);
      const pttl = await redis.pttl(`${prefix}use:{use-${i}}`);
      assert.ok(pttl > 0 && pttl <= MAX_RECORD_LIFETIME * 1000, `${ttl}: ${pttl}`);
      const session = await redis.pttl(`${prefix}Session:{s-${i}}`);
      assert.ok(session > 0 && session <= MAX_RECORD_LIFETIME * 1000, `${ttl}: ${session}`);
      assert.deepEqual(await store.adapter('Session').find(`s-${i}`), { jti: `s-${i}` });
    }
    // A fractional lifetime is a whole number of seconds, rounded up.
    assert.equal(await store.takeUse('fraction', 1, 0.4), true);
    const pttl = await redis.pttl(`${prefix}use:{fraction}`);
    assert.ok(pttl > 0 && pttl <= 1000, String(pttl));
    assert.deepEqual(failures, []);
  });
});

describe('a guarded in-memory store given absurd lifetimes', () => {
  it('every write succeeds and the record is kept', async () => {
    const memory = new MemoryStore();
    const store = guardStore(memory);
    try {
      for (const [i, ttl] of ABSURD.entries()) {
        assert.equal(await store.takeUse(`use-${i}`, 1, ttl), true);
        assert.equal(await store.takeUse(`use-${i}`, 1, ttl), false, 'the use is remembered');
        await store.adapter('Session').upsert(`s-${i}`, { jti: `s-${i}` }, ttl);
        assert.deepEqual(await store.adapter('Session').find(`s-${i}`), { jti: `s-${i}` });
      }
    } finally {
      await memory.close();
    }
  });
});
