// The Redis Cluster test harness itself (test/helpers/redis-cluster.ts): that it really starts 3
// masters covering every slot, that a client spreads keys across them, that Redis enforces
// same-slot multi-key commands there (the property the cluster tests rely on), that a node can be
// stopped and brought back, and that stop() leaves nothing running.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { startRedisCluster } from '../helpers/redis-cluster.js';

const startedAt = Date.now();
// A short node timeout: the stop-and-restart test waits on it (failure, then its undoing).
const cluster = await startRedisCluster({ masters: 3, nodeTimeoutMs: 1000 });
const startupMs = Date.now() - startedAt;
after(() => cluster.stop());

/** Runs `fn` with a plain (non-cluster) connection to one node, closed afterwards. */
async function onNode<T>(port: number, fn: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(port, '127.0.0.1', {
    connectTimeout: 1_000,
    commandTimeout: 2_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => {}); // surfaced through the command's rejection
  try {
    return await fn(redis);
  } finally {
    redis.disconnect();
  }
}

/** Whether anything accepts TCP connections on the loopback port. */
async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Polls `check` every 100 ms for up to `ms`. */
async function eventually(check: () => Promise<boolean>, ms: number, what: string) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(100);
  }
  assert.fail(`not within ${ms} ms: ${what}`);
}

describe('Redis Cluster harness', { timeout: 60_000 }, () => {
  it('starts 3 masters on distinct loopback ports', (t) => {
    t.diagnostic(`cluster started in ${startupMs} ms`);
    assert.equal(cluster.nodes.length, 3);
    assert.equal(new Set(cluster.nodes.map((node) => node.port)).size, 3);
    for (const node of cluster.nodes) assert.equal(node.host, '127.0.0.1');
  });

  it('has the 3 masters serving all 16384 slots', async () => {
    const ports = cluster.nodes.map((node) => node.port);
    const [first] = ports;
    assert.ok(first);
    const slots = await onNode(first, (redis) => redis.cluster('SLOTS'));
    // Each entry is [start, end, master, ...replicas]; no replicas were asked for.
    let covered = 0;
    const masterPorts = new Set<number>();
    for (const [start, end, master, ...replicas] of slots) {
      assert.ok(master);
      covered += end - start + 1;
      masterPorts.add(master[1]);
      assert.deepEqual(replicas, []);
    }
    assert.equal(covered, 16384);
    assert.deepEqual([...masterPorts].sort(), [...ports].sort());
    for (const port of ports) {
      const info = String(await onNode(port, (redis) => redis.cluster('INFO')));
      assert.match(info, /cluster_state:ok/);
      assert.match(info, /cluster_slots_ok:16384/);
      assert.match(info, /cluster_known_nodes:3/);
      assert.match(info, /cluster_size:3/);
    }
  });

  it('writes and reads 100 keys spread across slots and masters', async () => {
    const client = cluster.client();
    const keys = Array.from({ length: 100 }, (_, i) => `harness:key:${i}`);
    await Promise.all(keys.map((key, i) => client.set(key, `value-${i}`)));
    assert.deepEqual(
      await Promise.all(keys.map((key) => client.get(key))),
      keys.map((_, i) => `value-${i}`),
    );
    // The keys really are on every master, not all in one place.
    const perMaster = await Promise.all(
      cluster.nodes.map(({ port }) => onNode(port, (redis) => redis.keys('harness:key:*'))),
    );
    for (const found of perMaster) assert.ok(found.length > 0, 'a master got none of the keys');
    assert.equal(perMaster.flat().length, 100);
    await Promise.all(keys.map((key) => client.del(key)));
  });

  it('runs multi-key commands within one {hash tag} and refuses them across slots', async () => {
    const client = cluster.client();
    await client.mset('{harness:user}:a', '1', '{harness:user}:b', '2');
    assert.deepEqual(await client.mget('{harness:user}:a', '{harness:user}:b'), ['1', '2']);
    // {a} and {b} hash to slots 15495 and 3300.
    await assert.rejects(client.mget('{a}:x', '{b}:x'), /CROSSSLOT/);
    await assert.rejects(client.mset('{a}:x', '1', '{b}:x', '2'), /CROSSSLOT/);
    await client.del('{harness:user}:a', '{harness:user}:b');
  });

  it('stops one node and brings it back', async (t) => {
    const [survivor, , victim] = cluster.nodes.map((node) => node.port);
    assert.ok(survivor && victim);
    const client = cluster.client();
    // Find a key that lives on the victim, to write once it is back.
    const slots = await client.cluster('SLOTS');
    const keySlot = async (key: string) => Number(await client.cluster('KEYSLOT', key));
    let key = '';
    for (let i = 0; !key; i += 1) {
      const slot = await keySlot(`harness:victim:${i}`);
      if (
        slots.some(([start, end, master]) => master?.[1] === victim && slot >= start && slot <= end)
      ) {
        key = `harness:victim:${i}`;
      }
    }

    const stoppedAt = Date.now();
    await cluster.stopNode(victim);
    assert.equal(await accepts(victim), false);
    await cluster.stopNode(victim); // already down: no-op
    // No replicas: once the node timeout (1 s) passes, the survivors give up on full coverage.
    await eventually(
      async () =>
        String(await onNode(survivor, (redis) => redis.cluster('INFO'))).includes(
          'cluster_state:fail',
        ),
      10_000,
      'the survivors report cluster_state:fail',
    );
    t.diagnostic(`cluster_state:fail ${Date.now() - stoppedAt} ms after stopNode`);

    const restartedAt = Date.now();
    await cluster.startNode(victim);
    t.diagnostic(`startNode resolved (cluster_state:ok) in ${Date.now() - restartedAt} ms`);
    for (const { port } of cluster.nodes) {
      const info = String(await onNode(port, (redis) => redis.cluster('INFO')));
      assert.match(info, /cluster_state:ok/);
    }
    await cluster.startNode(victim); // already running: no-op
    // The same node is back on its slots (same node id from its config file).
    await eventually(
      async () => (await client.set(key, 'back')) === 'OK' && (await client.get(key)) === 'back',
      10_000,
      `a write to ${key} on the restarted node`,
    );
    await client.del(key);
  });

  it('stop() ends every node and tracked client, and is safe to call twice', async () => {
    const client = cluster.client();
    await client.ping();
    // Watch the event, not `status`: ioredis 6 emits 'end' and then sets 'close' again as the
    // node connections drop.
    const ended = once(client, 'end', { signal: AbortSignal.timeout(2_000) });
    await Promise.all([cluster.stop(), cluster.stop()]);
    await cluster.stop();
    await ended;
    for (const { port } of cluster.nodes) assert.equal(await accepts(port), false);
    assert.throws(() => cluster.client(), /stopped/);
  });
});
