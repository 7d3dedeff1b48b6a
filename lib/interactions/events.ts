/**
 * What a `signin.throttled` event carries: who was refused and for how long, never the password.
 *
 * @group Server
 */
export interface SignInThrottledEvent {
  /**
   * The username as submitted (not normalised, whether or not such an account exists),
   * truncated to 64 characters. For a passkey sign-in: the passkey's account id, or
   * `passkey:<credential id>` when no passkey has the credential presented.
   */
  username: string;
  /** The client IP address (behind a proxy: as the `proxy` option derives it). */
  ip: string;
  /**
   * The limit that is reached: `account` (failures for this username from this IP), `ip`
   * (failures from this IP, whatever the username) or `username` (failures for this username
   * from all IPs together: a short cool-down).
   */
  limit: 'account' | 'ip' | 'username';
  /** Seconds until the sign-in may be tried again (the `Retry-After` sent). */
  retryAfterSeconds: number;
}

/**
 * What a `signin.succeeded` or `signin.failed` event carries: never the password or the passkey
 * assertion.
 *
 * @group Server
 */
export interface SignInEvent {
  /**
   * How the user signed in: `password` or `passkey` on the sign-in page, or `federated`
   * (`signin.failed` only: a refused native id_token exchange or "Continue with …" callback; a
   * successful federated sign-in is `account.federated`).
   */
  method: 'password' | 'passkey' | 'federated';
  /** The account signed in (`signin.succeeded` only). */
  accountId?: string;
  /** The client the sign-in is for. */
  clientId: string;
  /** The client IP address (behind a proxy: as the `proxy` option derives it). */
  ip: string;
  /**
   * `authorization_challenge` when the sign-in came through the Authorization Challenge Endpoint
   * (first-party sign-in, without a browser); absent for the sign-in pages and the native token
   * exchange.
   */
  endpoint?: 'authorization_challenge';
}

/**
 * Sign-in events, by name, for audit logs.
 *
 * @group Server
 */
export interface SignInEvents {
  /**
   * A sign-in was refused with `429` because too many failed sign-ins came for its username
   * from its IP, from its IP in all, or for its username from all IPs
   * (`interactions.signInRateLimit`); the password was not checked.
   */
  'signin.throttled': SignInThrottledEvent;
  /**
   * A user signed in with a password or a passkey: on the sign-in page, or at the Authorization
   * Challenge Endpoint (first-party sign-in, where a native id_token is `account.federated`).
   */
  'signin.succeeded': SignInEvent;
  /**
   * A sign-in was refused: a wrong username or password, or a passkey that did not verify
   * (`passkey.refused` tells why), on the sign-in page or at the Authorization Challenge
   * Endpoint; or a federated sign-in (`method: 'federated'`): a native id_token (token exchange
   * or the challenge endpoint's id_token step) refused (a bad, expired or replayed id_token, an
   * unknown audience, an identity no account takes, an install of another account) or a
   * "Continue with …" callback refused (a bad state, a failed code exchange or id_token, an
   * identity no account takes). A throttled one is `signin.throttled` instead; a cancel at the
   * provider or an unreachable provider is no refusal.
   */
  'signin.failed': SignInEvent;
}
