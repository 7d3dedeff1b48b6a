/**
 * The Redis store (ioredis, an optional peer dependency): every server process sharing one Redis,
 * standalone or Cluster.
 *
 * @packageDocumentation
 * @module mobile-oidc-provider/adapters/redis
 */
// The Redis store. Key layout (P = `keyPrefix`, `mop:` by default):
//
//   P<model>:{<id>}             HASH    `payload` = the JSON exactly as written; `consumed` = epoch
//                                       seconds, set by consume. Expires after `expiresIn`.
//   P<model>:uid:{<uid>}        STRING  → id (Session). Same TTL as its record.
//   P<model>:userCode:{<code>}  STRING  → id (DeviceCode). Same TTL as its record.
//   Pgrant:{<grantId>}          ZSET    members `<model>:<id>`, score = the member's expiry in ms
//                                       (+inf = never). Expires with its longest-lived member.
//   Puse:{<key>}                STRING  use count of a limited-use item (takeUse/returnUse).
//   Pcounter:{<key>}            STRING  a counter that only rises (raiseCounter).
//   Pclaim:{<key>}              STRING  the claimant holding a claimed name (claim).
//   Pindex:{<name>}             ZSET    the library's indexes (addToIndex), scored like Pgrant.
//
// Every script and every command touches exactly one key, so the store works unchanged on Redis
// Cluster; the `{…}` hash tag makes the id (not the prefix or the model) pick the slot, which
// spreads keys over the cluster. No KEYS or SCAN anywhere. All clocks are Redis's own (`TIME` in
// scripts, `PEXPIRE`/`PEXPIREAT` for expiry), so skewed server-process clocks do not matter.
// Secondary index entries are never trusted on their own: findByUid/findByUserCode re-check the
// record's payload, and revokeByGrantId re-checks its grantId, so a stale entry (from a record
// rewritten, destroyed or expired) never reaches the wrong record. Stale entries expire with their
// TTL, and a grant index drops expired members on every write to it, so nothing grows unbounded.

import { type Cluster, Redis } from 'ioredis';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import type { Logger } from '../lib/logger.js';
import { RateLimiters } from '../lib/storage/rate-limit.js';
import {
  AlreadyConsumedError,
  type RateDecision,
  type RateLimitWindow,
  type Store,
} from '../lib/storage/store.js';
import { RedisConnectionLog } from './redis-log.js';

/**
 * Options for {@link RedisStore}.
 *
 * @group Storage
 */
export interface RedisStoreOptions {
  /**
   * The Redis to use: an ioredis `Redis` (standalone or Sentinel) or `Cluster` instance, which
   * stays yours to close, or a `redis://` / `rediss://` URL, for which the store opens a
   * connection of its own and closes it in {@link RedisStore.close}.
   *
   * Pass a client without ioredis's own `keyPrefix` option: the store prefixes keys itself
   * ({@link RedisStoreOptions.keyPrefix}). A connection the store opens from a URL pipelines
   * concurrent commands (ioredis `enableAutoPipelining`); turn that on for a client you pass
   * in, too.
   */
  client: Redis | Cluster | string;
  /**
   * Prefix of every key the store writes, so several deployments can share one Redis.
   *
   * @default 'mop:'
   */
  keyPrefix?: string;
  /**
   * For a connection the store opens from a URL: how long, in milliseconds, a command may take
   * before it fails (ioredis `commandTimeout`), so a hung or unreachable Redis fails requests
   * quickly instead of hanging them. Ignored when {@link RedisStoreOptions.client} is a client.
   *
   * @default 2000
   */
  commandTimeoutMs?: number;
  /**
   * Where the store logs its connection's health (pass the logger you give `createAuthServer`).
   * The store listens to the client's `error` event, so ioredis never prints "Unhandled error
   * event" lines, and logs a lost connection once at `warn` (the error's name, message and code)
   * and its return at `info`, however often ioredis retries in between; a still-failing
   * connection is logged again at most once a minute. The listeners are removed again by
   * {@link RedisStore.close} on a client passed in.
   *
   * @default `consoleLogger` (warnings on the console)
   */
  logger?: Logger;
}

// Redis's clock in ms; every script that needs "now" starts with it.
const NOW_MS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

// Replaces a record. ARGV: payload JSON (stored verbatim, never decoded and re-encoded here), TTL
// in ms ('' = never expires), consumed marker ('' = not consumed).
const UPSERT = `
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'payload', ARGV[1])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'consumed', ARGV[3]) end
if ARGV[2] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1`;

// Marks a record consumed unless it already is; HSET keeps the key's TTL. A missing record stays
// missing. Returns 0 = missing, 1 = consumed now, 2 = already consumed.
const CONSUME = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local t = redis.call('TIME')
if redis.call('HSETNX', KEYS[1], 'consumed', t[1]) == 1 then return 1 end
return 2`;

// Deletes a record and returns its payload (nil when there was none), so its lookups can go too.
const DESTROY = `
local payload = redis.call('HGET', KEYS[1], 'payload')
redis.call('DEL', KEYS[1])
return payload`;

// Deletes a record only if it still belongs to the grant: it may have been rewritten with another
// grant (or none) since it was indexed. A payload that can't be decoded is deleted (revocation
// fails safe). Returns the deleted payload, or nil. ARGV: grantId.
const DELETE_IF_GRANT = `
local payload = redis.call('HGET', KEYS[1], 'payload')
if not payload then return false end
local ok, record = pcall(cjson.decode, payload)
if ok and type(record) == 'table' and record.grantId ~= ARGV[1] then return false end
redis.call('DEL', KEYS[1])
return payload`;

// Deletes a uid/userCode lookup only if it still points at the id: another record may have taken
// the uid since. ARGV: id.
const DELETE_IF_POINTS_AT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1`;

// Adds a member to an expiring sorted set (a grant index or a library index). The member's expiry
// is the later of its old and new one; members expired by now are pruned; the key expires with
// its longest-lived member (never, if one never expires). ARGV: member, TTL ms ('' = never).
const INDEX_ADD = `${NOW_MS}
local score = 'inf'
if ARGV[2] ~= '' then score = now + tonumber(ARGV[2]) end
local old = redis.call('ZSCORE', KEYS[1], ARGV[1])
if old then
  if old == 'inf' or old == '+inf' then score = 'inf'
  elseif score ~= 'inf' and tonumber(old) > score then score = tonumber(old) end
end
if score ~= 'inf' then score = string.format('%.0f', score) end
redis.call('ZADD', KEYS[1], score, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now))
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if not top[2] then return 0 end
if top[2] == 'inf' or top[2] == '+inf' then redis.call('PERSIST', KEYS[1])
else redis.call('PEXPIREAT', KEYS[1], top[2]) end
return 1`;

// The members of an expiring sorted set that have not expired.
const INDEX_READ = `${NOW_MS}
return redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. string.format('%.0f', now), '+inf')`;

// Takes one use if fewer than the maximum are taken; the count then lives at least the TTL
// (never shortened). Returns 1 = taken, 0 = none left. ARGV: max uses, TTL ms.
const TAKE_USE = `
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used >= tonumber(ARGV[1]) then return 0 end
redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1`;

// Gives one use back, never below zero; DECR keeps the TTL. A missing count stays missing.
const RETURN_USE = `
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used > 0 then redis.call('DECR', KEYS[1]) end
return 1`;

// Raises a counter to ARGV[1] if that is greater (a missing counter is -1); the TTL is never
// shortened. Returns 1 = raised, 0 = it already held that much. ARGV: value, TTL ms.
const RAISE_COUNTER = `
local current = tonumber(redis.call('GET', KEYS[1]) or '-1')
if tonumber(ARGV[1]) <= current then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL')
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1`;

// Claims a name unless it is held; the claim's TTL is set once. Returns the holder. ARGV:
// claimant, TTL ms.
const CLAIM = `
local held = redis.call('GET', KEYS[1])
if held then return held end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return ARGV[1]`;

type Client = Redis | Cluster;

/** The client with the store's scripts defined on it (`defineCommand`). */
type Scripted = Client & {
  mopUpsert(key: string, payload: string, ttlMs: string, consumed: string): Promise<number>;
  mopConsume(key: string): Promise<number>;
  mopDestroy(key: string): Promise<string | null>;
  mopDeleteIfGrant(key: string, grantId: string): Promise<string | null>;
  mopDeleteIfPointsAt(key: string, id: string): Promise<number>;
  mopIndexAdd(key: string, member: string, ttlMs: string): Promise<number>;
  mopIndexRead(key: string): Promise<string[]>;
  mopTakeUse(key: string, maxUses: string, ttlMs: string): Promise<number>;
  mopReturnUse(key: string): Promise<number>;
  mopRaiseCounter(key: string, value: string, ttlMs: string): Promise<number>;
  mopClaim(key: string, claimant: string, ttlMs: string): Promise<string>;
};

const SCRIPTS: Record<string, string> = {
  mopUpsert: UPSERT,
  mopConsume: CONSUME,
  mopDestroy: DESTROY,
  mopDeleteIfGrant: DELETE_IF_GRANT,
  mopDeleteIfPointsAt: DELETE_IF_POINTS_AT,
  mopIndexAdd: INDEX_ADD,
  mopIndexRead: INDEX_READ,
  mopTakeUse: TAKE_USE,
  mopReturnUse: RETURN_USE,
  mopRaiseCounter: RAISE_COUNTER,
  mopClaim: CLAIM,
};

/**
 * Defines the scripts on the client, once per client. ioredis sends them with EVALSHA and falls
 * back to EVAL on NOSCRIPT (after a Redis restart or failover, and per node on Cluster).
 */
function defineScripts(client: Client): Scripted {
  const scripted = client as Scripted;
  for (const [name, lua] of Object.entries(SCRIPTS)) {
    if (!(name in scripted)) client.defineCommand(name, { numberOfKeys: 1, lua });
  }
  return scripted;
}

/** A lifetime in seconds as a TTL in ms for the scripts; '' for "never expires". */
const ttlMs = (seconds: number | undefined): string =>
  typeof seconds === 'number' ? String(Math.max(1, Math.round(seconds * 1000))) : '';

type LookupKind = 'uid' | 'userCode';
const LOOKUP_KINDS: readonly LookupKind[] = ['uid', 'userCode'];

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

  /** One round trip: the record script and every index write are sent together. */
  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const ttl = ttlMs(expiresIn);
    const consumed = payload.consumed ? String(payload.consumed) : '';
    const writes: Promise<unknown>[] = [
      this.#redis.mopUpsert(this.#key(id), JSON.stringify(payload), ttl, consumed),
    ];
    for (const kind of LOOKUP_KINDS) {
      const value = payload[kind];
      if (typeof value !== 'string') continue;
      const key = this.#lookupKey(kind, value);
      writes.push(ttl ? this.#redis.set(key, id, 'PX', ttl) : this.#redis.set(key, id));
    }
    if (typeof payload.grantId === 'string') {
      writes.push(
        this.#redis.mopIndexAdd(grantKey(this.#prefix, payload.grantId), this.#member(id), ttl),
      );
    }
    // A failed index write fails the upsert, so oidc-provider never hands out a token that a
    // revocation could miss.
    await Promise.all(writes);
  }

  /** One round trip. */
  async find(id: string): Promise<AdapterPayload | undefined> {
    const [payload, consumed] = await this.#redis.hmget(this.#key(id), 'payload', 'consumed');
    if (!payload) return undefined;
    const record = JSON.parse(payload) as AdapterPayload;
    if (consumed && record.consumed === undefined) record.consumed = Number(consumed);
    return record;
  }

  /** Two round trips: the lookup, then the record. */
  findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return this.#findBy('uid', uid);
  }

  /** Two round trips: the lookup, then the record. */
  findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return this.#findBy('userCode', userCode);
  }

  /** One round trip; atomic, so of concurrent consumes exactly one succeeds. */
  async consume(id: string): Promise<void> {
    if ((await this.#redis.mopConsume(this.#key(id))) === 2) throw new AlreadyConsumedError();
  }

  /** Two round trips: the record (returning its payload), then its uid/userCode lookups. */
  async destroy(id: string): Promise<void> {
    const deleted = await this.#redis.mopDestroy(this.#key(id));
    if (deleted) await Promise.all(this.#dropLookups(id, deleted));
  }

  /**
   * Three round trips however many records: read the grant index; delete this model's records
   * that still belong to the grant; drop their lookups and their index members. Members of other
   * models stay.
   */
  async revokeByGrantId(grantId: string): Promise<void> {
    const key = grantKey(this.#prefix, grantId);
    const memberPrefix = this.#member('');
    const mine = (await this.#redis.zrange(key, 0, '-1')).filter((m) => m.startsWith(memberPrefix));
    if (mine.length === 0) return;
    const ids = mine.map((member) => member.slice(memberPrefix.length));
    const deleted = await Promise.all(
      ids.map((id) => this.#redis.mopDeleteIfGrant(this.#key(id), grantId)),
    );
    // Members go only once their records are gone: a failed revocation can be retried.
    await Promise.all([
      this.#redis.zrem(key, ...mine),
      ...ids.flatMap((id, i) => {
        const payload = deleted[i];
        return payload ? this.#dropLookups(id, payload) : [];
      }),
    ]);
  }

  #key(id: string): string {
    return `${this.#prefix}${this.#model}:{${id}}`;
  }

  #lookupKey(kind: LookupKind, value: string): string {
    return `${this.#prefix}${this.#model}:${kind}:{${value}}`;
  }

  #member(id: string): string {
    return `${this.#model}:${id}`;
  }

  async #findBy(kind: LookupKind, value: string): Promise<AdapterPayload | undefined> {
    const id = await this.#redis.get(this.#lookupKey(kind, value));
    if (id === null) return undefined;
    const record = await this.find(id);
    // The lookup may outlive its record, or the record may have been rewritten with another
    // uid/userCode: only a record that still carries the value is a match.
    return record?.[kind] === value ? record : undefined;
  }

  /** Deletes the uid/userCode lookups of a deleted record, unless another record took them. */
  #dropLookups(id: string, payload: string): Promise<unknown>[] {
    let record: AdapterPayload;
    try {
      record = JSON.parse(payload) as AdapterPayload;
    } catch {
      return []; // not ours to clean; the lookups expire with their TTL and are re-checked on read
    }
    return LOOKUP_KINDS.flatMap((kind) => {
      const value = record[kind];
      return typeof value === 'string'
        ? [this.#redis.mopDeleteIfPointsAt(this.#lookupKey(kind, value), id)]
        : [];
    });
  }
}

const grantKey = (prefix: string, grantId: string) => `${prefix}grant:{${grantId}}`;

/**
 * The production {@link Store}: everything in Redis, shared by any number of server processes.
 *
 * Works on standalone Redis (5 or later), Sentinel and Cluster: every script touches exactly one
 * key, and no command scans the keyspace. Every record written with an `expiresIn` expires in
 * Redis after that long, with all its index entries; `consume` and `takeUse` are atomic Lua
 * scripts. Payloads are stored as the JSON oidc-provider gave, never re-encoded.
 *
 * Round trips: `upsert`, `find`, `consume`, `takeUse`, `returnUse`, `addToIndex`, `readIndex`,
 * `deleteIndex` one each; `findByUid`, `findByUserCode`, `destroy` two; `revokeByGrantId` three.
 *
 * @example
 * ```ts
 * import { RedisStore } from 'mobile-oidc-provider/adapters/redis';
 * const store = new RedisStore({ client: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' });
 * ```
 *
 * @group Storage
 */
export class RedisStore implements Store {
  readonly #redis: Scripted;
  readonly #prefix: string;
  readonly #owned: boolean;
  readonly #connectionLog: RedisConnectionLog;
  readonly #adapters = new Map<string, RedisModelAdapter>();
  readonly #rateLimiters = new RateLimiters(
    (limit) =>
      new RateLimiterRedis({
        storeClient: this.#redis,
        keyPrefix: `${this.#prefix}rate`,
        points: limit.points,
        duration: limit.duration,
      }),
  );

  /**
   * Uses the client given, or opens a connection to the URL given (without waiting for it: the
   * first commands are queued until it is ready).
   *
   * @param options - the Redis client or URL, the key prefix and the command timeout.
   */
  constructor(options: RedisStoreOptions) {
    const { client, keyPrefix = 'mop:', commandTimeoutMs = 2000, logger } = options;
    this.#owned = typeof client === 'string';
    // Concurrent requests' commands share one write (ioredis auto-pipelining): fewer socket
    // writes per operation under load, the same commands and order.
    const redis =
      typeof client === 'string'
        ? new Redis(client, { commandTimeout: commandTimeoutMs, enableAutoPipelining: true })
        : client;
    // Listening before anything else: a URL's connection is opened (and may fail) right away.
    this.#connectionLog = new RedisConnectionLog(redis, logger);
    this.#redis = defineScripts(redis);
    this.#prefix = keyPrefix;
  }

  /** oidc-provider's adapter for `model`; the same object every time for the same name. */
  adapter(model: string): Adapter {
    let adapter = this.#adapters.get(model);
    if (!adapter) {
      adapter = new RedisModelAdapter(this.#redis, model, this.#prefix);
      this.#adapters.set(model, adapter);
    }
    return adapter;
  }

  /**
   * Takes one use of `key` if fewer than `maxUses` are taken: one Lua script, atomic across every
   * process. The count then lives at least `ttlSeconds` more (an existing longer TTL stays).
   */
  async takeUse(key: string, maxUses: number, ttlSeconds: number): Promise<boolean> {
    const taken = await this.#redis.mopTakeUse(
      this.#useKey(key),
      String(maxUses),
      ttlMs(ttlSeconds),
    );
    return taken === 1;
  }

  /** Raises the counter `key` to `value` if that is greater: one Lua script, atomic. */
  async raiseCounter(key: string, value: number, ttlSeconds: number): Promise<boolean> {
    const raised = await this.#redis.mopRaiseCounter(
      `${this.#prefix}counter:{${key}}`,
      String(value),
      ttlMs(ttlSeconds),
    );
    return raised === 1;
  }

  /** Claims `key` for `claimant` unless someone holds it: one Lua script, atomic. */
  claim(key: string, claimant: string, ttlSeconds: number): Promise<string> {
    return this.#redis.mopClaim(this.#claimKey(key), claimant, ttlMs(ttlSeconds));
  }

  /** Who holds the claim `key`: one GET. */
  async claimHolder(key: string): Promise<string | undefined> {
    return (await this.#redis.get(this.#claimKey(key))) ?? undefined;
  }

  /** Gives back one use of `key`; the count never drops below zero and keeps its TTL. */
  async returnUse(key: string): Promise<void> {
    await this.#redis.mopReturnUse(this.#useKey(key));
  }

  /**
   * Adds `member` to the set `index`. A member's expiry only ever moves later, expired members
   * are pruned, and the set expires with its longest-lived member.
   */
  async addToIndex(index: string, member: string, ttlSeconds: number | undefined): Promise<void> {
    await this.#redis.mopIndexAdd(this.#indexKey(index), member, ttlMs(ttlSeconds));
  }

  /** The unexpired members of the set `index`; empty when there is none. */
  async readIndex(index: string): Promise<string[]> {
    return this.#redis.mopIndexRead(this.#indexKey(index));
  }

  /** Removes the set `index` and all its members. */
  async deleteIndex(index: string): Promise<void> {
    await this.#redis.del(this.#indexKey(index));
  }

  /** Removes `member` from the set `index`. */
  async removeFromIndex(index: string, member: string): Promise<void> {
    await this.#redis.zrem(this.#indexKey(index), member);
  }

  /**
   * Counts `points` attempts (one by default) against a rate limit with rate-limiter-flexible's
   * Redis limiter (one single-key script per attempt, so it holds across processes and on a
   * Cluster). With `points` `0` it only reads the key (GET + PTTL in one MULTI), writing nothing.
   */
  consumeRate(key: string, limit: RateLimitWindow, points = 1): Promise<RateDecision> {
    return this.#rateLimiters.consume(`{${key}}`, limit, points);
  }

  /**
   * Closes the connection if the store opened it from a URL (waiting for pending replies when it
   * is up); a client passed in stays open. Safe to call more than once.
   */
  async close(): Promise<void> {
    if (!this.#owned) this.#connectionLog.detach();
    if (!this.#owned || this.#redis.status === 'end') return;
    if (this.#redis.status === 'ready') {
      try {
        await this.#redis.quit();
        return;
      } catch {
        // fall through: drop the connection
      }
    }
    this.#redis.disconnect();
  }

  #useKey(key: string): string {
    return `${this.#prefix}use:{${key}}`;
  }

  #claimKey(key: string): string {
    return `${this.#prefix}claim:{${key}}`;
  }

  #indexKey(index: string): string {
    return `${this.#prefix}index:{${index}}`;
  }
}
