import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { INSTANCE_FIELD, instanceRecord } from '../core/instance-record.js';
import { revokeClientGrants } from '../provider/adapter.js';
import type { TemplateSource } from '../registration/templates.js';
import type { Store } from '../storage/store.js';
import { accountInstancesIndex } from './client-records.js';
import type {
  FirstPartySignIn,
  InstanceEvents,
  InstanceInfo,
  InstancePage,
  InstancePageOptions,
  RevokedBy,
} from './types.js';

// An account's lock: held for one limit check and update; expires if its holder dies.
const LOCK_TTL = 10;
const LOCK_ATTEMPTS = 100;
const LOCK_WAIT_MS = 25;

/** The per-account instance limit. @internal */
export interface AccountLimit {
  max: number;
  onLimit: 'reject' | 'revoke-oldest';
}

// The store model that records when each instance last obtained tokens.
const ACTIVITY_MODEL = 'InstanceActivity';
// Record "last used" at most this often per instance and process: one write per minute, not
// one per token request.
const ACTIVITY_RESOLUTION_MS = 60_000;
// The store model of each instance's last first-party sign-in ("signed in with the app"): a
// record of its own, since the activity record is replaced whole on every use.
const FIRST_PARTY_MODEL = 'InstanceFirstPartySignIn';
const FIRST_PARTY_METHODS: ReadonlySet<unknown> = new Set(['password', 'passkey', 'federated']);

/** A stored first-party sign-in, if `payload` is one. */
function firstPartySignInOf(payload: AdapterPayload | undefined): FirstPartySignIn | undefined {
  if (typeof payload?.at !== 'number' || !FIRST_PARTY_METHODS.has(payload.method)) {
    return undefined;
  }
  return {
    at: payload.at,
    method: payload.method as FirstPartySignIn['method'],
    ...(typeof payload.provider === 'string' ? { provider: payload.provider } : {}),
  };
}

// Paging: the default and largest page, and how many client records are read at once while
// ordering an account's instances.
const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 100;
const READ_WIDTH = 64;
const MAX_CURSOR_LENGTH = 1024;

/** Where an instance sits in its account's list: registration order (ms), then client id. */
interface Position {
  order: number;
  clientId: string;
}

/** Oldest first; instances registered in the same millisecond by client id (code units, not locale). */
const byPosition = (a: Position, b: Position) =>
  a.order - b.order || (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0);

/**
 * A bad `limit` or `cursor` given to {@link InstanceManager.page}. A `RangeError`, not a
 * MobileOidcProviderError: `InstanceManagement.page` promises callers a `RangeError`.
 *
 * @internal
 */
export class InvalidPageRequest extends RangeError {
  override name = 'InvalidPageRequest';
  /** A stable code, as the library's other errors carry. */
  readonly code = 'invalid_page_request';
}

// The cursor is base64url("<order>:<check>:<clientId>"). The check digests the account with the
// position: a cursor altered, or issued for another account, is refused. It is no secret and
// grants nothing: it only positions within the account the caller may already read.
const cursorCheck = (accountId: string, p: Position) =>
  createHash('sha256')
    .update(JSON.stringify([accountId, p.order, p.clientId]))
    .digest('base64url')
    .slice(0, 16);

function encodeCursor(accountId: string, p: Position): string {
  return Buffer.from(`${p.order}:${cursorCheck(accountId, p)}:${p.clientId}`, 'utf8').toString(
    'base64url',
  );
}

function decodeCursor(accountId: string, cursor: string): Position {
  const invalid = () =>
    new InvalidPageRequest('the cursor is malformed, altered or not for this account');
  if (cursor.length > MAX_CURSOR_LENGTH || !/^[\w-]+$/.test(cursor)) throw invalid();
  const match = /^(\d{1,16}):[\w-]{16}:(.+)$/s.exec(Buffer.from(cursor, 'base64url').toString());
  const position = match && { order: Number(match[1]), clientId: match[2] as string };
  // Re-encoding checks the digest and refuses every non-canonical spelling.
  if (!position || encodeCursor(accountId, position) !== cursor) throw invalid();
  return position;
}

/** Maps `items` through `fn` with at most `width` calls pending at once, keeping their order. */
async function mapBounded<T, R>(
  items: readonly T[],
  width: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  return results;
}

/** An instance with its registration order (milliseconds). */
interface Loaded {
  info: InstanceInfo;
  order: number;
}

/** What the instance manager needs. @internal */
export interface InstanceManagerSettings {
  /** The guarded store. */
  store: Store;
  /** The stored client records (not the template-merged view). */
  clients: Adapter;
  templates: TemplateSource;
  keepRevokedFor: number;
  /** How long a "last used" record outlives the last use (the grant lifetime). */
  activityTtl: number;
  emit: <E extends keyof InstanceEvents>(event: E, payload: InstanceEvents[E]) => void;
  now?: () => number;
}

/**
 * Lists and revokes instance clients: the library side of "revoke access for a user whose
 * device is stolen".
 *
 * @internal
 */
export class InstanceManager {
  readonly #recentActivity = new Map<string, number>();
  readonly #now: () => number;

  constructor(private readonly settings: InstanceManagerSettings) {
    this.#now = settings.now ?? Date.now;
  }

  /** An account's instances (active and recently revoked), oldest first. */
  async list(accountId: string): Promise<InstanceInfo[]> {
    const ids = await this.settings.store.readIndex(accountInstancesIndex(accountId));
    const loaded = await Promise.all(ids.map((id) => this.#load(id)));
    return loaded
      .filter((d): d is Loaded => d?.info.accountId === accountId)
      .sort((a, b) =>
        byPosition(
          { order: a.order, clientId: a.info.clientId },
          { order: b.order, clientId: b.info.clientId },
        ),
      )
      .map((d) => d.info);
  }

  /**
   * One page of an account's instances, in the order of {@link InstanceManager.list}.
   *
   * Costs one client record read per indexed instance (the index holds ids only, and the order
   * is in the records), at most 64 at a time, then the full view (template,
   * activity) of the page's instances only.
   *
   * @throws InvalidPageRequest when `limit` is not an integer from 1 to 100, or the cursor is
   *   malformed, altered or another account's.
   */
  async page(accountId: string, options: InstancePageOptions = {}): Promise<InstancePage> {
    const limit = options.limit ?? DEFAULT_PAGE_SIZE;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
      throw new InvalidPageRequest(`limit must be an integer from 1 to ${MAX_PAGE_SIZE}`);
    }
    const after =
      options.cursor === undefined ? undefined : decodeCursor(accountId, options.cursor);
    const ids = await this.settings.store.readIndex(accountInstancesIndex(accountId));
    const positions = (
      await mapBounded(ids, READ_WIDTH, async (clientId): Promise<Position | undefined> => {
        const record = instanceRecord((await this.settings.clients.find(clientId)) ?? {});
        if (record?.account_id !== accountId) return undefined;
        return { order: record.created_ms ?? record.created_at * 1000, clientId };
      })
    )
      .filter((p): p is Position => p !== undefined && (!after || byPosition(p, after) > 0))
      .sort(byPosition);
    const slice = positions.slice(0, limit);
    const loaded = await Promise.all(slice.map((p) => this.#load(p.clientId)));
    const last = slice.at(-1);
    return {
      devices: loaded
        .filter((d): d is Loaded => d?.info.accountId === accountId)
        .map((d) => d.info),
      ...(positions.length > limit && last ? { nextCursor: encodeCursor(accountId, last) } : {}),
    };
  }

  /** One instance, or `undefined` when there is no instance client with that id. */
  async get(clientId: string): Promise<InstanceInfo | undefined> {
    return (await this.#load(clientId))?.info;
  }

  async #load(clientId: string): Promise<Loaded | undefined> {
    const payload = await this.settings.clients.find(clientId);
    const record = payload && instanceRecord(payload);
    if (!payload || !record) return undefined;
    const template = record.template
      ? await this.settings.templates
          .find(record.template, { purpose: 'load' })
          .catch(() => undefined)
      : undefined;
    const [activity, firstParty] = await Promise.all([
      this.settings.store.adapter(ACTIVITY_MODEL).find(clientId),
      this.settings.store.adapter(FIRST_PARTY_MODEL).find(clientId),
    ]);
    const firstPartySignIn = firstPartySignInOf(firstParty ?? undefined);
    const clientName = payload.client_name ?? template?.client.client_name;
    const info: InstanceInfo = {
      clientId,
      ...(record.account_id ? { accountId: record.account_id } : {}),
      cal: record.cal ?? 'none',
      registeredBy: record.registered_by ?? { method: 'user-token' },
      // Never shown as active before its first token, nor once revoked.
      status: record.status === 'revoked' ? 'revoked' : record.unused_until ? 'pending' : 'active',
      createdAt: record.created_at,
      ...(record.revoked_at ? { revokedAt: record.revoked_at } : {}),
      ...(typeof activity?.lastUsedAt === 'number' ? { lastUsedAt: activity.lastUsedAt } : {}),
      ...(record.unused_until ? { unusedUntil: record.unused_until } : {}),
      ...(typeof (record.template ?? payload.software_id) === 'string'
        ? { softwareId: String(record.template ?? payload.software_id) }
        : {}),
      ...(typeof clientName === 'string' ? { clientName } : {}),
      ...(typeof payload.software_version === 'string'
        ? { softwareVersion: payload.software_version }
        : {}),
      ...(firstPartySignIn ? { firstPartySignIn } : {}),
    };
    return { info, order: record.created_ms ?? record.created_at * 1000 };
  }

  /**
   * Revokes an instance: it is marked revoked first (so it can no longer authenticate), then
   * every grant and token it holds is revoked. Revoking a revoked instance changes nothing.
   *
   * @returns the instance as it now is, or `undefined` when there is none.
   */
  async revoke(clientId: string, by: RevokedBy): Promise<InstanceInfo | undefined> {
    const { clients, store, keepRevokedFor } = this.settings;
    const payload = await clients.find(clientId);
    const record = payload && instanceRecord(payload);
    if (!payload || !record) return undefined;
    if (record.status !== 'revoked') {
      const revokedAt = Math.floor(this.#now() / 1000);
      await clients.upsert(
        clientId,
        { ...payload, [INSTANCE_FIELD]: { ...record, status: 'revoked', revoked_at: revokedAt } },
        keepRevokedFor,
      );
      await revokeClientGrants(store, clientId);
      await Promise.all([
        store.adapter(ACTIVITY_MODEL).destroy(clientId),
        store.adapter(FIRST_PARTY_MODEL).destroy(clientId),
      ]);
      this.settings.emit('instance.revoked', {
        clientId,
        ...(record.account_id ? { accountId: record.account_id } : {}),
        ...(record.template ? { softwareId: record.template } : {}),
        by,
      });
    }
    return this.get(clientId);
  }

  /** Revokes every instance of an account not yet revoked. @returns the instances revoked now. */
  async revokeAll(accountId: string, by: RevokedBy): Promise<InstanceInfo[]> {
    const active = (await this.list(accountId)).filter((d) => d.status !== 'revoked');
    const revoked = await Promise.all(active.map((d) => this.revoke(d.clientId, by)));
    return revoked.filter((d): d is InstanceInfo => d !== undefined);
  }

  /**
   * Binds an instance registered without a user to the first account that signs in through it,
   * so it is listed and revoked with that account. Atomic: of concurrent first sign-ins, one wins.
   *
   * @returns the account the instance belongs to now, or `undefined` when it is no instance.
   */
  async bind(clientId: string, accountId: string): Promise<string | undefined> {
    const { clients, store } = this.settings;
    const payload = await clients.find(clientId);
    const record = payload && instanceRecord(payload);
    if (!payload || !record) return undefined;
    if (record.account_id) return record.account_id;
    if (!(await store.takeUse(`instance-owner:${clientId}`, 1, this.settings.activityTtl))) {
      return instanceRecord((await clients.find(clientId)) ?? {})?.account_id;
    }
    await store.addToIndex(accountInstancesIndex(accountId), clientId, undefined);
    // Binding is not using: an instance still unused keeps its expiry.
    const unusedFor = record.unused_until
      ? Math.max(1, record.unused_until - Math.floor(this.#now() / 1000))
      : undefined;
    await clients.upsert(
      clientId,
      { ...payload, [INSTANCE_FIELD]: { ...record, account_id: accountId } },
      unusedFor,
    );
    this.settings.emit('instance.bound', {
      clientId,
      accountId,
      ...(record.template ? { softwareId: record.template } : {}),
    });
    return accountId;
  }

  /**
   * An instance obtains its first token: it becomes permanent and starts counting toward the
   * account's limit. With a limit, under the account's lock (atomic across processes), so
   * concurrent first uses cannot both pass it: with `reject` the use is refused when the account
   * already has `max` instances in use, with `revoke-oldest` the oldest ones are revoked. Without
   * one there is nothing to count, so neither the lock nor the account's list is taken.
   *
   * @param accountId - the instance's account, as the record this request loaded names it (the
   *   caller saw it unused there, so it is not read again before the lock).
   * @returns why the use is refused, or `undefined` when the instance may go on.
   */
  async markUsed(
    clientId: string,
    accountId: string | undefined,
    limit?: AccountLimit,
  ): Promise<string | undefined> {
    const { clients } = this.settings;
    // The resolved default is `{ onLimit }` alone: no `max`, no limit.
    const limited = accountId !== undefined && limit !== undefined && Number.isFinite(limit.max);
    const promote = async (): Promise<string | undefined> => {
      const payload = await clients.find(clientId);
      const record = payload && instanceRecord(payload);
      if (!payload || !record?.unused_until) return undefined;
      if (limited && limit) {
        const inUse = (await this.list(accountId)).filter(
          (d) => d.status === 'active' && d.clientId !== clientId,
        );
        const excess = inUse.length + 1 - limit.max;
        if (excess > 0 && limit.onLimit === 'reject') {
          return `this account already has ${inUse.length} registered devices (at most ${limit.max}): remove one first`;
        }
        for (const oldest of inUse.slice(0, Math.max(0, excess))) {
          await this.revoke(oldest.clientId, 'limit');
        }
      }
      const { unused_until: _unused, ...used } = record;
      await clients.upsert(clientId, { ...payload, [INSTANCE_FIELD]: used });
      return undefined;
    };
    return limited ? this.#exclusive(accountId, promote) : promote();
  }

  /** Runs `task` while holding the account's lock in the store (one holder across processes). */
  async #exclusive<T>(accountId: string, task: () => Promise<T>): Promise<T> {
    const lock = `account-lock:${accountId}`;
    for (let attempt = 0; !(await this.settings.store.takeUse(lock, 1, LOCK_TTL)); attempt++) {
      if (attempt >= LOCK_ATTEMPTS) throw new Error(`the lock of account ${accountId} is held`);
      await sleep(LOCK_WAIT_MS);
    }
    try {
      return await task();
    } finally {
      await this.settings.store.returnUse(lock);
    }
  }

  /**
   * Notes a sign-in through the instance at the Authorization Challenge Endpoint: one write of
   * its own record, kept as long as the sign-in's grant may live.
   */
  async recordFirstPartySignIn(
    clientId: string,
    signIn: Omit<FirstPartySignIn, 'at'>,
  ): Promise<void> {
    const record: AdapterPayload = {
      at: Math.floor(this.#now() / 1000),
      method: signIn.method,
      ...(signIn.provider !== undefined ? { provider: signIn.provider } : {}),
    };
    await this.settings.store
      .adapter(FIRST_PARTY_MODEL)
      .upsert(clientId, record, this.settings.activityTtl);
  }

  /** Notes that an instance obtained tokens (at most once a minute per instance). */
  async touch(clientId: string): Promise<void> {
    const now = this.#now();
    const last = this.#recentActivity.get(clientId);
    if (last !== undefined && now - last < ACTIVITY_RESOLUTION_MS) return;
    this.#recentActivity.set(clientId, now);
    if (this.#recentActivity.size > 10_000) this.#recentActivity.clear();
    const record: AdapterPayload = { lastUsedAt: Math.floor(now / 1000) };
    await this.settings.store
      .adapter(ACTIVITY_MODEL)
      .upsert(clientId, record, this.settings.activityTtl);
  }
}
