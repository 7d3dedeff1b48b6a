// Rules that span options, which the JSON Schema cannot express: each returns its problems,
// one message per offending path.
import { BUILT_IN_FORMATS } from '../attestation/built-in.js';
import { attestClientAuthProblems } from '../client-attestation/options.js';
import { proxyTrustProblems } from '../http/client-address.js';
import { BUILT_IN_MESSAGES } from '../interactions/messages.js';
import { signingKeyProblems } from '../keys/index.js';
import { passkeyProblems } from '../passkeys/settings.js';
import { redirectUriProblem } from '../registration/instance-rules.js';
import { templateProblems } from '../registration/templates.js';
import { isPlainObject } from './plain-object.js';
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

/** The DCR token scope stays reserved, and instances may only register offered scopes. */
function scopeProblems(o: ResolvedOptions): string[] {
  const problems: string[] = [];
  const dcrScope = o.registration.dcrToken.scope;
  if (o.scopes.includes(dcrScope)) {
    problems.push(`options.scopes must not include the DCR token scope '${dcrScope}'`);
  }
  for (const [i, scope] of o.registration.instances.allowedScopes.entries()) {
    if (!o.scopes.includes(scope)) {
      problems.push(
        `options.registration.instances.allowedScopes[${i}] '${scope}' is not in options.scopes`,
      );
    }
  }
  return problems;
}

/** Static clients: unique ids, safe redirect URIs, and no DCR scope outside registration clients. */
function staticClientProblems(o: ResolvedOptions): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  const allClients = [
    ...o.registrationClients.map(
      (c, i) => [c.client_id, `options.registrationClients[${i}]`] as const,
    ),
    ...o.clients.map((c, i) => [c.client_id, `options.clients[${i}]`] as const),
  ];
  for (const [id, path] of allClients) {
    if (ids.has(id)) problems.push(`${path}.client_id '${id}' is used by another client`);
    ids.add(id);
  }
  for (const [i, client] of o.registrationClients.entries()) {
    for (const uri of client.redirect_uris) {
      const problem = redirectUriProblem(uri);
      if (problem) {
        problems.push(`options.registrationClients[${i}].redirect_uris '${uri}' ${problem}`);
      }
    }
  }
  const dcrScope = o.registration.dcrToken.scope;
  for (const [i, client] of o.clients.entries()) {
    if (typeof client.scope === 'string' && client.scope.split(' ').includes(dcrScope)) {
      problems.push(
        `options.clients[${i}].scope must not include '${dcrScope}': only registration clients may obtain it`,
      );
    }
  }
  return problems;
}

/** Templates: unique, valid as instance clients, with a verifier per format and known fallbacks. */
function templateOptionProblems(o: ResolvedOptions): string[] {
  const problems: string[] = [];
  const r = o.registration;
  const seen = new Set<string>();
  for (const [i, template] of r.templates.entries()) {
    const path = `options.registration.templates[${i}]`;
    if (seen.has(template.software_id)) {
      problems.push(`${path}.software_id '${template.software_id}' is used by another template`);
    }
    seen.add(template.software_id);
    problems.push(...templateProblems(template, r.instances, path));
    for (const [j, format] of (template.attestation?.formats ?? []).entries()) {
      if (o.attestation.verifiers[format]) continue;
      const settings = BUILT_IN_FORMATS[format as keyof typeof BUILT_IN_FORMATS];
      if (!settings) {
        problems.push(
          `${path}.attestation.formats[${j}] '${format}' has no verifier in options.attestation.verifiers`,
        );
      } else if (!template.attestation?.[settings]) {
        problems.push(
          `${path}.attestation.formats[${j}] '${format}' needs ${path}.attestation.${settings}`,
        );
      }
    }
    for (const [j, id] of (template.fallbackClients ?? []).entries()) {
      if (!r.fallbackClients.includes(id)) {
        problems.push(
          `${path}.fallbackClients[${j}] '${id}' is not in options.registration.fallbackClients`,
        );
      }
    }
  }
  if (r.templatesOnly && r.templates.length === 0 && !r.templateResolver) {
    problems.push(
      'options.registration.templatesOnly needs options.registration.templates or a templateResolver',
    );
  }
  return problems;
}

/** Device management: admin clients and scopes that only they, or the users, can obtain. */
function deviceOptionProblems(o: ResolvedOptions): string[] {
  const problems: string[] = [];
  const d = o.devices;
  if (o.scopes.includes(d.adminScope)) {
    problems.push(`options.scopes must not include the admin scope '${d.adminScope}'`);
  }
  for (const [i, id] of d.adminClients.entries()) {
    const client = o.clients.find((c) => c.client_id === id);
    const path = `options.devices.adminClients[${i}] '${id}'`;
    if (!client) {
      problems.push(`${path} is not in options.clients`);
      continue;
    }
    if (!client.grant_types?.includes('client_credentials')) {
      problems.push(`${path} must have the client_credentials grant type`);
    }
    if (
      !String(client.scope ?? '')
        .split(' ')
        .includes(d.adminScope)
    ) {
      problems.push(`${path} must have the scope '${d.adminScope}'`);
    }
    if (client.token_endpoint_auth_method === 'none') {
      problems.push(`${path} must be a confidential client`);
    }
  }
  for (const [i, client] of o.clients.entries()) {
    const scopes = String(client.scope ?? '').split(' ');
    if (scopes.includes(d.adminScope) && !d.adminClients.includes(client.client_id)) {
      problems.push(
        `options.clients[${i}].scope must not include '${d.adminScope}': only admin clients may obtain it`,
      );
    }
  }
  if (d.selfServiceScope && !o.scopes.includes(d.selfServiceScope)) {
    problems.push(
      `options.devices.selfServiceScope '${d.selfServiceScope}' is not in options.scopes`,
    );
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
    if (o.devices.adminClients.includes(id)) {
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

/** Minimum assurance levels name offered scopes. */
function assuranceProblems(o: ResolvedOptions): string[] {
  return Object.keys(o.assurance.minimumLevels)
    .filter((scope) => !o.scopes.includes(scope))
    .map((scope) => `options.assurance.minimumLevels.${scope} names a scope not in options.scopes`);
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

/** Federated providers: unique names and issuers, https, the hook, Apple's client secret key. */
function federationProblems(o: ResolvedOptions): string[] {
  const problems: string[] = [];
  const { providers } = o.federation;
  if (providers.length > 0 && !o.accounts.federated) {
    problems.push(
      'options.accounts.federated is required when options.federation.providers is set',
    );
  }
  const names = new Set<string>();
  const issuers = new Set<string>();
  for (const [i, provider] of providers.entries()) {
    const at = `options.federation.providers[${i}]`;
    if (names.has(provider.name)) problems.push(`${at}.name '${provider.name}' is not unique`);
    names.add(provider.name);
    // The native exchange picks the provider by the id_token's iss.
    if (issuers.has(provider.issuer)) problems.push(`${at}.issuer is not unique`);
    issuers.add(provider.issuer);
    const issuer = URL.parse(provider.issuer);
    if (!issuer || !['https:', 'http:'].includes(issuer.protocol)) {
      problems.push(`${at}.issuer must be an absolute https URL`);
    } else if (issuer.protocol === 'http:' && !o.development) {
      problems.push(`${at}.issuer must use https (http is allowed only with options.development)`);
    }
    if (provider.audiences.length === 0 && !provider.browser) {
      problems.push(`${at} needs audiences (native sign-in), browser (the sign-in page) or both`);
    }
    const browser = provider.browser;
    if (browser && provider.quirks === 'apple' && !browser.appleKey) {
      problems.push(`${at}.browser.appleKey is required for Apple (its client secret is a JWT)`);
    }
    if (browser?.appleKey && browser.clientSecret) {
      problems.push(`${at}.browser: give clientSecret or appleKey, not both`);
    }
  }
  return problems;
}

/** Whether `tag` is a well-formed BCP 47 language tag. */
function isLanguageTag(tag: string): boolean {
  try {
    return Intl.getCanonicalLocales(tag).length === 1;
  } catch {
    return false;
  }
}

/** The pages: catalogues under language tags, a default language there is one for, descriptions. */
function interactionProblems(o: ResolvedOptions): string[] {
  const problems: string[] = [];
  const { messages = {}, defaultLanguage, scopeDescriptions = {} } = o.interactions;
  for (const tag of Object.keys(messages)) {
    if (!isLanguageTag(tag)) {
      problems.push(`options.interactions.messages.${tag} is not a BCP 47 language tag`);
    }
  }
  const languages = [...Object.keys(BUILT_IN_MESSAGES), ...Object.keys(messages)];
  if (!languages.some((tag) => tag.toLowerCase() === defaultLanguage.toLowerCase())) {
    problems.push(
      `options.interactions.defaultLanguage '${defaultLanguage}' has no catalogue: use ${languages.join(', ')}, or add it to options.interactions.messages`,
    );
  }
  for (const [scope, description] of Object.entries(scopeDescriptions)) {
    const at = `options.interactions.scopeDescriptions.${scope}`;
    if (typeof description === 'string') {
      if (description === '') problems.push(`${at} must not be empty`);
      continue;
    }
    if (!isPlainObject(description)) {
      problems.push(`${at} must be a string or an object of strings by language tag`);
      continue;
    }
    for (const [tag, text] of Object.entries(description)) {
      if (!isLanguageTag(tag)) problems.push(`${at}.${tag} is not a BCP 47 language tag`);
      else if (typeof text !== 'string' || text === '') {
        problems.push(`${at}.${tag} must be a non-empty string`);
      }
    }
  }
  return problems;
}

// In the order their problems are reported.
const CROSS_OPTION_RULES = [
  issuerProblems,
  keyProblems,
  scopeProblems,
  staticClientProblems,
  templateOptionProblems,
  deviceOptionProblems,
  fallbackOptionProblems,
  apiProblems,
  mtlsProblems,
  assuranceProblems,
  introspectionProblems,
  federationProblems,
  interactionProblems,
  // Trusted attesters, attester keys: lib/attestation/client-auth-options.ts.
  attestClientAuthProblems,
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
