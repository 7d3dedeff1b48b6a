import type { Adapter, AdapterPayload } from 'oidc-provider';
import { INSTANCE_FIELD, instanceRecord, storedRecord } from '../core/instance-record.js';
import { type AssuranceLevel, scopesAboveLevel } from '../core/levels.js';
import { delegateAdapter } from '../provider/adapter.js';
import { mergeTemplate, ownFields, type TemplateSource } from '../registration/templates.js';
import type { Store } from '../storage/store.js';

/** The index of an account's instance clients (active and revoked). @internal */
export const accountInstancesIndex = (accountId: string) => `account-instances:${accountId}`;

/** An instance's `scope` within its assurance level, and the scopes withheld from it. */
interface ScopeWithinLevel {
  scope: string;
  withheld: readonly string[];
}

// Distinct (scope, level) pairs are few (one per template and level); the bound only guards memory.
const SCOPE_MEMO_LIMIT = 1000;

/**
 * Splits a stored `scope` into what its assurance level allows and what it withholds, memoized:
 * every request of an instance loads its client, and the answer depends on these two values only.
 */
function scopesWithinLevel(minimumLevels: Readonly<Record<string, AssuranceLevel>>) {
  const memo = new Map<string, ScopeWithinLevel>();
  return (stored: string, cal: AssuranceLevel): ScopeWithinLevel => {
    const key = `${cal} ${stored}`;
    let found = memo.get(key);
    if (!found) {
      const requested = stored.split(' ').filter(Boolean);
      const above = new Set(scopesAboveLevel(requested, cal, minimumLevels));
      found = {
        scope: requested.filter((s) => !above.has(s)).join(' '),
        withheld: Object.freeze([...above]),
      };
      if (memo.size >= SCOPE_MEMO_LIMIT) memo.clear();
      memo.set(key, found);
    }
    return found;
  };
}

/**
 * The `Client` adapter seen by oidc-provider, over the stored instance records:
 * - a templatized instance is stored with only its own fields and loaded merged with its
 *   template, so template changes apply at once; a missing or disabled template, or a revoked
 *   instance, loads as no client at all (`invalid_client`);
 * - scopes that demand a higher assurance level than the instance's are left out of its
 *   `scope`, so asking for them is `invalid_scope`; an instance without an explicit `scope`
 *   loads as no client (oidc-provider would read it as "any scope");
 * - every instance is indexed under its account, for instance listing and limits.
 *
 * @internal
 */
export function instanceClientAdapter(
  stored: Adapter,
  store: Store,
  templates: TemplateSource,
  minimumLevels: Readonly<Record<string, AssuranceLevel>>,
): Adapter {
  const scopeWithin = scopesWithinLevel(minimumLevels);
  const withinLevel = (metadata: AdapterPayload, cal: AssuranceLevel) => {
    // oidc-provider reads a missing or empty scope as "any scope": such an instance is no client.
    if (typeof metadata.scope !== 'string') return undefined;
    const { scope, withheld } = scopeWithin(metadata.scope, cal);
    if (!scope) return undefined;
    // Completed in place: a store's find hands out the caller's own copy (the Store contract).
    metadata.scope = scope;
    // Noted for an RFC 7592 update, which sends back the scope it read without them.
    if (withheld.length > 0) {
      metadata[INSTANCE_FIELD] = { ...instanceRecord(metadata), withheld_scopes: [...withheld] };
    }
    return metadata;
  };
  return delegateAdapter(stored, {
    async find(id) {
      const payload = await stored.find(id);
      const record = payload && instanceRecord(payload);
      if (!payload || !record) return payload;
      if (record.status === 'revoked') return undefined;
      const cal = record.cal ?? 'none';
      if (!record.template) return withinLevel(payload, cal);
      const template = await templates.find(record.template, { purpose: 'load' });
      if (!template || template.disabled) return undefined;
      return withinLevel(
        {
          ...mergeTemplate(template, payload),
          [INSTANCE_FIELD]: {
            ...record,
            ...(template.ttl ? { template_ttl: template.ttl } : {}),
            ...(template.sharedDevices ? { shared_devices: true } : {}),
            template_redirect_uris: template.client.redirect_uris,
          },
        } as AdapterPayload,
        cal,
      );
    },
    async upsert(id, payload, expiresIn) {
      const record = instanceRecord(payload);
      if (!record) return stored.upsert(id, payload, expiresIn);
      const own = storedRecord(record);
      let toStore: Record<string, unknown> = payload;
      if (record.template) {
        const template = await templates.find(record.template, { purpose: 'register' });
        if (!template) throw new Error(`template '${record.template}' disappeared during a write`);
        toStore = ownFields(template, payload);
      }
      // Index first: a stale entry is skipped when listing, an unindexed instance is invisible.
      if (own.account_id)
        await store.addToIndex(accountInstancesIndex(own.account_id), id, undefined);
      // An instance never used is removed when its unused period ends.
      const ttl = own.unused_until
        ? Math.max(1, own.unused_until - Math.floor(Date.now() / 1000))
        : expiresIn;
      await stored.upsert(id, { ...toStore, [INSTANCE_FIELD]: own } as AdapterPayload, ttl);
    },
    async destroy(id) {
      const record = instanceRecord((await stored.find(id)) ?? {});
      await stored.destroy(id);
      if (record?.account_id) {
        await store.removeFromIndex(accountInstancesIndex(record.account_id), id);
      }
    },
  });
}
