import { MobileOidcProviderError } from '../core/errors.js';

/**
 * Why a request was refused, as the `error` of the challenge (RFC 6750 §3.1, RFC 9449 §7.1),
 * plus this library's two:
 * - `invalid_request` (400): a malformed `Authorization` header, or more than one;
 * - `invalid_token` (401): the token is unknown, expired, revoked, not for this API, or bound
 *   to a key or certificate the request does not prove;
 * - `invalid_dpop_proof` (401): the DPoP proof is missing, malformed, replayed or for another
 *   request;
 * - `insufficient_scope` (403): the token lacks a scope (or claim) the route requires;
 * - `insufficient_assurance` (403): the app install's assurance level (`cal`) is below the
 *   route's; getting a new token does not help, only a more strongly proven install does;
 * - `insufficient_user_authentication` (401, RFC 9470 §3): the user's sign-in behind the token
 *   is not the kind (`acr`) or not as recent (`auth_time`) as the route needs; the app signs in
 *   again with the challenge's `acr_values` / `max_age` and retries with the new token;
 * - `temporarily_unavailable` (503): the authorization server (discovery, keys, introspection)
 *   could not be reached or answered wrongly: not the caller's fault, retry later.
 *
 * @group Resource server
 */
export type TokenErrorCode =
  | 'invalid_request'
  | 'invalid_token'
  | 'invalid_dpop_proof'
  | 'insufficient_scope'
  | 'insufficient_assurance'
  | 'insufficient_user_authentication'
  | 'temporarily_unavailable';

/**
 * The authentication scheme a challenge names: `DPoP` for a DPoP-bound token or a request that
 * used the DPoP scheme, `Bearer` otherwise.
 *
 * @group Resource server
 */
export type TokenScheme = 'Bearer' | 'DPoP';

/** The HTTP status of each refusal; a request without a token gets 401. */
const STATUS: Record<TokenErrorCode, 400 | 401 | 403 | 503> = {
  invalid_request: 400,
  invalid_token: 401,
  invalid_dpop_proof: 401,
  insufficient_scope: 403,
  insufficient_assurance: 403,
  insufficient_user_authentication: 401,
  temporarily_unavailable: 503,
};

/**
 * What a {@link TokenVerificationError} says.
 *
 * @group Resource server
 */
export interface TokenVerificationErrorDetails {
  /** The error code; absent when the request carried no token at all (RFC 6750 §3.1). */
  error?: TokenErrorCode;
  /** Why, for the developer of the app: no secrets, no token content. */
  description?: string;
  /** For `insufficient_scope`: the scopes the route needs, space-separated. */
  scope?: string;
  /** The challenge's scheme. @default 'Bearer' */
  scheme?: TokenScheme;
  /** For a DPoP challenge: the proof algorithms accepted (RFC 9449 §7.1 `algs`). */
  algs?: readonly string[];
  /** For `insufficient_user_authentication`: the `acr` values the route accepts (RFC 9470 §3). */
  acrValues?: readonly string[];
  /** For `insufficient_user_authentication`: the sign-in's greatest age, in seconds (RFC 9470 §3). */
  maxAge?: number;
}

// RFC 6750 §3: realm, error_description and scope values use only these characters.
const UNSAFE_CHALLENGE_CHARACTERS = /[^\x20\x21\x23-\x5b\x5d-\x7e]/g;

const quoted = (value: string) => `"${value.replace(UNSAFE_CHALLENGE_CHARACTERS, '?')}"`;

/**
 * Thrown by `verify` and the requirement functions when a request must be refused. `status` is
 * the HTTP status to answer with, and {@link TokenVerificationError.wwwAuthenticate} builds the
 * `WWW-Authenticate` challenge that goes with it. A `temporarily_unavailable` refusal (503)
 * keeps the upstream failure as `cause`, for logs only.
 *
 * @group Resource server
 */
export class TokenVerificationError extends MobileOidcProviderError {
  /** `error`, or `missing_token` when the request carried no token. */
  declare readonly code: TokenErrorCode | 'missing_token';
  /** The HTTP status to answer with: 400, 401, 403 or 503. */
  readonly status: 400 | 401 | 403 | 503;
  /**
   * The challenge's `error`, as it goes on the wire; `undefined` when the request carried no
   * token. To tell refusals apart in code, test {@link TokenVerificationError.code}.
   */
  readonly error: TokenErrorCode | undefined;
  /** The challenge's `error_description`. */
  readonly error_description: string | undefined;
  /** For `insufficient_scope`: the scopes the route needs, space-separated. */
  readonly scope: string | undefined;
  /** The challenge's scheme. */
  readonly scheme: TokenScheme;
  /** For a DPoP challenge: the proof algorithms accepted. */
  readonly algs: readonly string[] | undefined;
  /** For `insufficient_user_authentication`: the `acr` values the route accepts. */
  readonly acrValues: readonly string[] | undefined;
  /** For `insufficient_user_authentication`: the sign-in's greatest age, in seconds. */
  readonly maxAge: number | undefined;

  /**
   * @param details - the error code, description, scope and scheme.
   * @param options - `cause`: the underlying error, kept for logs only.
   */
  constructor(details: TokenVerificationErrorDetails, options?: { cause?: unknown }) {
    super(
      details.error ?? 'missing_token',
      details.description ?? 'the request carries no access token',
      options,
    );
    this.error = details.error;
    this.status = details.error ? STATUS[details.error] : 401;
    this.error_description = details.description;
    this.scope = details.scope;
    this.scheme = details.scheme ?? 'Bearer';
    this.algs = details.algs;
    this.acrValues = details.acrValues;
    this.maxAge = details.maxAge;
  }

  /**
   * The `WWW-Authenticate` header value (RFC 6750 §3, RFC 9449 §7.1), e.g.
   * `Bearer realm="api", error="invalid_token", error_description="the token has expired"`, or
   * for step-up (RFC 9470 §3) `Bearer error="insufficient_user_authentication",
   * error_description="…", acr_values="urn:mobile-oidc:passkey", max_age=300`.
   * A request without a token gets the bare challenge (`Bearer realm="api"`).
   *
   * @param realm - the protection space, when the API names one.
   * @returns the challenge; `undefined` for `temporarily_unavailable`, which is no
   *   authentication failure (answer 503 without a challenge).
   */
  wwwAuthenticate(realm?: string): string | undefined {
    if (this.error === 'temporarily_unavailable') return undefined;
    const parameters: string[] = [];
    if (realm !== undefined) parameters.push(`realm=${quoted(realm)}`);
    if (this.error) {
      parameters.push(`error=${quoted(this.error)}`);
      if (this.error_description) {
        parameters.push(`error_description=${quoted(this.error_description)}`);
      }
      if (this.scope) parameters.push(`scope=${quoted(this.scope)}`);
      // RFC 9470 §3: what a new sign-in must give, for the app to ask the server for it.
      if (this.acrValues?.length) {
        parameters.push(`acr_values=${quoted(this.acrValues.join(' '))}`);
      }
      if (this.maxAge !== undefined) parameters.push(`max_age=${this.maxAge}`);
    }
    if (this.scheme === 'DPoP' && this.algs?.length) {
      parameters.push(`algs=${quoted(this.algs.join(' '))}`);
    }
    return parameters.length > 0 ? `${this.scheme} ${parameters.join(', ')}` : this.scheme;
  }
}

/** A 503 for an authorization server that could not be used; the cause stays for logs. @internal */
export function unavailable(description: string, cause?: unknown): TokenVerificationError {
  return new TokenVerificationError(
    { error: 'temporarily_unavailable', description },
    cause === undefined ? undefined : { cause },
  );
}
