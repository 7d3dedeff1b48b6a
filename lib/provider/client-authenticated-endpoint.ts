// The library's own endpoints that authenticate their client "as at the token endpoint" (the
// Authorization Challenge Endpoint, draft-ietf-oauth-first-party-apps §5.1; the install's phone
// approvals): oidc-provider has no hook to add an endpoint to its router, so this runs the token
// endpoint's own steps (body parsing, parameter assembly, client authentication: secrets,
// private_key_jwt, mTLS, attestation-based) on the library's route, through token-endpoint-steps.ts.
import type { Context, Middleware } from 'koa';
import compose from 'koa-compose';
import type { KoaContextWithOIDC, default as Provider } from 'oidc-provider';
import { errors } from 'oidc-provider';
import { findUnsafeKey } from '../http/prototype-safety.js';
import {
  assembleParams,
  clientAuthentication,
  clientAuthParams,
  inRequestContext,
  parseFormBody,
} from './token-endpoint-steps.js';

/**
 * The library's endpoints that authenticate their client as the token endpoint does, by the
 * route name their request context carries. @internal
 */
export const CLIENT_AUTHENTICATED_ROUTES = Object.freeze({
  authorizationChallenge: 'authorization_challenge',
  phoneApproval: 'phone_approval',
} as const);

/** One of {@link CLIENT_AUTHENTICATED_ROUTES}. @internal */
export type ClientAuthenticatedRoute =
  (typeof CLIENT_AUTHENTICATED_ROUTES)[keyof typeof CLIENT_AUTHENTICATED_ROUTES];

/** A request of such an endpoint once its client authenticated: oidc-provider's context, params read. @internal */
export type AuthenticatedRequest = KoaContextWithOIDC & {
  oidc: { params: Record<string, string | undefined> };
};

/**
 * Refuses a body that repeats a parameter or names a prototype key, before anything else reads
 * it: every parameter of this endpoint is single-valued.
 */
const refuseAmbiguousBody: Middleware = (ctx, next) => {
  const body = (ctx as unknown as KoaContextWithOIDC).oidc.body as Record<string, unknown>;
  const unsafe = findUnsafeKey(body);
  if (unsafe) throw new errors.InvalidRequest(`parameter ${unsafe.key} is not allowed`);
  for (const [name, value] of Object.entries(body)) {
    if (Array.isArray(value)) throw new errors.InvalidRequest(`${name} must be sent once`);
  }
  return next();
};

/**
 * Serves a `POST` of an endpoint of the library as oidc-provider serves its token endpoint: a
 * form body, the parameters `params` plus the client authentication ones, and the client
 * authenticated by its registered method; then `handle`. The request context's `route` is
 * `route` (logs, metrics, the App Attest assertion check). A client assertion's `aud` may be the
 * issuer, the token endpoint or `url`. Errors are oidc-provider's, thrown for the caller to render.
 *
 * @internal
 */
export function authenticatingClient(
  provider: Provider,
  route: ClientAuthenticatedRoute,
  url: string,
  params: ReadonlySet<string>,
  handle: (ctx: AuthenticatedRequest) => Promise<void>,
): (ctx: Context) => Promise<void> {
  const chain = compose<Context>([
    parseFormBody,
    refuseAmbiguousBody,
    (ctx, next) => assembleParams(new Set([...params, ...clientAuthParams(ctx)]), ctx, next),
    ...clientAuthentication,
    (ctx) => handle(ctx as unknown as AuthenticatedRequest),
  ]);
  return (ctx) => {
    // oidc-provider's router gives each of its routes this lazy context; the name is ours.
    (ctx as unknown as { _matchedRouteName: string })._matchedRouteName = route;
    let oidc: KoaContextWithOIDC['oidc'] | undefined;
    Object.defineProperty(ctx, 'oidc', {
      configurable: true,
      get: () => {
        if (!oidc) {
          const made = new provider.OIDCContext(ctx as never) as KoaContextWithOIDC['oidc'];
          // The token endpoint's audiences, and this endpoint (its name is no router route).
          made.clientJwtAuthExpectedAudience = () =>
            new Set([provider.issuer, made.urlFor('token'), url]);
          // A DPoP proof's `htu` is checked against urlFor(route): this route is no router's.
          const urlFor = made.urlFor.bind(made);
          made.urlFor = ((name: string, ...rest: unknown[]) =>
            name === route
              ? url
              : (urlFor as (...a: unknown[]) => string)(name, ...rest)) as typeof made.urlFor;
          oidc = made;
        }
        return oidc;
      },
    });
    return inRequestContext(ctx, () => chain(ctx));
  };
}
