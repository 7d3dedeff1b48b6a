import type { Template } from '../core/template-types.js';
import type { Assembly } from '../provider/assembly.js';
import {
  type AuthorizeSettings,
  authorizeRegistration,
  type ReattestationAttempt,
  type RegistrationAttempt,
  reattestInstance,
} from './authorize.js';
import { AttestationChallenges, createChallengeEndpoint } from './challenges.js';
import type { ResolvedAssuranceOptions, ResolvedAttestationOptions } from './options.js';

/** The options the attestation feature reads. @internal */
export interface AttestationSettings {
  attestation: ResolvedAttestationOptions;
  assurance: ResolvedAssuranceOptions;
  registration: { templates: readonly Template[] };
}

/** What the attestation feature gives the features installed after it. @internal */
export interface InstalledAttestation {
  /** Whether registrations may bring evidence: a verifier or a template accepts some. */
  readonly enabled: boolean;
  readonly challenges: AttestationChallenges;
  /** Authorizes a registration: its credential, evidence and the policy. */
  authorize: (attempt: RegistrationAttempt) => ReturnType<typeof authorizeRegistration>;
  /** Authorizes an update's fresh evidence. */
  reattest: (attempt: ReattestationAttempt) => ReturnType<typeof reattestInstance>;
  /** Serves the challenge endpoint (once, however many features need it). */
  serveChallenges(): void;
}

/**
 * Installs platform attestation: the single-use challenges and their endpoint (advertised as
 * `attestation_challenge_endpoint`), and the pipeline that authorizes a registration's evidence.
 *
 * @internal
 */
export function installAttestation(
  assembly: Assembly,
  o: AttestationSettings,
): InstalledAttestation {
  const { challenge } = o.attestation;
  const challenges = new AttestationChallenges(assembly.store, challenge.ttl);
  const pipeline: AuthorizeSettings = {
    verifiers: o.attestation.verifiers,
    builtIns: o.attestation,
    challenges,
    phases: assembly,
    ...(o.attestation.policy ? { policy: o.attestation.policy } : {}),
    ...(o.assurance.resolve ? { resolve: o.assurance.resolve } : {}),
  };
  let served = false;
  const serveChallenges = () => {
    if (served) return;
    served = true;
    assembly.discovery.attestation_challenge_endpoint = assembly.url(challenge.path);
    assembly.use(() =>
      createChallengeEndpoint({
        path: challenge.path,
        challenges,
        store: assembly.store,
        rateLimit: challenge.rateLimit,
      }),
    );
  };
  const enabled =
    Object.keys(o.attestation.verifiers).length > 0 ||
    o.registration.templates.some((t) => t.attestation);
  if (enabled) serveChallenges();
  return {
    enabled,
    challenges,
    authorize: (attempt) => authorizeRegistration(pipeline, attempt),
    reattest: (attempt) => reattestInstance(pipeline, attempt),
    serveChallenges,
  };
}
