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
