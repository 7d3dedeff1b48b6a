// oidc-provider ships no types for its internal modules: the request steps client-auth.ts runs on
// the Authorization Challenge Endpoint, exactly as the token endpoint runs them.

declare module 'oidc-provider/lib/helpers/als.js' {
  import type { AsyncLocalStorage } from 'node:async_hooks';

  /** The request context oidc-provider's models read (`Provider.ctx`). */
  const als: AsyncLocalStorage<unknown>;
  export default als;
}

declare module 'oidc-provider/lib/shared/selective_body.js' {
  import type { Middleware } from 'koa';

  /** Reads an `application/x-www-form-urlencoded` body into `ctx.oidc.body`. */
  export const urlencoded: Middleware;
}

declare module 'oidc-provider/lib/shared/assemble_params.js' {
  import type { Context, Next } from 'koa';

  /** Sets `ctx.oidc.params` to the allowed members of the body. */
  export default function assembleParams(
    allowList: ReadonlySet<string>,
    ctx: Context,
    next: Next,
  ): Promise<unknown>;
}

declare module 'oidc-provider/lib/shared/client_auth.js' {
  import type { Context, Middleware } from 'koa';

  /** The client authentication parameters the configured methods read. */
  export function getClientAuthParams(ctx: Context): Set<string>;
  /** The token endpoint's client authentication: duplicate check, `WWW-Authenticate`, methods. */
  const clientAuth: Middleware[];
  export default clientAuth;
}
