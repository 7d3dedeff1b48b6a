// The Redis store on a real 3-master Redis Cluster that this test starts from redis-server on
// loopback ports: the store contract and the whole mobile journey. Any multi-key command across
// slots would fail here with CROSSSLOT.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, describe, it } from 'node:test';
import { RedisStore } from 'mobile-oidc-provider/adapters/redis';
import { describeStoreContract } from 'mobile-oidc-provider/testing';
import { describeJourney } from '../e2e/journey.js';
import { passDate, restoreDate } from '../helpers/clock.js';
import { startRedisCluster } from '../helpers/redis-cluster.js';
import { ageKeys } from '../helpers/redis-expiry.js';

const cluster = await startRedisCluster({ masters: 3 });
after(() => cluster.stop());
const client = cluster.client();

describe('the test cluster', () => {
  it('has 3 masters serving all 16384 slots', async () => {
    const masters = client.nodes('master');
    assert.equal(masters.length, 3);
    const info = await masters[0]?.cluster('INFO');
    assert.match(String(info), /cluster_slots_ok:16384/);
  });
});

afterEach(restoreDate);
let contractPrefix = '';

describeStoreContract('RedisStore (3-master Cluster)', {
  create: async () => {
    contractPrefix = `contract:${randomUUID()}:`;
    return new RedisStore({ client, keyPrefix: contractPrefix, clockToleranceSeconds: 0 });
  },
  // Time passes at once, for this process's Date and for the TTLs of the store's keys.
  advanceTime: async (_store, seconds) => {
    passDate(seconds * 1000);
    await ageKeys(client, contractPrefix, seconds * 1000);
  },
});

describeJourney(
  'Redis Cluster',
  async () => new RedisStore({ client, keyPrefix: `journey:${randomUUID()}:` }),
);
