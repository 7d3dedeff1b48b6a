import { domainToUnicode } from 'node:url';
import fastUri, { type URIComponent } from 'fast-uri';
import { RegistrationPolicyError } from '../core/errors.js';
import type { AttestAuthMethod, InstanceAuthMethod } from '../core/template-types.js';

/** What the built-in rules need to know. @internal */
export interface InstanceRuleSettings {
  /** Scopes an instance may register for. */
  allowedScopes: readonly string[];
  /** Allowed token endpoint auth methods; the first is the default. */
  authMethods: readonly (InstanceAuthMethod | AttestAuthMethod)[];
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

const isAscii = (value: string) => [...value].every((c) => c <= '\x7f');
// The characters RFC 3986 allows in a URI (§2: unreserved, reserved and '%'), all ASCII.
const NOT_URI_CHARACTER = /[^A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]/;
const DEFAULT_PORTS: Readonly<Record<string, string>> = { 'http:': '80', 'https:': '443' };
// RFC 8252 §7.3: a loopback redirect is exactly http://127.0.0.1[:port]/… or http://[::1][:port]/….
const LOOPBACK_REDIRECT = /^http:\/\/(?:127\.0\.0\.1|\[::1\])(?::[0-9]+)?\//;
// RFC 3986 parse options: unicodeSupport keeps the host as written (no IDNA, no IPv4 rewriting).
const AS_WRITTEN = { unicodeSupport: true } as const;

/** The host and port exactly as written in `uri`, for a URI whose parse found an authority. */
function writtenAuthority(uri: string, rfc: URIComponent) {
  const rest = uri.slice(String(rfc.scheme).length + '://'.length);
  const end = rest.startsWith('[') ? rest.indexOf(']') + 1 : rest.search(/[:/?#]|$/);
  const host = rest.slice(0, end);
  const port = /^:([0-9]*)/.exec(rest.slice(end))?.[1];
  return { host, port };
}

/**
 * Where the RFC 3986 reading of `uri` (fast-uri) and the browsers' reading (WHATWG URL) part:
 * the host as written against the host a browser goes to, then port, path and query. Both
 * sides go through the same RFC 3986 §6.2.2 normalisation (percent-encoding case, unreserved
 * characters), so only differences in meaning remain.
 */
function parsesDisagree(uri: string, rfc: URIComponent, url: URL): string | undefined {
  const browser = fastUri.parse(url.href, AS_WRITTEN);
  const special = url.protocol in DEFAULT_PORTS;
  if (browser.error || rfc.scheme !== browser.scheme) {
    return `is read differently by RFC 3986 and by browsers (WHATWG URL: '${url.href}')`;
  }
  if ((rfc.host === undefined) !== (browser.host === undefined)) {
    return `is read differently by RFC 3986 and by browsers (WHATWG URL: '${url.href}')`;
  }
  if (rfc.host !== undefined) {
    const written = writtenAuthority(uri, rfc);
    if (written.host.includes('%')) {
      return `must not percent-encode its host: browsers read '${written.host}' as '${url.hostname}'`;
    }
    if (
      written.host.toLowerCase() !== url.hostname.toLowerCase() ||
      String(rfc.host).toLowerCase() !== String(browser.host).toLowerCase()
    ) {
      if (/^[0-9.]+$/.test(url.hostname)) {
        return `has the non-canonical IP address '${written.host}', which browsers read as ${url.hostname}: write IPv4 addresses as four decimal numbers without leading zeros`;
      }
      if (url.hostname.startsWith('[')) {
        return `has the IPv6 address '${written.host}' in a form browsers rewrite to ${url.hostname}: write it in that form (RFC 5952)`;
      }
      return `has the host '${written.host}', which browsers read as '${url.hostname}'`;
    }
    if (written.port !== undefined) {
      if (!/^(?:0|[1-9][0-9]*)$/.test(written.port)) {
        return `has the port '${written.port}': write a port as a decimal number without leading zeros, or leave out the ':'`;
      }
      const port = url.port || DEFAULT_PORTS[url.protocol];
      if (Number(written.port) !== Number(port)) {
        return `has the port '${written.port}', which browsers read as ${port ?? 'no port'}`;
      }
    }
  }
  // RFC 3986 §6.2.3: in http(s) URIs an empty path is the same as '/'.
  const path = (component: URIComponent) =>
    special && !component.path ? '/' : (component.path ?? '');
  if (path(rfc) !== path(browser)) {
    return `has the path '${path(rfc)}', which browsers read as '${url.pathname}': leave out dot segments (RFC 3986 §5.2.4)`;
  }
  if (rfc.query !== browser.query) {
    return `has a query that browsers read differently ('${url.search}')`;
  }
  return undefined;
}

/**
 * The URI with its internationalised host in ASCII (punycode, RFC 5890 A-labels), when `uri` is
 * an http(s) URI whose only non-ASCII characters are in its host and that host is exactly the
 * Unicode form of the ASCII one, ignoring case. A host that IDNA mapping changes further
 * (fullwidth letters, ideographic full stops, decomposed characters) has no exact ASCII form:
 * the reason instead. `undefined` when the non-ASCII characters are not (only) in such a host.
 */
function asciiHostForm(uri: string): { uri: string } | { problem: string } | undefined {
  const url = URL.parse(uri);
  if (!url || !(url.protocol in DEFAULT_PORTS) || url.username || url.password) return undefined;
  const rfc = fastUri.parse(uri, AS_WRITTEN);
  if (rfc.error || rfc.scheme === undefined || rfc.host === undefined) return undefined;
  if (rfc.userinfo !== undefined || !uri.slice(rfc.scheme.length).startsWith('://')) {
    return undefined;
  }
  const { host } = writtenAuthority(uri, rfc);
  if (host.includes('%') || host.startsWith('[')) return undefined;
  const start = rfc.scheme.length + '://'.length;
  const rewritten = uri.slice(0, start) + url.hostname + uri.slice(start + host.length);
  if (!isAscii(rewritten) || URL.parse(rewritten)?.href !== url.href) return undefined;
  if (domainToUnicode(url.hostname) !== host.toLowerCase()) {
    return {
      problem: `has the host '${host}', which IDNA mapping (UTS #46) changes to '${url.hostname}': write the host in that ASCII form`,
    };
  }
  return { uri: rewritten };
}

/**
 * The form of a redirect URI the server stores and matches: an internationalised host in
 * http(s) is rewritten to its ASCII (punycode) form when that form is exact (RFC 7591 §2 lets
 * the server replace metadata values, and the response shows what it stored); anything else is
 * returned as given, for {@link redirectUriProblem} to judge.
 *
 * @internal
 */
export function normalizedRedirectUri(uri: string): string {
  if (isAscii(uri)) return uri;
  const ascii = asciiHostForm(uri);
  return ascii && 'uri' in ascii ? ascii.uri : uri;
}

/**
 * Checks one redirect URI against RFC 8252 §7 (native apps) and RFC 9700 §4.1.1 (exact
 * matching): a private-use scheme in reverse-domain form, a loopback IP literal over `http`
 * with any port (exactly `http://127.0.0.1[:port]/…` or `http://[::1][:port]/…`, RFC 8252
 * §7.3), or a claimed `https` URL; never a fragment or a wildcard. It must say what it means:
 * no userinfo (RFC 3986 §3.2.1, §7.6), no backslashes, only ASCII characters RFC 3986 allows,
 * an IP address in its canonical form, and RFC 3986 and the browsers' WHATWG URL parser must
 * read the same scheme, host, port, path and query. An internationalised host must be in its
 * ASCII form ({@link normalizedRedirectUri} gives it for registrations).
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
  if (uri.includes('\\')) {
    return "must not contain backslashes: RFC 3986 does not allow them, and browsers read them as '/'";
  }
  if (!isAscii(uri)) {
    const ascii = asciiHostForm(uri);
    if (ascii && 'problem' in ascii) return ascii.problem;
    return ascii && redirectUriProblem(ascii.uri) === undefined
      ? `must have its host in ASCII (punycode) form: '${ascii.uri}'`
      : 'must be ASCII (RFC 3986 §2): percent-encode other characters, and write an internationalised host in its ASCII (punycode) form';
  }
  const character = NOT_URI_CHARACTER.exec(uri)?.[0];
  if (character) {
    return `must only contain characters RFC 3986 allows (§2): percent-encode '${character}'`;
  }
  const url = URL.parse(uri);
  if (url && DANGEROUS_SCHEMES.has(url.protocol)) return `must not use the ${url.protocol} scheme`;
  const rfc = fastUri.parse(uri, AS_WRITTEN);
  if (rfc.error) return `is not a valid URI (RFC 3986): ${rfc.error}`;
  if (rfc.scheme === undefined) return 'must be an absolute URI';
  if (!url) return 'is not a URL browsers can parse (WHATWG URL)';
  if (rfc.userinfo !== undefined || url.username || url.password) {
    return "must not contain userinfo (a name or password and '@' before the host): browsers go to the host after the '@' (RFC 3986 §3.2.1, §7.6)";
  }
  const brackets = uri.match(/[[\]]/g)?.length ?? 0;
  if (brackets > 0 && !(brackets === 2 && url.hostname.startsWith('['))) {
    return "must not contain '[' or ']' outside an IPv6 host (RFC 3986 §3.2.2)";
  }
  const disagreement = parsesDisagree(uri, rfc, url);
  if (disagreement) return disagreement;
  if (url.protocol === 'https:') {
    return url.hostname ? undefined : 'must name a host';
  }
  if (url.protocol === 'http:') {
    // RFC 8252 §7.3 and §8.3: loopback IP literals only; "localhost" may resolve elsewhere.
    if (url.hostname !== '127.0.0.1' && url.hostname !== '[::1]') {
      return 'may use http only for the loopback addresses 127.0.0.1 and [::1] (RFC 8252 §7.3)';
    }
    return LOOPBACK_REDIRECT.test(uri)
      ? undefined
      : 'must be exactly http://127.0.0.1[:port]/… or http://[::1][:port]/… as a loopback redirect (RFC 8252 §7.3)';
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

function checkAuthMethod(metadata: Record<string, unknown>, settings: InstanceRuleSettings) {
  const method = metadata.token_endpoint_auth_method ?? settings.authMethods[0];
  if (typeof method !== 'string' || !settings.authMethods.includes(method as InstanceAuthMethod)) {
    reject('token_endpoint_auth_method', `must be one of ${settings.authMethods.join(', ')}`);
  }
  metadata.token_endpoint_auth_method = method;

  if (KEY_BOUND_AUTH_METHODS.has(method as string)) {
    const jwks = metadata.jwks as { keys?: unknown } | undefined;
    if (!jwks || !Array.isArray(jwks.keys) || jwks.keys.length === 0) {
      reject('jwks', 'must hold the public key(s) the instance signs its client assertions with');
    }
    for (const key of jwks.keys as unknown[]) {
      const jwk = key as Record<string, unknown> | null;
      if (!isObject(jwk) || typeof jwk.kty !== 'string' || !PUBLIC_KEY_TYPES.has(jwk.kty)) {
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
  checkMetadataTypes(metadata);
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
