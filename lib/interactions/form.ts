import type { IncomingMessage } from 'node:http';
import { MobileOidcProviderError } from '../core/errors.js';

/** Largest sign-in form body accepted; a username and a password fit in far less. */
const MAX_FORM_BYTES = 16 * 1024;

/** Thrown when a form body is larger than {@link MAX_FORM_BYTES}. @internal */
export class FormTooLarge extends MobileOidcProviderError {
  declare readonly code: 'form_too_large';

  constructor(message: string) {
    super('form_too_large', message);
  }
}

/**
 * Reads an `application/x-www-form-urlencoded` body with a size limit. oidc-provider parses its
 * own endpoints' bodies; the sign-in pages are ours, so they read theirs here.
 *
 * @internal
 */
export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = req.headers['content-type'] ?? '';
  if (!type.toLowerCase().startsWith('application/x-www-form-urlencoded'))
    return new URLSearchParams();
  // A declared length over the limit is refused before reading a byte.
  if (Number(req.headers['content-length'] ?? 0) > MAX_FORM_BYTES)
    throw new FormTooLarge('form body too large');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<unknown>) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_FORM_BYTES) throw new FormTooLarge('form body too large');
    chunks.push(buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
