import type Provider from 'oidc-provider';
import internalState from 'oidc-provider/lib/helpers/weak_cache.js';

/**
 * The parts of oidc-provider's resolved `features` configuration the library reads at run time.
 * oidc-provider keeps them on its internal per-provider state (not exported); this is the one
 * place that reaches for them. test/provider/resolved-features.test.ts fails if an upgrade moves
 * or reshapes them.
 *
 * @internal
 */
export interface ResolvedFeatures {
  pushedAuthorizationRequests: { enabled: boolean };
  resourceIndicators: {
    getResourceServerInfo(
      ctx: unknown,
      resource: string,
      client: unknown,
    ): Promise<{ scope?: string }>;
  };
}

/** `provider`'s resolved features (see {@link ResolvedFeatures}). @internal */
export function resolvedFeatures(provider: Provider): ResolvedFeatures {
  const state = internalState(provider) as unknown as {
    configuration?: { features?: ResolvedFeatures };
  };
  const features = state?.configuration?.features;
  if (!features)
    throw new Error('oidc-provider no longer keeps its features where the library expects');
  return features;
}
