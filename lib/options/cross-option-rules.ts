// Rules that span options, which the JSON Schema cannot express: each returns its problems,
// one message per offending path. A feature's own rules are in its options.ts, given only what
// they read; the engine-level options' rules, and those spanning features, are here.
import { assuranceProblems } from '../attestation/options.js';
import { attestClientAuthProblems } from '../client-attestation/options.js';
import { federationProblems } from '../federation/options.js';
import { proxyTrustProblems } from '../http/client-address.js';
import { instanceOptionProblems } from '../instances/options.js';
import { interactionProblems } from '../interactions/options.js';
import { signingKeyProblems } from '../keys/index.js';
import { passkeyProblems } from '../passkeys/settings.js';
import { phoneApprovalProblems } from '../phone-approval/options.js';
import { registrationOptionProblems } from '../registration/options.js';
import type { ResolvedOptions } from './resolved.js';

/** The issuer is an absolute https URL (http only in development). */
function issuerProblems(o: ResolvedOptions): string[] {
  const issuer = URL.parse(o.issuer);
  if (!issuer || !['https:', 'http:'].includes(issuer.protocol)) {
    return ['options.issuer must be an absolute http(s) URL'];
  }
  const problems: string[] = [];
  // The parsed URL drops an empty '?' or '#', so check the string as given.
  if (/[?#]/.test(o.issuer)) {
    problems.push('options.issuer must not have a query or fragment');
  }
  if (issuer.protocol === 'http:' && !o.development) {
    problems.push('options.issuer must use https (http is allowed only with options.development)');
  }
  return problems;
}

/** Signing and cookie keys are given, unless development mode generates them, and usable. */
function keyProblems(o: ResolvedOptions): string[] {
  // Private keys for every algorithm the server signs with: lib/keys/index.ts.
  const problems = o.jwks ? signingKeyProblems(o.jwks, o.clients) : [];
  if (o.development) return problems;
  if (!o.jwks) {
    problems.push('options.jwks is required (generated keys only with options.development)');
  }
  if (!o.cookieKeys) {
    problems.push('options.cookieKeys is required (generated keys only with options.development)');
  }
  return problems;
}

const MTLS_METHODS = ['tls_client_auth', 'self_signed_tls_client_auth'];

/** Fallback clients: confidential client_credentials clients that can authenticate. */
function fallbackOptionProblems(o: ResolvedOptions): string[] {
  const problems: string[] = [];
  for (const [i, id] of o.registration.fallbackClients.entries()) {
    const client = o.clients.find((c) => c.client_id === id);
    const path = `options.registration.fallbackClients[${i}] '${id}'`;
    if (!client) {
      problems.push(`${path} is not in options.clients`);
      continue;
    }
    if (!client.grant_types?.includes('client_credentials')) {
      problems.push(`${path} must have the client_credentials grant type`);
    }
    const method = client.token_endpoint_auth_method ?? 'client_secret_basic';
    if (method === 'none') problems.push(`${path} must be a confidential client`);
    if (MTLS_METHODS.includes(method) && !o.mtls) {
      problems.push(`${path} authenticates with ${method}, which needs options.mtls`);
    }
    if (o.instances.adminClients.includes(id)) {
      problems.push(`${path} must not also be an admin client`);
    }
  }
  return problems;
}

/** APIs: distinct https resource indicators whose scopes are offered. */
function apiProblems(o: ResolvedOptions): string[] {
  const problems: string[] = [];
  for (const [i, api] of o.apis.entries()) {
    const path = `options.apis[${i}]`;
    const url = URL.parse(api.resource);
    if (!url || url.hash || api.resource.includes('#')) {
      problems.push(`${path}.resource must be an absolute URI without a fragment (RFC 8707 §2)`);
    } else if (url.protocol !== 'https:' && !o.development) {
      problems.push(`${path}.resource must use https (http only with options.development)`);
    }
    if (o.apis.findIndex((other) => other.resource === api.resource) !== i) {
      problems.push(`${path}.resource '${api.resource}' is listed twice`);
    }
    for (const scope of api.scope.split(' ')) {
      if (!o.scopes.includes(scope)) {
        problems.push(`${path}.scope '${scope}' is not in options.scopes`);
      }
    }
  }
  return problems;
}

/** mTLS headers are trusted only from a proxy, and the verified header only with the certificate. */
function mtlsProblems(o: ResolvedOptions): string[] {
  const problems: string[] = [];
  if (o.mtls?.certificateHeader && !o.proxy) {
    problems.push(
      'options.mtls.certificateHeader needs options.proxy: only a trusted proxy sets it',
    );
  }
  if (o.mtls?.verifiedHeader && !o.mtls.certificateHeader) {
    problems.push('options.mtls.verifiedHeader needs options.mtls.certificateHeader');
  }
  return problems;
}

/** Introspecting resource servers are confidential static clients. */
function introspectionProblems(o: ResolvedOptions): string[] {
  const problems: string[] = [];
  for (const [i, id] of o.introspection.resourceServers.entries()) {
    const client = o.clients.find((c) => c.client_id === id);
    if (!client) {
      problems.push(
        `options.introspection.resourceServers[${i}] '${id}' is not in options.clients`,
      );
    } else if (client.token_endpoint_auth_method === 'none') {
      problems.push(
        `options.introspection.resourceServers[${i}] '${id}' must be a confidential client`,
      );
    }
  }
  return problems;
}

// In the order their problems are reported.
const CROSS_OPTION_RULES = [
  issuerProblems,
  keyProblems,
  // DCR token scope, registration clients, templates: lib/registration/options.ts.
  (o: ResolvedOptions) =>
    registrationOptionProblems({
      scopes: o.scopes,
      clients: o.clients,
      registrationClients: o.registrationClients,
      registration: o.registration,
      verifiers: o.attestation.verifiers,
    }),
  instanceOptionProblems,
  fallbackOptionProblems,
  apiProblems,
  mtlsProblems,
  assuranceProblems,
  introspectionProblems,
  federationProblems,
  interactionProblems,
  // Trusted attesters, attester keys: lib/client-attestation/options.ts.
  (o: ResolvedOptions) =>
    attestClientAuthProblems({
      issuer: o.issuer,
      development: o.development,
      attester: o.attestation.attester,
      templates: o.registration.templates,
    }),
  // The static clients that start CIBA: lib/phone-approval/options.ts.
  (o: ResolvedOptions) =>
    phoneApprovalProblems({ clients: o.clients, phoneApproval: o.phoneApproval }),
  // Each trusted proxy is an IP address or CIDR range: lib/http/client-address.ts.
  (o: ResolvedOptions) => proxyTrustProblems(o.proxy),
  // rpId and origins on the issuer's domain: lib/passkeys/settings.ts.
  (o: ResolvedOptions) =>
    passkeyProblems({
      issuer: o.issuer,
      development: o.development,
      title: o.interactions.title,
      passkeys: o.passkeys,
    }),
];

/**
 * Every problem of the rules that span options, for options the schema has filled in.
 *
 * @throws whatever a rule throws: on options the schema refused, a rule may trip over them.
 * @internal
 */
export function crossOptionProblems(o: ResolvedOptions): string[] {
  return CROSS_OPTION_RULES.flatMap((rule) => rule(o));
}
