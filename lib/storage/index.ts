export { guardStore, StorageUnavailableError } from './guard.js';
export { delegateAdapter, providerAdapterFactory, revokeClientGrants } from './provider-adapter.js';
export { AlreadyConsumedError, type Store } from './store.js';
