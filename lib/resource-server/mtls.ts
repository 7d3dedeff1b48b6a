import { createHash, X509Certificate } from 'node:crypto';
import { TokenVerificationError } from './errors.js';

const refuse = (description: string, cause?: unknown) =>
  new TokenVerificationError(
    { error: 'invalid_token', description },
    cause === undefined ? undefined : { cause },
  );

/**
 * The SHA-256 thumbprint (base64url, RFC 8705 §3.1) of a PEM certificate, or of a URL-encoded
 * PEM as proxies pass it in a header.
 *
 * @internal
 */
export function certificateThumbprint(pem: string): string {
  // A hand-built request may carry anything here; only a string can be a PEM.
  if (typeof pem !== 'string') throw refuse('the client certificate is malformed');
  let text = pem;
  if (text.includes('%')) {
    try {
      text = decodeURIComponent(text);
    } catch (cause) {
      throw refuse('the client certificate is malformed', cause);
    }
  }
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(text);
  } catch (cause) {
    throw refuse('the client certificate is malformed', cause);
  }
  return createHash('sha256').update(certificate.raw).digest('base64url');
}

/**
 * Checks that the request presents the certificate a token is bound to (RFC 8705 §3): the one
 * in the trusted proxy header when configured, otherwise the one TLS gave this process.
 *
 * @param presented - the header's values, or the TLS certificate (PEM), or nothing.
 * @throws TokenVerificationError `invalid_token` when no certificate, several, or another one
 *   is presented.
 * @internal
 */
export function verifyCertificateBinding(presented: string[], x5tS256: string): void {
  if (presented.length === 0) {
    throw refuse('the token is bound to a client certificate and the request presents none');
  }
  if (presented.length > 1) throw refuse('the request presents more than one client certificate');
  if (certificateThumbprint(presented[0] as string) !== x5tS256) {
    throw refuse('the token is bound to another client certificate');
  }
}
