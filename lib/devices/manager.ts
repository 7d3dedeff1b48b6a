import type { Adapter, AdapterPayload } from 'oidc-provider';
import { INSTANCE_FIELD, instanceRecord } from '../registration/instance-policy.js';
import type { TemplateSource } from '../registration/templates.js';
import { revokeClientGrants, type Store } from '../storage/index.js';
import { accountInstancesIndex } from './client-records.js';
import type { DeviceEvents, DeviceInfo, RevokedBy } from './types.js';

// The store model that records when each instance last obtained tokens.
const ACTIVITY_MODEL = 'InstanceActivity';
// Record "last used" at most this often per instance and process: one write per minute, not
// one per token request.
const ACTIVITY_RESOLUTION_MS = 60_000;

/** A device with its registration order (milliseconds). */
interface Loaded {
  info: DeviceInfo;
  order: number;
}

/** What the device manager needs. @internal */
export interface DeviceManagerSettings {
  /** The guarded store. */
  store: Store;
  /** The stored client records (not the template-merged view). */
  clients: Adapter;
  templates: TemplateSource;
  keepRevokedFor: number;
  /** How long a "last used" record outlives the last use (the grant lifetime). */
  activityTtl: number;
  emit: <E extends keyof DeviceEvents>(event: E, payload: DeviceEvents[E]) => void;
  now?: () => number;
}

/**
 * Lists and revokes instance clients: the library side of "revoke access for a user whose
 * device is stolen".
 *
 * @internal
 */
export class DeviceManager {
  readonly #recentActivity = new Map<string, number>();
  readonly #now: () => number;

  constructor(private readonly settings: DeviceManagerSettings) {
    this.#now = settings.now ?? Date.now;
  }

  /** An account's instances (active and recently revoked), oldest first. */
  async list(accountId: string): Promise<DeviceInfo[]> {
    const ids = await this.settings.store.readIndex(accountInstancesIndex(accountId));
    const loaded = await Promise.all(ids.map((id) => this.#load(id)));
    return loaded
      .filter((d): d is Loaded => d?.info.accountId === accountId)
      .sort((a, b) => a.order - b.order || a.info.clientId.localeCompare(b.info.clientId))
      .map((d) => d.info);
  }

  /** One instance, or `undefined` when there is no instance client with that id. */
  async get(clientId: string): Promise<DeviceInfo | undefined> {
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
    const activity = await this.settings.store.adapter(ACTIVITY_MODEL).find(clientId);
    const clientName = payload.client_name ?? template?.client.client_name;
    const info: DeviceInfo = {
      clientId,
      ...(record.account_id ? { accountId: record.account_id } : {}),
      cal: record.cal ?? 'none',
      registeredBy: record.registered_by ?? { method: 'user-token' },
      status: record.status ?? 'active',
      createdAt: record.created_at,
      ...(record.revoked_at ? { revokedAt: record.revoked_at } : {}),
      ...(typeof activity?.lastUsedAt === 'number' ? { lastUsedAt: activity.lastUsedAt } : {}),
      ...(typeof (record.template ?? payload.software_id) === 'string'
        ? { softwareId: String(record.template ?? payload.software_id) }
        : {}),
      ...(typeof clientName === 'string' ? { clientName } : {}),
      ...(typeof payload.software_version === 'string'
        ? { softwareVersion: payload.software_version }
        : {}),
    };
    return { info, order: record.created_ms ?? record.created_at * 1000 };
  }

  /**
   * Revokes an instance: it is marked revoked first (so it can no longer authenticate), then
   * every grant and token it holds is revoked. Revoking a revoked instance changes nothing.
   *
   * @returns the instance as it now is, or `undefined` when there is none.
   */
  async revoke(clientId: string, by: RevokedBy): Promise<DeviceInfo | undefined> {
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
      await store.adapter(ACTIVITY_MODEL).destroy(clientId);
      this.settings.emit('instance.revoked', {
        clientId,
        ...(record.account_id ? { accountId: record.account_id } : {}),
        ...(record.template ? { softwareId: record.template } : {}),
        by,
      });
    }
    return this.get(clientId);
  }

  /** Revokes every active instance of an account. @returns the instances revoked now. */
  async revokeAll(accountId: string, by: RevokedBy): Promise<DeviceInfo[]> {
    const active = (await this.list(accountId)).filter((d) => d.status === 'active');
    const revoked = await Promise.all(active.map((d) => this.revoke(d.clientId, by)));
    return revoked.filter((d): d is DeviceInfo => d !== undefined);
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
    await clients.upsert(clientId, {
      ...payload,
      [INSTANCE_FIELD]: { ...record, account_id: accountId },
    });
    this.settings.emit('instance.bound', {
      clientId,
      accountId,
      ...(record.template ? { softwareId: record.template } : {}),
    });
    return accountId;
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
