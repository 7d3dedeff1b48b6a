import type { Context } from 'koa';
import { MobileOidcProviderError } from '../core/errors.js';

/**
 * A request the library refuses: the status, the OAuth error code and a description for the
 * client (no secrets). `bare` marks a request that sent no credentials at all: RFC 6750 §3.1
 * then wants a challenge without an error code. `retryAfterSeconds` goes out as `Retry-After`.
 * The one refusal type of the library's endpoints and registration pipeline.
 *
 * `code` is the OAuth error code unless a subclass names the refusal more finely (the reason its
 * event reports); `error` is what goes on the wire either way.
 *
 * @internal
 */
export class HttpProblem extends MobileOidcProviderError {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
    readonly bare = false,
    readonly retryAfterSeconds?: number,
    code: string = error,
  ) {
    super(code, description);
  }
}

const quoted = (value: string) => value.replaceAll('\\', '\\\\').replaceAll('"', '\\"');

/** Answers with a JSON body that no cache keeps (tokens and device data are never cacheable). @internal */
export function sendJson(ctx: Context, status: number, body: unknown): void {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  ctx.body = body;
}

/**
 * Answers with an OAuth-style error body; a 401 or 403 also gets its `WWW-Authenticate: Bearer`
 * challenge (RFC 6750 §3), bare when the request sent no credentials.
 *
 * @internal
 */
export function sendProblem(ctx: Context, realm: string, problem: HttpProblem): void {
  if (problem.retryAfterSeconds !== undefined) {
    ctx.set('Retry-After', String(problem.retryAfterSeconds));
  }
  if (problem.status === 401 || problem.status === 403) {
    const detail = problem.bare
      ? ''
      : `, error="${problem.error}", error_description="${quoted(problem.description)}"`;
    ctx.set('WWW-Authenticate', `Bearer realm="${quoted(realm)}"${detail}`);
  }
  sendJson(ctx, problem.status, { error: problem.error, error_description: problem.description });
}

/**
 * A request over its rate limit: `429` (RFC 6585 §4) with `Retry-After` and RFC 6749's "try
 * again later" code; `what` names what was limited, e.g. `registration attempts`.
 *
 * @internal
 */
export const tooManyAttempts = (retryAfterSeconds: number, what: string): HttpProblem =>
  new HttpProblem(
    429,
    'temporarily_unavailable',
    `too many ${what}, try again in ${retryAfterSeconds} seconds`,
    false,
    retryAfterSeconds,
  );

/**
 * The bearer token of `Authorization: Bearer <token>` (RFC 6750 §2.1), or `undefined` when the
 * request has no `Authorization` header and `missing` is `undefined`.
 *
 * @param missing - builds what to refuse a request without the header with (a bare challenge).
 * @param malformed - builds what to refuse any other scheme or shape with.
 * @internal
 */
export function bearerToken(
  ctx: Context,
  missing: () => HttpProblem,
  malformed: () => HttpProblem,
): string;
export function bearerToken(
  ctx: Context,
  missing: (() => HttpProblem) | undefined,
  malformed: () => HttpProblem,
): string | undefined;
export function bearerToken(
  ctx: Context,
  missing: (() => HttpProblem) | undefined,
  malformed: () => HttpProblem,
): string | undefined {
  const header = ctx.get('Authorization');
  if (!header) {
    if (missing) throw missing();
    return undefined;
  }
  const [scheme, value, ...rest] = header.split(' ');
  if (rest.length > 0 || !value || scheme?.toLowerCase() !== 'bearer') throw malformed();
  return value;
}
