import type { Context, Middleware, Next } from 'koa';

/**
 * Middleware that serves the requests `match` recognises and passes every other request on
 * without an async layer of its own: each feature's endpoints sit in front of every oidc-provider
 * request, and an async function that only calls `next()` still costs each request its promises.
 *
 * @param match - what the handler needs of a request it serves (e.g. a path match), or a falsy
 *   value for one it does not.
 * @param handle - serves a recognised request.
 * @internal
 */
export function routed<M>(
  match: (ctx: Context) => M | undefined | null | false,
  handle: (ctx: Context, next: Next, matched: M) => Promise<unknown>,
): Middleware {
  return (ctx, next) => {
    const matched = match(ctx);
    return matched ? handle(ctx, next, matched) : next();
  };
}

/** The request's path as oidc-provider's router matches it: any case, one trailing slash. @internal */
export function routerPath(ctx: Context): string {
  return (ctx.path.length > 1 ? ctx.path.replace(/\/$/, '') : ctx.path).toLowerCase();
}
