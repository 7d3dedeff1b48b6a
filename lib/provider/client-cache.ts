import type Provider from 'oidc-provider';

// oidc-provider keeps the clients it built from adapter records in an LRU of 100 on its internal
// per-provider state, keyed by a hash of the record. Neither the LRU nor that state is exported;
// oidc-provider has no exports map, so both modules are reachable.
// test/provider/client-cache.test.ts fails if an upgrade moves or changes them.
const INTERNAL_STATE_MODULE = 'oidc-provider/lib/helpers/weak_cache.js';
const LRU_MODULE = 'oidc-provider/lib/helpers/lru.js';

interface InternalState {
  dynamicClients?: unknown;
}
type Lru = new (options: { maxSize: number }) => unknown;

const internalState = (
  (await import(INTERNAL_STATE_MODULE)) as { default: (provider: Provider) => InternalState }
).default;
const LRU = ((await import(LRU_MODULE)) as { default: Lru }).default;

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
