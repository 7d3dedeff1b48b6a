import { errors } from 'oidc-provider';

/**
 * An OAuth error that oidc-provider renders as it is (`status`, `{ error: code,
 * error_description }`) when thrown from one of its hooks, e.g. a registration policy.
 *
 * @internal
 */
export function protocolError(status: number, code: string, description: string): Error {
  const error = new errors.CustomOIDCProviderError(code, description);
  error.status = status;
  error.statusCode = status;
  return error;
}
