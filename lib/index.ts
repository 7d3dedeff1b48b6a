/**
 * mobile-oidc-provider: an authorization server for mobile apps on node-oidc-provider. Every app
 * install registers its own OAuth client, opened by a `dcr`-scoped token the user earns by
 * signing in.
 *
 * @packageDocumentation
 */
export { MemoryStore, type MemoryStoreOptions } from '../adapters/memory.js';
export {
  ConfigurationError,
  type RegistrationErrorCode,
  RegistrationPolicyError,
} from './errors.js';
export type {
  AccountClaims,
  AccountOptions,
  AuthServerOptions,
  DcrTokenOptions,
  InstanceAuthMethod,
  InstanceClientOptions,
  InteractionPageOptions,
  IntrospectionOptions,
  RegistrationClientOptions,
  RegistrationOptions,
  TtlOptions,
} from './options/index.js';
export type {
  InstanceRecord,
  RegistrationPolicy,
  RegistrationPolicyInput,
} from './registration/index.js';
export { type AuthServer, createAuthServer } from './server/index.js';
export { AlreadyConsumedError, StorageUnavailableError, type Store } from './storage/index.js';
