import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The CSRF token of one interaction: an HMAC of its uid. The interaction cookie already binds
 * the browser to the interaction; the token is defence in depth against cross-site posts.
 *
 * @internal
 */
export function csrfToken(secret: string, uid: string): string {
  return createHmac('sha256', secret).update(`csrf:${uid}`).digest('base64url');
}

/** Compares a submitted CSRF token in constant time. @internal */
export function csrfValid(secret: string, uid: string, submitted: string | null): boolean {
  if (!submitted) return false;
  const expected = Buffer.from(csrfToken(secret, uid));
  const actual = Buffer.from(submitted);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
