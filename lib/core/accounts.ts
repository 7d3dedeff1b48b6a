// The account vocabulary: what the library asks of your user database.

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
   * Never link an identity to an existing account here by its email (verified or not: an email
   * equal to an account's proves nothing about who signs in), nor on `signedInAccountId` alone.
   * The safe pattern: resolve the account already linked to the identity; for an unknown one
   * resolve `undefined` while `signedInAccountId` is set and implement {@link AccountOptions.link}
   * (the user is then asked to link it to that account), else create an account of its own
   * (sign-up) or refuse. The library never links by email itself, and an unverified email never
   * reaches this hook.
   */
  federated?(identity: FederatedIdentity): Promise<FederatedAccount | undefined>;

  /**
   * Stores a link between an upstream identity (`provider` + `subject`) and an existing account,
   * so `federated` resolves it to `accountId` from then on. Called only after the user, signed
   * in to `accountId` on this browser within `federation.linking.maxAge` (or confirmed with the
   * password on the account page `/account/links` within it) and not asked by the app to sign in
   * again, confirmed linking this identity on the link page; the identity is the one the provider
   * just vouched for. Without this hook no link page is offered.
   *
   * Resolve `false`, linking nothing, when the identity is already linked to another account:
   * the user is told so, and the identity keeps signing in as that account only. Check and store
   * in one step (e.g. a unique key on `provider` + `subject`), so two links cannot both win.
   * A rejection fails the link (nothing is reported as linked); store the link idempotently
   * (linking an identity again to its own account resolves as linked).
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: hooks that link and return nothing stay valid.
  link?(identity: FederatedIdentity, accountId: string): Promise<void | false>;
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

/**
 * A user an upstream provider vouched for, as `accounts.federated` receives it.
 *
 * @group Federation
 */
export interface FederatedIdentity {
  /** The provider's `name`. */
  provider: string;
  /** The user at that provider (`sub`): stable, unlike the email. */
  subject: string;
  /**
   * The email, only when the provider says it is verified. An unverified email is never here
   * (nor in `claims`), so it cannot be used to link accounts.
   */
  email?: string;
  /**
   * The id_token's verified claims (Apple's string booleans made booleans), without an
   * unverified email.
   */
  claims: Readonly<Record<string, unknown>>;
  /** How the user signed in. */
  via: 'native' | 'browser';
  /**
   * The account signed in on this browser when the user chose "Continue with …" (browser only),
   * set only when that sign-in is fresh (within `federation.linking.maxAge`) and the app asked
   * for nothing but a sign-in (no `prompt=login`, exceeded `max_age`, `id_token_hint`, `acr`).
   * Prefer resolving `undefined` here and implementing `accounts.link`: the user then confirms
   * the link on a page. Never link on it without such a confirmation of your own.
   */
  signedInAccountId?: string;
}

/**
 * What `accounts.federated` resolves: the account id, or the id with what was done. `undefined`
 * refuses the sign-in.
 *
 * @group Federation
 */
export type FederatedAccount =
  | string
  | {
      /** The account id. */
      accountId: string;
      /**
       * The hook linked the identity to the account just now (emits `account.linked`). Prefer
       * `accounts.link`, which runs only after the user confirmed the link.
       */
      linked?: boolean;
    };
