import type { Context, Middleware, Next } from 'koa';
// oidc-provider runs these steps on its token endpoint but exports them from no public module and
// has no hook to add an endpoint to its router; it has no exports map, so the modules are
// reachable (types in oidc-provider-internals.d.ts). This is the one place that imports them, for
// an endpoint of the library that authenticates its client "as at the token endpoint":
// test/provider/token-endpoint-steps.test.ts fails if an upgrade moves or reshapes them.
// Named imports, so a step an upgrade renames fails when the module loads, not on a request.
import als from 'oidc-provider/lib/helpers/als.js';
import upstreamAssembleParams from 'oidc-provider/lib/shared/assemble_params.js';
import clientAuth, { getClientAuthParams } from 'oidc-provider/lib/shared/client_auth.js';
import { urlencoded } from 'oidc-provider/lib/shared/selective_body.js';

/**
 * Reads a `POST`'s `application/x-www-form-urlencoded` body into `ctx.oidc.body` as the token
 * endpoint does (at most 56 KiB; a repeated parameter becomes an array); another content type,
 * or a body it cannot read, is `invalid_request`. Needs `ctx.oidc`.
 *
 * @internal
 */
export const parseFormBody: Middleware = urlencoded;

/**
 * Sets `ctx.oidc.params` to the members of `ctx.oidc.body` named in `allowList` (each other name
 * reads `undefined`), then calls `next`.
 *
 * @internal
 */
export const assembleParams: (
  allowList: ReadonlySet<string>,
  ctx: Context,
  next: Next,
) => Promise<unknown> = upstreamAssembleParams;

/**
 * The parameters the provider's client authentication methods read (`client_id`, and
 * `client_secret` or `client_assertion` with its type as configured), to add to an endpoint's
 * own for {@link assembleParams}. Needs `ctx.oidc`.
 *
 * @internal
 */
export const clientAuthParams: (ctx: Context) => Set<string> = getClientAuthParams;

/**
 * The token endpoint's client authentication, in order: repeated authentication parameters
 * refused, `WWW-Authenticate` on a 401 of a request with an `Authorization` header, then the
 * client's registered method (secrets, JWT assertions, mTLS, attestation-based), which sets
 * `ctx.oidc.client`. Needs `ctx.oidc.params` ({@link assembleParams}).
 *
 * @internal
 */
export const clientAuthentication: readonly Middleware[] = clientAuth;

/**
 * Runs `run` with `ctx` as oidc-provider's current request (`Provider.ctx`), which its models and
 * the library's adapter read, as its router does for its own routes.
 *
 * @internal
 */
export function inRequestContext<T>(ctx: unknown, run: () => T): T {
  return als.run(ctx, run);
}
