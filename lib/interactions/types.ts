import type { BrowserFederation, BrowserFederationSettings } from '../federation/browser.js';
import type { PasskeyService } from '../passkeys/service.js';
import type { SignInEvent } from './events.js';
import type { PageMessages } from './messages.js';
import type { SignInThrottle } from './throttle.js';
import type { InteractionPages } from './views.js';

/**
 * What the built-in sign-in pages need.
 *
 * @internal
 */
export interface InteractionOptions {
  /** Checks a username and password; resolves the account id, or `undefined` when wrong. */
  authenticate(username: string, password: string): Promise<string | undefined>;
  /** The secret per-interaction CSRF tokens are derived from. */
  csrfSecret: string;
  /** The issuer's URL path (`''` or e.g. `/oidc`); form actions are absolute paths under it. */
  basePath: string;
  /** Whether consent may be granted without asking (the user's own app instance). */
  autoConsent(input: {
    clientId: string;
    accountId: string;
    metadata: Record<string, unknown>;
  }): boolean | Promise<boolean>;
  /**
   * Called when the user allows on the consent page, before the grant is saved: resolves a
   * reason to refuse (the sign-in then ends with `access_denied`), or `undefined` to go on.
   * Binds an instance without an owner to this account.
   */
  confirmConsent?(input: { clientId: string; accountId: string }): Promise<string | undefined>;
  /** The product name shown in page titles. @default 'Sign in' */
  title?: string;
  /** Render hooks for the pages; a page without one is built in. */
  pages?: InteractionPages;
  /** Catalogues by language tag, merged over the built-in English and German ones. */
  messages?: Readonly<Record<string, Partial<PageMessages>>>;
  /** The language when the request names none there is a catalogue for. @default 'en' */
  defaultLanguage?: string;
  /** What scopes allow, shown on the consent page: one text, or one per language. */
  scopeDescriptions?: Readonly<Record<string, string | Readonly<Record<string, string>>>>;
  /** The DCR token scope, described by the built-in `scopeDcr` message. @default 'dcr' */
  dcrScope?: string;
  /** Failed sign-in throttling; none when unset. */
  throttle?: SignInThrottle;
  /**
   * Sign-in through upstream providers in the browser: a "Continue with …" button per provider
   * with `browser` options, and their callback routes. None when unset or no provider has them.
   */
  federation?: BrowserFederationSettings;
  /** The browser flow made from `federation`, shared with the account pages; made here when unset. */
  browserFederation?: BrowserFederation;
  /** Passkey sign-in on the login page; none when unset. */
  passkeys?: PasskeyService;
  /** "Approve on your phone" on the login page; none when unset. */
  phone?: PhoneSignIn;
  /** Told of each checked password or passkey sign-in: `succeeded` or `failed`. */
  onSignIn?(outcome: 'succeeded' | 'failed', event: SignInEvent): void;
}

/**
 * Where a phone sign-in of one interaction stands: `pending` (the page waits), `approved` (the
 * page may take it), `denied`, or `none` (expired, taken, or never started).
 *
 * @internal
 */
export type PhoneSignInState =
  | { state: 'pending'; bindingMessage: string; expiresIn: number }
  | { state: 'approved' | 'denied' | 'none' };

/**
 * "Approve on your phone" as the sign-in pages use it, implemented by phone approval (a feature
 * above the pages): approvals for the account's installs, bound to one interaction.
 *
 * @internal
 */
export interface PhoneSignIn {
  /**
   * Asks the installs of the account named `username` (as CIBA's `login_hint`: the account id)
   * to approve a sign-in of interaction `uid`, replacing one it started before. An unknown
   * account, or one without an install that may approve, starts one that is never answered.
   *
   * @returns the binding message, or `undefined` when the account has too many sign-ins waiting.
   */
  start(input: {
    uid: string;
    username: string;
    clientId: string;
    clientName: string;
    scope: string;
  }): Promise<{ bindingMessage: string } | undefined>;
  /** Where interaction `uid`'s phone sign-in stands. */
  state(uid: string): Promise<PhoneSignInState>;
  /**
   * Takes the approved sign-in of interaction `uid`, once: the account and the answer's `amr`;
   * `undefined` when it is not approved (or was taken).
   */
  take(uid: string): Promise<{ accountId: string; amr: string[] } | undefined>;
  /** Forgets interaction `uid`'s phone sign-in (it was denied, or the page is done with it). */
  forget(uid: string): Promise<void>;
}
