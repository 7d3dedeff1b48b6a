import type { JWK } from 'jose';
import { calculateJwkThumbprint } from 'jose';
import type { AccountClaims } from '../core/accounts.js';
import { AttestationError } from '../core/errors.js';
import type { FallbackAuthMethod, RegistrationProof } from '../core/instance-record.js';
import { type AssuranceLevel, isAssuranceLevel, weakerLevel } from '../core/levels.js';
import type { Template } from '../core/template-types.js';
import { HttpProblem } from '../http/problem.js';
import type { Phases } from '../provider/phases.js';
import { attestationBinding } from './binding.js';
import { type BuiltInSettings, builtInVerifier, platformOfFormat } from './built-in.js';
import type { AttestationChallenges } from './challenges.js';
import type {
  AssuranceInput,
  AssuranceResolver,
  AttestationPolicy,
  EvidenceVerifier,
  VerifiedEvidence,
} from './types.js';

/** The bearer credential that opened a registration, as the DCR gate found it. @internal */
export type RegistrationCredential =
  | { kind: 'user'; accountId: string; account: AccountClaims; registrationClientId: string }
  | { kind: 'fallback-client'; clientId: string; authMethod: FallbackAuthMethod }
  | { kind: 'none' };

/**
 * A registration refused for who or what authorized it. `status` 401 means no acceptable token
 * was presented, 403 a credential or evidence this template does not accept. `code` names the
 * refusal, as the `registration.rejected` event's `reason`; `error` goes on the wire.
 *
 * @internal
 */
export class RegistrationDenied extends HttpProblem {
  constructor(status: 401 | 403, error: string, description: string, code: string) {
    super(status, error, description, false, undefined, code);
  }
}

/** What the pipeline decided for one registration. @internal */
export interface RegistrationAuthority {
  cal: AssuranceLevel;
  proof: RegistrationProof;
}

/** What the pipeline needs. @internal */
export interface AuthorizeSettings {
  verifiers: Readonly<Record<string, EvidenceVerifier>>;
  /** Server-wide inputs of the built-in verifiers, configured per template. */
  builtIns: BuiltInSettings;
  challenges: AttestationChallenges;
  policy?: AttestationPolicy;
  resolve?: AssuranceResolver;
  /** Runs the verifier and the app's hooks as phases of their request. */
  phases: Phases;
}

/** What one registration brings. @internal */
export interface RegistrationAttempt {
  credential: RegistrationCredential;
  template: Template | undefined;
  /** The request body's `attestation` member, if any. */
  attestation: unknown;
  /** The request body's `jwks`, the key evidence must be bound to. */
  jwks: unknown;
  ip: string;
}

// Shared secrets prove nothing about the device; keys and certificates were provisioned to it.
const PROVISIONED: ReadonlySet<FallbackAuthMethod> = new Set([
  'private_key_jwt',
  'tls_client_auth',
  'self_signed_tls_client_auth',
]);

/** Whether a user's DCR token alone may register from `template`. @internal */
export function acceptsUserTokens(template: Template | undefined): boolean {
  if (!template) return true;
  return template.userTokens ?? (!template.fallbackClients?.length && !template.attestation);
}

const denied = (reason: string, description: string) =>
  new RegistrationDenied(403, 'access_denied', description, reason);
const badEvidence = (reason: string, description: string) =>
  new RegistrationDenied(403, 'invalid_client_attestation', description, reason);

function attestationRequest(value: unknown): {
  format: string;
  challenge: string;
  evidence: unknown;
} {
  const request = value as Record<string, unknown> | null;
  if (
    typeof request !== 'object' ||
    request === null ||
    Array.isArray(request) ||
    typeof request.format !== 'string' ||
    typeof request.challenge !== 'string' ||
    request.evidence === undefined
  ) {
    throw badEvidence(
      'malformed',
      'attestation must be an object with format, challenge and evidence',
    );
  }
  return { format: request.format, challenge: request.challenge, evidence: request.evidence };
}

function registeredKey(jwks: unknown): JWK {
  const keys = (jwks as { keys?: unknown } | null)?.keys;
  const key = Array.isArray(keys) && keys.length === 1 ? (keys[0] as JWK) : undefined;
  if (!key || typeof key !== 'object' || typeof key.kty !== 'string' || 'd' in key) {
    throw badEvidence(
      'no_key',
      'an attested registration must register exactly one public key in jwks, the key the evidence is bound to',
    );
  }
  return key;
}

/** Checks the evidence of an attested registration. */
async function verifyEvidence(
  settings: AuthorizeSettings,
  template: Template,
  attempt: RegistrationAttempt,
): Promise<{ format: string; evidence: VerifiedEvidence }> {
  const accepted = template.attestation;
  const request = attestationRequest(attempt.attestation);
  if (!accepted?.formats.includes(request.format)) {
    throw badEvidence(
      'format_not_accepted',
      `'${template.software_id}' does not accept ${request.format} evidence${accepted ? ` (it accepts ${accepted.formats.join(', ')})` : ''}`,
    );
  }
  const verifier =
    settings.verifiers[request.format] ??
    builtInVerifier(request.format, template, settings.builtIns);
  if (!verifier) {
    throw badEvidence('no_verifier', `no verifier is configured for ${request.format} evidence`);
  }
  const key = registeredKey(attempt.jwks);
  const problem = await settings.challenges.take(request.challenge);
  if (problem) {
    throw badEvidence(
      `challenge_${problem}`,
      problem === 'used'
        ? 'the attestation challenge was already used: request a new one'
        : 'the attestation challenge is unknown or expired: request a new one',
    );
  }
  const binding = await attestationBinding(request.challenge, key);
  let evidence: VerifiedEvidence;
  try {
    evidence = await settings.phases.phase(
      'attestation.verify',
      () =>
        verifier(request.evidence, {
          challenge: request.challenge,
          template,
          registeredKey: key,
          binding,
        }),
      { platform: platformOfFormat(request.format) },
    );
  } catch (error) {
    if (error instanceof AttestationError) throw badEvidence(error.code, error.message);
    throw error;
  }
  if (evidence.binding === 'attested-key') {
    const attested = evidence.attestedKey
      ? await calculateJwkThumbprint(evidence.attestedKey, 'sha256').catch(() => undefined)
      : undefined;
    if (attested !== binding.thumbprint) {
      throw badEvidence('key_mismatch', 'the attested key is not the key registered in jwks');
    }
  } else if (evidence.binding !== 'client-data') {
    throw new Error(`the ${request.format} verifier returned no binding`);
  }
  if (accepted.appIds && !accepted.appIds.includes(evidence.appId)) {
    throw badEvidence(
      'app_not_allowed',
      `the evidence is for an app '${template.software_id}' does not allow`,
    );
  }
  return { format: request.format, evidence };
}

function defaultLevel(input: AssuranceInput): AssuranceLevel {
  if (input.method === 'attestation') return 'by-policy';
  if (input.fallbackClient && PROVISIONED.has(input.fallbackClient.authMethod)) {
    return 'by-provisioned-key';
  }
  return 'none';
}

/** Decides who may register and what the credential proves, before checking evidence. */
function method(attempt: RegistrationAttempt): AssuranceInput['method'] {
  const { credential, template } = attempt;
  const name = template ? `'${template.software_id}'` : 'an app without a template';
  if (attempt.attestation !== undefined) {
    if (!template?.attestation) {
      throw badEvidence('attestation_not_accepted', `${name} does not accept attestation evidence`);
    }
    if (credential.kind === 'fallback-client') {
      throw denied('fallback_with_evidence', 'a fallback client cannot register with evidence');
    }
    if (credential.kind === 'none' && template.attestation.user === 'required') {
      throw new RegistrationDenied(
        401,
        'invalid_token',
        `registrations of ${name} need a user's DCR token with the evidence`,
        'token_missing',
      );
    }
    return 'attestation';
  }
  if (credential.kind === 'none') {
    throw new RegistrationDenied(
      401,
      'invalid_token',
      `registrations of ${name} need a DCR token${template?.attestation ? ' or attestation evidence' : ''}`,
      'token_missing',
    );
  }
  if (credential.kind === 'user') {
    if (!acceptsUserTokens(template)) {
      throw denied(
        'user_token_not_accepted',
        `${name} does not accept a user's DCR token alone${template?.attestation ? ': send attestation evidence' : ''}`,
      );
    }
    return 'user-token';
  }
  if (!template?.fallbackClients?.includes(credential.clientId)) {
    throw denied(
      'fallback_client_not_listed',
      `the fallback client '${credential.clientId}' may not register instances of ${name}`,
    );
  }
  return 'fallback-client';
}

/**
 * The attestation pipeline: checks that the credential behind a registration is one its
 * template accepts, verifies evidence (challenge, verifier, key binding, app identity), computes
 * the assurance level and lets the policy lower it or refuse.
 *
 * @throws RegistrationDenied when the registration must be refused.
 * @internal
 */
export async function authorizeRegistration(
  settings: AuthorizeSettings,
  attempt: RegistrationAttempt,
): Promise<RegistrationAuthority> {
  const { credential, template } = attempt;
  const input: AssuranceInput = {
    method: method(attempt),
    template,
    ip: attempt.ip,
    ...(credential.kind === 'user' ? { accountId: credential.accountId } : {}),
    ...(credential.kind === 'fallback-client'
      ? { fallbackClient: { clientId: credential.clientId, authMethod: credential.authMethod } }
      : {}),
  };
  if (input.method === 'attestation' && template) {
    const { format, evidence } = await verifyEvidence(settings, template, attempt);
    input.format = format;
    input.evidence = evidence;
  }
  return decide(settings, input);
}

/** What an RFC 7592 update with fresh evidence brings. @internal */
export interface ReattestationAttempt {
  template: Template | undefined;
  /** The request body's `attestation` member. */
  attestation: unknown;
  /** The `jwks` the instance will have after the update: the key the evidence must be bound to. */
  jwks: unknown;
  ip: string;
  accountId?: string;
}

/**
 * Verifies fresh evidence an instance sends with an RFC 7592 update (to change the key its
 * level rests on): the same checks as a registration (challenge, verifier, key binding, app
 * identity, policy). The level is whatever this evidence earns.
 *
 * @throws RegistrationDenied when the evidence is refused.
 * @internal
 */
export async function reattestInstance(
  settings: AuthorizeSettings,
  attempt: ReattestationAttempt,
): Promise<RegistrationAuthority> {
  const { template } = attempt;
  if (!template?.attestation) {
    throw badEvidence(
      'attestation_not_accepted',
      `${template ? `'${template.software_id}'` : 'an app without a template'} does not accept attestation evidence`,
    );
  }
  const { format, evidence } = await verifyEvidence(settings, template, {
    ...attempt,
    credential: { kind: 'none' },
  });
  return decide(settings, {
    method: 'attestation',
    template,
    ip: attempt.ip,
    format,
    evidence,
    ...(attempt.accountId ? { accountId: attempt.accountId } : {}),
  });
}

/** The level the credential and evidence earn: the resolver's, lowered (or refused) by the policy. */
async function decide(
  settings: AuthorizeSettings,
  input: AssuranceInput,
): Promise<RegistrationAuthority> {
  const { resolve, policy, phases } = settings;
  let cal = resolve
    ? await phases.phase('assurance.resolve', () => resolve(input))
    : defaultLevel(input);
  if (!isAssuranceLevel(cal)) throw new Error(`assurance.resolve returned an unknown level`);
  if (policy && input.method !== 'user-token') {
    try {
      const judged = { ...input, cal };
      const decision = await phases.phase('attestation.policy', () => policy(judged));
      if (decision?.cal !== undefined) {
        if (!isAssuranceLevel(decision.cal)) {
          throw new Error('attestation.policy returned an unknown level');
        }
        cal = weakerLevel(cal, decision.cal);
      }
    } catch (error) {
      if (!(error instanceof AttestationError)) throw error;
      throw input.method === 'attestation'
        ? badEvidence(error.code, error.message)
        : denied(error.code, error.message);
    }
  }
  return { cal, proof: proofOf(input) };
}

function proofOf(input: AssuranceInput): RegistrationProof {
  const { evidence, fallbackClient } = input;
  return {
    method: input.method,
    ...(fallbackClient
      ? {
          fallback_client_id: fallbackClient.clientId,
          fallback_auth_method: fallbackClient.authMethod,
        }
      : {}),
    ...(evidence && input.format
      ? {
          evidence: {
            format: input.format,
            platform: evidence.platform,
            app_id: evidence.appId,
            ...(evidence.keyId ? { key_id: evidence.keyId } : {}),
            ...(evidence.assertionKey ? { assertion_key: evidence.assertionKey } : {}),
            ...(evidence.verdicts ? { verdicts: evidence.verdicts } : {}),
            ...(evidence.details ? { details: evidence.details } : {}),
            // Only an attested key's: the key the install registered, and approves with.
            ...(evidence.keyUserAuthentication && evidence.binding === 'attested-key'
              ? { key_user_authentication: evidence.keyUserAuthentication }
              : {}),
          },
        }
      : {}),
  };
}
