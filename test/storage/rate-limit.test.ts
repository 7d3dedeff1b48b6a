// Rate limits shared by processes: two RedisStore instances, each with its own ioredis connection
// and the same keyPrefix (two server processes on one Redis), count against one limit.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { RedisStore } from '../../adapters/redis.js';
import { TEST_REDIS_URL } from '../helpers/redis-url.js';

describe('consumeRate across two processes sharing Redis', () => {
  let one: RedisStore;
  let two: RedisStore;
  let prefix: string;

  beforeEach(() => {
    prefix = `test:${randomUUID()}:`;
    // URLs, so each store opens (and closes) a connection of its own.
    one = new RedisStore({ client: TEST_REDIS_URL, keyPrefix: prefix });
    two = new RedisStore({ client: TEST_REDIS_URL, keyPrefix: prefix });
  });
  afterEach(async () => {
    await Promise.all([one.close(), two.close()]);
  });

  it('shares one limit: 5 points in all, whichever process counts them', async () => {
    const key = `register:ip:${randomUUID()}`;
    const limit = { points: 5, duration: 60 };
    const allowed: boolean[] = [];
    for (let i = 0; i < 8; i += 1) {
      const store = i % 2 === 0 ? one : two;
      allowed.push((await store.consumeRate(key, limit)).allowed);
    }
    assert.deepEqual(allowed, [true, true, true, true, true, false, false, false]);
    const refused = await two.consumeRate(key, limit);
    assert.equal(refused.allowed, false);
    assert.ok(refused.retryAfterSeconds >= 1 && refused.retryAfterSeconds <= 60);
  });

  it('allows exactly 5 of 20 concurrent attempts split over both processes', async () => {
    const key = `register:account:${randomUUID()}`;
    const limit = { points: 5, duration: 60 };
    const decisions = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? one : two).consumeRate(key, limit)),
    );
    assert.equal(decisions.filter((d) => d.allowed).length, 5);
    assert.equal((await one.consumeRate(key, limit)).allowed, false);
    assert.equal((await two.consumeRate(key, limit)).allowed, false);
  });

  it('does not share a limit with a store under another keyPrefix', async () => {
    const key = `register:ip:${randomUUID()}`;
    const limit = { points: 1, duration: 60 };
    const other = new RedisStore({ client: TEST_REDIS_URL, keyPrefix: `test:${randomUUID()}:` });
    try {
      assert.equal((await one.consumeRate(key, limit)).allowed, true);
      assert.equal((await two.consumeRate(key, limit)).allowed, false);
      assert.equal((await other.consumeRate(key, limit)).allowed, true);
    } finally {
      await other.close();
    }
  });

  it('keeps its counters under the keyPrefix, with a TTL', async () => {
    const key = `register:ip:${randomUUID()}`;
    await one.consumeRate(key, { points: 5, duration: 60 });
    const redis = new Redis(TEST_REDIS_URL, { commandTimeout: 2000 });
    try {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        keys.push(...batch);
      } while (cursor !== '0');
      assert.equal(keys.length, 1, keys.join(', '));
      const [counter] = keys;
      assert.ok(counter?.includes(key), counter);
      const ttl = await redis.pttl(counter ?? '');
      assert.ok(ttl > 0 && ttl <= 60_000, `PTTL ${ttl}`);
    } finally {
      await redis.quit();
    }
  });
});
