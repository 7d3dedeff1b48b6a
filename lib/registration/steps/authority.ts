// The steps that settle who vouches for the instance: the registration's authority, and on
// update what must not change without fresh evidence.
import { sameKeyMaterial } from '../../attestation/binding.js';
import { RegistrationPolicyError } from '../../core/errors.js';
import { clientAddress } from '../../http/client-address.js';
import { KEY_BOUND_AUTH_METHODS } from '../instance-rules.js';
import type { RegistrationState } from './state.js';

/**
 * Asks the attestation pipeline whether the registration's credential or evidence may register
 * from its template, and at what level; a fallback or attested registration is reported once
 * it succeeded.
 */
export async function authorize(state: RegistrationState): Promise<void> {
  const { ctx, settings, opener, record, template, properties } = state;
  if (!opener) return;
  const authority = await settings.authorize({
    credential: opener.credential,
    template,
    attestation: state.evidence,
    jwks: properties.jwks,
    ip: clientAddress(ctx).address,
  });
  record.cal = authority.cal;
  record.registered_by = authority.proof;
  if (authority.proof.method !== 'user-token') {
    const clientId = String(properties.client_id);
    opener.afterCreate.push(async () =>
      settings.onAuthorized(authority, clientId, template?.software_id),
    );
  }
}

/**
 * An instance not registered from a template cannot take on a template's `software_id` or
 * `software_version` by an update.
 */
export function keepSoftwareIdentity({ record, metadata, current }: RegistrationState): void {
  if (record.template) return;
  for (const field of ['software_id', 'software_version']) {
    if (
      Object.hasOwn(metadata, field) &&
      JSON.stringify(metadata[field]) !== JSON.stringify(current[field])
    ) {
      throw new RegistrationPolicyError(
        'invalid_client_metadata',
        `${field} cannot be set by an update: this install was not registered from a template`,
      );
    }
  }
}

/**
 * An instance whose level rests on evidence bound to its key keeps that key and authentication
 * method, unless the update brings fresh evidence bound to the new key (which then sets the
 * level). The level never rises otherwise: `cal` in the body is ignored and the stored one kept.
 */
export async function keepKeyBinding(state: RegistrationState): Promise<void> {
  const { ctx, settings, record, metadata, current } = state;
  if (state.evidence !== undefined) {
    const authority = await settings.reattest({
      template: state.template,
      attestation: state.evidence,
      jwks: metadata.jwks,
      ip: clientAddress(ctx).address,
      ...(record.account_id ? { accountId: record.account_id } : {}),
    });
    record.cal = authority.cal;
    record.registered_by = authority.proof;
    return;
  }
  if (record.registered_by?.method !== 'attestation') return;
  // Between key-bound methods (private_key_jwt, attestation-based) the key stays what it was.
  const method = String(metadata.token_endpoint_auth_method);
  const previous = String(current.token_endpoint_auth_method);
  const rebound =
    (method !== previous &&
      !(KEY_BOUND_AUTH_METHODS.has(method) && KEY_BOUND_AUTH_METHODS.has(previous))) ||
    !(await sameKeyMaterial(metadata.jwks, current.jwks));
  if (rebound) {
    throw new RegistrationPolicyError(
      'invalid_client_metadata',
      `jwks and token_endpoint_auth_method cannot change: this install's assurance level (${record.cal ?? 'none'}) rests on attestation evidence bound to its key; send fresh evidence bound to the new key in 'attestation', with a new challenge`,
    );
  }
}

/**
 * The key an install signs phone approvals with, when its method is not key-bound (a secret),
 * is set at registration and never changes: an RFC 7592 update may neither replace nor add it,
 * so a registration access token alone cannot make a device an approver.
 */
export async function keepApprovalKey(state: RegistrationState): Promise<void> {
  const { metadata, current, rules } = state;
  if (
    !rules.approvalKey ||
    KEY_BOUND_AUTH_METHODS.has(String(metadata.token_endpoint_auth_method))
  ) {
    return;
  }
  if (metadata.jwks === undefined && current.jwks === undefined) return;
  if (!(await sameKeyMaterial(metadata.jwks, current.jwks))) {
    throw new RegistrationPolicyError(
      'invalid_client_metadata',
      'jwks cannot change: it is the key this install approves sign-ins with; register the app again for a new key',
    );
  }
}
