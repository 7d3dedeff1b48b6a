import { TokenVerificationError } from './errors.js';
import type { ProtectedResourceRequest } from './types.js';

// RFC 6750 §2.1 and RFC 9449 §7.1: the credentials are a token68.
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

// RFC 9110 §11.1: scheme names are case-insensitive.
const SCHEMES: ReadonlyMap<string, PresentedToken['scheme']> = new Map([
  ['bearer', 'Bearer'],
  ['dpop', 'DPoP'],
]);

/**
 * Every value of the header `name` (any case), arrays flattened: `[]` when absent.
 *
 * @param refuse - the refusal for a value that is not a string (`null`, a number, an object),
 *   which a framework never produces but a hand-built request may.
 * @throws what `refuse` makes, rather than a `TypeError` further on.
 * @internal
 */
export function headerValues(
  headers: ProtectedResourceRequest['headers'],
  name: string,
  refuse: (description: string) => TokenVerificationError,
): string[] {
  const values: string[] = [];
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name || value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) {
      if (typeof item !== 'string') throw refuse(`the ${name} header is not a string`);
      values.push(item);
    }
  }
  return values;
}

const malformed = (description: string) =>
  new TokenVerificationError({ error: 'invalid_request', description });

/** The access token of a request and the scheme it came with. @internal */
export interface PresentedToken {
  scheme: 'Bearer' | 'DPoP';
  token: string;
}

/**
 * The token in the `Authorization` header (RFC 6750 §2.1, RFC 9449 §7.1); tokens in the query
 * or body are not read (RFC 9700 §4.3.2 advises against them).
 *
 * @returns `undefined` when there is no `Authorization` header with the Bearer or DPoP scheme.
 * @throws TokenVerificationError `invalid_request` for several `Authorization` headers or
 *   malformed credentials.
 * @internal
 */
export function presentedToken(
  headers: ProtectedResourceRequest['headers'],
): PresentedToken | undefined {
  const values = headerValues(headers, 'authorization', malformed);
  if (values.length === 0) return undefined;
  if (values.length > 1) throw malformed('the request has more than one Authorization header');
  const [schemeName = '', ...rest] = (values[0] as string).trim().split(/ +/);
  const scheme = SCHEMES.get(schemeName.toLowerCase());
  if (!scheme) return undefined;
  const token = rest.length === 1 ? (rest[0] as string) : '';
  if (!TOKEN68.test(token)) {
    throw new TokenVerificationError({
      error: 'invalid_request',
      description: `the ${scheme} credentials are malformed`,
      scheme,
    });
  }
  return { scheme, token };
}
