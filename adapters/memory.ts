import { types } from 'node:util';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { RateLimiters } from '../lib/storage/rate-limit.js';
import {
  AlreadyConsumedError,
  type RateDecision,
  type RateLimitWindow,
  type Store,
} from '../lib/storage/store.js';

/**
 * Options for {@link MemoryStore}.
 *
 * @group Storage
 */
export interface MemoryStoreOptions {
  /**
   * The clock, in milliseconds since the epoch. Tests inject one to move time without waiting.
   *
   * @default Date.now
   */
  now?: () => number;
  /**
   * How often, in milliseconds, expired records are swept out of memory. Reads never return an
   * expired record whatever this is; the sweep only frees the memory of records nobody reads.
   *
   * @default 60000
   */
  sweepIntervalMs?: number;
}

/**
 * One stored oidc-provider record: its payload as JSON would give it back (so it reads exactly as
 * from Redis), when it was consumed (epoch seconds), and `expiresAt` in ms, `Infinity` when it
 * never expires. Every find gets its own copy.
 */
interface StoredRecord {
  payload: JsonObject;
  /** The payload's keys whose values are objects or arrays: what a find must copy beyond the top. */
  nestedKeys: string[];
  consumed: number | undefined;
  expiresAt: number;
  /** The keys its index entries are under, to remove exactly those. */
  indexed: { uid?: string; userCode?: string; grantId?: string };
}

type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;
type JsonObject = { [key: string]: JsonValue };

const isContainer = (value: unknown): value is object =>
  typeof value === 'object' && value !== null;

/**
 * What `JSON.parse(JSON.stringify(value))` gives, built in one walk without the text in between
 * (a sixth of its time on a refresh's payloads): `undefined`, functions and symbols dropped
 * (`null` in arrays), non-finite numbers `null`, `-0` `0`, `toJSON` honoured, getters read once,
 * own enumerable keys only. Anything but plain objects and arrays goes through JSON itself, so a
 * record reads exactly as from Redis.
 *
 * @param key - the key `value` is under in its parent, which `toJSON` receives.
 * @param ancestors - the objects being copied around `value`: a cycle throws as in JSON.
 * @returns `undefined` where JSON leaves the value out.
 * @throws TypeError for a cycle or a BigInt, as JSON.stringify does.
 */
function jsonCopyOf(value: unknown, key: string, ancestors: object[]): JsonValue | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      // `+ 0` turns -0 into 0, which is what the text "0" parses back to.
      return Number.isFinite(value) ? value + 0 : null;
    case 'object':
      if (value === null) return null;
      if (hasToJSON(value) || !isPlainContainer(value)) return throughJson(value, key);
      if (ancestors.includes(value)) throw new TypeError('Converting circular structure to JSON');
      ancestors.push(value);
      try {
        return Array.isArray(value)
          ? jsonArrayCopyOf(value, ancestors)
          : jsonObjectCopyOf(value as Record<string, unknown>, ancestors);
      } finally {
        ancestors.pop();
      }
    case 'bigint':
    case 'function':
      // A BigInt throws unless it has a toJSON; a function is dropped unless it has one.
      return typeof value === 'bigint' || hasToJSON(value) ? throughJson(value, key) : undefined;
    default:
      return undefined;
  }
}

function jsonArrayCopyOf(array: unknown[], ancestors: object[]): JsonValue[] {
  const copy: JsonValue[] = [];
  for (let index = 0; index < array.length; index++) {
    copy.push(jsonCopyOf(array[index], String(index), ancestors) ?? null);
  }
  return copy;
}

function jsonObjectCopyOf(object: Record<string, unknown>, ancestors: object[]): JsonObject {
  const copy: JsonObject = {};
  for (const key of Object.keys(object)) {
    const item = jsonCopyOf(object[key], key, ancestors);
    if (item !== undefined) setOwn(copy, key, item);
  }
  return copy;
}

const hasToJSON = (value: object): boolean =>
  typeof (value as { toJSON?: unknown }).toJSON === 'function';

/** An array or an object of Object's (or no) prototype: what the walk copies by itself. */
function isPlainContainer(value: object): boolean {
  const prototype = Object.getPrototypeOf(value);
  if (Array.isArray(value)) return prototype === Array.prototype;
  // A boxed primitive with its prototype swapped still serialises as its primitive.
  return (prototype === Object.prototype || prototype === null) && !types.isBoxedPrimitive(value);
}

/** `value` (under `key`, for its toJSON) through a real JSON round trip. */
function throughJson(value: unknown, key: string): JsonValue | undefined {
  const text = JSON.stringify({ [key]: value });
  return (JSON.parse(text) as JsonObject)[key];
}

/** Sets `key` as an own property: assigning `__proto__` to an object would set its prototype. */
function setOwn(object: JsonObject, key: string, value: JsonValue): void {
  if (key === '__proto__') {
    Object.defineProperty(object, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    object[key] = value;
  }
}

/** The keys of `object` whose values are objects or arrays. */
const nestedKeysOf = (object: JsonObject): string[] =>
  Object.keys(object).filter((key) => isContainer(object[key]));

/**
 * A deep copy of a stored payload. Spread clones an object in one step and defines `__proto__`
 * as an own property; only the objects and arrays inside then need copies of their own.
 */
function payloadCopyOf(record: StoredRecord): JsonObject {
  const copy = { ...record.payload };
  // `copy` already owns every key, so assigning even `__proto__` replaces its own value.
  for (const key of record.nestedKeys) copy[key] = copyOf(copy[key] as JsonValue);
  return copy;
}

/** A deep copy of stored JSON data. */
function copyOf(value: JsonValue): JsonValue {
  if (!isContainer(value)) return value;
  if (Array.isArray(value)) {
    const copy = value.slice();
    for (let index = 0; index < copy.length; index++) {
      if (isContainer(copy[index])) copy[index] = copyOf(copy[index] as JsonValue);
    }
    return copy;
  }
  const copy = { ...value };
  for (const key of Object.keys(copy)) {
    if (isContainer(copy[key])) copy[key] = copyOf(copy[key] as JsonValue);
  }
  return copy;
}

/** The records of one model and the secondary indexes that point into them. */
interface ModelState {
  records: Map<string, StoredRecord>;
  byUid: Map<string, string>;
  byUserCode: Map<string, string>;
  byGrantId: Map<string, Set<string>>;
  /** Removed records' consumed marks (epoch seconds), kept until the record would have expired. */
  tombstones: Map<string, Tombstone>;
}

/** What a revoked (or consumed and destroyed) record leaves: its consume still fails. */
interface Tombstone {
  consumed: number;
  expiresAt: number;
}

/** A use counter of {@link Store.takeUse}. */
interface UseCounter {
  count: number;
  expiresAt: number;
}

const expiryFor = (now: number, seconds: number | undefined): number =>
  typeof seconds === 'number' ? now + seconds * 1000 : Number.POSITIVE_INFINITY;

/** The oidc-provider adapter for one model, over that model's {@link ModelState}. */
class MemoryModelAdapter implements Adapter {
  readonly #state: ModelState;
  readonly #now: () => number;

  constructor(state: ModelState, now: () => number) {
    this.#state = state;
    this.#now = now;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    // Copied before anything changes: a payload JSON refuses (a cycle) leaves the old record.
    const stored = jsonCopyOf(payload, '', []);
    if (!isContainer(stored) || Array.isArray(stored)) {
      throw new TypeError('a payload must be a JSON object');
    }
    // Consumption is one-way: rewriting a consumed record (from a copy read before it was
    // consumed, say) must not make it usable again.
    // A revoked record written back (a copy read before the revocation) stays consumed too.
    const consumedBefore = this.#live(id)?.consumed ?? this.#tombstone(id)?.consumed;
    // Drop the previous version's index entries first, so an old uid/userCode/grant can't reach it.
    this.#remove(id);
    this.#state.tombstones.delete(id);
    const { uid, userCode, grantId, consumed } = stored;
    this.#state.records.set(id, {
      payload: stored,
      nestedKeys: nestedKeysOf(stored),
      consumed: typeof consumed === 'number' ? consumed : consumedBefore,
      expiresAt: expiryFor(this.#now(), expiresIn),
      indexed: {
        ...(typeof uid === 'string' ? { uid } : {}),
        ...(typeof userCode === 'string' ? { userCode } : {}),
        ...(typeof grantId === 'string' ? { grantId } : {}),
      },
    });
    if (typeof uid === 'string') this.#state.byUid.set(uid, id);
    if (typeof userCode === 'string') this.#state.byUserCode.set(userCode, id);
    if (typeof grantId === 'string') {
      let ids = this.#state.byGrantId.get(grantId);
      if (!ids) {
        ids = new Set();
        this.#state.byGrantId.set(grantId, ids);
      }
      ids.add(id);
    }
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const record = this.#live(id);
    if (!record) return undefined;
    const payload = payloadCopyOf(record) as AdapterPayload;
    if (record.consumed !== undefined) payload.consumed = record.consumed;
    return payload;
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    const id = this.#state.byUid.get(uid);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    const id = this.#state.byUserCode.get(userCode);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id: string): Promise<void> {
    const record = this.#live(id);
    if (!record) {
      // A revoked record is spent: a request that read it before the revocation must not win.
      if (this.#tombstone(id)) throw new AlreadyConsumedError();
      // A missing or expired record stays missing: consuming must not bring it back.
      return;
    }
    if (record.consumed !== undefined) throw new AlreadyConsumedError();
    record.consumed = Math.floor(this.#now() / 1000);
  }

  /**
   * Removes the record. A consumed one stays consumed until it would have expired: oidc-provider
   * destroys a reused refresh token while a request that read it earlier may still consume it.
   */
  async destroy(id: string): Promise<void> {
    if (this.#live(id)?.consumed !== undefined) this.#bury(id);
    else this.#remove(id);
  }

  /** Removes the grant's records, each leaving a tombstone: none can be consumed any more. */
  async revokeByGrantId(grantId: string): Promise<void> {
    const ids = this.#state.byGrantId.get(grantId);
    if (!ids) return;
    // Copy first: #remove edits this very set while we walk it.
    for (const id of [...ids]) this.#bury(id);
    this.#state.byGrantId.delete(grantId);
  }

  /** Removes every record and tombstone expired at `now`, with their index entries. */
  sweep(now: number): void {
    for (const [id, record] of this.#state.records) {
      if (record.expiresAt <= now) this.#remove(id);
    }
    for (const [id, tombstone] of this.#state.tombstones) {
      if (tombstone.expiresAt <= now) this.#state.tombstones.delete(id);
    }
  }

  /** How many records this model holds, expired-but-unswept included. */
  get size(): number {
    return this.#state.records.size;
  }

  /** The record under `id` if it has not expired; an expired one is removed on the way. */
  #live(id: string): StoredRecord | undefined {
    const record = this.#state.records.get(id);
    if (!record) return undefined;
    if (record.expiresAt <= this.#now()) {
      this.#remove(id);
      return undefined;
    }
    return record;
  }

  /** The tombstone under `id` if it has not expired. */
  #tombstone(id: string): Tombstone | undefined {
    const tombstone = this.#state.tombstones.get(id);
    return tombstone && tombstone.expiresAt > this.#now() ? tombstone : undefined;
  }

  /** Removes an unexpired record, leaving its consumed mark (now, if it had none) as a tombstone. */
  #bury(id: string): void {
    const record = this.#live(id);
    if (!record) return;
    const consumed = record.consumed ?? Math.floor(this.#now() / 1000);
    this.#state.tombstones.set(id, { consumed, expiresAt: record.expiresAt });
    this.#remove(id);
  }

  /** Deletes the record and the index entries that still point at it. */
  #remove(id: string): void {
    const record = this.#state.records.get(id);
    if (!record) return;
    this.#state.records.delete(id);
    const { uid, userCode, grantId } = record.indexed;
    // Only unmap an index entry that is ours: another record may have taken the key since.
    if (typeof uid === 'string' && this.#state.byUid.get(uid) === id) this.#state.byUid.delete(uid);
    if (typeof userCode === 'string' && this.#state.byUserCode.get(userCode) === id) {
      this.#state.byUserCode.delete(userCode);
    }
    if (typeof grantId === 'string') {
      const ids = this.#state.byGrantId.get(grantId);
      ids?.delete(id);
      if (ids?.size === 0) this.#state.byGrantId.delete(grantId);
    }
  }
}

/**
 * The embedded default {@link Store}: everything in this process's memory, lost on restart.
 * Use it for one process only; several processes need a shared store such as the Redis store.
 *
 * Unlike oidc-provider's own memory adapter (an LRU capped at 1000 entries) it never evicts a
 * live record: records go only when they expire, are destroyed or are revoked. Expired records are
 * never returned and are swept from memory every {@link MemoryStoreOptions.sweepIntervalMs}. A
 * revoked record (or a consumed one destroyed) leaves a small tombstone until it would have
 * expired, so that a consume of it still fails.
 * Payloads are copied on write and on read, so callers can't change what is stored.
 *
 * @group Storage
 */
export class MemoryStore implements Store {
  readonly #now: () => number;
  readonly #adapters = new Map<string, MemoryModelAdapter>();
  readonly #uses = new Map<string, UseCounter>();
  // raiseCounter's counters: `count` is the value, with the same expiry bookkeeping.
  readonly #counters = new Map<string, UseCounter>();
  /** Index name → member → the member's expiry in ms (`Infinity` for never). */
  readonly #indexes = new Map<string, Map<string, number>>();
  readonly #rateLimiters = new RateLimiters(
    (limit) => new RateLimiterMemory({ points: limit.points, duration: limit.duration }),
  );
  // claim's names: who holds each, until when.
  readonly #claims = new Map<string, { holder: string; expiresAt: number }>();
  #timer: NodeJS.Timeout | undefined;

  /**
   * Creates an empty store and starts its sweep timer (which never keeps the process alive).
   *
   * @param options - the clock and the sweep interval.
   * @throws RangeError when `sweepIntervalMs` is not a positive finite number.
   */
  constructor(options: MemoryStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
    const interval = options.sweepIntervalMs ?? 60_000;
    // setInterval turns a bad delay into 1 ms, which would spin; refuse it instead.
    if (!Number.isFinite(interval) || interval <= 0) {
      throw new RangeError(`sweepIntervalMs must be a positive number, got ${interval}`);
    }
    this.#timer = setInterval(() => this.#sweep(), interval);
    this.#timer.unref();
  }

  /**
   * The adapter for `model`; the same object every time for the same name. Each model has its
   * own records and indexes, so equal ids, uids or grant ids in two models never meet.
   */
  adapter(model: string): Adapter {
    let adapter = this.#adapters.get(model);
    if (!adapter) {
      const state: ModelState = {
        records: new Map(),
        byUid: new Map(),
        byUserCode: new Map(),
        byGrantId: new Map(),
        tombstones: new Map(),
      };
      adapter = new MemoryModelAdapter(state, this.#now);
      this.#adapters.set(model, adapter);
    }
    return adapter;
  }

  /** Raises the counter `key` to `value` if it is greater; JavaScript runs this atomically. */
  async raiseCounter(key: string, value: number, ttlSeconds: number): Promise<boolean> {
    const now = this.#now();
    let counter = this.#counters.get(key);
    if (counter && counter.expiresAt <= now) counter = undefined;
    if (counter && counter.count >= value) return false;
    const expiresAt = Math.max(counter?.expiresAt ?? 0, expiryFor(now, ttlSeconds));
    this.#counters.set(key, { count: value, expiresAt });
    return true;
  }

  /**
   * Takes one use of `key` if fewer than `maxUses` are taken. Atomic within this process: the
   * check and the increment run without an `await` between them.
   */
  async takeUse(key: string, maxUses: number, ttlSeconds: number): Promise<boolean> {
    const now = this.#now();
    let counter = this.#uses.get(key);
    if (counter && counter.expiresAt <= now) counter = undefined;
    const count = counter?.count ?? 0;
    if (count >= maxUses) return false;
    const expiresAt = Math.max(counter?.expiresAt ?? 0, expiryFor(now, ttlSeconds));
    this.#uses.set(key, { count: count + 1, expiresAt });
    return true;
  }

  /** Claims `key` for `claimant` unless someone holds it; JavaScript runs this atomically. */
  async claim(key: string, claimant: string, ttlSeconds: number): Promise<string> {
    // No `await` between the read and the write: that is what makes it atomic.
    const held = this.#holderOf(key);
    if (held !== undefined) return held;
    this.#claims.set(key, { holder: claimant, expiresAt: expiryFor(this.#now(), ttlSeconds) });
    return claimant;
  }

  /** Who holds the claim `key`, if it has not expired. */
  async claimHolder(key: string): Promise<string | undefined> {
    return this.#holderOf(key);
  }

  /** Makes `claimant` hold `key`, returning who held it; JavaScript runs this atomically. */
  async replaceClaim(
    key: string,
    claimant: string,
    ttlSeconds: number,
  ): Promise<string | undefined> {
    const previous = this.#holderOf(key);
    this.#claims.set(key, { holder: claimant, expiresAt: expiryFor(this.#now(), ttlSeconds) });
    return previous;
  }

  #holderOf(key: string): string | undefined {
    const claim = this.#claims.get(key);
    return claim && claim.expiresAt > this.#now() ? claim.holder : undefined;
  }

  /** Gives back one use of `key`; the count never drops below zero. */
  async returnUse(key: string): Promise<void> {
    const counter = this.#uses.get(key);
    if (!counter) return;
    if (counter.expiresAt <= this.#now()) {
      this.#uses.delete(key);
      return;
    }
    counter.count = Math.max(0, counter.count - 1);
  }

  /**
   * Adds `member` to the set `index`. A member's expiry only ever moves later, and the set lives
   * as long as its longest-lived member.
   */
  async addToIndex(index: string, member: string, ttlSeconds: number | undefined): Promise<void> {
    let members = this.#indexes.get(index);
    if (!members) {
      members = new Map();
      this.#indexes.set(index, members);
    }
    const expiresAt = expiryFor(this.#now(), ttlSeconds);
    members.set(member, Math.max(members.get(member) ?? 0, expiresAt));
  }

  /** The unexpired members of the set `index`; empty when there is none. */
  async readIndex(index: string): Promise<string[]> {
    const members = this.#indexes.get(index);
    if (!members) return [];
    this.#sweepIndex(index, members, this.#now());
    return [...members.keys()];
  }

  /** Removes the set `index` and all its members. */
  async deleteIndex(index: string): Promise<void> {
    this.#indexes.delete(index);
  }

  /** Removes `member` from the set `index`, and the set once it is empty. */
  async removeFromIndex(index: string, member: string): Promise<void> {
    const members = this.#indexes.get(index);
    members?.delete(member);
    if (members?.size === 0) this.#indexes.delete(index);
  }

  /**
   * Counts `points` attempts (one by default; `0` only reads) against a rate limit
   * (rate-limiter-flexible's memory limiter, real time).
   */
  consumeRate(key: string, limit: RateLimitWindow, points = 1): Promise<RateDecision> {
    return this.#rateLimiters.consume(key, limit, points);
  }

  /** Answers at once: the data is in this process. */
  async ping(): Promise<void> {}

  /** `memory`: what the start-up log calls this store. */
  describe(): string {
    return 'memory';
  }

  /** Stops the sweep timer. The stored data stays readable; nothing is swept any more. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * How many oidc-provider records the store holds across all models, counting expired records
   * not yet swept. Meant for monitoring memory use.
   */
  get size(): number {
    let size = 0;
    for (const adapter of this.#adapters.values()) size += adapter.size;
    return size;
  }

  /** Frees everything expired; reads already hide it, this reclaims the memory. */
  #sweep(): void {
    const now = this.#now();
    for (const adapter of this.#adapters.values()) adapter.sweep(now);
    for (const [key, counter] of this.#counters) {
      if (counter.expiresAt <= now) this.#counters.delete(key);
    }
    for (const [key, counter] of this.#uses) {
      if (counter.expiresAt <= now) this.#uses.delete(key);
    }
    for (const [key, claim] of this.#claims) {
      if (claim.expiresAt <= now) this.#claims.delete(key);
    }
    for (const [index, members] of this.#indexes) this.#sweepIndex(index, members, now);
  }

  /** Drops the expired members of one set, and the set itself once it is empty. */
  #sweepIndex(index: string, members: Map<string, number>, now: number): void {
    for (const [member, expiresAt] of members) {
      if (expiresAt <= now) members.delete(member);
    }
    if (members.size === 0) this.#indexes.delete(index);
  }
}
