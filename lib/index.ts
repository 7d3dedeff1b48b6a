/**
 * mobile-oidc-provider: an authorization server for mobile apps on node-oidc-provider. Every app
 * install registers its own OAuth client, opened by a `dcr`-scoped token the user earns by
 * signing in.
 *
 * @packageDocumentation
 */
export { MemoryStore, type MemoryStoreOptions } from '../adapters/memory.js';
export type {
  DeviceEvent,
  DeviceEvents,
  DeviceInfo,
  RevocationEvent,
  RevokedBy,
} from './devices/index.js';
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
  DeviceOptions,
  InstanceAuthMethod,
  InstanceClientOptions,
  InstanceLimitOptions,
  InteractionPageOptions,
  IntrospectionOptions,
  RateLimit,
  RegistrationClientOptions,
  RegistrationOptions,
  RegistrationRateLimitOptions,
  TtlOptions,
} from './options/index.js';
export type {
  InstanceRecord,
  RegistrationPolicy,
  RegistrationPolicyInput,
  Template,
  TemplateClientMetadata,
  TemplateInstanceField,
  TemplateLookup,
  TemplateResolver,
  TemplateTtlOptions,
} from './registration/index.js';
export { type AuthServer, createAuthServer, type DeviceManagement } from './server/index.js';
export {
  AlreadyConsumedError,
  type RateDecision,
  type RateLimitWindow,
  StorageUnavailableError,
  type Store,
} from './storage/index.js';
