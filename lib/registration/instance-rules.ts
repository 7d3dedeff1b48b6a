import { RegistrationPolicyError } from '../errors.js';
import type { InstanceAuthMethod } from '../options/index.js';

/** What the built-in rules need to know. @internal */
export interface InstanceRuleSettings {
  /** Scopes an instance may register for. */
  allowedScopes: readonly string[];
  /** Allowed token endpoint auth methods; the first is the default. */
  authMethods: readonly InstanceAuthMethod[];
}

/** Metadata an instance client may set; anything else it sends is rejected or ignored. */
const ALLOWED_FIELDS = new Set([
  'client_id',
  'client_id_issued_at',
  'client_secret',
  'client_secret_expires_at',
  'client_name',
  'client_uri',
  'logo_uri',
  'policy_uri',
  'tos_uri',
  'contacts',
  'application_type',
  'redirect_uris',
  'post_logout_redirect_uris',
  'grant_types',
  'response_types',
  'token_endpoint_auth_method',
  'token_endpoint_auth_signing_alg',
  'jwks',
  'scope',
  'software_id',
  'software_version',
  'id_token_signed_response_alg',
  'dpop_bound_access_tokens',
  'default_max_age',
  'require_auth_time',
]);

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
// Schemes that must never be a redirect target, whatever their spelling.
const DANGEROUS_SCHEMES = new Set([
  'javascript:',
  'data:',
  'file:',
  'vbscript:',
  'blob:',
  'about:',
]);
const PUBLIC_KEY_TYPES = new Set(['RSA', 'EC', 'OKP']);
// JWK members that only a private key has (RFC 7518 §6.2.2, §6.3.2; RFC 8037 §2).
const PRIVATE_KEY_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

function reject(field: string, problem: string): never {
  throw new RegistrationPolicyError('invalid_client_metadata', `${field} ${problem}`);
}

function stringArray(metadata: Record<string, unknown>, field: string): string[] | undefined {
  const value = metadata[field];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    reject(field, 'must be an array of strings');
  }
  return value as string[];
}

/**
 * Checks one redirect URI against RFC 8252 §7 (native apps) and RFC 9700 §4.1.1 (exact
 * matching): a private-use scheme in reverse-domain form, a loopback IP literal over `http`
 * with any port, or a claimed `https` URL; never a fragment or a wildcard.
 *
 * @returns the reason it is refused, or `undefined` when it is acceptable.
 * @internal
 */
export function redirectUriProblem(uri: string): string | undefined {
  // Stored as given, so the raw string must be clean too (the URL parser would trim it).
  if ([...uri].some((c) => c <= ' ' || c === '\x7f'))
    return 'must not contain whitespace or control characters';
  if (uri.includes('*')) return 'must not contain wildcards';
  if (uri.includes('#')) return 'must not contain a fragment (RFC 6749 §3.1.2)';
  const url = URL.parse(uri);
  if (!url) return 'must be an absolute URI';
  if (DANGEROUS_SCHEMES.has(url.protocol)) return `must not use the ${url.protocol} scheme`;
  if (url.protocol === 'https:') {
    return url.hostname ? undefined : 'must name a host';
  }
  if (url.protocol === 'http:') {
    // RFC 8252 §7.3 and §8.3: loopback IP literals only; "localhost" may resolve elsewhere.
    return url.hostname === '127.0.0.1' || url.hostname === '[::1]'
      ? undefined
      : 'may use http only for the loopback addresses 127.0.0.1 and [::1] (RFC 8252 §7.3)';
  }
  // RFC 8252 §7.1: a private-use scheme must be a reverse domain name the app controls.
  const scheme = url.protocol.slice(0, -1);
  if (!/^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+$/.test(scheme)) {
    return 'must use a reverse-domain private-use scheme such as com.example.app: (RFC 8252 §7.1), a loopback http URL or an https URL';
  }
  return undefined;
}

function checkRedirectUris(metadata: Record<string, unknown>, field: string, required: boolean) {
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
  for (const uri of uris) {
    const problem = redirectUriProblem(uri);
    if (problem) {
      throw new RegistrationPolicyError('invalid_redirect_uri', `${field} '${uri}' ${problem}`);
    }
  }
}

function checkGrantAndResponseTypes(metadata: Record<string, unknown>) {
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

function checkAuthMethod(metadata: Record<string, unknown>, settings: InstanceRuleSettings) {
  const method = metadata.token_endpoint_auth_method ?? settings.authMethods[0];
  if (typeof method !== 'string' || !settings.authMethods.includes(method as InstanceAuthMethod)) {
    reject('token_endpoint_auth_method', `must be one of ${settings.authMethods.join(', ')}`);
  }
  metadata.token_endpoint_auth_method = method;

  if (method === 'private_key_jwt') {
    const jwks = metadata.jwks as { keys?: unknown } | undefined;
    if (!jwks || !Array.isArray(jwks.keys) || jwks.keys.length === 0) {
      reject('jwks', 'must hold the public key(s) the instance signs its client assertions with');
    }
    for (const key of jwks.keys as unknown[]) {
      const jwk = key as Record<string, unknown> | null;
      if (!jwk || typeof jwk !== 'object' || !PUBLIC_KEY_TYPES.has(String(jwk.kty))) {
        reject('jwks', 'must hold only RSA, EC or OKP public keys');
      }
      if (PRIVATE_KEY_MEMBERS.some((member) => member in jwk)) {
        reject('jwks', 'must not contain private key material');
      }
    }
  } else if (metadata.jwks !== undefined) {
    reject('jwks', `is only used with private_key_jwt, not ${method}`);
  }
}

function checkScope(metadata: Record<string, unknown>, settings: InstanceRuleSettings) {
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
 * The built-in rules for instance client metadata. Fills in safe defaults and throws a
 * {@link RegistrationPolicyError} naming the first offending field.
 *
 * @internal
 */
export function applyInstanceRules(
  metadata: Record<string, unknown>,
  settings: InstanceRuleSettings,
): void {
  for (const field of Object.keys(metadata)) {
    if (FORBIDDEN_FIELDS.has(field)) reject(field, 'may not be set by instance clients');
    if (!ALLOWED_FIELDS.has(field)) delete metadata[field];
  }
  const applicationType = metadata.application_type ?? 'native';
  if (applicationType !== 'native') reject('application_type', "must be 'native'");
  metadata.application_type = applicationType;

  checkRedirectUris(metadata, 'redirect_uris', true);
  checkRedirectUris(metadata, 'post_logout_redirect_uris', false);
  checkGrantAndResponseTypes(metadata);
  checkAuthMethod(metadata, settings);
  checkScope(metadata, settings);
}
