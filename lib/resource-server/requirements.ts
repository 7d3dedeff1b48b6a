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
