// The steps the deployment configures: the per-account instance limit and its policy hooks.
import { RegistrationPolicyError } from '../../core/errors.js';
import { clientAddress } from '../../http/client-address.js';
import { applyInstanceRules } from '../instance-rules.js';
import type { RegistrationState } from './state.js';

/**
 * Enforces the per-account instance limit at registration: `reject` refuses when the account
 * already has `max` instances in use; `revoke-oldest` revokes once the new instance is registered.
 * A new instance that starts unused is checked again when it is first used (the instance manager's
 * `markUsed`), which is where `revoke-oldest` then applies.
 */
export async function enforceLimit({ settings, record, opener }: RegistrationState): Promise<void> {
  const { limit } = settings;
  const accountId = record.account_id;
  if (!opener || !accountId) return;
  if (!limit || (settings.rules.unusedTtl > 0 && limit.onLimit === 'revoke-oldest')) return;
  const active = await settings.activeInstances(accountId);
  const excess = active.length + 1 - limit.max;
  if (excess <= 0) return;
  if (limit.onLimit === 'reject') {
    throw new RegistrationPolicyError(
      'invalid_client_metadata',
      `this account already has ${active.length} registered devices (at most ${limit.max}): remove one first`,
    );
  }
  for (const oldest of active.slice(0, excess)) {
    opener.afterCreate.push(() => settings.revokeInstance(oldest.clientId));
  }
}

/** The account the hooks see: the opener's on create, loaded for an update. */
async function hookAccount({ settings, record, opener }: RegistrationState) {
  const accountId = record.account_id;
  if (!accountId) return undefined;
  const account =
    opener?.credential.kind === 'user'
      ? opener.credential.account
      : await settings.findAccount(accountId);
  if (!account) {
    throw new RegistrationPolicyError(
      'invalid_client_metadata',
      'the account that registered this client no longer exists',
    );
  }
  return account;
}

/**
 * Runs the deployment's policy hooks in order, each followed by the built-in rules again, so no
 * hook can widen what an instance may do.
 */
export async function runHooks(state: RegistrationState): Promise<void> {
  const { settings, record, template, metadata, ctx } = state;
  if (settings.hooks.length === 0) return;
  const account = await hookAccount(state);
  for (const hook of settings.hooks) {
    const input = {
      operation: state.operation,
      accountId: record.account_id,
      account,
      registrationClientId: record.registration_client_id,
      clientId: String(state.properties.client_id),
      template,
      cal: record.cal ?? 'none',
      method: record.registered_by?.method ?? 'user-token',
      ip: clientAddress(ctx).address,
      metadata,
    };
    await settings.phases.phase('registration.policy', () => hook(input));
    applyInstanceRules(metadata, state.rules);
  }
}
