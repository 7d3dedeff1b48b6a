import type { RegistrationMethod } from '../core/instance-record.js';
import type { AssuranceLevel } from '../core/levels.js';
import type { FirstPartySignIn, InstanceStatus } from '../instances/types.js';
import type { PageMessages } from './messages.js';

/**
 * A hidden form field that carries a CSRF token. Every form of a page must send it back as it
 * is, or the post is refused with `403`.
 *
 * @group Pages
 */
export interface CsrfField {
  /** The field's name (`csrf` on the sign-in pages, `xsrf` on the sign-out page). */
  name: string;
  /** The token. */
  value: string;
}

/**
 * Where one form of a page posts (`method="post"`), and the CSRF field it must carry.
 *
 * @group Pages
 */
export interface PageForm {
  /** The form's `action`: an absolute path or URL. */
  action: string;
  /** The hidden CSRF field. */
  csrf: CsrfField;
}

/**
 * What every page's view model carries. Each page narrows `page` to its own name; pages added
 * later (a passkey page, a device page) extend this interface the same way.
 *
 * @group Pages
 */
export interface PageView {
  /**
   * Which page this is: `login`, `consent`, `link`, `phoneWaiting`, `error`, `logout`, `logoutSuccess`, or one
   * of the account pages, `passkeys`, `devices` and `links`.
   */
  page: string;
  /** The HTTP status the page is sent with (`401` after a wrong password, …). */
  status: number;
  /**
   * The page's language: a tag there is a catalogue for, picked from `ui_locales`, then
   * `Accept-Language`, then `interactions.defaultLanguage`. Put it in `<html lang>`.
   */
  language: string;
  /** The catalogue of {@link PageView.language}, with `interactions.messages` merged in. */
  messages: PageMessages;
  /** The page's `<title>`, one per step, e.g. `Sign in – Example`. */
  title: string;
  /** The product's name: `interactions.title`. */
  productName: string;
  /**
   * This response's CSP nonce. The `Content-Security-Policy` allows a `<script>` or `<style>`
   * element only with `nonce="…"` set to it (no inline event handlers, no `javascript:` URLs).
   */
  cspNonce: string;
}

/**
 * A field of the login form.
 *
 * @group Pages
 */
export type LoginField = 'username' | 'password';

/**
 * Messages about single fields of the login form, each shown with its field.
 *
 * @group Pages
 */
export interface LoginFieldErrors {
  /** What is wrong with the username (it was left empty). */
  username?: string;
  /** What is wrong with the password (it was left empty, or the credentials are wrong). */
  password?: string;
}

/**
 * A "Continue with …" button: a form of its own that posts to start the provider's sign-in.
 *
 * @group Pages
 */
export interface FederatedButtonView {
  /** The provider's `name` in `federation.providers`. */
  provider: string;
  /** The text on the button: its `browser.label`, else the `continueWith` message. */
  label: string;
  /** Where the button's form posts. */
  form: PageForm;
}

/**
 * The login page: a username and password form, then a button per federated provider.
 *
 * @group Pages
 */
export interface LoginView extends PageView {
  /** Always `login`. */
  page: 'login';
  /** Where the username and password are posted (fields `username` and `password`). */
  form: PageForm;
  /**
   * Whether this sign-in takes a password: `false` when the app asked for another kind of
   * sign-in (`acr_values`, e.g. a passkey's). Leave the username and password form out then: a
   * password posted anyway is not checked.
   */
  password: boolean;
  /**
   * Why only some ways of signing in are offered (the app asked for a kind of sign-in with
   * `acr_values`); absent otherwise.
   */
  notice?: string;
  /** The username to fill in again after a failed attempt; `''` at first. */
  username: string;
  /** A message about the whole sign-in (throttled, a federated sign-in that failed). */
  error?: string;
  /** Messages about single fields. */
  fieldErrors: LoginFieldErrors;
  /** The field to focus: the first one in error, else `username`. */
  focus: LoginField;
  /** The "Continue with …" buttons, in the order the providers are configured. */
  federation: FederatedButtonView[];
  /**
   * "Sign in with a passkey" and passkey autofill, when `passkeys.enabled`. Give the username
   * field `autocomplete="username webauthn"` so the browser offers passkeys there.
   */
  passkey?: PasskeySignInView;
  /**
   * "Approve on your phone", when phone approval is on: a second submit button of the username
   * form (`formaction` set to `form.action`, `formnovalidate`: only the username is read), or
   * a username form of its own when the page takes no password.
   */
  phone?: PhoneSignInButtonView;
}

/**
 * "Approve on your phone" on the login page: posts the `username` field (a password posted with
 * it is ignored) to start an approval on the account's phones.
 *
 * @group Pages
 */
export interface PhoneSignInButtonView {
  /** Where the username is posted: `<issuer>/interaction/<uid>/phone`. */
  form: PageForm;
}

/**
 * The page that waits for the user's phone: the binding message to compare with the phone's,
 * a script that polls {@link PhoneWaitingView.statusUrl}, and a link that checks once without
 * it. Whatever the username was (an unknown one, an account without an app that can approve),
 * this page looks the same; it then simply never gets approved.
 *
 * @group Pages
 */
export interface PhoneWaitingView extends PageView {
  /** Always `phoneWaiting`. */
  page: 'phoneWaiting';
  /** The code the app shows too: the user approves only when both are the same. */
  bindingMessage: string;
  /** Seconds until the request expires. */
  expiresIn: number;
  /**
   * The "I approved it — continue" link (GET): continues when approved, back to the login page
   * with a message when denied or expired, this page again while waiting.
   */
  continueUrl: string;
  /**
   * What the script polls (GET, same origin): `{"status":"pending"}` while waiting, then
   * `{"status":"done"}`: follow {@link PhoneWaitingView.continueUrl}.
   */
  statusUrl: string;
  /** Back to the login page to sign in another way. */
  cancelUrl: string;
  /**
   * The built-in page's script, to reuse inside `<script nonce="${view.cspNonce}">`. It expects
   * `<div id="phone-waiting" data-status="${statusUrl}" data-continue="${continueUrl}">`
   * (escaped). The page's CSP allows `connect-src 'self'` for it.
   */
  script: string;
}

/**
 * Signing in with a passkey on the login page. The browser runs the WebAuthn ceremony with
 * `options` and posts the credential it returns as JSON, in a field named `credential`, with
 * the form's CSRF field; the server answers like a password sign-in.
 *
 * @group Pages
 */
export interface PasskeySignInView {
  /** Where the credential is posted: `<issuer>/interaction/<uid>/passkey`. */
  form: PageForm;
  /**
   * The options for `navigator.credentials.get()` (WebAuthn's
   * `PublicKeyCredentialRequestOptionsJSON`), as JSON. Its challenge works once, for this
   * sign-in only, for 5 minutes.
   */
  options: string;
  /**
   * The built-in page's script, to reuse in your own page inside
   * `<script nonce="${view.cspNonce}">`. It expects `<form id="passkey-form" method="post"
   * action="${form.action}" data-options="${options}">` (escaped) with the CSRF field and a
   * hidden `credential` field, a `<button type="button" id="passkey-button" hidden>` it shows
   * where passkeys work, `<p id="passkey-error" hidden>` it shows when the passkey dialog fails,
   * and the username field with `autocomplete="username webauthn"` for autofill.
   */
  script: string;
}

/**
 * The upstream identity the link page offers to link: the one the provider just vouched for.
 *
 * @group Pages
 */
export interface LinkIdentityView {
  /** The provider's `name` in `federation.providers`. */
  provider: string;
  /** The provider's name for people, e.g. `Google`. */
  providerName: string;
  /** The user at the provider (`sub`). */
  subject: string;
  /** Its email, only when the provider says it is verified. */
  email?: string;
  /** Its `name` claim. */
  name?: string;
}

/**
 * The account the link page would link the identity to: the one signed in on this browser.
 *
 * @group Pages
 */
export interface LinkAccountView {
  /** The account id. */
  id: string;
  /** Its `name` (else `preferred_username`) claim. */
  name?: string;
  /** Its `email` claim. */
  email?: string;
}

/**
 * The link page: "Continue with …" brought an identity linked to no account, on a browser whose
 * account signed in moments ago, or the user pressed "Link your … account" on the linked
 * accounts page and signed in there; asks whether to link it to that account. Link and Cancel
 * are two forms, each posting its CSRF field and the {@link LinkView.offer} field.
 *
 * @group Pages
 */
export interface LinkView extends PageView {
  /** Always `link`. */
  page: 'link';
  /** The identity to link. */
  identity: LinkIdentityView;
  /** The account to link it to. */
  account: LinkAccountView;
  /**
   * The hidden field both forms must send as it is: it names this offer on the server, which
   * alone knows the identity. It works once, for this sign-in only, for 5 minutes.
   */
  offer: SubmitField;
  /**
   * Link: links the identity and signs in as the account (from the linked accounts page: back
   * there, saying it is linked).
   */
  link: PageForm;
  /** Cancel: links nothing and shows the login page (or the linked accounts page) again. */
  cancel: PageForm;
}

/**
 * One "Link your … account" button on the linked accounts page: a form that posts nothing but
 * its CSRF field, and sends the browser to the provider.
 *
 * @group Pages
 */
export interface LinkProviderView {
  /** The provider's `name` in `federation.providers`. */
  provider: string;
  /** The provider's name for people, e.g. `Google`. */
  providerName: string;
  /** Its form. */
  form: PageForm;
}

/**
 * The password form of the linked accounts page, shown while the browser's sign-in is older
 * than `federation.linking.maxAge`: the account's username and password, posted as `username`
 * and `password` with the CSRF field. Failures count towards `interactions.signInRateLimit`.
 *
 * @group Pages
 */
export interface LinksReauthenticationView {
  /** Where the username and password are posted: `<issuer>/account/links/reauthenticate`. */
  form: PageForm;
  /** The username typed last, to show again. */
  username: string;
  /** Why the last attempt failed. */
  error?: string;
  /** Seconds the confirmation lasts: `federation.linking.maxAge`. */
  maxAge: number;
}

/**
 * The linked accounts page (`<issuer>/account/links`): links an upstream identity (Google,
 * Apple, …) to the signed-in account. Linking needs a sign-in within
 * `federation.linking.maxAge`: before, the page asks for the password ({@link
 * LinksView.reauthenticate}) and offers no buttons.
 *
 * @group Pages
 */
export interface LinksView extends PageView {
  /** Always `links`. */
  page: 'links';
  /** The signed-in account. */
  accountId: string;
  /** A "Link your … account" button per provider with `browser` options; none until fresh. */
  providers: LinkProviderView[];
  /** The password form, while the sign-in is not fresh enough to link. */
  reauthenticate?: LinksReauthenticationView;
  /** What the last action did (`linkedNotice`, `linksConfirmedNotice`). */
  notice?: string;
  /** Why the last link failed (`linkedElsewhere`, `linkExpired`, …). */
  error?: string;
  /** The links to the account pages. */
  links: AccountLinks;
}

/**
 * The links between the account pages.
 *
 * @group Pages
 */
export interface AccountLinks {
  /** The device page, `<issuer>/account/devices`. */
  devices: string;
  /** The passkey page, `<issuer>/account/passkeys`, when passkeys are enabled. */
  passkeys?: string;
  /**
   * The linked accounts page, `<issuer>/account/links`, when `accounts.link` is set and some
   * provider has `browser` options.
   */
  linkedAccounts?: string;
}

/**
 * One passkey on the passkey page.
 *
 * @group Pages
 */
export interface PasskeyItemView {
  /** Its credential id (base64url). */
  id: string;
  /** The name the user gave it, if any. */
  name?: string;
  /** When it was added, in seconds since the epoch. */
  createdAt: number;
  /** When it last signed in, in seconds since the epoch. */
  lastUsedAt?: number;
  /** Whether a password manager syncs it to the user's other devices. */
  synced: boolean;
  /** Its "Remove" button: a form that posts nothing but its CSRF field. */
  remove: PageForm;
}

/**
 * Adding a passkey on the passkey page. The browser runs `navigator.credentials.create()` with
 * `options` and posts the new credential as JSON in a field named `credential` (and a `name`
 * the user may give it, up to 64 characters) with the form's CSRF field.
 *
 * @group Pages
 */
export interface PasskeyRegistrationView {
  /** Where the new credential is posted: `<issuer>/account/passkeys`. */
  form: PageForm;
  /**
   * The options for `navigator.credentials.create()` (WebAuthn's
   * `PublicKeyCredentialCreationOptionsJSON`), as JSON. Its challenge works once, for this
   * account and browser session only, for 5 minutes.
   */
  options: string;
  /**
   * The built-in page's script, to reuse in `<script nonce="${view.cspNonce}">`. It expects
   * `<form id="passkey-register-form" method="post" action="${form.action}"
   * data-options="${options}" hidden>` (escaped) with the CSRF field, a hidden `credential`
   * field and a submit button, which it shows where passkeys work (hiding
   * `#passkey-unsupported`), and `<p id="passkey-register-error" hidden>` it shows when the
   * passkey dialog fails.
   */
  script: string;
}

/**
 * The passkey page (`<issuer>/account/passkeys`): the signed-in user's passkeys, each with a
 * "Remove" button, and "Add a passkey".
 *
 * @group Pages
 */
export interface PasskeysView extends PageView {
  /** Always `passkeys`. */
  page: 'passkeys';
  /** The signed-in account. */
  accountId: string;
  /** Its passkeys, oldest first. */
  passkeys: PasskeyItemView[];
  /** Adding one. */
  add: PasskeyRegistrationView;
  /** What the last action did (`passkeyAdded`, `passkeyRemoved`). */
  notice?: string;
  /** Why adding a passkey failed (`passkeyNotAdded`), shown with the form. */
  error?: string;
  /** The links to the account pages. */
  links: AccountLinks;
}

/**
 * One app install on the device page.
 *
 * @group Pages
 */
export interface InstanceItemView {
  /** The install's client id. */
  clientId: string;
  /** The app's name: the install's `client_name`, its template's, else its `software_id` or client id. */
  name: string;
  /** The app version it registered with (`software_version`). */
  version?: string;
  /** When it registered, in seconds since the epoch. */
  createdAt: number;
  /** When it last obtained tokens, in seconds since the epoch (to the minute). */
  lastUsedAt?: number;
  /**
   * Its last sign-in without a browser, at the Authorization Challenge Endpoint ("signed in with
   * the app"): when, and with what. Absent for an install that signed in only in the browser.
   */
  firstPartySignIn?: FirstPartySignInView;
  /** Its client assurance level. */
  cal: AssuranceLevel;
  /** How its registration was authorized. */
  registeredBy: RegistrationMethod;
  /** With `registeredBy` `attestation`: the evidence format (`apple-appattest`, …). */
  evidenceFormat?: string;
  /**
   * `pending` while it never obtained a token (see `pendingUntil`), `revoked` once revoked (it
   * stays listed for `instances.keepRevokedFor`), else `active`.
   */
  status: InstanceStatus;
  /** A pending install: when it is removed unless it signs in first, in seconds since the epoch. */
  pendingUntil?: number;
  /** When it was revoked, in seconds since the epoch. */
  revokedAt?: number;
  /**
   * The "Revoke" button of an install not yet revoked (active or pending): a form that posts
   * nothing but its CSRF field.
   */
  revoke?: PageForm;
}

/**
 * An install's last sign-in without a browser, as the device page shows it.
 *
 * @group Pages
 */
export interface FirstPartySignInView extends FirstPartySignIn {
  /** With `method` `federated`: the provider as the pages name it (`Google`). */
  providerName?: string;
}

/**
 * One Native SSO device session on the device page: the apps of a group on one device that share
 * the user's sign-in, with an "End" button.
 *
 * @group Pages
 */
export interface NativeSsoSessionView {
  /** The device session's id (the ID tokens' `sid`). */
  sid: string;
  /** The group of apps (a template's `nativeSso.group`). */
  group: string;
  /** The names of the apps that took part (installs of the account), oldest first. */
  apps: string[];
  /** When the first app signed in, in seconds since the epoch. */
  createdAt: number;
  /** When it ends at the latest, in seconds since the epoch. */
  expiresAt: number;
  /** The "End" button: a form that posts nothing but its CSRF field. */
  end: PageForm;
}

/**
 * The device page (`<issuer>/account/devices`): the signed-in user's app installs, each active
 * one with a "Revoke" button.
 *
 * @group Pages
 */
export interface InstancesView extends PageView {
  /** Always `devices`. */
  page: 'devices';
  /** The signed-in account. */
  accountId: string;
  /** One page of its installs, oldest first (at most 50). */
  devices: InstanceItemView[];
  /** The URL of the next page, when there are more. */
  next?: string;
  /** What the last action did (`deviceRevoked`). */
  notice?: string;
  /**
   * With Native SSO: the account's device sessions, apps on one device that share the sign-in
   * (absent when no template takes part in Native SSO).
   */
  signedInApps?: NativeSsoSessionView[];
  /** The links to the account pages. */
  links: AccountLinks;
}

/**
 * The app that asks on the consent page.
 *
 * @group Pages
 */
export interface ConsentClient {
  /** Its `client_id`. */
  id: string;
  /** Its `client_name` (its own or its template's), else its `client_id`. */
  name: string;
  /**
   * The host the answer is sent back to, when the redirect URI is `https` (an app link or a
   * web app); unset for a custom scheme or loopback redirect.
   */
  returnHost?: string;
}

/**
 * One scope the app asks for.
 *
 * @group Pages
 */
export interface ScopeView {
  /** The scope, e.g. `email`. */
  scope: string;
  /**
   * What it allows, in the page's language: from `interactions.scopeDescriptions`, else built
   * in (`openid`, `profile`, `email`, `offline_access` and the DCR token scope); unset for other
   * scopes.
   */
  description?: string;
}

/**
 * The consent page: what the app asks for, Allow and Deny.
 *
 * @group Pages
 */
export interface ConsentView extends PageView {
  /** Always `consent`. */
  page: 'consent';
  /** The app that asks. */
  client: ConsentClient;
  /** The account that is signed in. */
  accountId: string;
  /**
   * The scopes Allow grants, each once: all the request asks for, including any an earlier
   * consent already granted. Never empty together with `claims`.
   */
  scopes: ScopeView[];
  /** Claims asked for one by one (the `claims` parameter), granted earlier or not. */
  claims: string[];
  /** Allow: a form that posts nothing but its CSRF field. */
  allow: PageForm;
  /** Deny: a form that posts nothing but its CSRF field. */
  deny: PageForm;
}

/**
 * An error page: an interaction that expired, a refused form, a bad authorization request that
 * cannot be sent back to the app (oidc-provider's errors), a page that failed to render.
 *
 * @group Pages
 */
export interface ErrorView extends PageView {
  /** Always `error`. */
  page: 'error';
  /** What went wrong, in a few words. */
  heading: string;
  /** What the user can do about it. */
  message: string;
  /** The OAuth error code, for errors oidc-provider reports (e.g. `invalid_request`). */
  error?: string;
  /** oidc-provider's description of the error (English, for the developer). */
  errorDescription?: string;
}

/**
 * The app a sign-out came from (`client_id` or `id_token_hint` of the logout request).
 *
 * @group Pages
 */
export interface LogoutClient {
  /** Its `client_id`. */
  id: string;
  /** Its `client_name`, else its `client_id`. */
  name: string;
}

/**
 * A named value a button submits with its form.
 *
 * @group Pages
 */
export interface SubmitField {
  /** The button's `name`. */
  name: string;
  /** The button's `value`. */
  value: string;
}

/**
 * The sign-out page (RP-Initiated Logout): asks whether to end the session.
 *
 * @group Pages
 */
export interface LogoutView extends PageView {
  /** Always `logout`. */
  page: 'logout';
  /** Where the answer is posted. */
  form: PageForm;
  /**
   * What the "Sign out" button submits (`logout=yes`); the form posted without it keeps the
   * session.
   */
  signOut: SubmitField;
  /** The app the sign-out came from, when known. */
  client?: LogoutClient;
}

/**
 * The page after signing out, when the app gave no `post_logout_redirect_uri`.
 *
 * @group Pages
 */
export interface LogoutSuccessView extends PageView {
  /** Always `logoutSuccess`. */
  page: 'logoutSuccess';
  /** The app the sign-out came from, when known. */
  client?: LogoutClient;
}

/**
 * Render hooks, one per page: each receives the page's view model and returns its whole HTML
 * document. A page without a hook is the built-in one. The page is sent with the status, the
 * language and the headers the library chooses (no caching, no framing, a strict CSP with the
 * view's {@link PageView.cspNonce}); a hook that throws or returns no string is logged as a
 * `server_error` and the user gets a `500` error page.
 *
 * Strings from a view model are data: escape them for HTML.
 *
 * @group Pages
 */
export interface InteractionPages {
  /** The login page. */
  login?(view: LoginView): string | Promise<string>;
  /** The consent page. */
  consent?(view: ConsentView): string | Promise<string>;
  /** Every error page, the library's own and oidc-provider's. */
  error?(view: ErrorView): string | Promise<string>;
  /** The sign-out confirmation. */
  logout?(view: LogoutView): string | Promise<string>;
  /** The page after signing out. */
  logoutSuccess?(view: LogoutSuccessView): string | Promise<string>;
  /** The passkey page of a signed-in user (with `passkeys.enabled`). */
  passkeys?(view: PasskeysView): string | Promise<string>;
  /** The device page of a signed-in user. */
  devices?(view: InstancesView): string | Promise<string>;
  /** The link page: link an upstream identity to the signed-in account (with `accounts.link`). */
  link?(view: LinkView): string | Promise<string>;
  /** The linked accounts page of a signed-in user (with `accounts.link`). */
  links?(view: LinksView): string | Promise<string>;
  /** The page that waits for an approval on the user's phone (with `phoneApproval`). */
  phoneWaiting?(view: PhoneWaitingView): string | Promise<string>;
}

/**
 * @deprecated Use {@link InstanceItemView}: the same type under the library's one word.
 * @group Deprecated
 */
export type DeviceItemView = InstanceItemView;
/**
 * @deprecated Use {@link InstancesView}.
 * @group Deprecated
 */
export type DevicesView = InstancesView;
