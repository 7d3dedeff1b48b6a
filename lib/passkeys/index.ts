export { PasskeyChallenges } from './challenges.js';
export { isCredentialId, PasskeyCredentials, type StoredPasskey } from './credentials.js';
export { REGISTER_SCRIPT, SIGN_IN_SCRIPT } from './scripts.js';
export {
  type ParsedAssertion,
  PasskeyService,
  type PasskeyServiceSettings,
  parseAssertion,
  type RegistrationRefusal,
  type SignInOutcome,
} from './service.js';
export { passkeyProblems, type RelyingParty, relyingParty } from './settings.js';
export type {
  PasskeyEvent,
  PasskeyEvents,
  PasskeyInfo,
  PasskeyManagement,
  PasskeyRefusalEvent,
  PasskeyRefusalReason,
  PasskeyRemovalEvent,
  PasskeyRemovedBy,
} from './types.js';
