import type { JWK } from 'jose';
import type {
  FallbackAuthMethod,
  KeyUserAuthentication,
  RegistrationMethod,
  RegistrationProof,
} from '../core/instance-record.js';
import type { AssuranceLevel } from '../core/levels.js';
import type { Template } from '../core/template-types.js';
import type { AttestationBinding } from './binding.js';

/**
 * The `attestation` member of a registration request (RFC 7591 allows extension members).
 *
 * @group Attestation
 */
export interface AttestationRequest {
  /** The evidence format, a key of `attestation.verifiers` the template accepts. */
  format: string;
  /** The `attestation_challenge` from the challenge endpoint: single-use, short-lived. */
  challenge: string;
  /** The evidence itself, in the format's own shape (a base64url string, a certificate chain…). */
  evidence: unknown;
}

/**
 * What a verifier is given besides the evidence.
 *
 * @group Attestation
 */
export interface VerifierContext {
  /** The challenge the evidence must answer (already checked to be issued, unused and unexpired). */
  challenge: string;
  /** The template the instance registers from. */
  template: Template;
  /** The public key the instance registers (the only key of its `jwks`). */
  registeredKey: JWK;
  /** The values the evidence must cover to be bound to the challenge and the registered key. */
  binding: AttestationBinding;
}

/**
 * What a verifier returns once the evidence checks out. Keep it to facts worth recording: it is
 * stored on the instance client (never the evidence itself).
 *
 * @group Attestation
 */
export interface VerifiedEvidence {
  /** The platform, e.g. `ios` or `android`. */
  platform: string;
  /** The app's identity as the evidence proves it: `<TeamID>.<BundleID>` or the package name. */
  appId: string;
  /**
   * How the evidence is bound to the registered key:
   * - `attested-key`: the evidence attests a key, {@link VerifiedEvidence.attestedKey}, which
   *   must be the registered key (Android key attestation);
   * - `client-data`: the device signed {@link AttestationBinding.clientDataHash} (App Attest,
   *   Play Integrity's nonce), and the verifier checked it.
   */
  binding: 'attested-key' | 'client-data';
  /** The attested public key; required with `binding: 'attested-key'`. */
  attestedKey?: JWK;
  /** An id of the device key the evidence is about (App Attest key id, certificate serial…). */
  keyId?: string;
  /**
   * A device key that signs the instance's later requests (App Attest's attested key), kept on
   * the instance to check them (see `attestation.requireAppAttestAssertions`).
   */
  assertionKey?: JWK;
  /** Integrity verdicts, e.g. `MEETS_DEVICE_INTEGRITY`, `security-level:StrongBox`. */
  verdicts?: string[];
  /** Other facts to keep, e.g. an OS version or patch level. */
  details?: Record<string, string | number | boolean>;
  /**
   * With `binding: 'attested-key'`: how the user must authenticate before the attested key
   * signs, when the device's secure hardware enforces it (never from a claim only software
   * enforces). Templates may require it of installs that approve sign-ins
   * (`approvals.requireKeyUserAuthentication`). Unset: the evidence shows no such requirement.
   */
  keyUserAuthentication?: KeyUserAuthentication;
}

/**
 * Checks one evidence format. Resolve with what the evidence proves; reject with an
 * {@link AttestationError} saying why not (any other error is treated as a verifier fault).
 * Either way the registration creates nothing unless it resolved.
 *
 * @group Attestation
 */
export type EvidenceVerifier = (
  evidence: unknown,
  context: VerifierContext,
) => Promise<VerifiedEvidence>;

/**
 * A fallback client, as the assurance hooks see it.
 *
 * @group Attestation
 */
export interface FallbackClientInfo {
  /** Its client id. */
  clientId: string;
  /** How it authenticated when it obtained its DCR token (its registered method). */
  authMethod: FallbackAuthMethod;
}

/**
 * What the assurance hooks see about one registration.
 *
 * @group Attestation
 */
export interface AssuranceInput {
  /** How the registration is authorized. */
  method: RegistrationMethod;
  /** The template the instance registers from (none for a registration without `software_id`). */
  template: Template | undefined;
  /** With `method: 'attestation'`: the evidence format. */
  format?: string;
  /** With `method: 'attestation'`: what the verifier found. */
  evidence?: VerifiedEvidence;
  /** With `method: 'fallback-client'`: the static client whose token opened the registration. */
  fallbackClient?: FallbackClientInfo;
  /** The account of the user whose DCR token also opened it, if any. */
  accountId?: string;
  /** The client IP address. */
  ip: string;
}

/**
 * Computes the level of a registration instead of the built-in rule (attestation → `by-policy`,
 * provisioned key or certificate → `by-provisioned-key`, otherwise `none`).
 *
 * @group Attestation
 */
export type AssuranceResolver = (input: AssuranceInput) => AssuranceLevel | Promise<AssuranceLevel>;

/**
 * What the attestation policy sees.
 *
 * @group Attestation
 */
export interface AttestationPolicyInput extends AssuranceInput {
  /** The level the registration would get (from `assurance.resolve` or the built-in rule). */
  cal: AssuranceLevel;
}

/**
 * The attestation policy: sees every attestation and fallback registration once its credential
 * checked out, with the level it would get. Return nothing to accept, `{ cal }` to lower the
 * level (a higher one is ignored), or throw an {@link AttestationError} to refuse.
 *
 * @group Attestation
 */
export type AttestationPolicy = (
  input: AttestationPolicyInput,
) => // biome-ignore lint/suspicious/noConfusingVoidType: a policy that accepts returns nothing, sync or async
void | AttestationDecision | Promise<void | AttestationDecision>;

/**
 * What the attestation policy may return to change the outcome.
 *
 * @group Attestation
 */
export interface AttestationDecision {
  /** A lower level for the instance (a higher one is ignored). */
  cal?: AssuranceLevel;
}

/**
 * What a `registration.attested` or `registration.fallback` event carries: ids and verdicts,
 * never secrets or evidence.
 *
 * @group Attestation
 */
export interface RegistrationDecisionEvent {
  /** The new instance's client id. */
  clientId: string;
  /** Its template's `software_id`. */
  softwareId?: string;
  /** The level it got. */
  cal: AssuranceLevel;
  /** How it registered, with the evidence summary or the fallback client. */
  proof: RegistrationProof;
}

/**
 * What a `registration.rejected` event carries.
 *
 * @group Attestation
 */
export interface RegistrationRejectionEvent {
  /** A short, stable reason: `invalid_token`, `challenge_used`, `key_mismatch`, `policy`… */
  reason: string;
  /** The `software_id` the registration named, if any. */
  softwareId?: string;
  /** The client IP address. */
  ip: string;
}

/**
 * Registration decisions, by event name, for audit logs.
 *
 * @group Attestation
 */
export interface RegistrationEvents {
  /** An instance registered with verified attestation evidence. */
  'registration.attested': RegistrationDecisionEvent;
  /** An instance registered through a fallback client. */
  'registration.fallback': RegistrationDecisionEvent;
  /** A registration was refused for its token, credential or evidence. */
  'registration.rejected': RegistrationRejectionEvent;
}

/**
 * What `attestation.attester.allowWithoutEvidence` sees: an instance that authenticated at the
 * Client Attester with its registered key, but has no platform evidence the attester can check
 * again.
 *
 * @group Attestation
 */
export interface ClientAttesterPolicyInput {
  /** The instance's client id. */
  clientId: string;
  /** Its template's `software_id`. */
  softwareId: string;
  /** Its level: what its attestation would carry. */
  cal: AssuranceLevel;
  /** How it registered. */
  method: RegistrationMethod;
  /** The evidence format it registered with, when the attester cannot check that format again. */
  format?: string;
  /** The fallback client that opened its registration, if any. */
  fallbackClientId?: string;
  /** The account it belongs to, if any yet. */
  accountId?: string;
  /** The client IP address. */
  ip: string;
}

/**
 * Decides whether an instance without fresh platform evidence gets Client Attestations: resolve
 * `true` to issue, `false` to refuse.
 *
 * @group Attestation
 */
export type ClientAttesterPolicy = (input: ClientAttesterPolicyInput) => boolean | Promise<boolean>;

/**
 * What an `attestation.issued` event carries: ids and levels, never the attestation.
 *
 * @group Attestation
 */
export interface ClientAttestationIssuedEvent {
  /** The instance's client id. */
  clientId: string;
  /** Its template's `software_id`. */
  softwareId: string;
  /** The level the attestation carries. */
  cal: AssuranceLevel;
  /**
   * The fresh evidence it presented: `apple-appattest`, `android-key` (a signature by its
   * attested key), `play-integrity`, or `none` (allowed by `allowWithoutEvidence`).
   */
  evidence: string;
  /** When the attestation expires, in seconds since the epoch. */
  expiresAt: number;
}

/**
 * What an `attestation.refused` event carries.
 *
 * @group Attestation
 */
export interface ClientAttestationRefusedEvent {
  /** A short, stable reason: `invalid_client`, `challenge_used`, `no_evidence`, a verifier's code… */
  reason: string;
  /** The instance's client id, once known. */
  clientId?: string;
  /** The client IP address. */
  ip: string;
}

/**
 * The Client Attester's decisions, by event name, for audit logs.
 *
 * @group Attestation
 */
export interface ClientAttestationEvents {
  /** An instance obtained a Client Attestation. */
  'attestation.issued': ClientAttestationIssuedEvent;
  /** An attestation request was refused. */
  'attestation.refused': ClientAttestationRefusedEvent;
}
