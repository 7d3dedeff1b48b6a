/**
 * Why a refresh token's use was taken for theft (RFC 9700 §4.14.2), and its grant revoked:
 *
 * - `outside_grace_window`: a rotated refresh token was used again after its reuse grace window
 *   (or with the window off).
 * - `successor_used`: a rotated refresh token was used again after one of its successors was.
 * - `superseded_successor_used`: a successor retired by a retry within the window was used: two
 *   different successors of one rotation were presented (the app's and a thief's).
 * - `second_successor_used`: a second successor of one rotation was used after another one was.
 *
 * @group Tokens
 */
export type RefreshTokenReuseReason =
  | 'outside_grace_window'
  | 'successor_used'
  | 'superseded_successor_used'
  | 'second_successor_used';

/**
 * What a `refresh_token.reuse_detected` event carries: ids, never a token value.
 *
 * @group Tokens
 */
export interface RefreshTokenReuseEvent {
  /** The client the refresh token was issued to. */
  clientId: string;
  /** The grant revoked with all its tokens (an id, not a credential). */
  grantId: string;
  /** The account the grant belongs to. */
  accountId?: string;
  /** Why the use was taken for theft. */
  reason: RefreshTokenReuseReason;
}

/**
 * What a `refresh_token.retried` event carries: ids, never a token value.
 *
 * @group Tokens
 */
export interface RefreshTokenRetryEvent {
  /** The client the refresh token was issued to. */
  clientId: string;
  /** The grant the refresh token belongs to. */
  grantId: string;
  /** The account the grant belongs to. */
  accountId?: string;
}

/**
 * The refresh token events an auth server emits, by name, for audit logs and alerts.
 *
 * @group Tokens
 */
export interface RefreshTokenEvents {
  /**
   * A refresh token was reused in a way only a thief (or a broken client) would: the whole grant
   * was revoked, every token of it with it.
   */
  'refresh_token.reuse_detected': RefreshTokenReuseEvent;
  /**
   * A rotated refresh token was used again within its reuse grace window (an app retrying after
   * a lost response) and allowed: its new successor replaces the one before. No theft, but an
   * app that retries often has a flaky network or a bug.
   */
  'refresh_token.retried': RefreshTokenRetryEvent;
}
