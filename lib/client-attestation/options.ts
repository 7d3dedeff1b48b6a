// The options of attestation-based client authentication that the JSON Schema cannot check:
// trusted attesters' issuers and keys, the attester's keys, and the switch against templates.
import { createLocalJWKSet, type JSONWebKeySet } from 'jose';
import type { ResolvedOptions } from '../options/resolved.js';
import { attesterKeyProblems } from './attester-keys.js';

type ResolvedTemplate = ResolvedOptions['registration']['templates'][number];

/** What is wrong with a template's trusted attesters. */
function trustedAttesterProblems(
  template: ResolvedTemplate,
  o: ResolvedOptions,
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
export function attestClientAuthProblems(o: ResolvedOptions): string[] {
  const problems = attesterKeyProblems(
    o.attestation.attester.keys,
    'options.attestation.attester.keys',
  );
  for (const [i, template] of o.registration.templates.entries()) {
    const path = `options.registration.templates[${i}]`;
    problems.push(...trustedAttesterProblems(template, o, path));
    if (template.attestClientAuth && o.attestation.attester.enabled === false) {
      problems.push(`${path}.attestClientAuth needs options.attestation.attester.enabled`);
    }
  }
  return problems;
}
