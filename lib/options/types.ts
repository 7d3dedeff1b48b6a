import type { ClientMetadata, Configuration, JWK } from 'oidc-provider';
import type {
  AssuranceResolver,
  AttestationPolicy,
  ClientAttesterPolicy,
  EvidenceVerifier,
} from '../attestation/types.js';
import type { AndroidRevocationList } from '../attestation/verifiers/android-key.js';
import type { AccountOptions } from '../core/accounts.js';
import type { AssuranceLevel } from '../core/levels.js';
import type { Logger } from '../core/logger.js';
import type { InstanceAuthMethod, Template, TemplateResolver } from '../core/template-types.js';
import type { FederationOptions } from '../federation/types.js';
import type { PageMessages } from '../interactions/messages.js';
import type { InteractionPages } from '../interactions/views.js';
import type { RegistrationPolicy } from '../registration/policy-types.js';
import type { RateLimitWindow, Store } from '../storage/store.js';

export type { AccountClaims, AccountOptions } from '../core/accounts.js';
export type { InstanceAuthMethod } from '../core/template-types.js';

/**
 * Everything `createAuthServer` takes. Validated at start-up against a JSON Schema; an invalid
 * option fails fast with a message naming its path (`options.ttl.accessToken must be …`).
 *
 * @group Options
 */
export interface AuthServerOptions {
  /**
   * The issuer identifier: the absolute URL clients see, including any path prefix the server is
   * mounted under (e.g. `https://login.example.com/oidc`). Must be `https` unless
   * {@link AuthServerOptions.development} is on.
   */
  issuer: string;

  /**
   * Development mode: allows an `http` issuer, generated ephemeral signing keys and cookie keys
   * (with a loud warning). Never turn it on in production.
   *
   * @default false
   */
  development?: boolean;

  /**
   * The private signing keys, as a JWK Set (RFC 7517). The first key of each algorithm signs;
   * the others stay published for verification during rotation. Needs a private `RS256`-capable
   * RSA key, since that is OpenID Connect's default ID token algorithm (and that of JWT access
   * tokens), and one for each algorithm a static client's `*_signed_response_alg` names; every
   * key must be private. A JWKS that is not is refused at start-up. Required unless
   * {@link AuthServerOptions.development} is on, in which case ephemeral keys are generated.
   */
  jwks?: {
    /** The private JWKs (RFC 7517 §4), each with a `kid`. */
    keys: JWK[];
  };

  /**
   * Secrets that sign the server's cookies; the first signs, all verify (prepend to rotate).
   * Each at least 32 characters. Required unless {@link AuthServerOptions.development} is on.
   */
  cookieKeys?: string[];

  /**
   * Where everything is stored.
   *
   * @default a new `MemoryStore` (one process only; lost on restart)
   */
  store?: Store;

  /**
   * Where the server writes its log entries (`error`, `warn`, `info`, `debug`, each called as
   * `(fields, message)`, so pino fits as it is). Unexpected 500s are logged at `error` with the
   * request id, route, method, path and the error's name, message and stack; a storage outage
   * once at `error` when it starts and once at `info` when it ends; development-key warnings at
   * `warn`; refused requests (4xx) at `debug`. No entry carries a token, secret, password,
   * evidence, cookie or `Authorization` header. For a `RedisStore`, pass the same logger to it.
   *
   * @default `consoleLogger`: `error` and `warn` entries on the console, one line each
   */
  logger?: Logger;

  /**
   * The proxies in front of the server that are trusted, for the client address every rate
   * limit and event uses and for `X-Forwarded-Proto`/`X-Forwarded-Host`. `false`: none, the
   * socket peer is the client and no forwarded header is read. `true`: one proxy (the socket
   * peer), so the rightmost `X-Forwarded-For` entry is the client. A number `n`: `n` proxies in
   * a row (the socket peer is the first), so the `n`th entry from the right is the client. A list
   * of proxy addresses and CIDR ranges (IPv4 and IPv6): walking from the socket peer leftwards
   * through `X-Forwarded-For`, the first address not in the list is the client. Never trust more
   * hops than your own proxies add: the entries to the left of theirs are written by the client.
   * See [Proxy trust and rate limits](../../docs/security.md#proxy-trust-and-rate-limits).
   *
   * @default false
   * @example 2 // a CDN in front of a load balancer
   * @example ['10.0.0.0/8', 'fd00::/8'] // the load balancers' networks
   */
  proxy?: boolean | number | string[];

  /** The people who sign in. */
  accounts: AccountOptions;

  /**
   * The OpenID Connect / OAuth scopes the server offers to every client (the `dcr` scope is
   * separate and reserved for registration clients).
   *
   * @default ['openid', 'profile', 'email', 'offline_access']
   */
  scopes?: string[];

  /**
   * Which claims each scope releases (OpenID Connect Core §5.4).
   *
   * @default { openid: ['sub'], profile: ['name', 'given_name', 'family_name', 'preferred_username', 'updated_at'], email: ['email', 'email_verified'] }
   */
  claims?: Record<string, string[]>;

  /**
   * The static public clients an app uses only to obtain a DCR token (flow 1): authentication
   * method `none`, PKCE S256, grant `authorization_code`, scope `dcr` — all set by the library.
   *
   * @default []
   */
  registrationClients?: RegistrationClientOptions[];

  /**
   * Other static clients (web apps, resource servers, …), as oidc-provider client metadata.
   * They can never obtain the `dcr` scope; PKCE is required for them too.
   *
   * @default []
   */
  clients?: ClientMetadata[];

  /** Lifetimes, in seconds. */
  ttl?: TtlOptions;

  /** Dynamic Client Registration of instance clients. */
  registration?: RegistrationOptions;

  /** Token introspection (RFC 7662). */
  introspection?: IntrospectionOptions;

  /**
   * Your APIs (resource servers, RFC 8707): an app that sends `resource=<api>` with its
   * authorization and token requests gets an access token for that API, with its audience,
   * its scopes and (by default) as a signed JWT (RFC 9068) carrying the instance's `cal`.
   * Without `resource`, access tokens are opaque and for userinfo only.
   *
   * @default []
   */
  apis?: ApiOptions[];

  /** Device management: the admin API, self-service, and what revocation keeps. */
  devices?: DeviceOptions;

  /** Platform attestation: evidence verifiers, the challenge endpoint and the policy hook. */
  attestation?: AttestationOptions;

  /** Client assurance levels (`cal`): how they are computed, and scopes that demand one. */
  assurance?: AssuranceOptions;

  /**
   * Mutual-TLS client authentication (RFC 8705 §2) for static clients such as fallback clients:
   * `tls_client_auth` and `self_signed_tls_client_auth`. Off when unset.
   */
  mtls?: MtlsOptions;

  /** The sign-in, consent, error and sign-out pages: their look, language and limits. */
  interactions?: InteractionPageOptions;
  /** Sign in with Apple, Google or any OpenID provider, natively and in the browser. */
  federation?: FederationOptions;
  /** Passkeys (WebAuthn): sign in with one on the login page, add and remove them on an account page. */
  passkeys?: PasskeyOptions;

  /**
   * Advanced oidc-provider configuration, merged underneath what the library builds. Only
   * settings that can neither admit clients past the registration rules nor weaken security
   * pass through; any other setting, including ones oidc-provider adds later, is refused at
   * start-up with an error naming its dotted path. Allowed:
   *
   * - `routes` (any endpoint, each a path starting with one `/`)
   * - `discovery` (extra discovery metadata; it never replaces a computed value)
   * - `renderError`, `extraParams`, `acrValues`, `conformIdTokenClaims`
   * - `cookies.names` (never the cookies' attributes: `httpOnly`, `sameSite`, … stay as
   *   oidc-provider sets them; their lifetimes follow {@link AuthServerOptions.ttl})
   * - `features.dPoP`: `enabled` (only `true`), `nonceSecret`, `requireNonce`
   * - `features.pushedAuthorizationRequests`: `enabled`, `requirePushedAuthorizationRequests`
   * - `features.userinfo`, `features.jwtUserinfo`, `features.jwtIntrospection`,
   *   `features.jwtResponseModes`, `features.encryption`, `features.backchannelLogout`,
   *   `features.clientCredentials` (static clients only): `enabled`
   * - `features.rpInitiatedLogout`: `logoutSource`, `postLogoutSuccessSource` (logout stays on)
   *
   * Settings the library owns (adapter, clients, PKCE, registration, interactions, TTLs,
   * scopes, token policies, …) are refused with the reason, usually the option to use instead.
   *
   * @default {}
   */
  oidcProvider?: Configuration;
}

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
 * Lifetimes in seconds, and the retry count that bounds the refresh token reuse grace window.
 *
 * @group Options
 */
export interface TtlOptions {
  /**
   * Access tokens of instance and static clients.
   *
   * @default 900
   */
  accessToken?: number;
  /**
   * Authorization codes.
   *
   * @default 60
   */
  authorizationCode?: number;
  /**
   * ID tokens.
   *
   * @default 3600
   */
  idToken?: number;
  /**
   * Refresh tokens; each rotation issues a new one with this lifetime (idle timeout).
   *
   * @default 2592000 (30 days)
   */
  refreshToken?: number;
  /**
   * The reuse grace window of rotated refresh tokens, in seconds (`0` turns it off). Within it, an
   * app that retries a refresh with the token it still holds (its response was lost on a mobile
   * network, or storage stalled after the old token was consumed) gets a working token pair
   * instead of having its grant revoked, up to {@link TtlOptions.refreshTokenReuseLimit} times;
   * each retry retires the pair issued before it, and two different successors of one rotation
   * presented revoke the grant. Reuse after the window, or after a successor was used, still
   * revokes the grant (RFC 9700 §4.14.2). 30 s covers a client's request timeout and one retry
   * while keeping a stolen token's head start short.
   *
   * @default 30
   */
  refreshTokenReuseGrace?: number;
  /**
   * How many retries a rotated refresh token gets within its reuse grace window (a count, not a
   * lifetime: it bounds the window beside it). Each retry issues a new pair and retires the
   * previous unused successor and the access token issued with it, so one successor of a
   * rotation is live at a time, and a burst of parallel uses of one token gets at most this
   * many plus one pairs; a retry beyond the limit is refused (`invalid_grant`) without revoking
   * the grant. `0` turns the window off, as `refreshTokenReuseGrace: 0` does.
   *
   * @default 3
   */
  refreshTokenReuseLimit?: number;
  /**
   * Grants: the absolute lifetime of what a user authorised, after which the app signs in again.
   *
   * @default 15552000 (180 days)
   */
  grant?: number;
  /**
   * The browser sign-in session (SSO cookie).
   *
   * @default 1209600 (14 days)
   */
  session?: number;
  /**
   * One sign-in interaction (the login and consent pages).
   *
   * @default 600
   */
  interaction?: number;
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
 * A fixed-window rate limit: the store's {@link RateLimitWindow}, under the name options use.
 *
 * @group Options
 */
export type RateLimit = RateLimitWindow;

/**
 * Device management settings.
 *
 * @group Options
 */
export interface DeviceOptions {
  /**
   * Static clients (in {@link AuthServerOptions.clients}, with the `client_credentials` grant)
   * whose access tokens with {@link DeviceOptions.adminScope} open the admin API.
   *
   * @default []
   */
  adminClients?: string[];
  /**
   * The scope an admin client's token needs. Reserved: not offered to any other client.
   *
   * @default 'devices:admin'
   */
  adminScope?: string;
  /**
   * A bearer secret (at least 32 characters) that also opens the admin API, for simple
   * deployments without an admin client.
   */
  adminSecret?: string;
  /**
   * The scope a user's own access token needs at the self-service endpoint (`/devices`). The
   * endpoint is off when unset; the scope must be in {@link AuthServerOptions.scopes}.
   */
  selfServiceScope?: string;
  /**
   * How long a revoked instance stays listed (with status `revoked`), in seconds.
   *
   * @default 2592000 (30 days)
   */
  keepRevokedFor?: number;
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
 * Token introspection settings.
 *
 * @group Options
 */
export interface IntrospectionOptions {
  /**
   * Static confidential clients (resource servers) that may introspect any client's tokens.
   * Every other client may introspect only its own tokens; public clients none.
   *
   * @default []
   */
  resourceServers?: string[];
}

/**
 * The pages the user sees: sign-in, consent, errors and sign-out. See
 * [Branding and translating the pages](../../docs/pages.md).
 *
 * @group Options
 */
export interface InteractionPageOptions {
  /**
   * The product name shown in page titles (`Sign in – <title>`) and above each page's heading.
   *
   * @default 'Sign in'
   */
  title?: string;
  /**
   * Your own pages: a render hook per page receives the page's view model (what to show, its
   * forms with their CSRF fields, messages, the language, the CSP nonce) and returns the HTML.
   * A page without a hook is the built-in one.
   */
  pages?: InteractionPages;
  /**
   * Message catalogues by language tag (BCP 47, e.g. `fr` or `de-CH`), merged over the built-in
   * ones: English (`en`) and German (`de`). A language given here becomes available to
   * `ui_locales` and `Accept-Language`; the strings it lacks come from English.
   */
  messages?: Record<string, Partial<PageMessages>>;
  /**
   * The pages' language when neither the authorization request's `ui_locales` nor the
   * browser's `Accept-Language` names one there is a catalogue for. It must be `en`, `de` or a
   * language of {@link InteractionPageOptions.messages}.
   *
   * @default 'en'
   */
  defaultLanguage?: string;
  /**
   * What each scope allows, as the consent page lists it: one text for every language, or one
   * per language tag (a language without one falls back to `defaultLanguage`'s, then to the
   * built-in description). Built in: `openid`, `profile`, `email`, `offline_access` and the DCR
   * token scope ("Register this device"); any other scope without a description is shown by
   * its name.
   */
  scopeDescriptions?: Record<string, string | Record<string, string>>;
  /**
   * Throttling of failed sign-ins on the login page, counted in the store (so it holds across
   * processes). While a limit is reached the page answers `429` with `Retry-After`, the password
   * is not checked at all (a right one is refused too), and `signin.throttled` is emitted. Only
   * failures count; a successful sign-in does not use up the budget. `false` turns a limit off.
   */
  signInRateLimit?: SignInRateLimitOptions;
}

/**
 * Limits on failed sign-ins (see {@link InteractionPageOptions.signInRateLimit}).
 *
 * @group Options
 */
export interface SignInRateLimitOptions {
  /**
   * Failed sign-ins per submitted username from one client IP address. The username is keyed
   * as submitted (trimmed and lower-cased), whether or not such an account exists, so the limit
   * says nothing about which accounts exist. Keyed with the IP so that someone guessing
   * elsewhere cannot lock a user out. `false`: no limit.
   *
   * @default { points: 10, duration: 900 } (10 failures per 15 minutes)
   */
  perAccount?: RateLimit | false;
  /**
   * Failed sign-ins per client IP address, whatever the username (behind a proxy, see
   * {@link AuthServerOptions.proxy}). `false`: no limit.
   *
   * @default { points: 100, duration: 900 } (100 failures per 15 minutes)
   */
  perIp?: RateLimit | false;
  /**
   * Failed sign-ins per submitted username from all addresses together: a cap on guessing one
   * account from many addresses (a botnet). Keyed like `perAccount`, without the IP. When it is
   * reached, every sign-in with that username waits out the rest of the window (the password,
   * even a right one, is not checked); the cool-down ends by itself, so nobody is locked out for
   * good. Keep its `points` above `perAccount`'s, so that no single address can lock a user out
   * (it is stopped by `perAccount` first). `false`: no limit.
   *
   * @default { points: 20, duration: 300 } (20 failures per 5 minutes)
   */
  perUsername?: RateLimit | false;
}

/**
 * Passkeys (WebAuthn Level 3) with user verification always required. See
 * [Passkeys](../../docs/passkeys.md).
 *
 * @group Options
 */
export interface PasskeyOptions {
  /**
   * Offer passkeys: "Sign in with a passkey" and passkey autofill on the login page, and the
   * account page `<issuer>/account/passkeys` where a signed-in user adds and removes them.
   *
   * @default false
   */
  enabled?: boolean;
  /**
   * The relying party id passkeys are bound to: the issuer's host name or a registrable domain
   * above it (`example.com` for `https://login.example.com`). Changing it later orphans every
   * passkey made under the old one.
   *
   * @default the issuer's host name
   */
  rpId?: string;
  /**
   * The name a passkey is saved under in the user's password manager.
   *
   * @default {@link InteractionPageOptions.title}
   */
  rpName?: string;
  /**
   * The origins a ceremony may run at (the `origin` of WebAuthn's client data), each an `https`
   * origin on the relying party id (`http` only in development) or an Android app's
   * `android:apk-key-hash:<base64url SHA-256 of its signing certificate>`. It must include the
   * issuer's origin, where the pages run.
   *
   * @default the issuer's origin alone
   */
  origins?: string[];
}

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
 * Where client certificates come from for mutual-TLS client authentication.
 *
 * @group Options
 */
export interface MtlsOptions {
  /**
   * A request header in which a trusted TLS-terminating proxy forwards the client certificate
   * (PEM, URL-encoded as nginx's `$ssl_client_escaped_cert`). Read only when
   * {@link AuthServerOptions.proxy} is on; without it, the certificate comes from the TLS socket
   * (serve the server over `https` with `requestCert: true`).
   */
  certificateHeader?: string;
  /**
   * With {@link MtlsOptions.certificateHeader}: the header in which the proxy says whether the
   * certificate chained to its trusted CAs (`SUCCESS`, as nginx's `$ssl_client_verify`). Needed
   * for `tls_client_auth`; without it only `self_signed_tls_client_auth` works behind a proxy.
   */
  verifiedHeader?: string;
}

/**
 * One API that instances may obtain access tokens for.
 *
 * @group Options
 */
export interface ApiOptions {
  /** The API's resource indicator: an absolute `https` URI without a fragment (RFC 8707 §2). */
  resource: string;
  /** The scopes of this API, space-separated; each must be in {@link AuthServerOptions.scopes}. */
  scope: string;
  /**
   * `jwt` (RFC 9068, signed with the server's keys; the API verifies it offline) or `opaque`
   * (the API introspects it).
   *
   * @default 'jwt'
   */
  accessTokenFormat?: 'jwt' | 'opaque';
  /** Access token lifetime for this API, in seconds. @default `ttl.accessToken` */
  accessTokenTTL?: number;
}
