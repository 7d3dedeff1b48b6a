/**
 * What authors of a custom `Store` run against it: the contract suite the built-in stores pass.
 *
 * @packageDocumentation
 * @module mobile-oidc-provider/testing
 */
export { describeStoreContract, type StoreContractHooks } from './store-contract.js';
