export type {
  EvidenceSummary,
  FallbackAuthMethod,
  KeyUserAuthentication,
  KeyUserAuthMethod,
  RegistrationMethod,
  RegistrationProof,
} from '../core/instance-record.js';
export {
  ASSURANCE_LEVELS,
  type AssuranceLevel,
  isAssuranceLevel,
  meetsLevel,
  scopesAboveLevel,
  weakerLevel,
} from '../core/levels.js';
export {
  type AuthorizeSettings,
  acceptsUserTokens,
  authorizeRegistration,
  type ReattestationAttempt,
  type RegistrationAttempt,
  type RegistrationAuthority,
  type RegistrationCredential,
  RegistrationDenied,
  reattestInstance,
} from './authorize.js';
export { type AttestationBinding, attestationBinding } from './binding.js';
export { AttestationChallenges, createChallengeEndpoint } from './challenges.js';
export type {
  AssuranceInput,
  AssuranceResolver,
  AttestationDecision,
  AttestationPolicy,
  AttestationPolicyInput,
  AttestationRequest,
  ClientAttestationEvents,
  ClientAttestationIssuedEvent,
  ClientAttestationRefusedEvent,
  ClientAttesterPolicy,
  ClientAttesterPolicyInput,
  EvidenceVerifier,
  FallbackClientInfo,
  RegistrationDecisionEvent,
  RegistrationEvents,
  RegistrationRejectionEvent,
  VerifiedEvidence,
  VerifierContext,
} from './types.js';
