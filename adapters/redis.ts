/**
 * The Redis store (ioredis, an optional peer dependency): every server process sharing one Redis,
 * standalone or Cluster.
 *
 * @packageDocumentation
 * @module mobile-oidc-provider/adapters/redis
 */
// The Redis store. Key layout (P = `keyPrefix`, `mop:` by default):
//
//   P<model>:{<id>}             STRING  the payload JSON exactly as written. Expires after
//                                       `expiresIn`.
//   P<model>:consumed:{<id>}    STRING  epoch seconds the record was consumed at (consume, or an
//                                       upsert of a payload with `consumed`). Outlives its record.
//                                       A revoked record (or a consumed one destroyed) leaves it as
//                                       a tombstone until the record would have expired, so a
//                                       consume that read the record earlier still fails.
//   P<model>:uid:{<uid>}        STRING  → id (Session). Same TTL as its record.
//   P<model>:userCode:{<code>}  STRING  → id (DeviceCode). Same TTL as its record.
//   Pgrant:{<grantId>}          ZSET    members `<model>:<id>`, score = the member's expiry in ms
//                                       (+inf = never). Lives as long as its longest-lived member.
//   Puse:{<key>}                STRING  use count of a limited-use item (takeUse/returnUse).
//   Pcounter:{<key>}            STRING  a counter that only rises (raiseCounter).
//   Pclaim:{<key>}              STRING  the claimant holding a claimed name (claim, replaceClaim).
//   Pindex:{<name>}             ZSET    the library's indexes (addToIndex), scored like Pgrant.
//
// Every command and script touches keys of one hash slot only, so the store works unchanged on
// Redis Cluster: the `{…}` hash tag makes the id (not the prefix or the model) pick the slot, so a
// record and its consumed marker share one, and records spread over the cluster. No KEYS or SCAN.
// The hot path is plain commands (a find is one MGET, a consume one SET NX, a write one SET, an
// index write four); Lua runs only where a decision needs a read first (a consume without a
// prior find, a destroy, a revocation, use counts). Index scores are the writing process's clock; members are pruned only
// `clockToleranceSeconds` after they expire, so processes whose clocks disagree by less than that
// never prune a live member. Secondary index entries are never trusted on their own:
// findByUid/findByUserCode re-check the record's payload, and revokeByGrantId re-checks its
// grantId, so a stale entry (from a record rewritten, destroyed or expired) never reaches the
// wrong record. Stale entries expire with their TTL, and every index write prunes expired members.
//
// Records written by 0.1 (a HASH with `payload` and `consumed` fields at P<model>:{<id>}) are
// still read, consumed, destroyed and revoked; the next write of the record replaces the hash.

import { type Cluster, Redis } from 'ioredis';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import type { Logger } from '../lib/core/logger.js';
import { RateLimiters } from '../lib/storage/rate-limit.js';
import {
  AlreadyConsumedError,
  type RateDecision,
  type RateLimitWindow,
  type Store,
} from '../lib/storage/store.js';
import { describeRedis } from './redis-describe.js';
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
   * How far apart, in seconds, the clocks of the server processes sharing this Redis may be.
   * Index members (a grant's tokens, a client's grants) are pruned only this long after they
   * expire, and a consumed marker outlives its record by this much, so no disagreement up to
   * this bound loses a live token from its grant's index or lets a consumed one be used again.
   *
   * @default 60
   */
  clockToleranceSeconds?: number;
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

// How long an index holding a member that never expires lives: for ever, in practice. A finite
// TTL lets one `PEXPIRE … NX` / `PEXPIRE … GT` pair keep every index key expiring.
const NEVER_MS = 100 * 365 * 24 * 3600 * 1000;

// The payload of a record written by 0.1 as a hash, or false: read only after a MGET found no
// string (a miss, or such a hash).
const LEGACY_FIND = `
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then return false end
return redis.call('HMGET', KEYS[1], 'payload', 'consumed')`;

// Marks a record consumed unless it is, for a caller that has not read the record's lifetime:
// the marker lives as long as the record (plus ARGV[2] ms). A missing record stays missing; a
// tombstone (a revoked record's marker) counts as consumed. KEYS: record, marker. ARGV: epoch
// seconds, extra ms. Returns 0 = missing, 1 = consumed now, 2 = already consumed.
const CONSUME = `
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -2 then
  if redis.call('EXISTS', KEYS[2]) == 1 then return 2 end
  return 0
end
if ttl == -1 then ttl = ${NEVER_MS} else ttl = ttl + tonumber(ARGV[2]) end
if redis.call('TYPE', KEYS[1]).ok == 'hash' and redis.call('HEXISTS', KEYS[1], 'consumed') == 1 then
  return 2
end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ttl) then return 1 end
return 2`;

// The payload of a record, whether a string or a 0.1 hash; false when there is none.
const READ_PAYLOAD = `
local function payload(key)
  if redis.call('TYPE', key).ok == 'hash' then return redis.call('HGET', key, 'payload') end
  return redis.call('GET', key)
end`;

// Replaces an existing record by a tombstone: its consumed marker (the mark it has, else the
// epoch seconds given) for the record's remaining lifetime plus the extra ms, at least 1 ms.
// KEYS: record, marker.
const BURY = `
local function bury(stamp, extraMs)
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl < 0 then ttl = ${NEVER_MS} else ttl = math.max(1, ttl + tonumber(extraMs)) end
  local consumed = redis.call('GET', KEYS[2])
  if not consumed and redis.call('TYPE', KEYS[1]).ok == 'hash' then
    consumed = redis.call('HGET', KEYS[1], 'consumed')
  end
  redis.call('SET', KEYS[2], consumed or stamp, 'PX', ttl)
  redis.call('DEL', KEYS[1])
end`;

// Deletes a record, returning its payload (nil when there was none), so its lookups can go too.
// A consumed record leaves its marker as a tombstone (a reused refresh token is destroyed while
// a request that read it earlier may still consume it); an unconsumed one goes with no trace. A
// missing record's marker stays: it may be a revocation's tombstone. KEYS: record, marker.
// ARGV: epoch seconds, extra ms.
const DESTROY = `${READ_PAYLOAD}${BURY}
local p = payload(KEYS[1])
if not p then return false end
if redis.call('EXISTS', KEYS[2]) == 1
  or (redis.call('TYPE', KEYS[1]).ok == 'hash' and redis.call('HEXISTS', KEYS[1], 'consumed') == 1) then
  bury(ARGV[1], ARGV[2])
else
  redis.call('DEL', KEYS[1], KEYS[2])
end
return p`;

// Deletes a record only if it still belongs to the grant: it may have been rewritten with another
// grant (or none) since it was indexed. A payload that can't be decoded is deleted (revocation
// fails safe). The record leaves a tombstone, so a request that read it before the revocation
// can't consume it after. Returns the deleted payload, or nil. KEYS: record, marker. ARGV:
// grantId, epoch seconds, extra ms.
const DELETE_IF_GRANT = `${READ_PAYLOAD}${BURY}
local p = payload(KEYS[1])
if not p then return false end
local ok, record = pcall(cjson.decode, p)
if ok and type(record) == 'table' and record.grantId ~= ARGV[1] then return false end
bury(ARGV[2], ARGV[3])
return p`;

// Deletes a uid/userCode lookup only if it still points at the id: another record may have taken
// the uid since. ARGV: id.
const DELETE_IF_POINTS_AT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1`;

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

type Client = Redis | Cluster;

/** The client with the store's scripts defined on it (`defineCommand`). */
type Scripted = Client & {
  mopLegacyFind(key: string): Promise<[string | null, string | null] | null>;
  mopConsume(key: string, marker: string, now: string, extraMs: string): Promise<number>;
  mopDestroy(key: string, marker: string, now: string, extraMs: string): Promise<string | null>;
  mopDeleteIfGrant(
    key: string,
    marker: string,
    grantId: string,
    now: string,
    extraMs: string,
  ): Promise<string | null>;
  mopDeleteIfPointsAt(key: string, id: string): Promise<number>;
  mopTakeUse(key: string, maxUses: string, ttlMs: string): Promise<number>;
  mopReturnUse(key: string): Promise<number>;
  mopRaiseCounter(key: string, value: string, ttlMs: string): Promise<number>;
};

const SCRIPTS: Record<string, { lua: string; keys: number }> = {
  mopLegacyFind: { lua: LEGACY_FIND, keys: 1 },
  mopConsume: { lua: CONSUME, keys: 2 },
  mopDestroy: { lua: DESTROY, keys: 2 },
  mopDeleteIfGrant: { lua: DELETE_IF_GRANT, keys: 2 },
  mopDeleteIfPointsAt: { lua: DELETE_IF_POINTS_AT, keys: 1 },
  mopTakeUse: { lua: TAKE_USE, keys: 1 },
  mopReturnUse: { lua: RETURN_USE, keys: 1 },
  mopRaiseCounter: { lua: RAISE_COUNTER, keys: 1 },
};

/**
 * Defines the scripts on the client, once per client. ioredis sends them with EVALSHA and falls
 * back to EVAL on NOSCRIPT (after a Redis restart or failover, and per node on Cluster).
 */
function defineScripts(client: Client): Scripted {
  const scripted = client as Scripted;
  for (const [name, { lua, keys }] of Object.entries(SCRIPTS)) {
    if (!(name in scripted)) client.defineCommand(name, { numberOfKeys: keys, lua });
  }
  return scripted;
}

/** A lifetime in seconds as a TTL in ms; `undefined` for "never expires". */
const ttlMs = (seconds: number | undefined): number | undefined =>
  typeof seconds === 'number' ? Math.max(1, Math.round(seconds * 1000)) : undefined;

/**
 * Writes to the expiring sorted sets, once per set however many members the same tick adds to
 * it: a refresh's new refresh token and access token share one grant-index write, which also
 * drops the refresh token they replace.
 */
class IndexWriter {
  readonly #redis: Scripted;
  readonly #toleranceMs: number;
  readonly #pending = new Map<string, IndexBatch>();
  // Members to drop from a set with its next write, when one comes in the same tick.
  readonly #drops = new Map<string, Set<string>>();

  constructor(redis: Scripted, toleranceMs: number) {
    this.#redis = redis;
    this.#toleranceMs = toleranceMs;
  }

  /** Adds `member`, expiring in `ttl` ms (`undefined` = never), to the set `key`. */
  add(key: string, member: string, ttl: number | undefined): Promise<unknown> {
    const expiry = ttl === undefined ? Number.POSITIVE_INFINITY : Date.now() + ttl;
    let batch = this.#pending.get(key);
    if (!batch) {
      const created: IndexBatch = { members: new Map(), keyTtl: 0, done: Promise.resolve() };
      // Sent once this tick's callers have added theirs (before ioredis flushes its pipeline).
      created.done = Promise.resolve().then(() => {
        this.#pending.delete(key);
        return this.#write(key, created);
      });
      this.#pending.set(key, created);
      batch = created;
    }
    batch.members.set(member, Math.max(batch.members.get(member) ?? 0, expiry));
    batch.keyTtl = Math.max(batch.keyTtl, ttl ?? NEVER_MS);
    return batch.done;
  }

  /**
   * Drops `member` from the set `key` with a write to it in this same tick, if there is one (a
   * rotation's consume goes with its successor's write); otherwise it stays until it expires.
   * Only for members whose record was consumed: the set still prunes them by their expiry.
   */
  dropWithNextWrite(key: string, member: string): void {
    let drops = this.#drops.get(key);
    if (!drops) {
      const created = new Set<string>();
      this.#drops.set(key, created);
      drops = created;
      // Forgotten after this tick whether or not a write took it.
      queueMicrotask(() => queueMicrotask(() => this.#drops.delete(key)));
    }
    drops.add(member);
  }

  /**
   * Plain commands, pipelined in one write, no script: a member's expiry only moves later
   * (ZADD GT), members of consumed records go, members expired before the clock tolerance are
   * pruned, and the key lives at least `keyTtl` ms more (PEXPIRE GT raises a TTL, PEXPIRE NX
   * gives a new key one). Were the connection lost between them, the next write to the set
   * repairs its TTL; no member is lost either way.
   */
  #write(key: string, batch: IndexBatch): Promise<unknown> {
    const redis = this.#redis;
    const drops = [...(this.#drops.get(key) ?? [])].filter((m) => !batch.members.has(m));
    this.#drops.delete(key);
    const pairs: string[] = [];
    for (const [member, expiry] of batch.members) {
      pairs.push(Number.isFinite(expiry) ? String(expiry) : 'inf', member);
    }
    const keyTtl = String(batch.keyTtl);
    return Promise.all([
      redis.zadd(key, 'GT', ...pairs),
      ...(drops.length > 0 ? [redis.zrem(key, ...drops)] : []),
      redis.zremrangebyscore(key, '-inf', `(${Date.now() - this.#toleranceMs}`),
      redis.pexpire(key, keyTtl, 'GT'),
      redis.pexpire(key, keyTtl, 'NX'),
    ]);
  }

  /** The members of `key` that have not expired (allowing for the clock tolerance). */
  read(key: string): Promise<string[]> {
    return this.#redis.zrangebyscore(key, `(${Date.now() - this.#toleranceMs}`, '+inf');
  }
}

/** Members added to one set in one tick, written together. */
interface IndexBatch {
  members: Map<string, number>;
  keyTtl: number;
  done: Promise<unknown>;
}

type LookupKind = 'uid' | 'userCode';
const LOOKUP_KINDS: readonly LookupKind[] = ['uid', 'userCode'];

/** What a model adapter shares with its store. */
interface Shared {
  redis: Scripted;
  prefix: string;
  indexes: IndexWriter;
  toleranceMs: number;
}

/** oidc-provider's adapter for one model, on Redis. */
class RedisModelAdapter implements Adapter {
  readonly #shared: Shared;
  readonly #model: string;
  // Expiry (epoch ms) and grant of records this process just found, so that their consume can
  // give the consumed marker a lifetime without reading the record's TTL first, and drop the
  // record from its grant's index.
  readonly #found = new Map<string, { expiry: number; grantId: unknown }>();

  constructor(shared: Shared, model: string) {
    this.#shared = shared;
    this.#model = model;
  }

  /**
   * One round trip: the record, its lookups and its grant-index entry are sent together. A
   * payload carrying `consumed` marks the record consumed; one without leaves an existing mark
   * (consumption is one-way).
   */
  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const { redis, indexes, prefix } = this.#shared;
    const ttl = ttlMs(expiresIn);
    const setArgs = (key: string, value: string) =>
      ttl === undefined ? redis.set(key, value) : redis.set(key, value, 'PX', ttl);
    const writes: Promise<unknown>[] = [setArgs(this.#key(id), JSON.stringify(payload))];
    if (payload.consumed) writes.push(setArgs(this.#markerKey(id), String(payload.consumed)));
    for (const kind of LOOKUP_KINDS) {
      const value = payload[kind];
      if (typeof value === 'string') writes.push(setArgs(this.#lookupKey(kind, value), id));
    }
    if (typeof payload.grantId === 'string') {
      writes.push(indexes.add(grantKey(prefix, payload.grantId), this.#member(id), ttl));
    }
    // A failed index write fails the upsert, so oidc-provider never hands out a token that a
    // revocation could miss.
    await Promise.all(writes);
  }

  /** One round trip (one MGET); a second only for a miss, to read a record written by 0.1. */
  async find(id: string): Promise<AdapterPayload | undefined> {
    const { redis } = this.#shared;
    const found = await redis.mget(this.#key(id), this.#markerKey(id));
    let payload = found[0] ?? null;
    let consumed = found[1] ?? null;
    if (payload === null) {
      const legacy = await redis.mopLegacyFind(this.#key(id));
      if (!legacy?.[0]) return undefined;
      payload = legacy[0];
      consumed ??= legacy[1];
    }
    const record = JSON.parse(payload) as AdapterPayload;
    if (consumed && record.consumed === undefined) record.consumed = Number(consumed);
    if (typeof record.exp === 'number') this.#remember(id, record.exp * 1000, record.grantId);
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

  /**
   * One round trip; atomic, so of concurrent consumes exactly one succeeds. After a `find` in
   * this process (as oidc-provider always does first) it is one `SET … NX` of the marker, which
   * then lives as long as the record plus the clock tolerance; otherwise a script reads the
   * record's TTL first. A consumed record leaves its grant's index with the next write to that
   * index in the same tick (a rotation's successor): the index of a long-lived grant holds its
   * live tokens, not every refresh token it ever rotated. A consumed record is unusable, and
   * once its grant is revoked no token of it can be used (oidc-provider checks the grant), so it
   * may wait for its expiry instead of going with the revocation.
   */
  async consume(id: string): Promise<void> {
    const { redis, toleranceMs, indexes, prefix } = this.#shared;
    const now = Date.now();
    const found = this.#found.get(id);
    this.#found.delete(id);
    const stamp = String(Math.floor(now / 1000));
    const expiry = found?.expiry;
    if (expiry !== undefined && expiry > now) {
      if (typeof found?.grantId === 'string') {
        indexes.dropWithNextWrite(grantKey(prefix, found.grantId), this.#member(id));
      }
      const set = await redis.set(
        this.#markerKey(id),
        stamp,
        'PX',
        expiry - now + toleranceMs,
        'NX',
      );
      if (set === null) throw new AlreadyConsumedError();
      return;
    }
    const result = await redis.mopConsume(
      this.#key(id),
      this.#markerKey(id),
      stamp,
      String(toleranceMs),
    );
    if (result === 2) throw new AlreadyConsumedError();
  }

  /**
   * Two round trips: the record (returning its payload; a consumed one leaves its marker as a
   * tombstone), then its lookups.
   */
  async destroy(id: string): Promise<void> {
    const { redis, toleranceMs } = this.#shared;
    const deleted = await redis.mopDestroy(
      this.#key(id),
      this.#markerKey(id),
      epochSeconds(),
      String(toleranceMs),
    );
    if (deleted) await Promise.all(this.#dropLookups(id, deleted));
  }

  /**
   * Three round trips however many records: read the grant index; delete this model's records
   * that still belong to the grant, each leaving its consumed marker as a tombstone until it would
   * have expired (a request that read one before cannot consume it after); drop their lookups and
   * their index members. Members of other models stay.
   */
  async revokeByGrantId(grantId: string): Promise<void> {
    const { redis, prefix, toleranceMs } = this.#shared;
    const key = grantKey(prefix, grantId);
    const memberPrefix = this.#member('');
    const mine = (await redis.zrange(key, 0, '-1')).filter((m) => m.startsWith(memberPrefix));
    if (mine.length === 0) return;
    const ids = mine.map((member) => member.slice(memberPrefix.length));
    const [stamp, extraMs] = [epochSeconds(), String(toleranceMs)];
    const deleted = await Promise.all(
      ids.map((id) =>
        redis.mopDeleteIfGrant(this.#key(id), this.#markerKey(id), grantId, stamp, extraMs),
      ),
    );
    // Members go only once their records are gone: a failed revocation can be retried.
    await Promise.all([
      redis.zrem(key, ...mine),
      ...ids.flatMap((id, i) => {
        const payload = deleted[i];
        return payload ? this.#dropLookups(id, payload) : [];
      }),
    ]);
  }

  #remember(id: string, expiry: number, grantId: unknown): void {
    // Bounded: a find without its consume (most finds) must not grow the map.
    if (this.#found.size >= 10_000) this.#found.clear();
    this.#found.set(id, { expiry, grantId });
  }

  #key(id: string): string {
    return `${this.#shared.prefix}${this.#model}:{${id}}`;
  }

  #markerKey(id: string): string {
    return `${this.#shared.prefix}${this.#model}:consumed:{${id}}`;
  }

  #lookupKey(kind: LookupKind, value: string): string {
    return `${this.#shared.prefix}${this.#model}:${kind}:{${value}}`;
  }

  #member(id: string): string {
    return `${this.#model}:${id}`;
  }

  async #findBy(kind: LookupKind, value: string): Promise<AdapterPayload | undefined> {
    const id = await this.#shared.redis.get(this.#lookupKey(kind, value));
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
        ? [this.#shared.redis.mopDeleteIfPointsAt(this.#lookupKey(kind, value), id)]
        : [];
    });
  }
}

const grantKey = (prefix: string, grantId: string) => `${prefix}grant:{${grantId}}`;

/** Now in epoch seconds, as a consumed marker holds it. */
const epochSeconds = () => String(Math.floor(Date.now() / 1000));

/**
 * The production {@link Store}: everything in Redis, shared by any number of server processes.
 *
 * Works on standalone Redis 7.0 or later (or Valkey), Sentinel and Cluster: every command and
 * script touches keys of one hash slot, and no command scans the keyspace. Every record written
 * with an `expiresIn` expires in Redis after that long, with all its index entries; `consume`
 * (`SET … NX`), `claim` and `takeUse` are atomic. Payloads are stored as the JSON oidc-provider
 * gave, never re-encoded.
 *
 * Round trips: `upsert`, `find`, `consume`, `claim`, `replaceClaim`, `takeUse`, `returnUse`, `addToIndex`,
 * `readIndex`, `deleteIndex` one each; `findByUid`, `findByUserCode`, `destroy` two;
 * `revokeByGrantId` three. Commands: a find is one MGET, a consume one SET, an upsert one SET per
 * key plus four index commands per grant (ZADD, ZREMRANGEBYSCORE and two PEXPIRE), shared by
 * every record of that grant written in the same tick.
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
  readonly #indexes: IndexWriter;
  readonly #toleranceMs: number;
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
   * @param options - the Redis client or URL, the key prefix, the command timeout and the
   *   clock tolerance.
   */
  constructor(options: RedisStoreOptions) {
    const {
      client,
      keyPrefix = 'mop:',
      commandTimeoutMs = 2000,
      clockToleranceSeconds = 60,
      logger,
    } = options;
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
    this.#toleranceMs = Math.max(0, clockToleranceSeconds) * 1000;
    this.#indexes = new IndexWriter(this.#redis, this.#toleranceMs);
  }

  /** oidc-provider's adapter for `model`; the same object every time for the same name. */
  adapter(model: string): Adapter {
    let adapter = this.#adapters.get(model);
    if (!adapter) {
      const shared: Shared = {
        redis: this.#redis,
        prefix: this.#prefix,
        indexes: this.#indexes,
        toleranceMs: this.#toleranceMs,
      };
      adapter = new RedisModelAdapter(shared, model);
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
      String(ttlMs(ttlSeconds)),
    );
    return taken === 1;
  }

  /** Raises the counter `key` to `value` if that is greater: one Lua script, atomic. */
  async raiseCounter(key: string, value: number, ttlSeconds: number): Promise<boolean> {
    const raised = await this.#redis.mopRaiseCounter(
      `${this.#prefix}counter:{${key}}`,
      String(value),
      String(ttlMs(ttlSeconds)),
    );
    return raised === 1;
  }

  /**
   * Claims `key` for `claimant` unless someone holds it: one `SET … NX`, atomic; a second command
   * (GET) only when the name was already held, to say by whom.
   */
  async claim(key: string, claimant: string, ttlSeconds: number): Promise<string> {
    const claimKey = this.#claimKey(key);
    const ttl = ttlMs(ttlSeconds) ?? NEVER_MS;
    if ((await this.#redis.set(claimKey, claimant, 'PX', ttl, 'NX')) !== null) return claimant;
    // Held: by this claimant (claiming again is idempotent) or another. A claim that expired
    // between the two commands is claimed afresh.
    return (await this.#redis.get(claimKey)) ?? this.claim(key, claimant, ttlSeconds);
  }

  /** Who holds the claim `key`: one GET. */
  async claimHolder(key: string): Promise<string | undefined> {
    return (await this.#redis.get(this.#claimKey(key))) ?? undefined;
  }

  /** Makes `claimant` hold `key`, returning who held it: one `SET … GET`, atomic. */
  async replaceClaim(
    key: string,
    claimant: string,
    ttlSeconds: number,
  ): Promise<string | undefined> {
    const ttl = ttlMs(ttlSeconds) ?? NEVER_MS;
    return (await this.#redis.set(this.#claimKey(key), claimant, 'PX', ttl, 'GET')) ?? undefined;
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
    await this.#indexes.add(this.#indexKey(index), member, ttlMs(ttlSeconds));
  }

  /** The unexpired members of the set `index`; empty when there is none. */
  readIndex(index: string): Promise<string[]> {
    return this.#indexes.read(this.#indexKey(index));
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
   * Sends `PING`: to every master a Cluster knows (each holds a share of the records), else to
   * the one server. Waits as any command does (ioredis queues it while reconnecting, and
   * `commandTimeoutMs` bounds it on a connection the store opened); readiness bounds the wait.
   */
  async ping(): Promise<void> {
    const redis = this.#redis;
    const masters = redis.isCluster ? (redis as Cluster).nodes('master') : [];
    if (masters.length > 0) await Promise.all(masters.map((node) => node.ping()));
    else await redis.ping();
  }

  /**
   * Where the store keeps data, for the start-up log: `Redis host:port`, `Redis Sentinel …` or
   * `Redis Cluster host:port, …`, never the password.
   */
  describe(): string {
    return describeRedis(this.#redis);
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
