// Expiry on a real Redis without waiting for it: the keys a test wrote age at once.
import { Cluster, type Redis } from 'ioredis';

// Cuts one key's TTL by ARGV[1] ms, and deletes the key when that leaves nothing, as expiry
// would; a key without a TTL is left alone. KEYS: the key.
const AGE_KEY = `local left = redis.call('PTTL', KEYS[1])
if left < 0 then return 0 end
local by = tonumber(ARGV[1])
if left <= by then redis.call('DEL', KEYS[1]) else redis.call('PEXPIRE', KEYS[1], left - by) end
return 1`;

/** Every key under `prefix`, from each master of a Cluster (SCAN is fine in a test). */
async function keysUnder(redis: Redis | Cluster, prefix: string): Promise<string[]> {
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  const keys: string[] = [];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
  }
  return keys;
}

/**
 * Lets `ms` pass for the keys under `prefix` (which must hold no glob characters): each one's TTL
 * is cut by `ms`, and a key whose TTL runs out is deleted, as Redis would expire it.
 */
export async function ageKeys(redis: Redis | Cluster, prefix: string, ms: number): Promise<void> {
  const keys = await keysUnder(redis, prefix);
  await Promise.all(keys.map((key) => redis.eval(AGE_KEY, 1, key, String(ms))));
}
