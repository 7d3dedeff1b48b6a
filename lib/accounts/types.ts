// The account vocabulary: what the library asks of your user database.
import type { FederatedAccount, FederatedIdentity } from '../federation/types.js';

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

  /**
   * Resolves a user an upstream provider vouched for (federated sign-in) to an account: find the
   * account linked to `provider` + `subject`, create one, link the identity to an account, or
   * refuse with `undefined`. Required when `federation.providers` is not empty.
   *
   * Link to an existing account only with proof of it: `signedInAccountId` (the user is signed
   * in to it), or your own explicit decision. The library never links by email itself, and an
   * unverified email never reaches this hook.
   */
  federated?(identity: FederatedIdentity): Promise<FederatedAccount | undefined>;
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
