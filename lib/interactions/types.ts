import type { SignInThrottle } from './throttle.js';

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
  /** Failed sign-in throttling; none when unset. */
  throttle?: SignInThrottle;
}

/**
 * What a `signin.throttled` event carries: who was refused and for how long, never the password.
 *
 * @group Server
 */
export interface SignInThrottledEvent {
  /**
   * The username as submitted (not normalised, whether or not such an account exists),
   * truncated to 64 characters.
   */
  username: string;
  /** The client IP address. */
  ip: string;
  /**
   * The limit that is reached: `account` (failures for this username from this IP) or `ip`
   * (failures from this IP, whatever the username).
   */
  limit: 'account' | 'ip';
  /** Seconds until the sign-in may be tried again (the `Retry-After` sent). */
  retryAfterSeconds: number;
}

/**
 * Sign-in events, by name, for audit logs.
 *
 * @group Server
 */
export interface SignInEvents {
  /**
   * A sign-in was refused with `429` because too many failed sign-ins came for its username
   * from its IP, or from its IP in all (`interactions.signInRateLimit`); the password was not
   * checked.
   */
  'signin.throttled': SignInThrottledEvent;
}
