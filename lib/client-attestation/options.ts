// The attester's options (`attestation.attester`): their defaults, schema fragment and resolved
// shape, and the rules of attestation-based client authentication the JSON Schema cannot check:
// trusted attesters' issuers and keys, the attester's keys, and the switch against templates.
// Their type, `ClientAttesterOptions`, is in lib/attestation/options.ts with its group's.
import { createLocalJWKSet, type JSONWebKeySet } from 'jose';
import type { ClientAttesterOptions } from '../attestation/options.js';
import type { DefaultsOf, WithDefaults } from '../core/options/resolve-types.js';
import { endpointPath, rateLimit } from '../core/options/schema-pieces.js';
import type { ResolvedRegistrationOptions } from '../registration/options.js';
import { attesterKeyProblems } from './attester-keys.js';

/** Defaults of `attestation.attester`. @internal */
export const ATTESTER_DEFAULTS = {
  path: '/attestation/client-attestation',
  jwksPath: '/attestation/jwks',
  ttl: 3600,
  rateLimit: { points: 60, duration: 60 },
} as const satisfies DefaultsOf<ClientAttesterOptions>;

/** The schema of `attestation.attester`. @internal */
export const attesterSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    enabled: { type: 'boolean' },
    // Each key's shape (a private ES256 JWK) is checked in attester-keys.ts.
    keys: { type: 'array', minItems: 1, items: { type: 'object' } },
    path: endpointPath,
    jwksPath: endpointPath,
    ttl: { type: 'integer', minimum: 60, maximum: 86400 },
    rateLimit,
    allowWithoutEvidence: { isFunction: true },
  },
} as const;

/** `attestation.attester` with its defaults filled in. @internal */
export type ResolvedAttesterOptions = WithDefaults<ClientAttesterOptions, typeof ATTESTER_DEFAULTS>;

/** What the attestation-based client authentication rules read. @internal */
export interface AttestClientAuthRuleInput {
  issuer: string;
  development: boolean;
  attester: ResolvedAttesterOptions;
  templates: readonly ResolvedTemplate[];
}

type ResolvedTemplate = ResolvedRegistrationOptions['templates'][number];

/** What is wrong with a template's trusted attesters. */
function trustedAttesterProblems(
  template: ResolvedTemplate,
  o: AttestClientAuthRuleInput,
  path: string,
): string[] {
  const problems: string[] = [];
  for (const [i, attester] of template.trustedAttesters.entries()) {
    const at = `${path}.trustedAttesters[${i}]`;
    if (attester.issuer === o.issuer) {
      problems.push(`${at}.issuer is this server, whose attester every such template trusts`);
    }
    const url = URL.parse(attester.issuer);
    if (!url || (url.protocol !== 'https:' && !(o.development && url.protocol === 'http:'))) {
      problems.push(`${at}.issuer must be an https URL (http only with options.development)`);
    }
    for (const [j, key] of attester.jwks.keys.entries()) {
      const jwk = key as Record<string, unknown>;
      if (typeof jwk.kty !== 'string' || ['d', 'p', 'q', 'k'].some((member) => member in jwk)) {
        problems.push(`${at}.jwks.keys[${j}] must be a public key`);
      }
    }
    try {
      createLocalJWKSet(attester.jwks as JSONWebKeySet);
    } catch {
      problems.push(`${at}.jwks must be a JWK Set`);
    }
  }
  if (template.trustedAttesters.length > 0 && !template.attestClientAuth) {
    problems.push(`${path}.trustedAttesters needs ${path}.attestClientAuth`);
  }
  return problems;
}

/**
 * Problems of the attestation-based client authentication options, one message per path.
 *
 * @internal
 */
export function attestClientAuthProblems(o: AttestClientAuthRuleInput): string[] {
  const problems = attesterKeyProblems(o.attester.keys, 'options.attestation.attester.keys');
  for (const [i, template] of o.templates.entries()) {
    const path = `options.registration.templates[${i}]`;
    problems.push(...trustedAttesterProblems(template, o, path));
    if (template.attestClientAuth && o.attester.enabled === false) {
      problems.push(`${path}.attestClientAuth needs options.attestation.attester.enabled`);
    }
  }
  return problems;
}
