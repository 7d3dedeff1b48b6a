export { delegateAdapter, providerAdapterFactory, revokeClientGrants } from './provider-adapter.js';
export type { Store } from './store.js';
