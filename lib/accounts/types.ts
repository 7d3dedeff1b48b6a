// The account vocabulary: what the library asks of your user database. Imports nothing.

/**
 * The account store the sign-in pages and tokens use.
 *
 * @group Options
 */
export interface AccountOptions {
  /**
   * Checks a username and password from the sign-in page.
   *
   * @returns the account id, or `undefined` when they are wrong.
   */
  authenticate(username: string, password: string): Promise<string | undefined>;

  /**
   * Loads an account's claims for ID tokens and userinfo. Resolving `undefined` means the account
   * is gone: its tokens stop working (refresh fails with `invalid_grant`).
   */
  findAccount(accountId: string): Promise<AccountClaims | undefined>;
}

/**
 * What {@link AccountOptions.findAccount} resolves.
 *
 * @group Options
 */
export interface AccountClaims {
  /** The account's claims (`name`, `email`, …); `sub` is always the account id. */
  claims: Record<string, unknown>;
}
