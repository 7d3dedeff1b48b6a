// The steps that take the request's metadata from oidc-provider and hand the final metadata back.
import { RegistrationPolicyError } from '../../core/errors.js';
import { INSTANCE_FIELD } from '../../core/instance-record.js';
import { findUnsafeKey } from '../../http/prototype-safety.js';
import { checkMetadataTypes } from '../instance-rules.js';
import type { RegistrationState } from './state.js';

/**
 * Refuses a body with `__proto__`, `constructor` or `prototype` keys at any depth. oidc-provider
 * has already copied the body into `properties` with `Object.assign`, which turns a `__proto__`
 * member into the prototype: its inherited fields would pass every rule and never be stored.
 */
export function refuseUnsafeKeys({ ctx, properties }: RegistrationState): void {
  const unsafe =
    findUnsafeKey(ctx.oidc.body) ??
    (Object.getPrototypeOf(properties) === Object.prototype
      ? undefined
      : { key: '__proto__', path: '__proto__' });
  if (!unsafe) return;
  throw new RegistrationPolicyError(
    'invalid_client_metadata',
    unsafe.key === '(nesting)'
      ? `the request nests deeper than allowed (at ${unsafe.path})`
      : `${unsafe.path} is refused: '${unsafe.key}' is not allowed as a member name`,
  );
}

/**
 * Before anything reads a field (templates, software_version, attestation, the rules): a value
 * of the wrong JSON type is a 400 naming the field, never a crash further on.
 */
export function checkTypes({ properties }: RegistrationState): void {
  checkMetadataTypes(properties);
}

/**
 * Takes out what is not the instance's to set: the instance record (the server keeps it), the
 * grant types the server adds itself, and the `attestation` evidence (a credential).
 */
export function setAsideServerFields(state: RegistrationState): void {
  const { properties } = state;
  delete properties[INSTANCE_FIELD];
  const serverGrants = state.settings.serverGrants ?? [];
  // RFC 7592 §2.2: the read shows them, so a client sends them back; they are not its to set.
  if (Array.isArray(properties.grant_types) && serverGrants.length > 0) {
    properties.grant_types = properties.grant_types.filter((g) => !serverGrants.includes(g));
  }
  state.evidence = properties.attestation;
  delete properties.attestation;
}

/** Makes `properties`, which oidc-provider saves, the final metadata with the instance record. */
export function saveMetadata({ properties, metadata, record, settings }: RegistrationState): void {
  if (metadata !== properties) {
    for (const key of Object.keys(properties)) delete properties[key];
    Object.assign(properties, metadata);
  }
  // The response shows what a read will (the Client adapter drops them again on write).
  const serverGrants = settings.serverGrants ?? [];
  if (serverGrants.length > 0) {
    properties.grant_types = [...(properties.grant_types as string[]), ...serverGrants];
  }
  properties[INSTANCE_FIELD] = record;
}
