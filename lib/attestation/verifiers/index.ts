/**
 * Platform attestation verifiers, usable on their own from any backend or registered as the
 * library's `attestation.verifiers`. No network access at verification time: roots, keys and
 * revocation lists are inputs.
 *
 * @packageDocumentation
 * @module mobile-oidc-provider/attestation
 */
export { AttestationError, type AttestationErrorCode } from '../../core/errors.js';
export type { KeyUserAuthentication, KeyUserAuthMethod } from '../../core/instance-record.js';
export { type AttestationBinding, attestationBinding } from '../binding.js';
export type { EvidenceVerifier, VerifiedEvidence, VerifierContext } from '../types.js';
export {
  type AndroidKeyAttestation,
  type AndroidKeyAttestationOptions,
  type AndroidKeyVerifierOptions,
  type AndroidRevocationEntry,
  type AndroidRevocationList,
  type AndroidSecurityLevel,
  androidKeyVerifier,
  type VerifiedBootStateName,
  verifyAndroidKeyAttestation,
} from './android-key.js';
export {
  type AppAttestAssertion,
  type AppAttestAssertionOptions,
  type AppAttestAttestation,
  type AppAttestAttestationOptions,
  type AppAttestVerifierOptions,
  appAttestVerifier,
  verifyAppAttestAssertion,
  verifyAppAttestAttestation,
} from './app-attest.js';
export { APPLE_APP_ATTESTATION_ROOT } from './apple-roots.js';
export { GOOGLE_HARDWARE_ATTESTATION_ROOTS } from './google-roots.js';
export {
  type DeviceVerdict,
  type PlayIntegrityOptions,
  type PlayIntegrityVerdict,
  type PlayIntegrityVerifierOptions,
  playIntegrityVerifier,
  verifyPlayIntegrityToken,
} from './play-integrity.js';
