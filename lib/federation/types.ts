// The vocabulary of federated sign-in ("Sign in with Apple / Google"): what the options name.
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

/**
 * What an `account.federated` or `account.linked` event carries: never a token.
 *
 * @group Federation
 */
export interface FederatedAccountEvent {
  /** The provider's `name`. */
  provider: string;
  /** The user at that provider (`sub`). */
  subject: string;
  /** The account the identity resolved to. */
  accountId: string;
  /** How the user signed in. */
  via: 'native' | 'browser';
  /** The client the sign-in was for (native: the client that exchanged the id_token). */
  clientId?: string;
}

/**
 * Federated sign-in events, by name, for audit logs.
 *
 * @group Federation
 */
export interface FederationEvents {
  /** A user signed in through an upstream provider and `accounts.federated` accepted them. */
  'account.federated': FederatedAccountEvent;
  /**
   * The identity was linked to the account just now: the user confirmed it on the link page
   * (`accounts.link` stored it), or `accounts.federated` linked it. A link started on the linked
   * accounts page (`/account/links`) comes alone, without `clientId`: nobody signed in.
   */
  'account.linked': FederatedAccountEvent;
}
