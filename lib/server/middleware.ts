import Cookies from 'cookies';
import type { Middleware } from 'koa';
import compose from 'koa-compose';
import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';
import { INSTANCE_FIELD, instanceRecord } from '../registration/instance-policy.js';

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
 * Catches what escapes the library's own middleware (oidc-provider renders its own errors) and
 * answers with an OAuth-style JSON error instead of Koa's plain-text 500 — never a stack trace.
 * The error still reaches oidc-provider's `server_error` listeners for logging.
 *
 * @internal
 */
export function jsonErrors(provider: Provider): Middleware {
  return async function jsonErrorBoundary(ctx, next) {
    try {
      await next();
    } catch (error) {
      ctx.set('Cache-Control', 'no-store');
      // Protocol errors meant for the client (e.g. 503 when storage is down) keep their code.
      if (error instanceof errors.OIDCProviderError && error.expose) {
        ctx.status = error.statusCode;
        ctx.body = { error: error.error, error_description: error.error_description };
        return;
      }
      provider.emit('server_error', ctx, error);
      ctx.status = 500;
      ctx.body = { error: 'server_error', error_description: 'oops! something went wrong' };
    }
  };
}

/**
 * Shapes registration responses (RFC 7591 §3.2.1, RFC 7592 §2.1, 2.2): the private instance
 * record stays in the client record, and the app sees only its assurance level, as `cal`.
 *
 * @internal
 */
export function presentRegistrationResponses(registrationPath: string): Middleware {
  const prefix = registrationPath.toLowerCase();
  return async function presentInstanceRecord(ctx, next) {
    await next();
    const body: unknown = ctx.body;
    if (
      ctx.path.toLowerCase().startsWith(prefix) &&
      typeof body === 'object' &&
      body !== null &&
      INSTANCE_FIELD in body
    ) {
      const fields = body as Record<string, unknown>;
      fields.cal = instanceRecord(fields)?.cal ?? 'none';
      delete fields[INSTANCE_FIELD];
    }
  };
}
