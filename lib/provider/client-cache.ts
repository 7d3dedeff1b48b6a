import type Provider from 'oidc-provider';
// oidc-provider keeps the clients it built from adapter records in an LRU of 100 on its internal
// per-provider state, keyed by a hash of the record. Neither the LRU nor that state is exported;
// oidc-provider has no exports map, so both modules are reachable (types in
// oidc-provider-internals.d.ts). test/provider/client-cache.test.ts fails if an upgrade moves or
// changes them.
import LRU from 'oidc-provider/lib/helpers/lru.js';
import internalState from 'oidc-provider/lib/helpers/weak_cache.js';

/**
 * Gives `provider` room for `size` built dynamic clients (instance clients). The cache stays
 * oidc-provider's own: still keyed by a hash of the record read from the store on every request,
 * so a changed, re-templated or deleted client is never served from it.
 *
 * @internal
 */
export function sizeClientCache(provider: Provider, size: number): void {
  const state = internalState(provider);
  if (!state || !('dynamicClients' in state)) {
    throw new Error('oidc-provider no longer keeps dynamicClients where the library expects');
  }
  state.dynamicClients = new LRU({ maxSize: size });
}

/** `provider`'s dynamic client cache itself, for tests. @internal */
export function clientCacheOf(provider: Provider): unknown {
  return internalState(provider)?.dynamicClients;
}
