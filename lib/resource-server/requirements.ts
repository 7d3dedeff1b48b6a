import { TokenVerificationError } from './errors.js';
import { type AssuranceLevel, isAssuranceLevel, rankOf } from './levels.js';
import type { VerifiedToken } from './types.js';

const insufficientScope = (token: VerifiedToken, description: string, scope?: string) =>
  new TokenVerificationError({
    error: 'insufficient_scope',
    description,
    ...(scope ? { scope } : {}),
    scheme: token.tokenType,
  });

/**
 * Requires every one of `scopes` in the token.
 *
 * @returns `token`, to chain requirements.
 * @throws TokenVerificationError 403 `insufficient_scope` whose challenge lists `scopes`.
 * @group Resource server
 */
export function requireScopes(token: VerifiedToken, ...scopes: string[]): VerifiedToken {
  const missing = scopes.filter((scope) => !token.scope.includes(scope));
  if (missing.length > 0) {
    throw insufficientScope(
      token,
      `the token lacks the scope ${missing.join(' ')}`,
      scopes.join(' '),
    );
  }
  return token;
}

/**
 * Requires at least one of `scopes` in the token.
 *
 * @returns `token`, to chain requirements.
 * @throws TokenVerificationError 403 `insufficient_scope` whose challenge lists `scopes`.
 * @group Resource server
 */
export function requireAnyScope(token: VerifiedToken, ...scopes: string[]): VerifiedToken {
  if (!scopes.some((scope) => token.scope.includes(scope))) {
    throw insufficientScope(
      token,
      `the token needs one of the scopes ${scopes.join(' ')}`,
      scopes.join(' '),
    );
  }
  return token;
}

/**
 * Requires the app install's client assurance level (`cal`) to be at least `level`, in the
 * order `none < by-provisioned-key < by-policy`. A token without `cal`, or with a value this
 * version does not know, counts as `none`.
 *
 * A new token does not help the app here, only a more strongly proven install: the refusal is
 * 403 with the error `insufficient_assurance` (not `insufficient_scope`, which tells the app to
 * ask for more scope), and its description names the level needed.
 *
 * @returns `token`, to chain requirements.
 * @throws TokenVerificationError 403 `insufficient_assurance`.
 * @throws TypeError when `level` is not a level.
 * @group Resource server
 */
export function requireCal(token: VerifiedToken, level: AssuranceLevel): VerifiedToken {
  if (!isAssuranceLevel(level)) throw new TypeError(`${String(level)} is not an assurance level`);
  if (rankOf(token.cal) < rankOf(level)) {
    throw new TokenVerificationError({
      error: 'insufficient_assurance',
      description: `this request needs an app install of assurance level ${level} or higher`,
      scheme: token.tokenType,
    });
  }
  return token;
}

/**
 * Requires the token's claims to satisfy `predicate`, e.g.
 * `requireClaim(token, (c) => c.acr === 'mfa', 'a multi-factor sign-in')`.
 *
 * @param description - what the predicate requires, for the refusal's description (sent to the
 *   app: no secrets).
 * @returns `token`, to chain requirements.
 * @throws TokenVerificationError 403 `insufficient_scope` (the token grants less than the route
 *   needs), without a `scope`.
 * @group Resource server
 */
export function requireClaim(
  token: VerifiedToken,
  predicate: (claims: Readonly<Record<string, unknown>>) => boolean,
  description: string,
): VerifiedToken {
  if (!predicate(token.claims)) {
    throw insufficientScope(token, `the token does not carry ${description}`);
  }
  return token;
}

/**
 * What {@link requireAuthentication} asks of the user's sign-in behind a token.
 *
 * @group Resource server
 */
export interface AuthenticationRequirement {
  /**
   * The authentication context classes (`acr`) the route accepts: the token's `acr` must be one
   * of them. mobile-oidc-provider's first-party sign-in issues `urn:mobile-oidc:pwd` (a
   * password), `urn:mobile-oidc:federated` (a native Apple/Google id_token) and
   * `urn:mobile-oidc:passkey` (a passkey, whatever came before it).
   *
   * @default any acr, or none
   */
  acrValues?: readonly string[];
  /**
   * The greatest age of the sign-in, in seconds: the token's `auth_time` must be at most this
   * long ago. A token without `auth_time` is refused.
   *
   * @default any age
   */
  maxAge?: number;
}

// RFC 6749 §A.7-style tokens: no spaces (the list's separator), no quotes (the challenge's).
const ACR_VALUE = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/**
 * Requires the user's sign-in behind the token to be of one of `acrValues` and no older than
 * `maxAge` seconds: step-up authentication (RFC 9470). The refusal tells the app what a new
 * sign-in must give: it signs in again with these `acr_values` and `max_age` (at the
 * Authorization Challenge Endpoint or the authorization endpoint) and retries with the new token.
 *
 * @returns `token`, to chain requirements.
 * @throws TokenVerificationError 401 `insufficient_user_authentication`, whose challenge carries
 *   `acr_values` and `max_age` (RFC 9470 §3).
 * @throws TypeError when the requirement is empty or malformed (an `acr` value with a space or a
 *   quote, a `maxAge` that is not a non-negative integer).
 * @group Resource server
 */
export function requireAuthentication(
  token: VerifiedToken,
  requirement: AuthenticationRequirement,
): VerifiedToken {
  const { acrValues, maxAge } = requirement;
  if (acrValues === undefined && maxAge === undefined) {
    throw new TypeError('requireAuthentication needs acrValues or maxAge');
  }
  if (acrValues !== undefined && (acrValues.length === 0 || !acrValues.every(isAcrValue))) {
    throw new TypeError('acrValues must be a non-empty list of acr values');
  }
  if (maxAge !== undefined && !(Number.isSafeInteger(maxAge) && maxAge >= 0)) {
    throw new TypeError('maxAge must be a non-negative integer of seconds');
  }
  const reasons: string[] = [];
  if (acrValues !== undefined && (token.acr === undefined || !acrValues.includes(token.acr))) {
    reasons.push(`a sign-in of ${acrValues.join(' or ')}`);
  }
  if (maxAge !== undefined) {
    const age = token.authTime === undefined ? undefined : Date.now() / 1000 - token.authTime;
    if (age === undefined || age > maxAge) reasons.push(`a sign-in in the last ${maxAge} seconds`);
  }
  if (reasons.length > 0) {
    throw new TokenVerificationError({
      error: 'insufficient_user_authentication',
      description: `this request needs ${reasons.join(' and ')}`,
      ...(acrValues !== undefined ? { acrValues } : {}),
      ...(maxAge !== undefined ? { maxAge } : {}),
      scheme: token.tokenType,
    });
  }
  return token;
}

const isAcrValue = (value: unknown) => typeof value === 'string' && ACR_VALUE.test(value);
