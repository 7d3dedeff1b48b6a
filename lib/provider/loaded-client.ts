// How the library reads an instance record off the client objects oidc-provider loads.
import type Provider from 'oidc-provider';
import { type InstanceRecord, instanceRecord } from '../core/instance-record.js';

/** A loaded client, as oidc-provider hands it to hooks. */
export interface LoadedClient {
  clientId: string;
  metadata(): Record<string, unknown>;
}

// A loaded client never changes (a changed record loads as a new object): read the record once
// per loaded client.
const records = new WeakMap<object, InstanceRecord | null>();

// oidc-provider puts its client metadata on the client object (its own fields camelCased,
// extra ones such as the record as they are named); reading the record there spares
// metadata(), which snake-cases a copy of every property.
// test/provider/client-cache.test.ts fails if an upgrade stops doing so.

/** The instance record of a loaded client, or `undefined` for static clients. @internal */
export function instanceRecordOf(client: LoadedClient | undefined): InstanceRecord | undefined {
  if (!client) return undefined;
  let record = records.get(client);
  if (record === undefined) {
    record = instanceRecord(client as unknown as Record<string, unknown>) ?? null;
    records.set(client, record);
  }
  return record ?? undefined;
}

/**
 * The instance record of client `clientId` as `provider` loads it; `undefined` for static or
 * unknown clients.
 *
 * @internal
 */
export async function instanceRecordById(
  provider: Provider,
  clientId: string,
): Promise<InstanceRecord | undefined> {
  return instanceRecordOf(await provider.Client.find(clientId));
}
