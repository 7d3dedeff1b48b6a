// The registration options: `registration` (DCR of instance clients) and `registrationClients`
// (the static clients that obtain DCR tokens). Their types, defaults, schema, resolved shape and
// the rules that tie them to other options; templates' own schema is in template-schema.ts.
import type { ClientMetadata } from 'oidc-provider';
import { BUILT_IN_FORMATS } from '../attestation/built-in.js';
import type { EvidenceVerifier } from '../attestation/types.js';
import type { DefaultsOf, Override, WithDefaults } from '../core/options/resolve-types.js';
import {
  nonEmptyString,
  positiveInteger,
  rateLimit,
  scopeToken,
} from '../core/options/schema-pieces.js';
import type { InstanceAuthMethod, Template, TemplateResolver } from '../core/template-types.js';
import type { RateLimit } from '../storage/store.js';
import { redirectUriProblem } from './instance-rules.js';
import type { RegistrationPolicy } from './policy-types.js';
import { type TEMPLATE_DEFAULTS, templateSchema } from './template-schema.js';
import { templateProblems } from './templates.js';

/**
 * A registration client (see {@link AuthServerOptions.registrationClients}).
 *
 * @group Options
 */
export interface RegistrationClientOptions {
  /** The client id the app uses to get a DCR token, e.g. `mobile-dcr-client`. */
  client_id: string;
  /** The app's redirect URIs (RFC 8252: private-use scheme, loopback or claimed `https`). */
  redirect_uris: string[];
  /** A name shown on the consent page. */
  client_name?: string;
}

/**
 * Dynamic Client Registration settings.
 *
 * @group Options
 */
export interface RegistrationOptions {
  /** The DCR token: the `dcr`-scoped access token that opens the registration endpoint. */
  dcrToken?: DcrTokenOptions;
  /** What instance clients may register. */
  instances?: InstanceClientOptions;
  /**
   * Policy hooks run in order on every registration and update, after the built-in rules; each
   * may amend the metadata or reject with a {@link RegistrationPolicyError}.
   *
   * @default []
   */
  policies?: RegistrationPolicy[];
  /**
   * Template clients: an instance registers with just `{"software_id": "<template>"}` and
   * inherits the template's settings live. Once any template (or a resolver) is configured, a
   * registration's `software_id` always names a template.
   *
   * @default []
   */
  templates?: Template[];
  /** Looks up templates that are not in {@link RegistrationOptions.templates} (e.g. in a database). */
  templateResolver?: TemplateResolver;
  /**
   * Refuse registrations without a `software_id`: instances register from templates only.
   *
   * @default false
   */
  templatesOnly?: boolean;
  /** At most this many active instances per account. No limit when unset. */
  maxInstancesPerAccount?: InstanceLimitOptions;
  /**
   * Static confidential clients (in {@link AuthServerOptions.clients}, with the
   * `client_credentials` grant) that may obtain a one-shot DCR token for a fallback
   * registration; templates name the ones they accept in `fallbackClients`.
   *
   * @default every client a configured template lists in `fallbackClients`
   */
  fallbackClients?: string[];
  /**
   * Registration attempts allowed per account and per client IP address, counted in the store
   * so the limit holds across processes. Over the limit: `429` with `Retry-After`. No limit
   * when unset.
   */
  rateLimit?: RegistrationRateLimitOptions;
}

/**
 * The per-account instance limit.
 *
 * @group Options
 */
export interface InstanceLimitOptions {
  /** Active instances one account may have. */
  max: number;
  /**
   * What a registration beyond the limit does: `reject` it (`invalid_client_metadata`), or
   * `revoke-oldest` instances once the new one is registered.
   *
   * @default 'reject'
   */
  onLimit?: 'reject' | 'revoke-oldest';
}

/**
 * Registration rate limits.
 *
 * @group Options
 */
export interface RegistrationRateLimitOptions {
  /** Registration attempts per account (the user behind the DCR token). */
  perAccount?: RateLimit;
  /** Registration attempts per client IP address (behind a proxy, see {@link AuthServerOptions.proxy}). */
  perIp?: RateLimit;
}

/**
 * DCR token settings.
 *
 * @group Options
 */
export interface DcrTokenOptions {
  /**
   * The scope that makes an access token a DCR token.
   *
   * @default 'dcr'
   */
  scope?: string;
  /**
   * Lifetime of a DCR token in seconds.
   *
   * @default 300
   */
  ttl?: number;
  /**
   * How many clients one DCR token may register. Uses are taken atomically, so parallel
   * registrations never exceed it; a registration that fails gives its use back.
   *
   * @default 1
   */
  maxUses?: number;
}

/**
 * Limits on instance client metadata.
 *
 * @group Options
 */
export interface InstanceClientOptions {
  /**
   * Scopes an instance may register for; its `scope` defaults to all of them.
   *
   * @default all of {@link AuthServerOptions.scopes}
   */
  allowedScopes?: string[];
  /**
   * Redirect URI schemes (without the colon) an instance may register; any scheme the built-in
   * rules accept when unset.
   */
  allowedRedirectSchemes?: string[];
  /**
   * Client authentication methods an instance may register with; the first is the default.
   *
   * @default ['client_secret_basic', 'private_key_jwt']
   */
  authMethods?: InstanceAuthMethod[];
  /**
   * Seconds an instance that has never obtained a token is kept: an app that crashed while
   * registering, or was uninstalled before first use, leaves no lasting client behind. Its first
   * token makes it permanent. Unused instances are listed as such (`unusedUntil`) and do not
   * count toward {@link RegistrationOptions.maxInstancesPerAccount}, which is applied when an
   * instance is first used. `0` keeps every instance.
   *
   * @default 86400 (a day)
   */
  unusedTtl?: number;
  /**
   * How many instance clients each server process keeps loaded (parsed, validated, their keys
   * imported), most recently used first. A client is still read from the store on every
   * request and found in this cache by a hash of what was read, so an update, a template change
   * or a revocation is seen at once; the cache only spares rebuilding an unchanged client.
   * oidc-provider alone keeps 100, which with more active installs than that rebuilds a client
   * on almost every request. Each costs a few kilobytes.
   *
   * @default 10000
   */
  cacheSize?: number;
}

/**
 * Defaults of {@link AuthServerOptions.registration}.
 *
 * @internal
 */
export const REGISTRATION_DEFAULTS = {
  dcrToken: { scope: 'dcr', ttl: 300, maxUses: 1 },
  instances: {
    authMethods: ['client_secret_basic', 'private_key_jwt'],
    unusedTtl: 86400,
    cacheSize: 10000,
  },
  policies: [],
  templates: [],
  templatesOnly: false,
  maxInstancesPerAccount: { onLimit: 'reject' },
} as const satisfies DefaultsOf<RegistrationOptions>;

/** The schema of {@link AuthServerOptions.registrationClients}. @internal */
export const registrationClientsSchema = {
  type: 'array',
  items: {
    type: 'object',
    required: ['client_id', 'redirect_uris'],
    additionalProperties: false,
    properties: {
      client_id: nonEmptyString,
      redirect_uris: { type: 'array', minItems: 1, items: nonEmptyString },
      client_name: nonEmptyString,
    },
  },
} as const;

/** The schema of {@link AuthServerOptions.registration}. @internal */
export const registrationSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    dcrToken: {
      type: 'object',
      additionalProperties: false,
      properties: {
        scope: scopeToken,
        ttl: { ...positiveInteger, maximum: 3600 },
        maxUses: positiveInteger,
      },
    },
    instances: {
      type: 'object',
      additionalProperties: false,
      properties: {
        allowedScopes: { type: 'array', uniqueItems: true, items: scopeToken },
        allowedRedirectSchemes: { type: 'array', uniqueItems: true, items: nonEmptyString },
        authMethods: {
          type: 'array',
          minItems: 1,
          uniqueItems: true,
          items: { enum: ['client_secret_basic', 'private_key_jwt'] },
        },
        unusedTtl: { type: 'integer', minimum: 0 },
        cacheSize: positiveInteger,
      },
    },
    policies: { type: 'array', items: { isFunction: true } },
    templates: { type: 'array', items: templateSchema },
    templateResolver: { isFunction: true },
    templatesOnly: { type: 'boolean' },
    maxInstancesPerAccount: {
      type: 'object',
      required: ['max'],
      additionalProperties: false,
      properties: {
        max: positiveInteger,
        onLimit: { enum: ['reject', 'revoke-oldest'] },
      },
    },
    rateLimit: {
      type: 'object',
      additionalProperties: false,
      properties: { perAccount: rateLimit, perIp: rateLimit },
    },
    fallbackClients: { type: 'array', uniqueItems: true, items: nonEmptyString },
  },
} as const;

type DefaultedRegistration = WithDefaults<RegistrationOptions, typeof REGISTRATION_DEFAULTS>;

/**
 * `registration` with every default filled in: besides the constant ones, each template carries
 * its own, and `resolveOptions` computes `instances.allowedScopes` (from `scopes`) and
 * `fallbackClients` (from the templates).
 *
 * @internal
 */
export type ResolvedRegistrationOptions = Override<
  DefaultedRegistration,
  {
    instances: Override<DefaultedRegistration['instances'], { allowedScopes: string[] }>;
    templates: WithDefaults<Template, typeof TEMPLATE_DEFAULTS>[];
    fallbackClients: string[];
  }
>;

/** What the registration rules read of the other options. @internal */
export interface RegistrationRuleInput {
  scopes: readonly string[];
  clients: readonly ClientMetadata[];
  registrationClients: readonly RegistrationClientOptions[];
  registration: ResolvedRegistrationOptions;
  /** `attestation.verifiers`: the formats templates may name besides the built-in ones. */
  verifiers: Readonly<Record<string, EvidenceVerifier>>;
}

/** The DCR token scope stays reserved, and instances may only register offered scopes. */
function scopeProblems(o: RegistrationRuleInput): string[] {
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
function staticClientProblems(o: RegistrationRuleInput): string[] {
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
function templateOptionProblems(o: RegistrationRuleInput): string[] {
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
      if (o.verifiers[format]) continue;
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

/**
 * Problems of the registration options and of how they fit the others, one message per path.
 *
 * @internal
 */
export function registrationOptionProblems(o: RegistrationRuleInput): string[] {
  return [...scopeProblems(o), ...staticClientProblems(o), ...templateOptionProblems(o)];
}
