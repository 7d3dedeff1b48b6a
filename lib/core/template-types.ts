import type { JWK } from 'jose';
import type { AssuranceLevel } from './levels.js';

/**
 * How an instance client authenticates at the token endpoint.
 *
 * @group Options
 */
export type InstanceAuthMethod = 'client_secret_basic' | 'private_key_jwt';

/**
 * Client metadata a template gives every instance registered from it (RFC 7591 §2 names).
 *
 * @group Templates
 */
export interface TemplateClientMetadata {
  /** The app's redirect URIs (RFC 8252: private-use scheme, loopback or claimed `https`). */
  redirect_uris: string[];
  /** Where the app may ask to be sent after sign-out. */
  post_logout_redirect_uris?: string[];
  /**
   * Grant types, from `authorization_code` and `refresh_token`.
   *
   * @default ['authorization_code', 'refresh_token']
   */
  grant_types?: string[];
  /**
   * Space-separated scopes the instances may ask for.
   *
   * @default every scope in `registration.instances.allowedScopes`
   */
  scope?: string;
  /**
   * How the instances authenticate. With `private_key_jwt` each instance brings its own key, so
   * {@link Template.instanceFields} must include `jwks`.
   *
   * @default the first of `registration.instances.authMethods`
   */
  token_endpoint_auth_method?: InstanceAuthMethod;
  /** The app's name on the consent page, unless an instance sets its own. */
  client_name?: string;
  /** The app's home page. */
  client_uri?: string;
  /** The app's logo. */
  logo_uri?: string;
  /** The app's privacy policy. */
  policy_uri?: string;
  /** The app's terms of service. */
  tos_uri?: string;
  /** Sign-in older than this many seconds is repeated (OpenID Connect Registration §2). */
  default_max_age?: number;
  /** Whether ID tokens always carry `auth_time`. */
  require_auth_time?: boolean;
  /** Whether access tokens must be DPoP-bound (RFC 9449 §5.2). */
  dpop_bound_access_tokens?: boolean;
}

/**
 * Metadata an instance registered from a template may set itself.
 *
 * @group Templates
 */
export type TemplateInstanceField =
  | 'client_name'
  | 'software_version'
  | 'jwks'
  | 'scope'
  | 'redirect_uris'
  | 'post_logout_redirect_uris'
  | 'logo_uri'
  | 'contacts';

/**
 * A template client, named by `software_id`: instances registered with that `software_id`
 * inherit its settings *live*: the template is merged in whenever an instance is loaded, so a
 * change applies to every instance at once.
 *
 * @group Templates
 */
export interface Template {
  /** The `software_id` instances register with (RFC 7591 §2). */
  software_id: string;
  /** The settings every instance inherits. */
  client: TemplateClientMetadata;
  /**
   * The fields an instance may send itself; any other field in a registration is refused with
   * `invalid_client_metadata` naming it.
   *
   * @default ['client_name', 'software_version']
   */
  instanceFields?: TemplateInstanceField[];
  /**
   * The kill switch: a disabled template refuses registrations (`invalid_software_id`), and
   * every instance registered from it fails client authentication (`invalid_client`) until it
   * is enabled again.
   *
   * @default false
   */
  disabled?: boolean;
  /**
   * The oldest app build that may register: an instance whose `software_version` is lower (or
   * missing) is refused. Compared as semantic versions (`2.4` means `2.4.0`).
   */
  minimumSoftwareVersion?: string;
  /**
   * Scopes an instance may ask for when {@link Template.instanceFields} includes `scope`.
   *
   * @default the template's own `scope`
   */
  allowedScopes?: string[];
  /**
   * Redirect URI schemes (without the colon) an instance may use when
   * {@link Template.instanceFields} includes `redirect_uris`.
   *
   * @default the schemes of the template's own `redirect_uris`
   */
  allowedRedirectSchemes?: string[];
  /** Token lifetimes for this template's instances, in seconds, instead of `options.ttl`. */
  ttl?: TemplateTtlOptions;
  /**
   * Whether a user's DCR token alone (without evidence) authorizes a registration. Such
   * instances get the level `none`: the user is proven, the app is not.
   *
   * @default true, unless {@link Template.fallbackClients} or {@link Template.attestation} is set
   */
  userTokens?: boolean;
  /**
   * Whether any account may sign in through an install of this app (a shared tablet, a kiosk):
   * each account then after its own consent. Off by default: an install signs in only the
   * account it belongs to (the user whose DCR token registered it, or the first account that
   * signed in through it); another account's sign-in ends at the redirect URI with
   * `access_denied`, and its tokens cannot be refreshed through the install.
   *
   * @default false
   */
  sharedDevices?: boolean;
  /**
   * Static confidential clients (in `registration.fallbackClients`) whose one-shot DCR token,
   * obtained with `client_credentials`, may register an instance of this template: the fallback
   * for devices that cannot attest. The credential the client authenticated with sets the level:
   * a shared secret gives `none`, a provisioned key or certificate `by-provisioned-key`.
   *
   * @default []
   */
  fallbackClients?: string[];
  /** Registration with platform attestation evidence; off when unset. */
  attestation?: TemplateAttestation;
  /**
   * Attestation-based client authentication (draft-ietf-oauth-attestation-based-client-auth-12,
   * oidc-provider's `attestClientAuth`): an instance may register, or switch with an RFC 7592
   * update, `token_endpoint_auth_method` `attest_jwt_client_auth` (a Client Attestation and its
   * PoP in the `OAuth-Client-Attestation` and `OAuth-Client-Attestation-PoP` headers) or
   * `attest_jwt_client_auth_dpop` (the DPoP proof is the PoP) instead of `private_key_jwt`. The
   * attestation comes from this server's Client Attester (`options.attestation.attester`) or a
   * {@link Template.trustedAttesters} entry and must attest the instance's registered key.
   * Needs `client.token_endpoint_auth_method: 'private_key_jwt'`. Turning it off sends the
   * instances back to `private_key_jwt` with the same key.
   *
   * @default false
   */
  attestClientAuth?: boolean;
  /**
   * Client Attesters other than this server whose Client Attestations instances of this app may
   * present (with {@link Template.attestClientAuth}), each by its `iss` and public keys.
   *
   * @default []
   */
  trustedAttesters?: TrustedAttester[];
  /**
   * Browserless first-party sign-in (draft-ietf-oauth-first-party-apps): installs of this app
   * may sign a user in at the Authorization Challenge Endpoint (`POST <issuer>/authorize-challenge`)
   * with the user's username and password, without a browser. Off when unset: the endpoint
   * answers `unauthorized_client` to this template's installs. Meant for the vendor's own app
   * only, so an install must have proven it is that app (see {@link TemplateFirstParty.minimumLevel}).
   */
  firstParty?: TemplateFirstParty;
  /**
   * Phone approval (CIBA, `options.phoneApproval`): installs of this app may be asked to approve
   * a sign-in requested elsewhere, and answer with a signature by their registered key. `true`
   * or an object turns it on; off when unset. An install approves with a key of its own: with
   * `client.token_endpoint_auth_method: 'private_key_jwt'` the key it authenticates with; for an
   * app whose installs authenticate with a secret, list `'jwks'` in
   * {@link Template.instanceFields}: an install then registers the key it approves with, which
   * no RFC 7592 update can change.
   */
  approvals?: boolean | TemplateApprovals;
  /**
   * OpenID Connect Native SSO for Mobile Apps (draft 07): installs of this app join the vendor's
   * group of apps named here. An install may then ask for the `device_sso` scope: its code
   * exchange answers a `device_secret` (and an ID token with `ds_hash` and `sid`), which another
   * app of the same group on the same device exchanges, with that ID token, for its own tokens
   * without a second sign-in. Off when unset.
   */
  nativeSso?: TemplateNativeSso;
}

/**
 * How a template's installs approve sign-ins requested by CIBA.
 *
 * @group Templates
 */
export interface TemplateApprovals {
  /**
   * The lowest assurance level (`cal`) an install needs to be asked, when higher than
   * `options.phoneApproval.minimumLevel` (a lower one changes nothing).
   *
   * @default `options.phoneApproval.minimumLevel`
   */
  minimumLevel?: AssuranceLevel;
  /**
   * Whether the signed answer must state that the user was verified on the device (biometrics
   * or PIN: `uv: true`); an approval without it is refused.
   *
   * @default false
   */
  requireUserVerification?: boolean;
  /**
   * Whether an install's attested key must require the user's authentication (a biometric, or
   * the device's PIN, pattern or password) before it signs, as the device's secure hardware
   * enforces it: Android key attestation's hardware-enforced `userAuthType` and `authTimeout`,
   * without `noAuthRequired`, recorded when the install registered (a software-enforced claim
   * counts for nothing). An install registered with `android-key` evidence whose key does not
   * meet it is not asked, and its listing and answers are refused with `unauthorized_client`.
   * An install without such evidence (App Attest, Play Integrity, a fallback install) may approve
   * only when {@link TemplateApprovals.requireUserVerification} is set too, by stating `uv: true`:
   * its app's word is then all there is. `true` is `{}`: any user authentication, for each use.
   * Off when unset.
   */
  requireKeyUserAuthentication?: boolean | KeyUserAuthenticationRequirement;
}

/**
 * The user authentication an install's attested key must require to approve sign-ins
 * ({@link TemplateApprovals.requireKeyUserAuthentication}).
 *
 * @group Templates
 */
export interface KeyUserAuthenticationRequirement {
  /**
   * Which user authentication must unlock the key: `any` (a strong biometric or the device's
   * PIN, pattern or password), or `biometric` (a strong biometric only: a key the device
   * credential also unlocks is refused).
   *
   * @default 'any'
   */
  userAuthType?: 'any' | 'biometric';
  /**
   * The longest, in seconds, the key may stay usable after the user authenticated. `0`: the
   * key must need an authentication for each signature (Android's auth-per-use key, used with
   * BiometricPrompt and a CryptoObject), so the user authenticated for this very approval.
   *
   * @default 0
   */
  maxAuthTimeout?: number;
}

/**
 * How a template's installs take part in Native SSO.
 *
 * @group Templates
 */
export interface TemplateNativeSso {
  /**
   * The group of apps that share a device secret: the apps that can read each other's keychain
   * (the Apple team id, the Android signing certificate), e.g. `ABCDE12345`. Only apps of one
   * group exchange each other's device secrets.
   */
  group: string;
}

/**
 * How a template's installs may use the Authorization Challenge Endpoint.
 *
 * @group Templates
 */
export interface TemplateFirstParty {
  /**
   * The lowest assurance level (`cal`) an install needs: a lower one is refused with
   * `unauthorized_client`. A shared secret (`none`) never proves the app is genuine.
   *
   * @default 'by-policy'
   */
  minimumLevel?: AssuranceLevel;
}

/**
 * The token endpoint authentication methods of attestation-based client authentication.
 *
 * @group Templates
 */
export type AttestAuthMethod = 'attest_jwt_client_auth' | 'attest_jwt_client_auth_dpop';

/**
 * A Client Attester a template trusts besides this server.
 *
 * @group Templates
 */
export interface TrustedAttester {
  /** The `iss` of its Client Attestation JWTs. */
  issuer: string;
  /** Its public signing keys (JWK Set); the attestation's `kid` and `alg` pick one. */
  jwks: {
    /** The public JWKs. */
    keys: JWK[];
  };
}

/**
 * How a template accepts attestation evidence. Its instances must register their own key
 * (`token_endpoint_auth_method: 'private_key_jwt'`), the key the evidence is bound to.
 *
 * @group Templates
 */
export interface TemplateAttestation {
  /**
   * The evidence formats accepted: the built-in `apple-appattest`, `android-key` and
   * `play-integrity` (each with its settings below), or keys of `attestation.verifiers`.
   */
  formats: string[];
  /**
   * Whether a user's DCR token must come with the evidence (`required`), or evidence alone is
   * enough (`optional`; an instance registered without a user belongs to the first account that
   * signs in through it).
   *
   * @default 'optional'
   */
  user?: 'optional' | 'required';
  /**
   * The app identities the evidence may prove (`<TeamID>.<BundleID>`, Android package names);
   * any app a verifier accepts when unset.
   */
  appIds?: string[];
  /** This app's settings for the built-in `apple-appattest` format. */
  appleAppAttest?: TemplateAppAttestSettings;
  /** This app's settings for the built-in `android-key` format. */
  androidKey?: TemplateAndroidKeySettings;
  /** This app's settings for the built-in `play-integrity` format. */
  playIntegrity?: TemplatePlayIntegritySettings;
}

/**
 * A template's App Attest settings (see `verifyAppAttestAttestation`).
 *
 * @group Templates
 */
export interface TemplateAppAttestSettings {
  /** `<TeamID>.<BundleID>`. */
  appId: string;
  /** Accept the development environment. @default false */
  allowDevelopment?: boolean;
}

/**
 * A template's Android key attestation settings (see `verifyAndroidKeyAttestation`).
 *
 * @group Templates
 */
export interface TemplateAndroidKeySettings {
  /** Package names accepted. */
  packageNames: string[];
  /** SHA-256 digests of the app signing certificates (hex, base64 or base64url). */
  signingCertDigests: string[];
  /** @default 'TRUSTED_ENVIRONMENT' */
  minSecurityLevel?: 'SOFTWARE' | 'TRUSTED_ENVIRONMENT' | 'STRONG_BOX';
  /** @default true */
  requireVerifiedBoot?: boolean;
  /** @default true */
  requireDeviceLocked?: boolean;
}

/**
 * A template's Play Integrity settings (see `verifyPlayIntegrityToken`).
 *
 * @group Templates
 */
export interface TemplatePlayIntegritySettings {
  /** The package name. */
  packageName: string;
  /** SHA-256 digests of the app signing certificates. */
  certificateSha256Digests: string[];
  /** Play Console's response decryption key, base64. */
  decryptionKey: string;
  /** Play Console's response verification key, base64 SPKI. */
  verificationKey: string;
  /** @default 'MEETS_DEVICE_INTEGRITY' */
  minDeviceVerdict?: 'MEETS_BASIC_INTEGRITY' | 'MEETS_DEVICE_INTEGRITY' | 'MEETS_STRONG_INTEGRITY';
  /** @default true */
  requirePlayRecognized?: boolean;
  /** @default 300 */
  maxAgeSeconds?: number;
}

/**
 * Per-template token lifetimes.
 *
 * @group Templates
 */
export interface TemplateTtlOptions {
  /** Access tokens. */
  accessToken?: number;
  /** Refresh tokens. */
  refreshToken?: number;
}

/**
 * Why a template is being looked up.
 *
 * @group Templates
 */
export interface TemplateLookup {
  /**
   * `register` for a registration or RFC 7592 update, `load` when an existing instance is loaded
   * (every request it makes): keep `load` fast, or cache.
   */
  purpose: 'register' | 'load';
}

/**
 * Looks up a template that is not in `registration.templates`, e.g. from a database. Return
 * `undefined` for an unknown `software_id`. What it returns is validated like a configured
 * template; an invalid template fails closed.
 *
 * @group Templates
 */
export type TemplateResolver = (
  softwareId: string,
  lookup: TemplateLookup,
) => Template | undefined | Promise<Template | undefined>;
