import { AttestationError } from '../../core/errors.js';

/**
 * Bytes from a digest or key given as hex, base64 or base64url (Play Console and `apksigner`
 * print different ones).
 *
 * @internal
 */
export function bytesOf(value: string, what: string): Buffer {
  const trimmed = value.trim().replaceAll(':', '');
  // A SHA-256 digest in hex is 64 hex digits; in base64 it is 43 or 44 characters.
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) {
    return Buffer.from(trimmed, 'hex');
  }
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) {
    return Buffer.from(trimmed.replaceAll('-', '+').replaceAll('_', '/'), 'base64');
  }
  throw new AttestationError('malformed', `${what} must be hex, base64 or base64url`);
}
