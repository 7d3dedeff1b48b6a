// Metric and span attribute values: only from small fixed sets, so no token, secret, password or
// evidence can ever become a label, and no caller can grow a time series per request.
import type { Attributes } from '@opentelemetry/api';

/** The value every attribute takes for what is not in its set. @internal */
export const OTHER = 'other';

/** The grant types the token counters name; any other counts as `other`. */
const GRANT_TYPES = [
  'authorization_code',
  'refresh_token',
  'client_credentials',
  'urn:ietf:params:oauth:grant-type:device_code',
  'urn:openid:params:grant-type:ciba',
  'urn:ietf:params:oauth:grant-type:token-exchange',
  'urn:ietf:params:oauth:grant-type:jwt-bearer',
  'urn:ietf:params:oauth:grant-type:pre-authorized_code',
];

/**
 * The OAuth error codes the server answers with (RFC 6749, 6750, 7591, 8628, 8693, 8707, 9449,
 * OpenID Connect, CIBA, and the library's own).
 */
const ERROR_CODES = [
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_target',
  'invalid_dpop_proof',
  'use_dpop_nonce',
  'invalid_client_attestation',
  'use_attestation_challenge',
  'invalid_authorization_details',
  'authorization_pending',
  'slow_down',
  'access_denied',
  'expired_token',
  'unsupported_token_type',
  'temporarily_unavailable',
  'server_error',
  'invalid_token',
  'insufficient_scope',
  'insufficient_assurance',
  'invalid_client_metadata',
  'invalid_redirect_uri',
  'invalid_software_id',
  'invalid_software_statement',
  'unapproved_software_statement',
  'unsupported_response_type',
  'invalid_request_uri',
  'invalid_request_object',
  'login_required',
  'consent_required',
  'interaction_required',
];

/** Platforms evidence is from; a custom verifier's own platform counts as `other`. */
const PLATFORMS = ['ios', 'android'];

/** The assurance levels (`cal`). */
const LEVELS = ['by-policy', 'by-provisioned-key', 'none'];

/**
 * The attribute objects of one attribute, made once per value of its set and reused on every
 * measurement: no allocation per request.
 *
 * @internal
 */
export class AttributeSet {
  readonly #byValue = new Map<string, Attributes>();
  readonly #other: Attributes;

  constructor(
    readonly key: string,
    values: readonly string[],
  ) {
    for (const value of values) this.#byValue.set(value, Object.freeze({ [key]: value }));
    this.#other = Object.freeze({ [key]: OTHER });
  }

  /** The attributes of `value`: `{ [key]: value }`, or `{ [key]: 'other' }` outside the set. */
  of(value: unknown): Attributes {
    return (typeof value === 'string' && this.#byValue.get(value)) || this.#other;
  }
}

/**
 * Names made by the library's code or the app's (a refusal reason, a verifier's error code, a
 * store model) rather than by a request: kept when they look like a code, up to `max` distinct
 * ones; anything else, or any more, is `other`. A bound, not a filter: a code is never secret.
 *
 * @internal
 */
export class CodeNames {
  readonly #seen = new Set<string>();

  constructor(private readonly max = 64) {}

  /** `value` when it looks like a code and the set has room, else `other`. */
  of(value: unknown): string {
    if (typeof value !== 'string' || !/^[A-Za-z][A-Za-z0-9_.-]{0,47}$/.test(value)) return OTHER;
    if (this.#seen.has(value)) return value;
    if (this.#seen.size >= this.max) return OTHER;
    this.#seen.add(value);
    return value;
  }
}

/** A grant type's attributes, `{ grant_type }`. @internal */
export const grantTypes = new AttributeSet('grant_type', GRANT_TYPES);
/** An OAuth error's attributes, `{ error }`. @internal */
export const errorCodes = new AttributeSet('error', ERROR_CODES);

/** The platform of evidence: `ios`, `android`, or `other`. @internal */
export const platformOf = (platform: unknown): string =>
  typeof platform === 'string' && PLATFORMS.includes(platform) ? platform : OTHER;

/** The platform of a Client Attester's fresh evidence format (`attestation.issued`). @internal */
export function platformOfEvidence(evidence: unknown): string {
  if (evidence === 'apple-appattest') return 'ios';
  if (evidence === 'android-key' || evidence === 'play-integrity') return 'android';
  return evidence === 'none' ? 'none' : OTHER;
}

/** An assurance level, or `other`. @internal */
export const levelOf = (level: unknown): string =>
  typeof level === 'string' && LEVELS.includes(level) ? level : OTHER;

/** One of `allowed`, or `other`. @internal */
export const oneOf = <T extends string>(allowed: readonly T[], value: unknown): T | typeof OTHER =>
  allowed.includes(value as T) ? (value as T) : OTHER;
