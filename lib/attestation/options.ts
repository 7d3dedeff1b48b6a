// The attestation options: `attestation` (platform evidence, the challenge endpoint, the policy
// hook) and `assurance` (client assurance levels). The attester's settings
// (`attestation.attester`) belong to lib/client-attestation/options.ts; only their type is here,
// since this group's type names it and a type cannot be extended from a floor above.
import type { JWK } from 'oidc-provider';
import type { AssuranceLevel } from '../core/levels.js';
import type { DefaultsOf, WithDefaults } from '../core/options/resolve-types.js';
import {
  endpointPath,
  nonEmptyString,
  positiveInteger,
  rateLimit,
} from '../core/options/schema-pieces.js';
import type { RateLimit } from '../storage/store.js';
import type {
  AssuranceResolver,
  AttestationPolicy,
  ClientAttesterPolicy,
  EvidenceVerifier,
} from './types.js';
import type { AndroidRevocationList } from './verifiers/android-key.js';

/**
 * Platform attestation settings.
 *
 * @group Attestation
 */
export interface AttestationOptions {
  /**
   * Evidence verifiers by format name (the `format` of a registration's `attestation`); a
   * template accepts the formats it lists in `attestation.formats`.
   *
   * @default {}
   * @example
   * ```ts
   * verifiers: {
   *   'my-mdm': async (evidence, { binding }) => {
   *     const verified = await myMdm.verify(evidence, binding.clientDataHash);
   *     if (!verified) throw new AttestationError('not_enrolled', 'the device is not enrolled');
   *     return { platform: 'android', appId: verified.packageName, binding: 'client-data' };
   *   },
   * }
   * ```
   */
  verifiers?: Record<string, EvidenceVerifier>;
  /**
   * Sees every attestation and fallback registration once its credential checked out: may
   * lower the level or refuse.
   *
   * @example
   * ```ts
   * // Allow the secret fallback only while the switch is on.
   * policy: async ({ method, cal }) => {
   *   if (method === 'fallback-client' && cal === 'none' && !switches.secretFallback) {
   *     throw new AttestationError('fallback_off', 'this fallback is closed: update the app');
   *   }
   * }
   * ```
   */
  policy?: AttestationPolicy;
  /** The challenge endpoint. */
  challenge?: ChallengeOptions;
  /**
   * Require an App Attest assertion on every token request of an instance registered with
   * `apple-appattest` evidence: header `App-Attest-Assertion` (base64 CBOR) from
   * `generateAssertion(keyId, clientDataHash: SHA-256(client_assertion))`, where
   * `client_assertion` is the request's own `private_key_jwt` assertion. The assertion's counter
   * must rise (kept atomically in the store), so a cloned key or a replay is refused with
   * `invalid_client`.
   *
   * @default false
   */
  requireAppAttestAssertions?: boolean;
  /**
   * Trusted roots (PEM) of the built-in `apple-appattest` verifier.
   *
   * @default Apple's App Attestation Root CA
   */
  appleRoots?: string[];
  /**
   * Trusted roots (PEM, pinned by public key) of the built-in `android-key` verifier.
   *
   * @default Google's hardware attestation roots (RSA and the 2025 EC P-384 root)
   */
  androidRoots?: string[];
  /**
   * Your current copy of Google's attestation status list, read at every `android-key`
   * registration (fetch and cache it on your own schedule; nothing is fetched here).
   */
  androidRevocationList?: () =>
    | AndroidRevocationList
    | undefined
    | Promise<AndroidRevocationList | undefined>;
  /** The oldest status list accepted, in seconds since its `fetchedAt`; see `verifyAndroidKeyAttestation`. */
  maxRevocationListAge?: number;
  /**
   * The server as Client Attester for its own instances (attestation-based client
   * authentication, see `Template.attestClientAuth`).
   */
  attester?: ClientAttesterOptions;
}

/**
 * The Client Attester: `POST <issuer><path>` gives an instance that authenticates with its
 * registered key and presents fresh platform evidence a Client Attestation JWT
 * (`typ: oauth-client-attestation+jwt`, `sub` its client id, `cnf.jwk` its registered key, its
 * `cal`) for the token endpoint. Advertised in discovery as `client_attestation_endpoint`, its
 * public keys at `client_attester_jwks_uri`. See [Attestation](../../docs/attestation.md).
 *
 * @group Attestation
 */
export interface ClientAttesterOptions {
  /**
   * Turns attestation-based client authentication and the attester on.
   *
   * @default true when a template in `registration.templates` has `attestClientAuth`; set it for
   *   templates from a `templateResolver`
   */
  enabled?: boolean;
  /**
   * Private ES256 JWKs (P-256, each with a `kid`) that sign the attestations: the first signs,
   * all verify (prepend to rotate). Every process must have the same.
   *
   * @default one key derived from each of `cookieKeys` (HKDF), the first signing
   */
  keys?: JWK[];
  /**
   * The attester endpoint's path, relative to the issuer.
   *
   * @default '/attestation/client-attestation'
   */
  path?: string;
  /**
   * Where the attester's public keys are served (a JWK Set), relative to the issuer.
   *
   * @default '/attestation/jwks'
   */
  jwksPath?: string;
  /**
   * How long an attestation is valid, in seconds (60 to 86400).
   *
   * @default 3600
   */
  ttl?: number;
  /**
   * Attester requests one client IP address may make.
   *
   * @default { points: 60, duration: 60 }
   */
  rateLimit?: RateLimit;
  /**
   * Whether an instance with no platform evidence to present again gets attestations: one
   * registered through a fallback client or a user's DCR token alone, or with an evidence format
   * of your own verifiers. It authenticated with its registered key; its attestations carry its
   * own `cal`. Without this hook such instances get none (`403 access_denied`).
   */
  allowWithoutEvidence?: ClientAttesterPolicy;
}

/**
 * The attestation challenge endpoint, advertised in discovery as
 * `attestation_challenge_endpoint`.
 *
 * @group Attestation
 */
export interface ChallengeOptions {
  /**
   * Its path, relative to the issuer.
   *
   * @default '/attestation/challenge'
   */
  path?: string;
  /**
   * How long a challenge can be used, in seconds.
   *
   * @default 300
   */
  ttl?: number;
  /**
   * Challenges one client IP address may request.
   *
   * @default { points: 60, duration: 60 }
   */
  rateLimit?: RateLimit;
}

/**
 * Client assurance level settings.
 *
 * @group Assurance
 */
export interface AssuranceOptions {
  /**
   * Computes a registration's level instead of the built-in rule (evidence → `by-policy`, a
   * fallback client's key or certificate → `by-provisioned-key`, otherwise `none`).
   */
  resolve?: AssuranceResolver;
  /**
   * The level an instance needs to obtain a scope, by scope: an instance below it gets
   * `invalid_scope` when it asks for the scope. Read on every request, so a change applies to
   * every instance at once.
   *
   * @default {}
   * @example
   * ```ts
   * minimumLevels: { payments: 'by-provisioned-key' }
   * ```
   */
  minimumLevels?: Record<string, AssuranceLevel>;
}

/**
 * Defaults of {@link AuthServerOptions.attestation} but its `attester`, whose defaults are
 * lib/client-attestation/options.ts's.
 *
 * @internal
 */
export const ATTESTATION_DEFAULTS = {
  verifiers: {},
  requireAppAttestAssertions: false,
  challenge: {
    path: '/attestation/challenge',
    ttl: 300,
    rateLimit: { points: 60, duration: 60 },
  },
} as const satisfies DefaultsOf<AttestationOptions>;

/** Defaults of {@link AuthServerOptions.assurance}. @internal */
export const ASSURANCE_DEFAULTS = {
  minimumLevels: {},
} as const satisfies DefaultsOf<AssuranceOptions>;

/** The schema of {@link AuthServerOptions.attestation} but its `attester`. @internal */
export const attestationSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    verifiers: { type: 'object', additionalProperties: { isFunction: true } },
    policy: { isFunction: true },
    requireAppAttestAssertions: { type: 'boolean' },
    appleRoots: { type: 'array', minItems: 1, items: nonEmptyString },
    androidRoots: { type: 'array', minItems: 1, items: nonEmptyString },
    androidRevocationList: { isFunction: true },
    maxRevocationListAge: positiveInteger,
    challenge: {
      type: 'object',
      additionalProperties: false,
      properties: {
        path: endpointPath,
        ttl: { ...positiveInteger, maximum: 3600 },
        rateLimit,
      },
    },
  },
} as const;

/** The schema of {@link AuthServerOptions.assurance}. @internal */
export const assuranceSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    resolve: { isFunction: true },
    minimumLevels: {
      type: 'object',
      additionalProperties: { enum: ['none', 'by-provisioned-key', 'by-policy'] },
    },
  },
} as const;

/**
 * `attestation` with its defaults filled in, `attester` still as given (see
 * `ResolvedAttesterOptions`).
 *
 * @internal
 */
export type ResolvedAttestationOptions = WithDefaults<
  AttestationOptions,
  typeof ATTESTATION_DEFAULTS
>;

/** `assurance` with its defaults filled in. @internal */
export type ResolvedAssuranceOptions = WithDefaults<AssuranceOptions, typeof ASSURANCE_DEFAULTS>;

/** What the assurance rule reads. @internal */
export interface AssuranceRuleInput {
  scopes: readonly string[];
  assurance: ResolvedAssuranceOptions;
}

/**
 * Minimum assurance levels name offered scopes.
 *
 * @internal
 */
export function assuranceProblems(o: AssuranceRuleInput): string[] {
  return Object.keys(o.assurance.minimumLevels)
    .filter((scope) => !o.scopes.includes(scope))
    .map((scope) => `options.assurance.minimumLevels.${scope} names a scope not in options.scopes`);
}
