export { providerAdapterFactory, revokeClientGrants } from './provider-adapter.js';
export type { Store } from './store.js';
