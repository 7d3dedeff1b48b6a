import Cookies from 'cookies';
import type { Context, Middleware } from 'koa';
import compose from 'koa-compose';
import type Provider from 'oidc-provider';
import { INSTANCE_FIELD, instanceRecord } from '../core/instance-record.js';
import { protocolFailure, serverError } from './bridge.js';
import type { RequestIds } from './logging.js';
import type { RefreshRotation } from './refresh-rotation.js';

/**
 * The provider's middleware, to run inside another Koa app. The host app's context is reused,
 * but oidc-provider signs its cookies with its own keys, so while a request is inside the
 * provider `ctx.cookies` uses the provider's keys; requests it passes on get the host's back.
 *
 * @internal
 */
export function embeddedProvider(provider: Provider): Middleware {
  const run = compose(provider.middleware as Middleware[]);
  return async function mobileOidcProvider(ctx, next) {
    const hostCookies = ctx.cookies;
    ctx.cookies = new Cookies(ctx.req, ctx.res, { keys: provider.keys, secure: ctx.secure });
    try {
      await run(ctx, async () => {
        ctx.cookies = hostCookies;
        await next();
      });
    } finally {
      ctx.cookies = hostCookies;
    }
  };
}

/**
 * Answers what escaped the library's own middleware (oidc-provider renders its own errors) with an
 * OAuth-style JSON error instead of Koa's plain-text 500 — never a stack trace. The error still
 * reaches oidc-provider's `server_error` listeners for logging.
 */
function answerJsonError(provider: Provider, ctx: Context, error: unknown): void {
  ctx.set('Cache-Control', 'no-store');
  // Protocol errors meant for the client (e.g. 503 when storage is down) keep their code.
  const failure = protocolFailure(error);
  if (!failure) provider.emit('server_error', ctx, error);
  ({ status: ctx.status, body: ctx.body } = failure ?? serverError());
}

const RECORD_AS_JSON = `"${INSTANCE_FIELD}":`;
// Bounded like the bodies oidc-provider writes; anything deeper is treated as a leak.
const MAX_DEPTH = 32;

/** Whether a response body carries the private instance record anywhere. */
function carriesInstanceRecord(value: unknown, depth = 0): boolean {
  // In text, the record as JSON: its name alone is no leak (an error may name a field sent).
  if (typeof value === 'string' || Buffer.isBuffer(value)) return value.includes(RECORD_AS_JSON);
  if (typeof value !== 'object' || value === null) return false;
  if (depth > MAX_DEPTH) return true;
  if (!Array.isArray(value) && Object.hasOwn(value, INSTANCE_FIELD)) return true;
  return Object.values(value).some((item) => carriesInstanceRecord(item, depth + 1));
}

/**
 * Keeps the private instance record on the server: a client metadata response (RFC 7591 §3.2.1,
 * RFC 7592 §2.1, 2.2) shows the app only its assurance level, as `cal`, and any other response
 * that would still carry the record, in whatever shape, is replaced by a 500 (fail closed).
 * The one place the record is stripped, whichever endpoint wrote it.
 */
function keepInstanceRecordPrivate(provider: Provider, ctx: Context): void {
  const body: unknown = ctx.body;
  // Streams (static files) never carry it; metadata responses are plain objects.
  if (typeof body === 'object' && body !== null && 'pipe' in body) return;
  if (typeof body === 'object' && body !== null && Object.hasOwn(body, INSTANCE_FIELD)) {
    const fields = body as Record<string, unknown>;
    fields.cal = instanceRecord(fields)?.cal ?? 'none';
    delete fields[INSTANCE_FIELD];
  }
  if (!carriesInstanceRecord(ctx.body)) return;
  provider.emit('server_error', ctx, new Error('a response carried the private instance record'));
  ctx.set('Cache-Control', 'no-store');
  ({ status: ctx.status, body: ctx.body } = serverError());
}

/**
 * The engine's own layer around every request, as one middleware rather than four (each async
 * layer costs every request its promises): the request id first; then, after the features and
 * oidc-provider, private instance records kept private, a held-back refresh rotation completed
 * before the answer leaves, and whatever escaped answered as a JSON error.
 *
 * @internal
 */
export function engineBoundary(
  provider: Provider,
  requestIds: RequestIds,
  rotation: RefreshRotation,
): Middleware {
  return async function engineBoundary(ctx, next) {
    requestIds.of(ctx);
    try {
      try {
        await next();
        keepInstanceRecordPrivate(provider, ctx);
      } finally {
        await rotation.completeHeld(ctx);
      }
    } catch (error) {
      answerJsonError(provider, ctx, error);
    }
  };
}
