import type { webcrypto } from 'node:crypto';
import { type JWTVerifyOptions, errors as joseErrors, jwtVerify } from 'jose';
import { TokenVerificationError } from './errors.js';
import type { IssuerKeys } from './jwks.js';
import type { ResolvedVerifierOptions } from './options.js';

const COMPACT_SEGMENT = /^[A-Za-z0-9_-]*$/;

/**
 * Whether a token is a JWS in compact serialization (`jws`), a JWE (`jwe`), or neither (an
 * opaque token, for introspection).
 *
 * @internal
 */
export function tokenShape(token: string): 'jws' | 'jwe' | 'opaque' {
  const segments = token.split('.');
  if (!segments.every((segment) => COMPACT_SEGMENT.test(segment))) return 'opaque';
  if (segments.length === 3) return 'jws';
  return segments.length === 5 ? 'jwe' : 'opaque';
}

const invalid = (description: string, cause?: unknown) =>
  new TokenVerificationError(
    { error: 'invalid_token', description },
    cause === undefined ? undefined : { cause },
  );

/** What to tell the app about a JWT jose refused, without echoing its content. */
function describe(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'the token has expired';
  if (error instanceof joseErrors.JOSEAlgNotAllowed)
    return 'the token signing algorithm is not accepted';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.reason === 'missing') return `the token has no ${error.claim} claim`;
    if (error.claim === 'aud') return 'the token is not for this API (aud)';
    if (error.claim === 'iss') return 'the token is from another issuer (iss)';
    if (error.claim === 'nbf') return 'the token is not valid yet (nbf)';
    return `the token ${error.claim} claim is invalid`;
  }
  if (
    error instanceof joseErrors.JWSSignatureVerificationFailed ||
    error instanceof joseErrors.JWKSNoMatchingKey
  ) {
    return 'the token signature is invalid';
  }
  return 'the token is malformed';
}

/**
 * Verifies a JWT access token (RFC 9068 §4): `typ` `at+jwt`, an allowed asymmetric `alg`, the
 * signature with the issuer's keys, `iss` exactly, `aud` naming this API, `exp` and `nbf` with
 * the clock skew, and the presence of `iat`, `jti`, `sub` and `client_id`.
 *
 * @returns the claims as jose parsed them (not yet prototype-safe).
 * @throws TokenVerificationError `invalid_token`, or `temporarily_unavailable` when the keys
 *   could not be fetched.
 * @internal
 */
export async function verifyJwtAccessToken(
  token: string,
  keys: IssuerKeys,
  settings: Pick<
    ResolvedVerifierOptions,
    'issuer' | 'audience' | 'algorithms' | 'clockSkewSeconds'
  >,
): Promise<Record<string, unknown>> {
  const options: JWTVerifyOptions = {
    issuer: settings.issuer,
    audience: settings.audience,
    algorithms: settings.algorithms,
    clockTolerance: settings.clockSkewSeconds,
    typ: 'at+jwt',
    requiredClaims: ['exp', 'iat', 'jti', 'sub', 'client_id'],
  };
  // jose hands the parsed header to the key lookup first: typ is checked there, before any key
  // is fetched, so an ID token costs the API nothing (jose checks alg even earlier).
  const resolve: typeof keys.resolve = (header, jws) => {
    const typ = typeof header.typ === 'string' ? header.typ.toLowerCase() : '';
    if (typ !== 'at+jwt' && typ !== 'application/at+jwt') {
      throw invalid('the token is not a JWT access token (typ must be at+jwt)');
    }
    return keys.resolve(header, jws);
  };
  try {
    try {
      return (await jwtVerify(token, resolve, options)).payload;
    } catch (error) {
      if (!(error instanceof joseErrors.JWKSMultipleMatchingKeys)) throw error;
      // A token without a kid: any key of its type may have signed it.
      const candidates = error as unknown as AsyncIterable<webcrypto.CryptoKey>;
      for await (const key of candidates) {
        try {
          return (await jwtVerify(token, key, options)).payload;
        } catch (failure) {
          if (!(failure instanceof joseErrors.JWSSignatureVerificationFailed)) throw failure;
        }
      }
      throw new joseErrors.JWSSignatureVerificationFailed();
    }
  } catch (error) {
    if (error instanceof TokenVerificationError) throw error;
    throw invalid(describe(error), error);
  }
}
