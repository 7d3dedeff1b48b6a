// Key layout (P = keyPrefix). Every script touches one key, so everything works on Cluster; the
// {…} hash tag puts the id, not the prefix or model, in charge of the slot.
//   P<model>:{<id>}            HASH  payload = JSON, consumed = epoch seconds once consumed
//   P<model>:uid:{<uid>}       STRING → id (Session)
//   P<model>:userCode:{<code>} STRING → id (DeviceCode)
//   Pgrant:{<grantId>}         ZSET  members "<model>:<id>", score = member expiry (ms, +inf)
//   Puse:{<key>}               STRING use count of a limited-use item (DCR token)
//   Pindex:{<name>}            ZSET  library indexes (client → grants), score = member expiry

import { type Cluster, Redis } from 'ioredis';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { AlreadyConsumedError, type Store } from '../lib/storage/index.js';

/**
 * Options for {@link RedisStore}.
 *
 * @group Storage
 */
export interface RedisStoreOptions {
  /**
   * The Redis to use: an ioredis `Redis` (standalone or Sentinel) or `Cluster` instance, which
   * stays yours to close, or a `redis://` URL, for which the store opens and owns a connection.
   */
  client: Redis | Cluster | string;
  /**
   * Prefix of every key the store writes, so several deployments can share one Redis.
   *
   * @default 'mop:'
   */
  keyPrefix?: string;
  /**
   * For a connection the store opens from a URL: how long a command may take before it fails
   * (and the request with it, as `503`), so a hung Redis never hangs requests.
   *
   * @default 2000
   */
  commandTimeoutMs?: number;
}

// Replaces a record: one key, one round trip. ARGV: payload JSON, TTL seconds ('' = none).
const UPSERT = `
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'payload', ARGV[1])
if ARGV[2] ~= '' then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 1`;

// Marks a record consumed unless it already is. 0 = missing, 1 = consumed now, 2 = already.
const CONSUME = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HSETNX', KEYS[1], 'consumed', ARGV[1]) == 1 then return 1 end
return 2`;

// Adds a member to an expiring sorted set: the member's expiry is never shortened, expired
// members are pruned, and the key lives exactly as long as its longest-lived member.
// ARGV: member, expiry ms ('inf' = never), now ms.
const INDEX_ADD = `
local old = redis.call('ZSCORE', KEYS[1], ARGV[1])
local score = ARGV[2]
if old and (score ~= 'inf') and (old == 'inf' or tonumber(old) > tonumber(score)) then score = old end
redis.call('ZADD', KEYS[1], score, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3])
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if not top[2] then return 1 end
if top[2] == 'inf' then redis.call('PERSIST', KEYS[1]) else redis.call('PEXPIREAT', KEYS[1], top[2]) end
return 1`;

// Deletes a record only if it still belongs to the grant (it may have been rewritten since it
// was indexed). Returns the payload it deleted, so its lookup keys can go too. ARGV: grantId.
const DELETE_IF_GRANT = `
local payload = redis.call('HGET', KEYS[1], 'payload')
if not payload then return false end
if cjson.decode(payload).grantId ~= ARGV[1] then return false end
redis.call('DEL', KEYS[1])
return payload`;

// Deletes a lookup key only if it still points at the given id. ARGV: id.
const DELETE_IF_POINTS_AT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1`;

// Takes one use if any is left; the count lives at least ttl ms. ARGV: max uses, ttl ms.
const TAKE_USE = `
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used >= tonumber(ARGV[1]) then return 0 end
redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1`;

// Gives a use back, never below zero, keeping the TTL.
const RETURN_USE = `
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used > 0 then redis.call('DECR', KEYS[1]) end
return 1`;

type Client = Redis | Cluster;
type Scripted = Client & {
  mopUpsert(key: string, payload: string, ttl: string): Promise<number>;
  mopConsume(key: string, now: string): Promise<number>;
  mopIndexAdd(key: string, member: string, expiry: string, now: string): Promise<number>;
  mopTakeUse(key: string, maxUses: string, ttlMs: string): Promise<number>;
  mopReturnUse(key: string): Promise<number>;
  mopDeleteIfGrant(key: string, grantId: string): Promise<string | null>;
  mopDeleteIfPointsAt(key: string, id: string): Promise<number>;
};

function defineScripts(client: Client): Scripted {
  const scripted = client as Scripted;
  // defineCommand sends EVALSHA and falls back to EVAL on NOSCRIPT, per node on Cluster.
  if (typeof scripted.mopUpsert !== 'function') {
    client.defineCommand('mopUpsert', { numberOfKeys: 1, lua: UPSERT });
    client.defineCommand('mopConsume', { numberOfKeys: 1, lua: CONSUME });
    client.defineCommand('mopIndexAdd', { numberOfKeys: 1, lua: INDEX_ADD });
    client.defineCommand('mopTakeUse', { numberOfKeys: 1, lua: TAKE_USE });
    client.defineCommand('mopReturnUse', { numberOfKeys: 1, lua: RETURN_USE });
    client.defineCommand('mopDeleteIfGrant', { numberOfKeys: 1, lua: DELETE_IF_GRANT });
    client.defineCommand('mopDeleteIfPointsAt', { numberOfKeys: 1, lua: DELETE_IF_POINTS_AT });
  }
  return scripted;
}

const expiryScore = (seconds: number | undefined) =>
  typeof seconds === 'number' ? String(Math.ceil(Date.now() + seconds * 1000)) : 'inf';

/** oidc-provider's adapter for one model, on Redis. */
class RedisModelAdapter implements Adapter {
  readonly #redis: Scripted;
  readonly #model: string;
  readonly #prefix: string;

  constructor(redis: Scripted, model: string, prefix: string) {
    this.#redis = redis;
    this.#model = model;
    this.#prefix = prefix;
  }

  #key(id: string) {
    return `${this.#prefix}${this.#model}:{${id}}`;
  }

  #lookupKey(kind: 'uid' | 'userCode', value: string) {
    return `${this.#prefix}${this.#model}:${kind}:{${value}}`;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const ttl = typeof expiresIn === 'number' ? String(Math.max(1, Math.ceil(expiresIn))) : '';
    const writes: Array<Promise<unknown>> = [
      this.#redis.mopUpsert(this.#key(id), JSON.stringify(payload), ttl),
    ];
    for (const kind of ['uid', 'userCode'] as const) {
      const value = payload[kind];
      if (typeof value !== 'string') continue;
      const key = this.#lookupKey(kind, value);
      writes.push(ttl ? this.#redis.set(key, id, 'EX', Number(ttl)) : this.#redis.set(key, id));
    }
    if (payload.grantId) {
      writes.push(
        this.#redis.mopIndexAdd(
          `${this.#prefix}grant:{${payload.grantId}}`,
          `${this.#model}:${id}`,
          expiryScore(expiresIn),
          String(Date.now()),
        ),
      );
    }
    // Sent together: one round trip. If an index write fails the upsert fails, and a record
    // whose upsert failed was never handed out, so it cannot be used unrevoked.
    await Promise.all(writes);
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const [payload, consumed] = await this.#redis.hmget(this.#key(id), 'payload', 'consumed');
    if (!payload) return undefined;
    const record = JSON.parse(payload) as AdapterPayload;
    if (consumed) record.consumed = Number(consumed);
    return record;
  }

  async #findBy(kind: 'uid' | 'userCode', value: string): Promise<AdapterPayload | undefined> {
    const id = await this.#redis.get(this.#lookupKey(kind, value));
    if (!id) return undefined;
    const record = await this.find(id);
    // The lookup key may outlive a record that was rewritten with another uid/userCode.
    return record && record[kind] === value ? record : undefined;
  }

  findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return this.#findBy('uid', uid);
  }

  findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return this.#findBy('userCode', userCode);
  }

  async consume(id: string): Promise<void> {
    const outcome = await this.#redis.mopConsume(
      this.#key(id),
      String(Math.floor(Date.now() / 1000)),
    );
    if (outcome === 2) throw new AlreadyConsumedError();
  }

  /** Removes the uid/userCode lookups of a deleted record, unless another record took them. */
  async #dropLookups(id: string, record: AdapterPayload | undefined) {
    await Promise.all(
      (['uid', 'userCode'] as const).map((kind) => {
        const value = record?.[kind];
        return typeof value === 'string'
          ? this.#redis.mopDeleteIfPointsAt(this.#lookupKey(kind, value), id)
          : undefined;
      }),
    );
  }

  async destroy(id: string): Promise<void> {
    const record = await this.find(id);
    await this.#redis.del(this.#key(id));
    await this.#dropLookups(id, record);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    const indexKey = `${this.#prefix}grant:{${grantId}}`;
    const members = await this.#redis.zrange(indexKey, '0', '-1');
    const mine = members.filter((m) => m.startsWith(`${this.#model}:`));
    if (mine.length === 0) return;
    await Promise.all(
      mine.map(async (member) => {
        const id = member.slice(this.#model.length + 1);
        const deleted = await this.#redis.mopDeleteIfGrant(this.#key(id), grantId);
        if (deleted) await this.#dropLookups(id, JSON.parse(deleted) as AdapterPayload);
      }),
    );
    await this.#redis.zrem(indexKey, ...mine);
  }
}

/**
 * The production store: everything in Redis, shared by any number of server processes.
 * Works on standalone Redis, Sentinel and Cluster (every script touches one key).
 *
 * @group Storage
 */
export class RedisStore implements Store {
  readonly #redis: Scripted;
  readonly #prefix: string;
  readonly #owned: boolean;
  readonly #adapters = new Map<string, RedisModelAdapter>();

  /** @param options - the Redis client or URL, and the key prefix. */
  constructor(options: RedisStoreOptions) {
    const { client, keyPrefix = 'mop:', commandTimeoutMs = 2000 } = options;
    this.#owned = typeof client === 'string';
    this.#redis = defineScripts(
      typeof client === 'string' ? new Redis(client, { commandTimeout: commandTimeoutMs }) : client,
    );
    this.#prefix = keyPrefix;
  }

  /** oidc-provider's adapter for `model`, on Redis. */
  adapter(model: string): Adapter {
    let adapter = this.#adapters.get(model);
    if (!adapter) {
      adapter = new RedisModelAdapter(this.#redis, model, this.#prefix);
      this.#adapters.set(model, adapter);
    }
    return adapter;
  }

  /** Atomically takes one use of `key` (a Lua script on one key). */
  async takeUse(key: string, maxUses: number, ttlSeconds: number): Promise<boolean> {
    const taken = await this.#redis.mopTakeUse(
      `${this.#prefix}use:{${key}}`,
      String(maxUses),
      String(Math.ceil(ttlSeconds * 1000)),
    );
    return taken === 1;
  }

  /** Gives back one use of `key`. */
  async returnUse(key: string): Promise<void> {
    await this.#redis.mopReturnUse(`${this.#prefix}use:{${key}}`);
  }

  /** Adds `member` to the index `index`; see {@link Store.addToIndex}. */
  async addToIndex(index: string, member: string, ttlSeconds: number | undefined): Promise<void> {
    await this.#redis.mopIndexAdd(
      `${this.#prefix}index:{${index}}`,
      member,
      expiryScore(ttlSeconds),
      String(Date.now()),
    );
  }

  /** The live members of the index `index`. */
  async readIndex(index: string): Promise<string[]> {
    return this.#redis.zrangebyscore(`${this.#prefix}index:{${index}}`, `(${Date.now()}`, '+inf');
  }

  /** Removes the index `index`. */
  async deleteIndex(index: string): Promise<void> {
    await this.#redis.del(`${this.#prefix}index:{${index}}`);
  }

  /** Closes the connection if the store opened it (from a URL); a client passed in stays open. */
  async close(): Promise<void> {
    if (this.#owned && this.#redis.status !== 'end') await this.#redis.quit();
  }
}
