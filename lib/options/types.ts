// The options as a whole: `AuthServerOptions`, whose groups are each owned by their feature
// (lib/<feature>/options.ts), and the engine-level groups that are nobody else's.
import type { ClientMetadata, Configuration, JWK } from 'oidc-provider';
import type { AssuranceOptions, AttestationOptions } from '../attestation/options.js';
import type { AccountOptions } from '../core/accounts.js';
import type { Logger } from '../core/logger.js';
import type { FederationOptions } from '../federation/options.js';
import type { FirstPartyOptions } from '../first-party/options.js';
import type { InstanceManagementOptions } from '../instances/options.js';
import type { InteractionPageOptions } from '../interactions/options.js';
import type { PasskeyOptions } from '../passkeys/options.js';
import type { PhoneApprovalOptions } from '../phone-approval/options.js';
import type { RegistrationClientOptions, RegistrationOptions } from '../registration/options.js';
import type { Store } from '../storage/store.js';

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

  /** Instance management: the admin API, self-service, and what revocation keeps. */
  instances?: InstanceManagementOptions;

  /**
   * The former name of {@link AuthServerOptions.instances}, still accepted; giving both is a
   * configuration error.
   *
   * @deprecated Use {@link AuthServerOptions.instances}.
   */
  devices?: InstanceManagementOptions;

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
  /** Browserless first-party sign-in: the per-step policy (the templates say which apps take part). */
  firstParty?: FirstPartyOptions;
  /**
   * Phone approval: CIBA for your static clients, approved on the user's own app install (the
   * templates' `approvals` say which apps may approve). Off while `clients` is empty.
   */
  phoneApproval?: PhoneApprovalOptions;

  /**
   * Advanced oidc-provider configuration, merged underneath what the library builds. Only
   * settings that can neither admit clients past the registration rules nor weaken security
   * pass through; any other setting, including ones oidc-provider adds later, is refused at
   * start-up with an error naming its dotted path. Allowed:
   *
   * - `routes` (any endpoint, each a path starting with one `/`)
   * - `discovery` (extra discovery metadata; it never replaces a computed value)
   * - `renderError`, `extraParams`, `conformIdTokenClaims`
   * - `acrValues` (listed in discovery after the `acr` values the sign-ins give, see
   *   {@link FIRST_PARTY_ACR})
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
