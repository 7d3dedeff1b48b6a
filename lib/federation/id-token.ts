// Validation of an id_token an app obtained natively from an upstream provider ("Sign in with
// Apple / Google"), following OpenID Connect Core 1.0 §3.1.3.7: one function per check, each
// failing with an UpstreamIdTokenError that names it.
import { createHash } from 'node:crypto';
import { compactVerify, type JWSHeaderParameters, errors as joseErrors } from 'jose';
import { ConfigurationError, MobileOidcProviderError } from '../core/errors.js';
import { prototypeSafeCopy } from '../http/prototype-safety.js';
import { type UpstreamJwks, UpstreamUnavailableError } from './jwks.js';

export { UpstreamUnavailableError };

/** The upstream provider an id_token is accepted from. */
export interface UpstreamSettings {
  /** A name for the provider, e.g. `google`, `apple`, `corp`; returned as `provider`. */
  name: string;
  /** The issuer its id_tokens carry as `iss`, compared exactly. */
  issuer: string;
  /** The accepted `aud` (and `azp`) values: iOS bundle ids, Android and web client ids. */
  audiences: readonly string[];
  /**
   * The provider's deviations: `apple` sends `nonce` as the SHA-256 hex of the app's nonce (see
   * {@link nonceLookupKey}); `google` may carry a Workspace `hd` (see `hostedDomain`).
   */
  quirks?: 'google' | 'apple';
  /** The Google Workspace domain the id_token's `hd` must equal; an id_token without `hd` fails. */
  hostedDomain?: string;
  /**
   * Seconds of clock difference tolerated for `exp` and `iat`.
   *
   * @default 60
   */
  clockSkewSeconds?: number;
  /**
   * The accepted JWS algorithms; `none` and the HMAC algorithms are refused as configuration.
   *
   * @default ['RS256', 'ES256']
   */
  algorithms?: readonly string[];
}

/** Options of {@link verifyUpstreamIdToken}. */
export interface VerifyUpstreamIdTokenOptions {
  /**
   * The clock, in milliseconds since the epoch.
   *
   * @default Date.now
   */
  now?: () => number;
}

/** A verified upstream id_token. */
export interface VerifiedUpstreamIdToken {
  /** The provider's `name` from its settings. */
  provider: string;
  /** The `sub` claim: the user at that provider. */
  subject: string;
  /**
   * Every claim, on an object without a prototype and without `__proto__`, `constructor` or
   * `prototype` keys; `email_verified` and `is_private_email` as booleans when sent as the
   * strings `"true"`/`"false"` (as Apple does).
   */
  claims: Readonly<Record<string, unknown>>;
  /** The `nonce` claim as sent; see {@link nonceLookupKey}. */
  nonce: string;
  /** The `exp` claim, in seconds since the epoch. */
  expiresAt: number;
  /** The base64url SHA-256 of the token, to remember it was used until `expiresAt`. */
  tokenHash: string;
}

/** The check an upstream id_token failed. */
export type UpstreamIdTokenCheck =
  | 'format'
  | 'alg'
  | 'kid'
  | 'signature'
  | 'iss'
  | 'aud'
  | 'azp'
  | 'exp'
  | 'iat'
  | 'sub'
  | 'hd'
  | 'nonce';

/**
 * An upstream id_token was refused: `check` names the failed check. The token is not in the
 * message.
 *
 * @group Errors
 */
export class UpstreamIdTokenError extends MobileOidcProviderError {
  /** A stable code for programmatic handling. */
  declare readonly code: 'invalid_upstream_id_token';
  /** The check that failed. */
  readonly check: UpstreamIdTokenCheck;

  /**
   * @param check - the check that failed.
   * @param message - what was wrong, for people: no secrets, never the token.
   */
  constructor(check: UpstreamIdTokenCheck, message: string) {
    super('invalid_upstream_id_token', message);
    this.check = check;
  }
}

const DEFAULT_ALGORITHMS: readonly string[] = ['RS256', 'ES256'];
/** The longest an upstream id_token may live, from `iat` to `exp`: a day, in seconds. */
const MAX_ID_TOKEN_LIFETIME = 24 * 3600;
// Apple and Google id_tokens are 1–2 KiB; anything far larger is not worth parsing.
const MAX_TOKEN_LENGTH = 16 * 1024;
// Deeper than any honest claim (address is two levels); deeper is refused rather than walked.
const MAX_DEPTH = 16;
const STRING_BOOLEAN_CLAIMS: ReadonlySet<string> = new Set(['email_verified', 'is_private_email']);
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * Verifies an id_token from an upstream OpenID provider (OpenID Connect Core 1.0 §3.1.3.7):
 * compact JWS, `alg` allowed, `iss` exact, signature by a key of the issuer's JWKS, `aud`, `azp`,
 * `exp`, `iat` (and `exp` at most a day after `iat`), `sub`, `hd` (when `hostedDomain` is set) and a `nonce` present. Matching the nonce
 * to one the server issued, and refusing a replayed `tokenHash`, are the caller's.
 *
 * @param token - the id_token as the app sent it.
 * @param settings - the upstream provider it must come from.
 * @param jwks - that provider's keys.
 * @param options - the clock.
 * @throws UpstreamIdTokenError naming the failed check.
 * @throws UpstreamUnavailableError when the provider's keys cannot be fetched.
 * @throws ConfigurationError when the settings are unusable (no audiences, `none` or HMAC
 *   algorithms, keys of another issuer).
 */
export async function verifyUpstreamIdToken(
  token: string,
  settings: UpstreamSettings,
  jwks: Pick<UpstreamJwks, 'issuer' | 'key'>,
  options: VerifyUpstreamIdTokenOptions = {},
): Promise<VerifiedUpstreamIdToken> {
  const algorithms = acceptedAlgorithms(settings, jwks);
  const { header, claims } = checkFormat(token);
  const alg = checkAlg(header.alg, algorithms);
  // iss before the key lookup: another issuer's token must not make us fetch keys (§3.1.3.7 2.).
  checkIssuer(claims.iss, settings.issuer);
  await checkSignature(token, header, alg, jwks);
  checkAudience(claims.aud, settings.audiences);
  checkAuthorizedParty(claims.azp, claims.aud, settings.audiences);
  const now = (options.now ?? Date.now)() / 1000;
  const skew = settings.clockSkewSeconds ?? 60;
  const expiresAt = checkExpiry(claims.exp, now, skew);
  checkIssuedAt(claims.iat, now, skew);
  checkLifetime(expiresAt, claims.iat as number);
  const subject = checkSubject(claims.sub);
  if (settings.hostedDomain !== undefined) checkHostedDomain(claims.hd, settings.hostedDomain);
  const nonce = checkNonce(claims.nonce);
  return {
    provider: settings.name,
    subject,
    claims: normalizeClaims(claims),
    nonce,
    expiresAt,
    tokenHash: createHash('sha256').update(token).digest('base64url'),
  };
}

/**
 * The key an issued nonce is stored under, found from an id_token's `nonce` claim: the lowercase
 * hex SHA-256 of the app's raw nonce. Google's claim is the raw nonce, so it is hashed; Apple's
 * SDK is handed SHA-256(nonce) as hex and puts that in the claim, so it is used as is. Storing
 * each issued nonce under `nonceLookupKey(nonce)` (no quirks) makes both land on the same key.
 *
 * @param claimNonce - the verified id_token's `nonce`.
 * @param quirks - the upstream's quirks; `apple` expects 64 hex characters.
 * @throws UpstreamIdTokenError (`nonce`) when an Apple nonce is not a SHA-256 hex digest.
 */
export function nonceLookupKey(claimNonce: string, quirks?: 'google' | 'apple'): string {
  if (quirks === 'apple') {
    if (!/^[0-9a-fA-F]{64}$/.test(claimNonce)) {
      fail('nonce', "the id_token's nonce is not the SHA-256 hex digest Apple sends");
    }
    return claimNonce.toLowerCase();
  }
  return createHash('sha256').update(claimNonce, 'utf8').digest('hex');
}

function fail(check: UpstreamIdTokenCheck, message: string): never {
  throw new UpstreamIdTokenError(check, message);
}

/** The settings' algorithms, refusing settings that would weaken every check after them. */
function acceptedAlgorithms(
  settings: UpstreamSettings,
  jwks: Pick<UpstreamJwks, 'issuer'>,
): readonly string[] {
  const problems: string[] = [];
  const algorithms = settings.algorithms ?? DEFAULT_ALGORITHMS;
  const weak = algorithms.filter((alg) => alg === 'none' || /^HS/i.test(alg));
  if (weak.length > 0) problems.push(`upstream ${settings.name}: algorithms ${weak} are refused`);
  if (settings.audiences.length === 0) problems.push(`upstream ${settings.name}: no audiences`);
  if (jwks.issuer !== settings.issuer) {
    problems.push(`upstream ${settings.name}: its keys are those of another issuer`);
  }
  if (problems.length > 0) throw new ConfigurationError(problems);
  return algorithms;
}

/** A compact JWS of three base64url parts whose header and payload are JSON objects. */
function checkFormat(token: unknown): {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
} {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(token)) {
    fail('format', 'the id_token is not a JWS in compact serialization');
  }
  const [header, payload] = token.split('.') as [string, string];
  return {
    header: decodeJsonObject(header, 'header'),
    claims: decodeJsonObject(payload, 'payload'),
  };
}

function decodeJsonObject(part: string, name: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    fail('format', `the id_token's ${name} is not JSON`);
  }
  const copy = prototypeSafeCopy(value, MAX_DEPTH);
  if (copy === undefined && value !== undefined) {
    fail('format', "the id_token's JSON is nested too deeply");
  }
  if (!isObject(copy)) fail('format', `the id_token's ${name} is not a JSON object`);
  return copy;
}

/** `alg` is one the settings allow, and never `none` or HMAC (alg confusion with public keys). */
function checkAlg(alg: unknown, algorithms: readonly string[]): string {
  if (typeof alg !== 'string' || alg === 'none' || /^HS/i.test(alg) || !algorithms.includes(alg)) {
    fail('alg', "the id_token's alg is not an accepted algorithm");
  }
  return alg;
}

/** `iss` equals the upstream's issuer exactly (§3.1.3.7 2.). */
function checkIssuer(iss: unknown, issuer: string): void {
  if (iss !== issuer) fail('iss', "the id_token's iss is not the upstream's issuer");
}

/** The signature verifies with the upstream key its `kid` names (§3.1.3.7 6.). */
async function checkSignature(
  token: string,
  header: Record<string, unknown>,
  alg: string,
  jwks: Pick<UpstreamJwks, 'key'>,
): Promise<void> {
  const key = await jwks.key(header as JWSHeaderParameters);
  if (!key) fail('kid', "the id_token's kid names no signing key of the upstream");
  try {
    await compactVerify(token, key, { algorithms: [alg] });
  } catch (error) {
    if (error instanceof joseErrors.JOSEAlgNotAllowed) {
      fail('alg', "the id_token's alg is not an accepted algorithm");
    }
    fail('signature', "the id_token's signature does not verify");
  }
}

/** `aud` (a string or an array of strings) contains an accepted audience (§3.1.3.7 3.). */
function checkAudience(aud: unknown, audiences: readonly string[]): void {
  const values = typeof aud === 'string' ? [aud] : aud;
  if (
    !Array.isArray(values) ||
    !values.every((value) => typeof value === 'string') ||
    !values.some((value) => audiences.includes(value))
  ) {
    fail('aud', "the id_token's aud is not an accepted audience");
  }
}

/** `azp` is required with several audiences, and is an accepted audience when present (4., 5.). */
function checkAuthorizedParty(azp: unknown, aud: unknown, audiences: readonly string[]): void {
  if (azp === undefined) {
    if (Array.isArray(aud) && aud.length > 1) {
      fail('azp', 'the id_token has several audiences but no azp');
    }
    return;
  }
  if (typeof azp !== 'string' || !audiences.includes(azp)) {
    fail('azp', "the id_token's azp is not an accepted audience");
  }
}

/** `exp` is in the future, give or take the skew (§3.1.3.7 9.). */
function checkExpiry(exp: unknown, now: number, skew: number): number {
  if (typeof exp !== 'number' || !Number.isFinite(exp)) fail('exp', 'the id_token has no exp');
  if (exp + skew <= now) fail('exp', 'the id_token has expired');
  return exp;
}

/** `iat` is present and not in the future, give or take the skew (§3.1.3.7 10.). */
function checkIssuedAt(iat: unknown, now: number, skew: number): void {
  if (typeof iat !== 'number' || !Number.isFinite(iat)) fail('iat', 'the id_token has no iat');
  if (iat - skew > now) fail('iat', 'the id_token was issued in the future');
}

/**
 * `exp` is at most {@link MAX_ID_TOKEN_LIFETIME} after `iat`. Apple's and Google's id_tokens
 * live minutes to an hour; a token that claims to live longer is no sign-in of theirs, and its
 * replay mark is kept until its `exp`.
 */
function checkLifetime(exp: number, iat: number): void {
  if (exp - iat > MAX_ID_TOKEN_LIFETIME) {
    fail('exp', "the id_token's exp is too far in the future: more than 24 hours after its iat");
  }
}

/** `sub` is a non-empty string of at most 255 characters (Core §2). */
function checkSubject(sub: unknown): string {
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 255) {
    fail('sub', "the id_token's sub is not a non-empty string");
  }
  return sub;
}

/** `hd` equals the configured Google Workspace domain; consumer accounts have none. */
function checkHostedDomain(hd: unknown, hostedDomain: string): void {
  if (hd !== hostedDomain) fail('hd', "the id_token's hd is not the accepted hosted domain");
}

/** `nonce` is present, so the token is bound to a sign-in this server started (§3.1.3.7 11.). */
function checkNonce(nonce: unknown): string {
  if (typeof nonce !== 'string' || nonce.length === 0) fail('nonce', 'the id_token has no nonce');
  return nonce;
}

/**
 * The claims with Apple's string booleans (`"true"`/`"false"`) made booleans; everything else as
 * sent.
 *
 * @internal
 */
export function normalizeClaims(
  claims: Record<string, unknown>,
): Readonly<Record<string, unknown>> {
  const normalized: Record<string, unknown> = Object.create(null);
  for (const [name, value] of Object.entries(claims)) {
    normalized[name] =
      STRING_BOOLEAN_CLAIMS.has(name) && (value === 'true' || value === 'false')
        ? value === 'true'
        : value;
  }
  return normalized;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
