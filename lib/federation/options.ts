// The federated sign-in options (`federation`): types, defaults, schema, resolved shape, and the
// rules on providers (unique, https, Apple's client secret key) and the account hook they need.
import type { AccountOptions } from '../core/accounts.js';
import type { DefaultsOf, Override, WithDefaults } from '../core/options/resolve-types.js';
import { nonEmptyString, rateLimitOrOff } from '../core/options/schema-pieces.js';
import { withDefaults } from '../core/options/with-defaults.js';
import { ASYMMETRIC_JWS_ALGORITHMS } from '../http/jws-algorithms.js';
import type { RateLimitWindow } from '../storage/store.js';

/**
 * Federated sign-in: users sign in with an upstream OpenID provider (Apple, Google, or any
 * standards-compliant one), natively (the app exchanges the id_token its platform SDK gave it,
 * RFC 8693) or in the browser ("Continue with …" on the sign-in page).
 *
 * @group Federation
 */
export interface FederationOptions {
  /**
   * The upstream providers. An entry with `audiences` takes part in the native exchange; one
   * with `browser` gets a button on the sign-in page.
   *
   * @default []
   */
  providers?: FederatedProviderOptions[];
  /** The endpoint that hands out the single-use nonces a native sign-in must carry. */
  nonce?: FederationNonceOptions;
  /** When a browser's signed-in account counts as proof for linking an upstream identity to it. */
  linking?: FederationLinkingOptions;
}

/**
 * Linking an upstream identity to the account signed in on the browser. The account is proof
 * only while its sign-in is recent and the app did not demand a new one (`prompt=login`, an
 * exceeded `max_age`, an `id_token_hint` of another user): otherwise whoever sits at the browser
 * could attach their own Google or Apple account to it for good.
 *
 * @group Federation
 */
export interface FederationLinkingOptions {
  /**
   * Seconds after the browser's sign-in during which its account counts as proof: only then
   * does `accounts.federated` receive `signedInAccountId`, and is the link page offered.
   * `0` never counts it.
   *
   * @default 300
   */
  maxAge?: number;
}

/**
 * The native sign-in nonce endpoint, advertised in discovery as
 * `native_sign_in_nonce_endpoint`: `POST` answers `{ "nonce": "…", "expires_in": … }`.
 *
 * @group Federation
 */
export interface FederationNonceOptions {
  /**
   * Its path, relative to the issuer.
   *
   * @default '/federation/nonce'
   */
  path?: string;
  /**
   * Seconds a nonce stays usable: the time a user has to finish the platform's sign-in sheet.
   *
   * @default 600
   */
  ttl?: number;
  /**
   * Nonces handed out per client IP address; `false`: no limit.
   *
   * @default { points: 60, duration: 60 }
   */
  rateLimit?: RateLimitWindow | false;
}

/**
 * One upstream OpenID provider.
 *
 * @group Federation
 */
export interface FederatedProviderOptions {
  /**
   * Its name: lower-case letters, digits and `-`, e.g. `google`, `apple`, `corp`. Passed to
   * `accounts.federated` as `provider` and used in the browser callback's path.
   */
  name: string;
  /**
   * Its issuer identifier, compared exactly with the id_token's `iss`; its discovery document
   * (`/.well-known/openid-configuration`) names its keys and endpoints. `https` only, except with
   * `development: true`.
   */
  issuer: string;
  /**
   * How it deviates from OpenID Connect: `apple` (string booleans, the nonce as its SHA-256
   * hex, `form_post` and a signed client secret in the browser), `google` (`hd`).
   */
  quirks?: 'apple' | 'google';
  /**
   * The `aud` values accepted in the native exchange: iOS bundle ids (Apple), the client id the
   * app asks Google for tokens with. Without any, the provider takes no part in it.
   *
   * @default []
   */
  audiences?: string[];
  /** A Google Workspace domain the id_token's `hd` must equal (then consumer accounts fail). */
  hostedDomain?: string;
  /**
   * Seconds of clock difference tolerated for the id_token's `exp` and `iat`.
   *
   * @default 60
   */
  clockSkewSeconds?: number;
  /**
   * The id_token signature algorithms accepted; never `none` or HMAC.
   *
   * @default ['RS256', 'ES256']
   */
  algorithms?: string[];
  /** The browser flow: a "Continue with …" button on the sign-in page. */
  browser?: FederatedBrowserOptions;
}

/**
 * The browser flow with one upstream provider (authorization code with PKCE).
 *
 * @group Federation
 */
export interface FederatedBrowserOptions {
  /** The client id this server has at the provider (Apple: the Services ID). */
  clientId: string;
  /** Its client secret (Google); Apple's is made from `appleKey` instead. */
  clientSecret?: string;
  /**
   * Apple's client secret is an ES256 JWT signed with a key from the developer account; the
   * library makes it, and makes a new one well before Apple's 6-month limit.
   */
  appleKey?: {
    /** The Apple developer team id: the secret's issuer. */
    teamId: string;
    /** The id of the Sign in with Apple key. */
    keyId: string;
    /** The key itself: the PKCS #8 PEM (`.p8` file) Apple hands out. */
    privateKey: string;
  };
  /**
   * The scope asked for.
   *
   * @default 'openid email profile' ('openid email name' with Apple quirks)
   */
  scope?: string;
  /**
   * The button's label.
   *
   * @default 'Continue with ' and the name, capitalised
   */
  label?: string;
}

/** Defaults of {@link AuthServerOptions.federation}. @internal */
export const FEDERATION_DEFAULTS = {
  providers: [],
  nonce: { path: '/federation/nonce', ttl: 600, rateLimit: { points: 60, duration: 60 } },
  linking: { maxAge: 300 },
} as const satisfies DefaultsOf<FederationOptions>;

/**
 * Defaults of each entry of `federation.providers`.
 *
 * @internal
 */
export const FEDERATED_PROVIDER_DEFAULTS = {
  audiences: [],
  clockSkewSeconds: 60,
  algorithms: ['RS256', 'ES256'],
} as const satisfies DefaultsOf<FederatedProviderOptions>;

/** A federated provider's name: it goes into URL paths and events. @internal */
export const PROVIDER_NAME_PATTERN = '^[a-z0-9][a-z0-9-]{0,31}$';

const federatedProviderSchema = {
  type: 'object',
  required: ['name', 'issuer'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', pattern: PROVIDER_NAME_PATTERN },
    issuer: nonEmptyString,
    quirks: { enum: ['apple', 'google'] },
    audiences: { type: 'array', uniqueItems: true, items: nonEmptyString },
    hostedDomain: nonEmptyString,
    clockSkewSeconds: { type: 'integer', minimum: 0, maximum: 600 },
    algorithms: {
      type: 'array',
      minItems: 1,
      uniqueItems: true,
      items: { enum: ASYMMETRIC_JWS_ALGORITHMS },
    },
    browser: {
      type: 'object',
      required: ['clientId'],
      additionalProperties: false,
      properties: {
        clientId: nonEmptyString,
        clientSecret: nonEmptyString,
        appleKey: {
          type: 'object',
          required: ['teamId', 'keyId', 'privateKey'],
          additionalProperties: false,
          properties: { teamId: nonEmptyString, keyId: nonEmptyString, privateKey: nonEmptyString },
        },
        scope: nonEmptyString,
        label: nonEmptyString,
      },
    },
  },
} as const;

/** The schema of {@link AuthServerOptions.federation}. @internal */
export const federationSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    providers: {
      type: 'array',
      items: withDefaults(federatedProviderSchema, FEDERATED_PROVIDER_DEFAULTS, 'providers[]'),
    },
    nonce: {
      type: 'object',
      additionalProperties: false,
      properties: {
        path: { type: 'string', pattern: '^/[^?#]*$' },
        ttl: { type: 'integer', minimum: 30, maximum: 3600 },
        rateLimit: rateLimitOrOff,
      },
    },
    linking: {
      type: 'object',
      additionalProperties: false,
      // Up to an hour: past that a session is no proof of who sits at the browser.
      properties: { maxAge: { type: 'integer', minimum: 0, maximum: 3600 } },
    },
  },
} as const;

/** A `federation.providers` entry with its defaults filled in. @internal */
export type ResolvedFederatedProvider = WithDefaults<
  FederatedProviderOptions,
  typeof FEDERATED_PROVIDER_DEFAULTS
>;

/** `federation` with its defaults filled in, each provider's too. @internal */
export type ResolvedFederationOptions = Override<
  WithDefaults<FederationOptions, typeof FEDERATION_DEFAULTS>,
  { providers: ResolvedFederatedProvider[] }
>;

/** What the federation rules read. @internal */
export interface FederationRuleInput {
  development: boolean;
  accounts: Pick<AccountOptions, 'federated'>;
  federation: ResolvedFederationOptions;
}

/**
 * Federated providers: unique names and issuers, https, the hook, Apple's client secret key.
 *
 * @internal
 */
export function federationProblems(o: FederationRuleInput): string[] {
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
