/**
 * How strongly an instance client proved what it is (the client assurance level, `cal`):
 * - `by-policy`: platform attestation evidence, checked by a verifier and the attestation policy;
 * - `by-provisioned-key`: a fallback client's provisioned key or certificate (`private_key_jwt`,
 *   `tls_client_auth`, `self_signed_tls_client_auth`);
 * - `none`: a shared secret, or nothing beyond the user's sign-in.
 *
 * @group Assurance
 */
export type AssuranceLevel = 'none' | 'by-provisioned-key' | 'by-policy';

/**
 * Every level, weakest first: `none < by-provisioned-key < by-policy`.
 *
 * @group Assurance
 */
export const ASSURANCE_LEVELS: readonly AssuranceLevel[] = [
  'none',
  'by-provisioned-key',
  'by-policy',
];

const rank = (level: AssuranceLevel) => ASSURANCE_LEVELS.indexOf(level);

/**
 * Whether `level` is at least `minimum`.
 *
 * @group Assurance
 */
export function meetsLevel(level: AssuranceLevel, minimum: AssuranceLevel): boolean {
  return rank(level) >= rank(minimum);
}

/** The weaker of two levels. @internal */
export function weakerLevel(a: AssuranceLevel, b: AssuranceLevel): AssuranceLevel {
  return rank(a) <= rank(b) ? a : b;
}

/** Whether a value is an assurance level. @internal */
export function isAssuranceLevel(value: unknown): value is AssuranceLevel {
  return typeof value === 'string' && (ASSURANCE_LEVELS as readonly string[]).includes(value);
}

/**
 * The scopes among `scopes` that demand a higher level than `level` (per `minimumLevels`, the
 * `assurance.minimumLevels` option).
 *
 * @internal
 */
export function scopesAboveLevel(
  scopes: Iterable<string>,
  level: AssuranceLevel,
  minimumLevels: Readonly<Record<string, AssuranceLevel>>,
): string[] {
  const above: string[] = [];
  for (const scope of scopes) {
    const minimum = Object.hasOwn(minimumLevels, scope) ? minimumLevels[scope] : undefined;
    if (minimum && !meetsLevel(level, minimum)) above.push(scope);
  }
  return above;
}
