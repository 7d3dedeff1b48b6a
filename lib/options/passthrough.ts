// The `options.oidcProvider` passthrough: which oidc-provider settings may pass through
// underneath what the library builds, and why the others are refused.
import { isPlainObject } from '../core/options/plain-object.js';

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
    acrValues: {
      why: 'more acr values advertised in discovery, after those the sign-ins give',
      value: 'any',
    },
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
  'features.ciba': 'use options.phoneApproval (CIBA approved on the user’s install)',
  'features.claimsParameter': 'it lets a client obtain claims outside its registered scopes',
  'features.attestClientAuth':
    "attestation-based client authentication follows the templates' attestClientAuth and options.attestation.attester",
  'features.dPoP.allowReplay': 'a replayed DPoP proof is always refused',
  'features.pushedAuthorizationRequests.allowUnregisteredRedirectUris':
    'every redirect URI must be registered',
  'features.rpInitiatedLogout.enabled': 'RP-initiated logout is always on',
};

const DEFAULT_REFUSAL =
  'only settings that can neither admit clients nor weaken security pass through (see the documentation of options.oidcProvider)';

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

/**
 * What is wrong with `options.oidcProvider` (unset is fine): every setting it may not carry,
 * named by its dotted path with the reason.
 *
 * @internal
 */
export function oidcProviderProblems(passthrough: unknown): string[] {
  if (passthrough === undefined) return [];
  return isPlainObject(passthrough)
    ? passthroughProblems(passthrough)
    : ['options.oidcProvider must be a plain object'];
}
