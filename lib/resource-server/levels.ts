/**
 * A client assurance level (`cal`) as the authorization server writes it into access tokens and
 * introspection responses: how strongly the app install proved what it is.
 * - `by-policy`: platform attestation evidence, checked by a verifier and the attestation policy;
 * - `by-provisioned-key`: a fallback client's provisioned key or certificate;
 * - `none`: a shared secret, or nothing beyond the user's sign-in.
 *
 * @group Resource server
 */
export type AssuranceLevel = 'none' | 'by-provisioned-key' | 'by-policy';

/**
 * Every level, weakest first: `none < by-provisioned-key < by-policy`. Kept here rather than
 * imported so that an API can verify tokens without loading the authorization server; a test
 * holds it equal to the server's list.
 *
 * @group Resource server
 */
export const ASSURANCE_LEVELS: readonly AssuranceLevel[] = Object.freeze([
  'none',
  'by-provisioned-key',
  'by-policy',
]);

/** Whether a value names a level. @internal */
export function isAssuranceLevel(value: unknown): value is AssuranceLevel {
  return typeof value === 'string' && (ASSURANCE_LEVELS as readonly string[]).includes(value);
}

/**
 * The rank of a token's `cal`, weakest `0`; a missing or unknown value ranks as `none`, so a
 * level this code does not know never passes a requirement.
 *
 * @internal
 */
export function rankOf(cal: string | undefined): number {
  return isAssuranceLevel(cal) ? ASSURANCE_LEVELS.indexOf(cal) : 0;
}
