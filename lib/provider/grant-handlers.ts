import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import internalState from 'oidc-provider/lib/helpers/weak_cache.js';

/** oidc-provider's handler of one grant type at the token endpoint. */
type GrantHandler = (ctx: KoaContextWithOIDC) => Promise<void>;

/**
 * Runs `before` ahead of oidc-provider's own handler of `grantType` at the token endpoint: the
 * request's parameters are assembled (`ctx.oidc.params`) and its client authenticated, and the
 * handler has not looked at them yet. oidc-provider has no hook there and keeps its handlers on
 * its internal per-provider state (not exported); this is the one place that reaches for them.
 * test/provider/grant-handlers.test.ts fails if an upgrade moves them. Call it once the provider
 * is built (its handlers are registered in its constructor).
 *
 * @internal
 */
export function beforeGrant(
  provider: Provider,
  grantType: string,
  before: (ctx: KoaContextWithOIDC) => void,
): void {
  const handlers = (internalState(provider) as { grantTypeHandlers?: unknown } | undefined)
    ?.grantTypeHandlers;
  const handler: unknown = handlers instanceof Map ? handlers.get(grantType) : undefined;
  if (!(handlers instanceof Map) || typeof handler !== 'function') {
    throw new Error(
      `oidc-provider no longer keeps its ${grantType} handler where the library expects`,
    );
  }
  handlers.set(grantType, async (ctx: KoaContextWithOIDC) => {
    before(ctx);
    await (handler as GrantHandler)(ctx);
  });
}
