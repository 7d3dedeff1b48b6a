import { Ajv, type ErrorObject } from 'ajv';
import type { ClientMetadata, Configuration, JWK } from 'oidc-provider';
import { BUILT_IN_FORMATS, type BuiltInSettings } from '../attestation/built-in.js';
import type { AssuranceLevel } from '../attestation/levels.js';
import type {
  AssuranceResolver,
  AttestationPolicy,
  EvidenceVerifier,
} from '../attestation/types.js';
import { ConfigurationError } from '../errors.js';
import type { Logger } from '../logger.js';
import { redirectUriProblem } from '../registration/instance-rules.js';
import type { RegistrationPolicy } from '../registration/policy-types.js';
import type { TemplateResolver } from '../registration/template-types.js';
import { type ResolvedTemplate, templateProblems } from '../registration/templates.js';
import type { Store } from '../storage/index.js';
import { optionsSchema } from './schema.js';
import type {
  AccountOptions,
  AuthServerOptions,
  InstanceAuthMethod,
  RegistrationClientOptions,
} from './types.js';

/** Options after validation, with every default filled in. @internal */
export interface ResolvedOptions {
  issuer: string;
  development: boolean;
  jwks: { keys: JWK[] } | undefined;
  cookieKeys: string[] | undefined;
  store: Store | undefined;
  logger: Logger | undefined;
  proxy: boolean;
  accounts: AccountOptions;
  scopes: string[];
  claims: Record<string, string[]>;
  registrationClients: RegistrationClientOptions[];
  clients: ClientMetadata[];
  ttl: Required<NonNullable<AuthServerOptions['ttl']>>;
  registration: {
    dcrToken: { scope: string; ttl: number; maxUses: number };
    instances: {
      allowedScopes: string[];
      allowedRedirectSchemes?: string[];
      authMethods: InstanceAuthMethod[];
      unusedTtl: number;
    };
    policies: RegistrationPolicy[];
    templates: ResolvedTemplate[];
    templateResolver?: TemplateResolver;
    templatesOnly: boolean;
    maxInstancesPerAccount?: { max: number; onLimit: 'reject' | 'revoke-oldest' };
    rateLimit?: {
      perAccount?: { points: number; duration: number };
      perIp?: { points: number; duration: number };
    };
    fallbackClients: string[];
  };
  attestation: {
    verifiers: Record<string, EvidenceVerifier>;
    policy?: AttestationPolicy;
    challenge: { path: string; ttl: number; rateLimit: { points: number; duration: number } };
    requireAppAttestAssertions: boolean;
    appleRoots?: string[];
    androidRoots?: string[];
    androidRevocationList?: BuiltInSettings['androidRevocationList'];
    maxRevocationListAge?: number;
  };
  assurance: {
    resolve?: AssuranceResolver;
    minimumLevels: Record<string, AssuranceLevel>;
  };
  mtls?: { certificateHeader?: string; verifiedHeader?: string };
  devices: {
    adminClients: string[];
    adminScope: string;
    adminSecret?: string;
    selfServiceScope?: string;
    keepRevokedFor: number;
  };
  introspection: { resourceServers: string[] };
  apis: Array<{
    resource: string;
    scope: string;
    accessTokenFormat: 'jwt' | 'opaque';
    accessTokenTTL?: number;
  }>;
  interactions: {
    title: string;
    signInRateLimit: {
      perAccount: { points: number; duration: number } | false;
      perIp: { points: number; duration: number } | false;
    };
  };
  oidcProvider: Configuration;
}

/**
 * oidc-provider settings the library owns: `options.oidcProvider` may not set them (or anything
 * beneath them). Each maps to the reason given in the error.
 */
const LOCKED_PROVIDER_SETTINGS: Record<string, string> = {
  adapter: 'use options.store',
  clients: 'use options.clients and options.registrationClients',
  findAccount: 'use options.accounts',
  jwks: 'use options.jwks',
  'cookies.keys': 'use options.cookieKeys',
  scopes: 'use options.scopes',
  claims: 'use options.claims',
  ttl: 'use options.ttl',
  interactions: 'the library serves the sign-in pages',
  pkce: 'PKCE S256 is required for every client',
  responseTypes: "only the 'code' response type is allowed (RFC 9700 §2.1.2)",
  clientDefaults: 'client defaults are part of the registration rules',
  extraClientMetadata: 'the library owns instance client metadata',
  extraTokenClaims: 'the library owns token claims',
  assertJwtClientAuthClaimsAndHeader: 'the library checks App Attest assertions there',
  rotateRefreshToken: 'refresh tokens always rotate',
  issueRefreshToken: 'the library decides refresh token issuance',
  'features.devInteractions': 'the library serves the sign-in pages',
  'features.registration': 'use options.registration',
  'features.registrationManagement': 'RFC 7592 management is always on',
  'features.introspection': 'use options.introspection',
  'features.revocation': 'revocation is always on with the library policy',
  'features.resourceIndicators': 'the library uses resource indicators for the DCR token',
  'features.mTLS': 'use options.mtls',
};

/**
 * What a value at an allowed passthrough path must be: anything, a boolean, `true`, a function,
 * a plain object with any keys, or a plain object of endpoint paths.
 */
type PassthroughValue = 'any' | 'boolean' | 'true' | 'function' | 'object' | 'paths';

/**
 * An allowed passthrough path: either a leaf, whose value is checked only by `value`, or an
 * object, beneath which only the listed `keys` are allowed (`refusal` says why others are not).
 */
type AllowedSetting = AllowedLeaf | AllowedObject;
type AllowedLeaf = { why: string; value: PassthroughValue };
type AllowedObject = { why: string; keys: Record<string, AllowedSetting>; refusal?: string };

const COOKIE_REFUSAL =
  'the session and interaction cookies keep the attributes oidc-provider gives them (httpOnly, sameSite=lax)';

const enabledFlag = (why: string): AllowedSetting => ({
  why,
  keys: { enabled: { why: 'turns the feature on or off', value: 'boolean' } },
});

/**
 * The `options.oidcProvider` allow-list (oidc-provider 9.13.3 names): settings that can neither
 * admit a client that skips the registration rules nor weaken what the library enforces.
 * Everything else is refused by its dotted path; keep lib/options/types.ts in step.
 */
const ALLOWED_PROVIDER_SETTINGS: AllowedObject = {
  why: 'the passthrough itself',
  keys: {
    routes: {
      why: 'endpoint paths only; the registration path is read back for the DCR token audience',
      value: 'paths',
    },
    discovery: {
      why: 'extra discovery metadata; oidc-provider never lets it replace a value it computes',
      value: 'object',
    },
    renderError: { why: 'the look of the error page', value: 'function' },
    extraParams: {
      why: 'extra authorization parameters kept for the interaction, which ignores them',
      value: 'any',
    },
    acrValues: { why: 'the acr values advertised in discovery', value: 'any' },
    conformIdTokenClaims: {
      why: 'whether scope claims go in the ID token or userinfo only; grants are unchanged',
      value: 'boolean',
    },
    cookies: {
      why: 'cookie names only; the security attributes stay as oidc-provider sets them',
      keys: {
        names: { why: 'the session and interaction cookie names', value: 'any' },
        // Listed so that a refused attribute is named by its own path.
        long: { why: 'no attribute of the session cookie', keys: {}, refusal: COOKIE_REFUSAL },
        short: {
          why: 'no attribute of the interaction cookies',
          keys: {},
          refusal: COOKIE_REFUSAL,
        },
      },
    },
    features: {
      why: 'features that admit no new kind of client',
      keys: {
        dPoP: {
          why: 'sender-constrained tokens (RFC 9449), never with replayed proofs',
          keys: {
            enabled: {
              why: 'with DPoP off oidc-provider drops the dpop_bound_access_tokens templates and instances ask for',
              value: 'true',
            },
            nonceSecret: { why: 'the key for server-provided DPoP nonces', value: 'any' },
            requireNonce: { why: 'whether a DPoP proof needs a server nonce', value: 'function' },
          },
        },
        pushedAuthorizationRequests: {
          why: 'PAR (RFC 9126), never with unregistered redirect URIs',
          keys: {
            enabled: { why: 'offers the PAR endpoint', value: 'boolean' },
            requirePushedAuthorizationRequests: {
              why: 'makes PAR mandatory for every client',
              value: 'boolean',
            },
          },
        },
        userinfo: enabledFlag('the userinfo endpoint'),
        jwtUserinfo: enabledFlag('signed userinfo responses'),
        jwtIntrospection: enabledFlag(
          'signed introspection responses; who may introspect is unchanged',
        ),
        jwtResponseModes: enabledFlag('JARM: signed authorization responses'),
        encryption: enabledFlag('encrypted responses for clients that register encryption keys'),
        backchannelLogout: enabledFlag('back-channel logout; instances cannot register its URI'),
        rpInitiatedLogout: {
          why: 'the look of the logout pages; the feature itself stays on',
          keys: {
            logoutSource: { why: 'the logout confirmation page', value: 'function' },
            postLogoutSuccessSource: { why: 'the page after logout', value: 'function' },
          },
        },
        clientCredentials: enabledFlag(
          'client_credentials for static clients; instances may not register that grant',
        ),
      },
    },
  },
};

/** Reasons for refusing some settings that are not allowed, more specific than the default. */
const REFUSED_PROVIDER_SETTINGS: Record<string, string> = {
  clientAuthMethods:
    'client authentication methods follow options.registration.instances.authMethods and options.mtls',
  clientBasedCORS:
    'the token, userinfo, introspection and revocation endpoints refuse browsers’ cross-origin calls',
  acceptQueryParamAccessTokens: 'bearer tokens never travel in URLs (RFC 6750 §5.3)',
  loadExistingGrant: 'a grant comes only from the user’s consent',
  expiresWithSession: 'tokens without offline_access end with the sign-in session',
  'cookies.long.maxAge':
    'oidc-provider ignores it (the session cookie lasts as long as options.ttl.session)',
  'cookies.short.maxAge':
    'oidc-provider ignores it (interaction cookies last as long as options.ttl.interaction)',
  'features.clientIdMetadataDocument':
    'URL client ids would be admitted without passing the registration rules',
  'features.claimsParameter': 'it lets a client obtain claims outside its registered scopes',
  'features.dPoP.allowReplay': 'a replayed DPoP proof is always refused',
  'features.pushedAuthorizationRequests.allowUnregisteredRedirectUris':
    'every redirect URI must be registered',
  'features.rpInitiatedLogout.enabled': 'RP-initiated logout is always on',
};

const DEFAULT_REFUSAL =
  'only settings that can neither admit clients nor weaken security pass through (see the documentation of options.oidcProvider)';

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

// ajv fills defaults by mutating its input; copy plain objects and arrays, keep functions and
// class instances (stores, key objects) as they are.
function copyForDefaults(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copyForDefaults);
  if (isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, copyForDefaults(v)]));
  }
  return value;
}

const STORE_METHODS = [
  'adapter',
  'takeUse',
  'returnUse',
  'addToIndex',
  'readIndex',
  'deleteIndex',
  'removeFromIndex',
  'consumeRate',
  'raiseCounter',
  'claim',
  'claimHolder',
  'close',
];

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, verbose: true });
ajv.addKeyword({
  keyword: 'isFunction',
  schemaType: 'boolean',
  errors: false,
  validate: (_schema: boolean, data: unknown) => typeof data === 'function',
});
ajv.addKeyword({
  keyword: 'isStore',
  schemaType: 'boolean',
  errors: false,
  validate: (_schema: boolean, data: unknown) =>
    typeof data === 'object' &&
    data !== null &&
    STORE_METHODS.every((m) => typeof (data as Record<string, unknown>)[m] === 'function'),
});
const validateSchema = ajv.compile(optionsSchema);

function optionPath(instancePath: string): string {
  const parts = instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
  return ['options', ...parts]
    .map((p, i) => (i > 0 && /^\d+$/.test(p) ? `[${p}]` : i > 0 ? `.${p}` : p))
    .join('');
}

function describe(error: ErrorObject): string {
  const path = optionPath(error.instancePath);
  const parent = error.parentSchema as Record<string, unknown> | undefined;
  switch (error.keyword) {
    case 'required':
      return `${path}.${error.params.missingProperty} is required`;
    case 'additionalProperties':
      return `${path}.${error.params.additionalProperty} is not a known option`;
    case 'isFunction':
      return `${path} must be a function`;
    case 'isStore':
      return `${path} must be a store (an object with ${STORE_METHODS.join(', ')} methods)`;
    case 'type':
    case 'minimum':
    case 'maximum':
      if (parent?.type === 'integer' && parent.minimum === 1) {
        const max = typeof parent.maximum === 'number' ? ` no greater than ${parent.maximum}` : '';
        return `${path} must be a positive integer${max}`;
      }
      return `${path} ${error.message}`;
    case 'pattern':
      return String(error.schema).startsWith('^/')
        ? `${path} must be a path starting with '/'`
        : `${path} must be a valid scope token (RFC 6749 §3.3)`;
    case 'enum':
      return `${path} must be one of ${(error.params.allowedValues as unknown[]).join(', ')}`;
    // A rate limit that may be turned off (`anyOf: [window, { const: false }]`): one message for
    // both branches; the window's own errors still name the field.
    case 'anyOf':
    case 'const':
      return error.keyword === 'anyOf' || error.params.allowedValue === false
        ? `${path} must be a rate limit ({ points, duration }) or false`
        : `${path} ${error.message}`;
    default:
      return `${path} ${error.message}`;
  }
}

const own = <T>(map: Record<string, T>, key: string): T | undefined =>
  Object.hasOwn(map, key) ? map[key] : undefined;

/** What is wrong with `value` at the allowed leaf `at`, by the leaf's kind. */
function passthroughValueProblems(setting: AllowedLeaf, value: unknown, at: string): string[] {
  switch (setting.value) {
    case 'any':
      return [];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${at} must be a boolean`];
    case 'true':
      return value === true ? [] : [`${at} must be true: ${setting.why}`];
    case 'function':
      return typeof value === 'function' ? [] : [`${at} must be a function`];
    case 'object':
      return isPlainObject(value) ? [] : [`${at} must be a plain object`];
    case 'paths': {
      if (!isPlainObject(value)) return [`${at} must be a plain object`];
      // A path starting '//' would make the endpoint's URL (and the DCR token audience) another host.
      return Object.keys(value)
        .filter((name) => {
          const path = value[name];
          return path !== undefined && (typeof path !== 'string' || !/^\/(?!\/)/.test(path));
        })
        .map((name) => `${at}.${name} must be a path starting with a single '/'`);
    }
  }
}

/**
 * Checks the `oidcProvider` passthrough against the allow-list, level by level: a setting the
 * library owns keeps its own reason, any other setting not on the list is refused by its path.
 */
function passthroughProblems(
  config: Record<string, unknown>,
  allowed: AllowedObject = ALLOWED_PROVIDER_SETTINGS,
  prefix = '',
): string[] {
  const problems: string[] = [];
  // `config` is resolveOptions' copy: plain objects with their enumerable own properties.
  for (const key of Object.keys(config)) {
    const value = config[key];
    // oidc-provider's merge skips undefined, so an undefined setting changes nothing.
    if (value === undefined) continue;
    const path = prefix ? `${prefix}.${key}` : key;
    const at = `options.oidcProvider.${path}`;
    const locked = own(LOCKED_PROVIDER_SETTINGS, path);
    const setting = own(allowed.keys, key);
    if (locked) {
      problems.push(`${at} cannot be set: ${locked}`);
    } else if (!setting) {
      const reason = own(REFUSED_PROVIDER_SETTINGS, path) ?? allowed.refusal ?? DEFAULT_REFUSAL;
      problems.push(`${at} is not an allowed passthrough setting: ${reason}`);
    } else if ('keys' in setting) {
      // Only a plain object: a class instance could hide settings in getters on its prototype.
      problems.push(
        ...(isPlainObject(value)
          ? passthroughProblems(value, setting, path)
          : [`${at} must be a plain object`]),
      );
    } else {
      problems.push(...passthroughValueProblems(setting, value, at));
    }
  }
  return problems;
}

function crossOptionProblems(o: ResolvedOptions): string[] {
  const problems: string[] = [];
  const issuer = URL.parse(o.issuer);
  if (!issuer || !['https:', 'http:'].includes(issuer.protocol)) {
    problems.push('options.issuer must be an absolute http(s) URL');
  } else {
    // The parsed URL drops an empty '?' or '#', so check the string as given.
    if (/[?#]/.test(o.issuer)) {
      problems.push('options.issuer must not have a query or fragment');
    }
    if (issuer.protocol === 'http:' && !o.development) {
      problems.push(
        'options.issuer must use https (http is allowed only with options.development)',
      );
    }
  }
  if (!o.development) {
    if (!o.jwks)
      problems.push('options.jwks is required (generated keys only with options.development)');
    if (!o.cookieKeys) {
      problems.push(
        'options.cookieKeys is required (generated keys only with options.development)',
      );
    }
  }

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
      if (problem)
        problems.push(`options.registrationClients[${i}].redirect_uris '${uri}' ${problem}`);
    }
  }
  for (const [i, client] of o.clients.entries()) {
    if (typeof client.scope === 'string' && client.scope.split(' ').includes(dcrScope)) {
      problems.push(
        `options.clients[${i}].scope must not include '${dcrScope}': only registration clients may obtain it`,
      );
    }
  }
  problems.push(
    ...templateOptionProblems(o),
    ...deviceOptionProblems(o),
    ...fallbackOptionProblems(o),
  );
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
  if (o.mtls?.certificateHeader && !o.proxy) {
    problems.push(
      'options.mtls.certificateHeader needs options.proxy: only a trusted proxy sets it',
    );
  }
  if (o.mtls?.verifiedHeader && !o.mtls.certificateHeader) {
    problems.push('options.mtls.verifiedHeader needs options.mtls.certificateHeader');
  }
  for (const scope of Object.keys(o.assurance.minimumLevels)) {
    if (!o.scopes.includes(scope)) {
      problems.push(`options.assurance.minimumLevels.${scope} names a scope not in options.scopes`);
    }
  }
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

// Cross-option and passthrough problems, reported alongside schema problems. Checks that read
// a path the schema already refused are skipped rather than reported twice or misleadingly.
function laterProblems(resolved: ResolvedOptions, schemaProblems: string[]): string[] {
  if (!isPlainObject(resolved)) return [];
  const refused = (message: string) => {
    const path = message.split(' ')[0] ?? '';
    return schemaProblems.some((p) => p.startsWith(path) || path.startsWith(p.split(' ')[0] ?? ''));
  };
  const later: string[] = [];
  try {
    if (Array.isArray(resolved.scopes))
      resolved.registration.instances.allowedScopes ??= [...resolved.scopes];
    resolved.registration.fallbackClients ??= [
      ...new Set(resolved.registration.templates.flatMap((t) => t.fallbackClients ?? [])),
    ];
    later.push(...crossOptionProblems(resolved));
  } catch (error) {
    // With a schema problem, a check may trip over the shape the schema refused (reported
    // already); without one, an exception is a bug in a check, never silently skipped.
    if (schemaProblems.length === 0) throw error;
  }
  const passthrough: unknown = resolved.oidcProvider;
  later.push(
    ...(passthrough === undefined || isPlainObject(passthrough)
      ? passthroughProblems(passthrough ?? {})
      : ['options.oidcProvider must be a plain object']),
  );
  return schemaProblems.length === 0 ? later : later.filter((p) => !refused(p));
}

/**
 * Validates options against the JSON Schema and the rules that span options, and fills in
 * defaults. Throws a {@link ConfigurationError} naming every offending path.
 *
 * @internal
 */
export function resolveOptions(options: AuthServerOptions): ResolvedOptions {
  const copy = copyForDefaults(options);
  const schemaProblems = validateSchema(copy)
    ? []
    : [...new Set((validateSchema.errors ?? []).map(describe))];
  const resolved = copy as unknown as ResolvedOptions;
  const problems = [...schemaProblems, ...laterProblems(resolved, schemaProblems)];
  if (problems.length > 0) throw new ConfigurationError(problems);
  return resolved;
}
