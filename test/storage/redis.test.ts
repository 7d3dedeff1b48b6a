// The Redis store against a real Redis (127.0.0.1:6379, which .ci/run makes sure is up): the
// shared store contract, plus what only Redis has — TTLs on every key, bounded indexes, JSON
// that survives consume, the documented key layout.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { RedisStore } from 'mobile-oidc-provider/adapters/redis';
import { describeStoreContract } from './store-contract.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

describeStoreContract('RedisStore (standalone)', {
  create: async () => new RedisStore({ client: REDIS_URL, keyPrefix: `contract:${randomUUID()}:` }),
  advanceTime: (_store, seconds) => sleep(seconds * 1000),
});

describe('RedisStore keys', () => {
  let redis: Redis;
  let store: RedisStore;
  let prefix: string;

  before(() => {
    redis = new Redis(REDIS_URL);
    prefix = `keys:${randomUUID()}:`;
    store = new RedisStore({ client: redis, keyPrefix: prefix });
  });
  after(async () => {
    await store.close();
    redis.disconnect();
  });

  it('every key of a record with a lifetime has a TTL, with the documented names and hash tags', async () => {
    const id = randomUUID();
    const uid = randomUUID();
    const grantId = randomUUID();
    await store.adapter('Session').upsert(id, { jti: id, uid, grantId }, 60);
    await store.takeUse('dcr-token:x', 1, 60);
    await store.addToIndex('client-grants:c', grantId, 60);
    for (const key of [
      `${prefix}Session:{${id}}`,
      `${prefix}Session:uid:{${uid}}`,
      `${prefix}grant:{${grantId}}`,
      `${prefix}use:{dcr-token:x}`,
      `${prefix}index:{client-grants:c}`,
    ]) {
      const ttl = await redis.pttl(key);
      assert.ok(ttl > 0 && ttl <= 60_000, `${key} has TTL ${ttl}`);
    }
  });

  it('a record without a lifetime, and its grant index, never expire', async () => {
    const id = randomUUID();
    const grantId = randomUUID();
    await store.adapter('Client').upsert(id, { jti: id, grantId });
    assert.equal(await redis.pttl(`${prefix}Client:{${id}}`), -1);
    assert.equal(await redis.pttl(`${prefix}grant:{${grantId}}`), -1);
  });

  it('a grant index does not grow with tokens that expired', async () => {
    const grantId = randomUUID();
    const tokens = store.adapter('AccessToken');
    for (let i = 0; i < 5; i += 1) await tokens.upsert(randomUUID(), { grantId }, 1);
    await sleep(1100);
    await tokens.upsert(randomUUID(), { grantId }, 60);
    assert.equal(await redis.zcard(`${prefix}grant:{${grantId}}`), 1);
  });

  it('empty arrays and nested objects survive consume (the JSON is never re-encoded in Lua)', async () => {
    const id = randomUUID();
    const codes = store.adapter('AuthorizationCode');
    await codes.upsert(id, { jti: id, amr: [], claims: { userinfo: {} }, scope: 'openid' }, 60);
    await codes.consume(id);
    const found = await codes.find(id);
    assert.deepEqual(found?.amr, []);
    assert.deepEqual(found?.claims, { userinfo: {} });
    assert.equal(typeof found?.consumed, 'number');
  });

  it('a client passed in stays open after close(); a URL the store opened is closed', async () => {
    const own = new RedisStore({ client: REDIS_URL, keyPrefix: prefix });
    await own.takeUse('x', 1, 1);
    await own.close();
    await store.close();
    assert.equal(await redis.ping(), 'PONG');
  });
});
