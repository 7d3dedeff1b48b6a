// The vocabulary of federated sign-in ("Sign in with Apple / Google"): its events. The options
// are in options.ts.

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
  /**
   * `authorization_challenge` when the native id_token came to the Authorization Challenge
   * Endpoint (first-party sign-in); absent for the token exchange and the browser.
   */
  endpoint?: 'authorization_challenge';
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

/**
 * A refused native federated sign-in, as the `signin.failed` event carries it (the sign-in
 * pages' `SignInEvent`, with `method: 'federated'`): never the id_token.
 *
 * @internal
 */
export interface FederatedSignInFailure {
  method: 'federated';
  /** The client that exchanged the id_token. */
  clientId: string;
  /** The client IP address (behind a proxy: as the `proxy` option derives it). */
  ip: string;
}
