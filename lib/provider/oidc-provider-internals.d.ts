// oidc-provider ships no types for its internal modules: the parts the provider layer uses.
// Imported statically (a top-level `await import()` would make the package unusable from
// `require()`); it has no exports map, so the modules are reachable.

declare module 'oidc-provider/lib/helpers/defaults.js' {
  import type { Configuration } from 'oidc-provider';

  /** oidc-provider's default configuration, hook implementations included. */
  export const defaults: {
    assertJwtClientAuthClaimsAndHeader: NonNullable<
      Configuration['assertJwtClientAuthClaimsAndHeader']
    >;
  };
}

declare module 'oidc-provider/lib/helpers/weak_cache.js' {
  import type Provider from 'oidc-provider';

  /** oidc-provider's internal per-provider state. */
  export default function get(
    provider: Provider,
  ): { dynamicClients?: unknown; grantTypeHandlers?: unknown } | undefined;
}

declare module 'oidc-provider/lib/helpers/lru.js' {
  /** The LRU oidc-provider caches built clients in. */
  export default class LRU {
    constructor(options: { maxSize: number });
  }
}

declare module 'oidc-provider/lib/helpers/grants.js' {
  import type Provider from 'oidc-provider';
  import type { KoaContextWithOIDC, MTLSGetCertificate } from 'oidc-provider';

  type DPoP = { thumbprint: string; jti: string; iat: number } | undefined;

  export function validateDpop(provider: Provider, ctx: KoaContextWithOIDC): Promise<DPoP>;
  export function checkDpopRequired(provider: Provider, ctx: KoaContextWithOIDC, dPoP: DPoP): void;
  export function checkDpopReplay(
    provider: Provider,
    ctx: KoaContextWithOIDC,
    dPoP: DPoP,
    clientId: string,
    /** The error a replay throws. @default errors.InvalidGrant */
    ErrorClass?: new (description: string) => Error,
  ): Promise<void>;
  export function checkMtlsCert(
    provider: Provider,
    ctx: KoaContextWithOIDC,
  ): ReturnType<MTLSGetCertificate>;
  export function applyRefreshTokenBindings(
    provider: Provider,
    ctx: KoaContextWithOIDC,
    at: unknown,
    rt: unknown,
  ): Promise<void>;
}

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

declare module 'oidc-provider/lib/helpers/challenge.js' {
  /** oidc-provider's stateless challenge generator: HMAC of the time step under `secret`, `info`. */
  export default class ServerChallenge {
    constructor(secret: Buffer, info: string);
    nextChallenge(): string;
  }
}
