/**
 * The asymmetric JWS algorithms tokens, proofs and upstream id_tokens may be signed with: never
 * `none` or HMAC, whose key a verifier would have to share.
 *
 * @internal
 */
export const ASYMMETRIC_JWS_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;
