import type Provider from 'oidc-provider';
import { instanceRecordOf } from '../provider/loaded-client.js';
import type { InstanceManager } from './manager.js';
import type { InstanceEvent } from './types.js';

/** The instance events that follow oidc-provider's registration events. */
type ForwardedEvent = 'instance.registered' | 'instance.updated' | 'instance.deleted';

/**
 * Turns oidc-provider's registration events into instance events, and notes instance activity.
 *
 * @internal
 */
export function wireInstanceEvents(
  provider: Provider,
  instances: InstanceManager,
  emit: (event: ForwardedEvent, payload: InstanceEvent) => void,
) {
  const forward =
    (event: ForwardedEvent) =>
    (_ctx: unknown, client: { clientId: string; metadata(): Record<string, unknown> }) => {
      const record = instanceRecordOf(client);
      if (!record) return;
      emit(event, {
        clientId: client.clientId,
        ...(record.account_id ? { accountId: record.account_id } : {}),
        ...(record.template ? { softwareId: record.template } : {}),
      });
    };
  provider.on('registration_create.success', forward('instance.registered'));
  provider.on('registration_update.success', forward('instance.updated'));
  provider.on('registration_delete.success', forward('instance.deleted'));
  provider.on('grant.success', (ctx) => {
    const client = ctx.oidc.client;
    if (!client || !instanceRecordOf(client)) return;
    instances.touch(client.clientId).catch((error: unknown) => {
      provider.emit('server_error', ctx, error);
    });
  });
}
