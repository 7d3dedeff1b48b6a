import type { KoaContextWithOIDC } from 'oidc-provider';
import { errors } from 'oidc-provider';
import { RegistrationPolicyError } from '../errors.js';
import { registrationOpener } from './dcr-gate.js';
import { applyInstanceRules, type InstanceRuleSettings } from './instance-rules.js';
import type { RegistrationPolicy } from './policy-types.js';

/**
 * The client metadata field where an instance client records who registered it. Kept out of
 * every registration response, and never settable by the client.
 *
 * @internal
 */
export const INSTANCE_FIELD = 'mobile_oidc_instance';

/**
 * What an instance client record says about its origin.
 *
 * @group Registration
 */
export interface InstanceRecord {
  /** The account whose DCR token registered the instance. */
  account_id: string;
  /** The registration client that DCR token was issued to. */
  registration_client_id: string;
  /** When the instance registered, in seconds since the epoch. */
  created_at: number;
}

/** Reads the instance record from a client's metadata, if it is an instance client. @internal */
export function instanceRecord(metadata: Record<string, unknown>): InstanceRecord | undefined {
  const record = metadata[INSTANCE_FIELD];
  return typeof record === 'object' && record !== null ? (record as InstanceRecord) : undefined;
}

function toProviderError(error: RegistrationPolicyError) {
  return new errors.CustomOIDCProviderError(error.code, error.message);
}

/**
 * Builds the oidc-provider registration policy for instance clients: binds the instance to the
 * user who opened the registration, applies the built-in rules, runs the deployment's policy
 * hooks, then applies the rules again so no hook can widen what an instance may do. Runs on
 * `POST` (create) and on RFC 7592 `PUT` (update).
 *
 * @internal
 */
export function createInstancePolicy(
  settings: InstanceRuleSettings,
  hooks: readonly RegistrationPolicy[],
) {
  return async function instancePolicy(
    ctx: KoaContextWithOIDC,
    properties: Record<string, unknown>,
  ) {
    const operation = ctx.method === 'PUT' ? 'update' : 'create';
    let record: InstanceRecord | undefined;
    if (operation === 'update') {
      record = ctx.oidc.client ? instanceRecord(ctx.oidc.client.metadata()) : undefined;
    } else {
      const opener = registrationOpener(ctx);
      record = opener && {
        account_id: opener.accountId,
        registration_client_id: opener.registrationClientId,
        created_at: Math.floor(Date.now() / 1000),
      };
    }
    // Only the DCR gate mints the tokens that carry this policy, so this is a wiring fault.
    if (!record) throw new Error('instance registration policy ran without a registration opener');

    delete properties[INSTANCE_FIELD];
    try {
      applyInstanceRules(properties, settings);
      for (const hook of hooks) {
        await hook({
          operation,
          accountId: record.account_id,
          registrationClientId: record.registration_client_id,
          clientId: String(properties.client_id),
          metadata: properties,
        });
        applyInstanceRules(properties, settings);
      }
    } catch (error) {
      if (error instanceof RegistrationPolicyError) throw toProviderError(error);
      throw error;
    }
    properties[INSTANCE_FIELD] = record;
  };
}
