import { RegistrationPolicyError } from '../core/errors.js';
import type { AttestAuthMethod, InstanceAuthMethod } from '../core/template-types.js';
import { normalizedRedirectUri, redirectUriProblem } from './redirect-uris.js';

// The deployment's options check their own redirect URIs with the same judgement.
export { redirectUriProblem } from './redirect-uris.js';

/** What the built-in rules need to know. @internal */
export interface InstanceRuleSettings {
  /** Scopes an instance may register for. */
  allowedScopes: readonly string[];
  /** Allowed token endpoint auth methods; the first is the default. */
  authMethods: readonly (InstanceAuthMethod | AttestAuthMethod)[];
  /**
   * Whether an instance whose method is not key-bound may register public keys (`jwks`) all the
   * same: the key it signs phone approvals with (its template allows approvals).
   */
  approvalKey?: boolean;
}

/** The JSON type each metadata field an instance may set must have (see {@link FIELD_TYPES}). */
type FieldType = 'string' | 'strings' | 'boolean' | 'seconds' | 'timestamp' | 'jwks';

/**
 * Metadata an instance client may set, with the type each must have; anything else it sends is
 * rejected or ignored. The types are checked before anything reads the fields (RFC 7591 §2 gives
 * each one its JSON type), so a value of another type is `invalid_client_metadata` naming the
 * field, never a crash further on. `client_id`, `client_secret` and their times are set by the
 * server.
 */
const FIELD_TYPES = {
  client_id: 'string',
  client_id_issued_at: 'timestamp',
  client_secret: 'string',
  client_secret_expires_at: 'timestamp',
  client_name: 'string',
  client_uri: 'string',
  logo_uri: 'string',
  policy_uri: 'string',
  tos_uri: 'string',
  contacts: 'strings',
  application_type: 'string',
  redirect_uris: 'strings',
  post_logout_redirect_uris: 'strings',
  grant_types: 'strings',
  response_types: 'strings',
  token_endpoint_auth_method: 'string',
  token_endpoint_auth_signing_alg: 'string',
  jwks: 'jwks',
  scope: 'string',
  software_id: 'string',
  software_version: 'string',
  id_token_signed_response_alg: 'string',
  dpop_bound_access_tokens: 'boolean',
  default_max_age: 'seconds',
  require_auth_time: 'boolean',
} as const satisfies Record<string, FieldType>;

/** Metadata an instance client may set; anything else it sends is rejected or ignored. */
const ALLOWED_FIELDS: ReadonlySet<string> = new Set(Object.keys(FIELD_TYPES));

/**
 * Registration metadata the server understands but an instance may not set: each widens what a
 * per-install client can do (server-side fetches, other subjects, back-channels). Rejected by
 * name; metadata the server does not understand at all is ignored, as RFC 7591 §2 requires.
 */
const FORBIDDEN_FIELDS = new Set([
  'jwks_uri',
  'sector_identifier_uri',
  'request_uris',
  'initiate_login_uri',
  'subject_type',
  'backchannel_logout_uri',
  'backchannel_logout_session_required',
  'frontchannel_logout_uri',
  'frontchannel_logout_session_required',
  'backchannel_token_delivery_mode',
  'backchannel_client_notification_endpoint',
  'backchannel_authentication_request_signing_alg',
  'backchannel_user_code_parameter',
  'tls_client_auth_subject_dn',
  'tls_client_auth_san_dns',
  'tls_client_auth_san_uri',
  'tls_client_auth_san_ip',
  'tls_client_auth_san_email',
  'tls_client_certificate_bound_access_tokens',
  'use_mtls_endpoint_aliases',
  'require_pushed_authorization_requests',
  'require_signed_request_object',
  'request_object_signing_alg',
  'request_object_encryption_alg',
  'request_object_encryption_enc',
  'authorization_details_types',
  'introspection_endpoint_auth_method',
  'revocation_endpoint_auth_method',
  'software_statement',
]);

/**
 * Drops the server-set fields an RFC 7592 update echoes back unchanged (RFC 7592 §2.2: the
 * client sends what the read returned): repeating `subject_type: "public"` is not setting it.
 *
 * @internal
 */
export function dropEchoedServerFields(
  metadata: Record<string, unknown>,
  current: Record<string, unknown>,
): void {
  for (const field of Object.keys(metadata)) {
    if (
      FORBIDDEN_FIELDS.has(field) &&
      JSON.stringify(metadata[field]) === JSON.stringify(current[field])
    ) {
      delete metadata[field];
    }
  }
}

const GRANT_TYPES = new Set(['authorization_code', 'refresh_token']);
const PUBLIC_KEY_TYPES = new Set(['RSA', 'EC', 'OKP']);
// JWK members that only a private key has (RFC 7518 §6.2.2, §6.3.2; RFC 8037 §2).
const PRIVATE_KEY_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

function reject(field: string, problem: string): never {
  throw new RegistrationPolicyError('invalid_client_metadata', `${field} ${problem}`);
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

// JWK members that are strings (RFC 7517 §4, RFC 7518 §6) and those that are arrays of strings.
const JWK_STRING_MEMBERS = ['kty', 'use', 'alg', 'kid', 'crv', 'x', 'y', 'n', 'e', 'x5u', 'x5t'];
const JWK_STRING_ARRAY_MEMBERS = ['key_ops', 'x5c'];

function checkJwksType(jwks: unknown) {
  const shape = 'must be a JWK Set: an object whose keys member is an array of JWKs (RFC 7517 §5)';
  if (!isObject(jwks) || !Array.isArray(jwks.keys)) reject('jwks', shape);
  for (const [i, jwk] of (jwks.keys as unknown[]).entries()) {
    const at = `jwks.keys[${i}]`;
    if (!isObject(jwk)) reject(at, 'must be a JWK object (RFC 7517 §4)');
    if (typeof jwk.kty !== 'string') reject(`${at}.kty`, 'must be a string (RFC 7517 §4.1)');
    for (const member of JWK_STRING_MEMBERS) {
      if (jwk[member] !== undefined && typeof jwk[member] !== 'string') {
        reject(`${at}.${member}`, 'must be a string');
      }
    }
    for (const member of JWK_STRING_ARRAY_MEMBERS) {
      const value = jwk[member];
      if (
        value !== undefined &&
        (!Array.isArray(value) || value.some((item) => typeof item !== 'string'))
      ) {
        reject(`${at}.${member}`, 'must be an array of strings');
      }
    }
  }
}

/**
 * Checks the JSON type of every metadata field an instance may set (strings, arrays of strings,
 * booleans, whole seconds, a JWK Set), before anything reads them: a value of another type
 * (an object, a number, an array, a nested array, `null`) is refused with
 * `invalid_client_metadata` naming the field, as RFC 7591 §3.2.2 says. Fields an instance may
 * not set are left to {@link applyInstanceRules} (refused by name, or ignored).
 *
 * @internal
 */
export function checkMetadataTypes(metadata: Record<string, unknown>): void {
  for (const [field, type] of Object.entries(FIELD_TYPES)) {
    if (!Object.hasOwn(metadata, field)) continue;
    const value = metadata[field];
    if (value === undefined) continue;
    switch (type) {
      case 'string':
        if (typeof value !== 'string') reject(field, 'must be a string');
        break;
      case 'strings':
        if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
          reject(field, 'must be an array of strings');
        }
        break;
      case 'boolean':
        if (typeof value !== 'boolean') reject(field, 'must be true or false');
        break;
      case 'seconds':
        if (!Number.isSafeInteger(value) || (value as number) < 0) {
          reject(field, 'must be a whole number of seconds, zero or more');
        }
        break;
      case 'timestamp':
        if (!Number.isSafeInteger(value) || (value as number) < 0) {
          reject(field, 'must be a whole number of seconds since the epoch');
        }
        break;
      case 'jwks':
        checkJwksType(value);
        break;
    }
  }
}

function stringArray(metadata: Record<string, unknown>, field: string): string[] | undefined {
  const value = metadata[field];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    reject(field, 'must be an array of strings');
  }
  return value as string[];
}

function checkRedirectField(metadata: Record<string, unknown>, field: string, required: boolean) {
  const uris = stringArray(metadata, field);
  if (uris === undefined || uris.length === 0) {
    if (required) {
      throw new RegistrationPolicyError(
        'invalid_redirect_uri',
        `${field} must list at least one redirect URI`,
      );
    }
    return;
  }
  const normalized = uris.map(normalizedRedirectUri);
  for (const [i, uri] of uris.entries()) {
    const problem = redirectUriProblem(normalized[i] as string);
    if (problem) {
      throw new RegistrationPolicyError('invalid_redirect_uri', `${field} '${uri}' ${problem}`);
    }
  }
  // Stored (and shown in the response) in the form the server matches.
  metadata[field] = normalized;
}

/**
 * Rule: `redirect_uris` (at least one) and `post_logout_redirect_uris` each pass
 * {@link redirectUriProblem}; they are stored in the form the server matches.
 *
 * @internal
 */
export function checkRedirectUris(metadata: Record<string, unknown>): void {
  checkRedirectField(metadata, 'redirect_uris', true);
  checkRedirectField(metadata, 'post_logout_redirect_uris', false);
}

/**
 * Rule: the authorization code grant (with refresh tokens at most) and the `code` response type.
 *
 * @internal
 */
export function checkGrantAndResponseTypes(metadata: Record<string, unknown>): void {
  const grantTypes = stringArray(metadata, 'grant_types') ?? [
    'authorization_code',
    'refresh_token',
  ];
  for (const grant of grantTypes) {
    if (!GRANT_TYPES.has(grant))
      reject('grant_types', `'${grant}' is not allowed for instance clients`);
  }
  if (!grantTypes.includes('authorization_code'))
    reject('grant_types', "must include 'authorization_code'");
  metadata.grant_types = grantTypes;

  const responseTypes = stringArray(metadata, 'response_types') ?? ['code'];
  if (responseTypes.length !== 1 || responseTypes[0] !== 'code') {
    reject('response_types', "must be ['code'] (RFC 9700 §2.1.2)");
  }
  metadata.response_types = responseTypes;
}

/**
 * Methods whose instance registers its own public keys: `private_key_jwt`, and the
 * attestation-based ones (an attestation attests a registered key).
 *
 * @internal
 */
export const KEY_BOUND_AUTH_METHODS: ReadonlySet<string> = new Set([
  'private_key_jwt',
  'attest_jwt_client_auth',
  'attest_jwt_client_auth_dpop',
]);

/**
 * Rule: one of the allowed token endpoint auth methods (the first by default), and public keys
 * in `jwks` exactly when the method is key-bound (or, with `approvalKey`, when the instance
 * registers a key to sign phone approvals with).
 *
 * @internal
 */
export function checkAuthMethod(
  metadata: Record<string, unknown>,
  settings: InstanceRuleSettings,
): void {
  const method = metadata.token_endpoint_auth_method ?? settings.authMethods[0];
  if (typeof method !== 'string' || !settings.authMethods.includes(method as InstanceAuthMethod)) {
    reject('token_endpoint_auth_method', `must be one of ${settings.authMethods.join(', ')}`);
  }
  metadata.token_endpoint_auth_method = method;

  if (KEY_BOUND_AUTH_METHODS.has(method as string)) {
    checkPublicKeys(
      metadata.jwks,
      'must hold the public key(s) the instance signs its client assertions with',
    );
  } else if (metadata.jwks !== undefined && settings.approvalKey) {
    checkPublicKeys(metadata.jwks, 'must hold the public key(s) the instance signs approvals with');
  } else if (metadata.jwks !== undefined) {
    reject('jwks', `is only used with private_key_jwt, not ${method}`);
  }
}

/** Public RSA, EC or OKP keys, at least one, no private key material. */
function checkPublicKeys(value: unknown, missing: string): void {
  const jwks = value as { keys?: unknown } | undefined;
  if (!jwks || !Array.isArray(jwks.keys) || jwks.keys.length === 0) reject('jwks', missing);
  for (const key of jwks.keys as unknown[]) {
    const jwk = key as Record<string, unknown> | null;
    if (!isObject(jwk) || typeof jwk.kty !== 'string' || !PUBLIC_KEY_TYPES.has(jwk.kty)) {
      reject('jwks', 'must hold only RSA, EC or OKP public keys');
    }
    if (PRIVATE_KEY_MEMBERS.some((member) => member in jwk)) {
      reject('jwks', 'must not contain private key material');
    }
  }
}

/**
 * Rule: scopes among the deployment's allowed ones, all of them by default.
 *
 * @internal
 */
export function checkScope(
  metadata: Record<string, unknown>,
  settings: InstanceRuleSettings,
): void {
  // Own properties only: a stored instance always carries its scope explicitly.
  if (!Object.hasOwn(metadata, 'scope') || metadata.scope === undefined) {
    metadata.scope = settings.allowedScopes.join(' ');
    return;
  }
  if (typeof metadata.scope !== 'string' || metadata.scope.trim() === '') {
    reject('scope', 'must be a space-separated string of scopes');
  }
  for (const scope of (metadata.scope as string).split(' ')) {
    if (!settings.allowedScopes.includes(scope)) {
      reject('scope', `'${scope}' is not allowed for instance clients`);
    }
  }
}

/**
 * Rule: no field an instance may not set (refused by name), and none the server does not know
 * (dropped, as RFC 7591 §2 requires).
 *
 * @internal
 */
export function checkFieldNames(metadata: Record<string, unknown>): void {
  for (const field of Object.keys(metadata)) {
    if (FORBIDDEN_FIELDS.has(field)) reject(field, 'may not be set by instance clients');
    if (!ALLOWED_FIELDS.has(field)) delete metadata[field];
  }
}

/** Rule: a native app (RFC 8252), the default. @internal */
export function checkApplicationType(metadata: Record<string, unknown>): void {
  const applicationType = metadata.application_type ?? 'native';
  if (applicationType !== 'native') reject('application_type', "must be 'native'");
  metadata.application_type = applicationType;
}

/** One built-in rule: fills in its field's default or throws a {@link RegistrationPolicyError}. */
type InstanceRule = (metadata: Record<string, unknown>, settings: InstanceRuleSettings) => void;

/** The built-in rules in the order they judge, so the first offending field is named. */
const INSTANCE_RULES: readonly InstanceRule[] = [
  checkMetadataTypes,
  checkFieldNames,
  checkApplicationType,
  checkRedirectUris,
  checkGrantAndResponseTypes,
  checkAuthMethod,
  checkScope,
];

/**
 * The built-in rules for instance client metadata. Fills in safe defaults and throws a
 * {@link RegistrationPolicyError} naming the first offending field.
 *
 * @internal
 */
export function applyInstanceRules(
  metadata: Record<string, unknown>,
  settings: InstanceRuleSettings,
): void {
  for (const rule of INSTANCE_RULES) rule(metadata, settings);
}
