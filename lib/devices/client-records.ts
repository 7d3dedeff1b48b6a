import type { Adapter, AdapterPayload } from 'oidc-provider';
import { INSTANCE_FIELD, instanceRecord } from '../registration/instance-policy.js';
import { mergeTemplate, ownFields, type TemplateSource } from '../registration/templates.js';
import { delegateAdapter, type Store } from '../storage/index.js';

/** The index of an account's instance clients (active and revoked). @internal */
export const accountInstancesIndex = (accountId: string) => `account-instances:${accountId}`;

/**
 * The `Client` adapter seen by oidc-provider, over the stored instance records:
 * - a templatized instance is stored with only its own fields and loaded merged with its
 *   template, so template changes apply at once; a missing or disabled template, or a revoked
 *   instance, loads as no client at all (`invalid_client`);
 * - every instance is indexed under its account, for device listing and limits.
 *
 * @internal
 */
export function instanceClientAdapter(
  stored: Adapter,
  store: Store,
  templates: TemplateSource,
): Adapter {
  return delegateAdapter(stored, {
    async find(id) {
      const payload = await stored.find(id);
      const record = payload && instanceRecord(payload);
      if (!payload || !record) return payload;
      if (record.status === 'revoked') return undefined;
      if (!record.template) return payload;
      const template = await templates.find(record.template, { purpose: 'load' });
      if (!template || template.disabled) return undefined;
      return {
        ...mergeTemplate(template, payload),
        [INSTANCE_FIELD]: { ...record, ...(template.ttl ? { template_ttl: template.ttl } : {}) },
      } as AdapterPayload;
    },
    async upsert(id, payload, expiresIn) {
      const record = instanceRecord(payload);
      if (!record) return stored.upsert(id, payload, expiresIn);
      const { template_ttl: _derived, ...own } = record;
      let toStore: Record<string, unknown> = payload;
      if (record.template) {
        const template = await templates.find(record.template, { purpose: 'register' });
        if (!template) throw new Error(`template '${record.template}' disappeared during a write`);
        toStore = ownFields(template, payload);
      }
      // Index first: a stale entry is skipped when listing, an unindexed instance is invisible.
      await store.addToIndex(accountInstancesIndex(own.account_id), id, undefined);
      await stored.upsert(id, { ...toStore, [INSTANCE_FIELD]: own } as AdapterPayload, expiresIn);
    },
    async destroy(id) {
      const record = instanceRecord((await stored.find(id)) ?? {});
      await stored.destroy(id);
      if (record) await store.removeFromIndex(accountInstancesIndex(record.account_id), id);
    },
  });
}
