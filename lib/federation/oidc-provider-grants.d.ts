// oidc-provider ships no types for its internal modules: the grant helpers token-exchange.ts uses.

declare module 'oidc-provider/lib/helpers/grants.js' {
  import type Provider from 'oidc-provider';
  import type { KoaContextWithOIDC } from 'oidc-provider';

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
  export function checkMtlsCert(provider: Provider, ctx: KoaContextWithOIDC): string | undefined;
  export function applyRefreshTokenBindings(
    provider: Provider,
    ctx: KoaContextWithOIDC,
    at: unknown,
    rt: unknown,
  ): Promise<void>;
}
