/**
 * mobile-oidc-provider: an authorization server for mobile apps on node-oidc-provider. Every app
 * install registers its own OAuth client, opened by a `dcr`-scoped token the user earns by
 * signing in.
 *
 * @packageDocumentation
 * @module mobile-oidc-provider
 */
export { MemoryStore, type MemoryStoreOptions } from '../adapters/memory.js';
export {
  ASSURANCE_LEVELS,
  type AssuranceInput,
  type AssuranceLevel,
  type AssuranceResolver,
  type AttestationBinding,
  type AttestationDecision,
  type AttestationPolicy,
  type AttestationPolicyInput,
  type AttestationRequest,
  attestationBinding,
  type ClientAttestationEvents,
  type ClientAttestationIssuedEvent,
  type ClientAttestationRefusedEvent,
  type ClientAttesterPolicy,
  type ClientAttesterPolicyInput,
  type EvidenceSummary,
  type EvidenceVerifier,
  type FallbackAuthMethod,
  type FallbackClientInfo,
  type KeyUserAuthentication,
  type KeyUserAuthMethod,
  meetsLevel,
  type RegistrationDecisionEvent,
  type RegistrationEvents,
  type RegistrationMethod,
  type RegistrationProof,
  type RegistrationRejectionEvent,
  type VerifiedEvidence,
  type VerifierContext,
} from './attestation/index.js';
export type {
  AssuranceOptions,
  AttestationOptions,
  ChallengeOptions,
  ClientAttesterOptions,
} from './attestation/options.js';
export type { FederatedAccount, FederatedIdentity } from './core/accounts.js';
export {
  AttestationError,
  type AttestationErrorCode,
  ConfigurationError,
  MobileOidcProviderError,
  type RegistrationErrorCode,
  RegistrationPolicyError,
} from './core/errors.js';
export { consoleLogger, type Logger } from './core/logger.js';
export type {
  FederatedBrowserOptions,
  FederatedProviderOptions,
  FederationLinkingOptions,
  FederationNonceOptions,
  FederationOptions,
} from './federation/options.js';
export type { FederatedAccountEvent, FederationEvents } from './federation/types.js';
export type {
  FirstPartyDecision,
  FirstPartyOptions,
  FirstPartyPolicy,
  FirstPartyPolicyContext,
  FirstPartyStep,
} from './first-party/options.js';
export { FIRST_PARTY_ACR } from './first-party/options.js';
export type { HealthCheck, HealthReport, HealthStatus } from './health/index.js';
export type {
  BindingEvent,
  DeviceEvent,
  DeviceEvents,
  DeviceInfo,
  DevicePage,
  DevicePageOptions,
  DeviceStatus,
  FirstPartySignIn,
  InstanceEvent,
  InstanceEvents,
  InstanceInfo,
  InstancePage,
  InstancePageOptions,
  InstanceStatus,
  RevocationEvent,
  RevokedBy,
} from './instances/index.js';
export type { DeviceOptions, InstanceManagementOptions } from './instances/options.js';
export type {
  AccountLinks,
  ConsentClient,
  ConsentView,
  CsrfField,
  DeviceItemView,
  DevicesView,
  ErrorView,
  FederatedButtonView,
  FirstPartySignInView,
  InstanceItemView,
  InstancesView,
  InteractionPages,
  LinkAccountView,
  LinkIdentityView,
  LinkProviderView,
  LinksReauthenticationView,
  LinksView,
  LinkView,
  LoginField,
  LoginFieldErrors,
  LoginView,
  LogoutClient,
  LogoutSuccessView,
  LogoutView,
  NativeSsoSessionView,
  PageForm,
  PageMessages,
  PageView,
  PasskeyItemView,
  PasskeyRegistrationView,
  PasskeySignInView,
  PasskeysView,
  PhoneSignInButtonView,
  PhoneWaitingView,
  ScopeView,
  SignInEvent,
  SignInEvents,
  SignInThrottledEvent,
  SubmitField,
} from './interactions/index.js';
export type { InteractionPageOptions, SignInRateLimitOptions } from './interactions/options.js';
export { generateKeys, type ServerKeys } from './keys/index.js';
export type {
  NativeSsoEvents,
  NativeSsoExchangeEvent,
  NativeSsoManagement,
  NativeSsoSession,
} from './native-sso/types.js';
export type {
  AccountClaims,
  AccountOptions,
  ApiOptions,
  AuthServerOptions,
  InstanceAuthMethod,
  IntrospectionOptions,
  MtlsOptions,
  TtlOptions,
} from './options/index.js';
export type {
  PasskeyEvent,
  PasskeyEvents,
  PasskeyInfo,
  PasskeyManagement,
  PasskeyRefusalEvent,
  PasskeyRefusalReason,
  PasskeyRemovalEvent,
  PasskeyRemovedBy,
} from './passkeys/index.js';
export type { PasskeyOptions } from './passkeys/options.js';
export type {
  PhoneApprovalAnsweredEvent,
  PhoneApprovalEvents,
  PhoneApprovalRequestedEvent,
} from './phone-approval/events.js';
export {
  type ApprovalNotice,
  PHONE_APPROVAL_ACR,
  type PhoneApprovalOptions,
} from './phone-approval/options.js';
export type {
  RefreshTokenEvents,
  RefreshTokenRetryEvent,
  RefreshTokenReuseEvent,
  RefreshTokenReuseReason,
} from './provider/refresh-events.js';
export type {
  AttestAuthMethod,
  KeyUserAuthenticationRequirement,
  RegistrationPolicy,
  RegistrationPolicyInput,
  Template,
  TemplateAndroidKeySettings,
  TemplateAppAttestSettings,
  TemplateApprovals,
  TemplateAttestation,
  TemplateClientMetadata,
  TemplateFirstParty,
  TemplateInstanceField,
  TemplateLookup,
  TemplateNativeSso,
  TemplatePlayIntegritySettings,
  TemplateResolver,
  TemplateTtlOptions,
  TrustedAttester,
} from './registration/index.js';
export type {
  DcrTokenOptions,
  InstanceClientOptions,
  InstanceLimitOptions,
  RegistrationClientOptions,
  RegistrationOptions,
  RegistrationRateLimitOptions,
} from './registration/options.js';
export {
  type AuthServer,
  createAuthServer,
  type DeviceManagement,
  type InstanceManagement,
  type ServerEvents,
} from './server/index.js';
export {
  AlreadyConsumedError,
  type RateDecision,
  type RateLimit,
  type RateLimitWindow,
  StorageUnavailableError,
  type Store,
} from './storage/index.js';

// @types/koa (which @types/oidc-provider brings) names `contentDisposition.Options`, which the
// typed content-disposition 1.x/2.x that Express 5 installs no longer exports: TS2694 in a strict
// consumer without skipLibCheck. An empty interface merges with whichever module resolves.
declare module 'content-disposition' {
  interface Options {}
}
