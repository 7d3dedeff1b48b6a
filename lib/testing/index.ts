// The mobile-oidc-provider/testing entry point: what authors of a custom Store run against it.
export { describeStoreContract, type StoreContractHooks } from './store-contract.js';
