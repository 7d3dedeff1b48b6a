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
export {
  ASSURANCE_LEVELS,
  type AssuranceLevel,
  isAssuranceLevel,
  meetsLevel,
  scopesAboveLevel,
  weakerLevel,
} from './levels.js';
export type {
  AssuranceInput,
  AssuranceResolver,
  AttestationDecision,
  AttestationPolicy,
  AttestationPolicyInput,
  AttestationRequest,
  EvidenceSummary,
  EvidenceVerifier,
  FallbackAuthMethod,
  FallbackClientInfo,
  RegistrationDecisionEvent,
  RegistrationEvents,
  RegistrationMethod,
  RegistrationProof,
  RegistrationRejectionEvent,
  VerifiedEvidence,
  VerifierContext,
} from './types.js';
