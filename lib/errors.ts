/**
 * Thrown by `createAuthServer` when its options are invalid. The message names every offending
 * option path, e.g. `options.registration.dcrToken.ttl must be a positive integer`.
 *
 * @group Errors
 */
export class ConfigurationError extends Error {
  /** A stable code for programmatic handling. */
  readonly code = 'invalid_configuration';
  /** One message per problem, each starting with the option path. */
  readonly problems: readonly string[];

  /** @param problems - one message per problem, each naming the option path. */
  constructor(problems: readonly string[]) {
    super(`invalid mobile-oidc-provider options: ${problems.join('; ')}`);
    this.name = 'ConfigurationError';
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
export class RegistrationPolicyError extends Error {
  /** The RFC 7591 error code sent to the client. */
  readonly code: RegistrationErrorCode;

  /**
   * @param code - the RFC 7591 error code.
   * @param description - sent to the client as `error_description`: say what to fix, no secrets.
   */
  constructor(code: RegistrationErrorCode, description: string) {
    super(description);
    this.name = 'RegistrationPolicyError';
    this.code = code;
  }
}
