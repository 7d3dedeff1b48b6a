/**
 * The base of every error the library throws on purpose: `code` is a stable name for what went
 * wrong, to test in code rather than the message (as jose's `JOSEError`).
 *
 * @group Errors
 */
export class MobileOidcProviderError extends Error {
  /** A stable code naming what went wrong. */
  readonly code: string;

  /**
   * @param code - a stable code naming what went wrong.
   * @param message - a description for people: no secrets.
   * @param options - `cause`: the underlying error, kept for logs only.
   */
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * Thrown by a store adapter's `consume` when the record was already consumed (another request
 * won the race).
 *
 * @group Storage
 */
export class AlreadyConsumedError extends MobileOidcProviderError {
  /** A stable code for programmatic handling. */
  declare readonly code: 'already_consumed';

  constructor() {
    super('already_consumed', 'the record was already consumed');
  }
}

/**
 * The store failed (unreachable, timed out, erroring). The request fails closed, nothing is
 * issued, and the client gets `503 temporarily_unavailable`, from oidc-provider's endpoints and
 * the library's own alike.
 *
 * @group Errors
 */
export class StorageUnavailableError extends MobileOidcProviderError {
  /** A stable code for programmatic handling. */
  declare readonly code: 'storage_unavailable';
  /** The HTTP status the client gets. */
  readonly statusCode = 503;
  /** The OAuth error code the client gets. */
  readonly error = 'temporarily_unavailable';
  /** The description the client gets: nothing about the store. */
  readonly error_description = 'the service is temporarily unavailable, try again later';
  /** Meant for the client: rendered as it is, not hidden as a `server_error`. */
  readonly expose = true;

  /** @param cause - the store's own error, kept for logs, never sent to the client. */
  constructor(cause: unknown) {
    // The message is the OAuth error code: oidc-provider renders an exposed error's message as
    // `error` when this escapes one of its hooks.
    super('storage_unavailable', 'temporarily_unavailable', { cause });
  }
}

/**
 * Thrown by `createAuthServer` when its options are invalid. The message names every offending
 * option path, e.g. `options.registration.dcrToken.ttl must be a positive integer`.
 *
 * @group Errors
 */
export class ConfigurationError extends MobileOidcProviderError {
  /** A stable code for programmatic handling. */
  declare readonly code: 'invalid_configuration';
  /** One message per problem, each starting with the option path. */
  readonly problems: readonly string[];

  /** @param problems - one message per problem, each naming the option path. */
  constructor(problems: readonly string[]) {
    super('invalid_configuration', `invalid mobile-oidc-provider options: ${problems.join('; ')}`);
    this.problems = problems;
  }
}

/**
 * The RFC 7591 §3.2.2 error codes a registration policy may reject with, and
 * `invalid_software_id`: this library's extension code (RFC 7591 §3.2.2 allows them) for a
 * `software_id` that names no template, or a disabled one.
 *
 * @group Errors
 */
export type RegistrationErrorCode =
  | 'invalid_client_metadata'
  | 'invalid_redirect_uri'
  | 'invalid_software_statement'
  | 'invalid_software_id'
  | 'unapproved_software_statement';

/**
 * Thrown by a registration policy to reject a registration or update. The client gets
 * `400 { error: code, error_description: message }` and no client is created or changed.
 *
 * @group Errors
 */
export class RegistrationPolicyError extends MobileOidcProviderError {
  /** The RFC 7591 error code sent to the client. */
  declare readonly code: RegistrationErrorCode;

  /**
   * @param code - the RFC 7591 error code.
   * @param description - sent to the client as `error_description`: say what to fix, no secrets.
   */
  constructor(code: RegistrationErrorCode, description: string) {
    super(code, description);
  }
}

/**
 * Why a built-in verifier refused evidence: each code names the check that failed. Custom
 * verifiers and policies may use their own codes.
 *
 * Certificate path validation (RFC 5280 §6.1) of Android and App Attest chains refuses with:
 * `issuer_not_ca` (a certificate above the leaf lacks basicConstraints cA=TRUE),
 * `key_cert_sign_missing` (an issuer's keyUsage lacks keyCertSign), `path_length_exceeded` (more
 * intermediates below a CA than its pathLenConstraint, §4.2.1.9), `leaf_is_ca` (the leaf is a
 * CA certificate), `name_chaining_broken` (a certificate's issuer is not the next one's subject)
 * and `critical_extension_unknown` (a critical extension the verifier does not process, §4.2).
 * `key_description_duplicated`: an Android KeyDescription in a certificate other than the leaf.
 *
 * @group Errors
 */
export type AttestationErrorCode =
  | 'malformed'
  | 'chain_untrusted'
  | 'certificate_expired'
  | 'issuer_not_ca'
  | 'key_cert_sign_missing'
  | 'path_length_exceeded'
  | 'leaf_is_ca'
  | 'name_chaining_broken'
  | 'critical_extension_unknown'
  | 'key_description_duplicated'
  | 'challenge_mismatch'
  | 'app_id_mismatch'
  | 'key_id_mismatch'
  | 'key_mismatch'
  | 'counter_not_increasing'
  | 'revoked'
  | 'revocation_list_stale'
  | 'security_level_too_low'
  | 'boot_not_verified'
  | 'device_not_locked'
  | 'key_not_generated'
  | 'signature_invalid'
  | 'development_not_allowed'
  | 'app_not_recognized'
  | 'device_integrity_too_low'
  | 'token_too_old'
  | (string & {});

/**
 * Thrown by an evidence verifier or the attestation policy to refuse a registration. The app
 * gets `403 { error: 'invalid_client_attestation' }` (or `access_denied` for a fallback
 * registration) with `message` as `error_description`, and no client is created.
 *
 * @group Errors
 */
export class AttestationError extends MobileOidcProviderError {
  /**
   * A short, stable code naming the failed check, for logs and the `registration.rejected`
   * event's `reason`, e.g. `chain_untrusted`, `challenge_mismatch`, or a policy's own.
   */
  declare readonly code: AttestationErrorCode;

  /**
   * @param code - names the failed check.
   * @param description - sent to the app as `error_description`: no secrets, no evidence.
   * @param options - `cause`: the underlying error, kept for logs only.
   */
  constructor(code: AttestationErrorCode, description: string, options?: { cause?: unknown }) {
    super(code, description, options);
  }
}
