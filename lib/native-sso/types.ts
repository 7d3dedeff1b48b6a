// Native SSO's public face: the device sessions an account has, and its audit events.

/**
 * One device session of Native SSO: an account signed in on one device for a group of apps,
 * whose apps share its current device secret. The secret itself is never shown.
 *
 * @group Native SSO
 */
export interface NativeSsoSession {
  /** The device session's id: the `sid` of the ID tokens issued with its secrets. */
  sid: string;
  /** The group of apps (a template's `nativeSso.group`). */
  group: string;
  /** The client its current secret was issued to: the app that signed in or exchanged last. */
  clientId: string;
  /**
   * Every client its secrets were issued to: the apps of the group on that device (and the
   * registration client, when one obtained a DCR token with it). Revoking or deleting one of
   * these installs ends the device session.
   */
  clientIds: string[];
  /** When the first app signed in, in seconds since the epoch. */
  createdAt: number;
  /** When the current secret was issued (rotated), in seconds since the epoch. */
  issuedAt: number;
  /** When the device session ends at the latest, in seconds since the epoch. */
  expiresAt: number;
}

/**
 * Native SSO for the app that embeds the server: list and end an account's device sessions
 * (e.g. from your own account page, or when the user reports a lost phone).
 *
 * @group Native SSO
 */
export interface NativeSsoManagement {
  /**
   * The account's live device sessions, oldest first: a session whose browser sign-in ended
   * (sign-out, expiry) is not listed.
   */
  list(accountId: string): Promise<NativeSsoSession[]>;
  /**
   * Ends the account's device session `sid`, or all of them without `sid`: their device
   * secrets stop working at once (tokens already issued to the apps stay valid).
   *
   * @returns how many device sessions were ended.
   */
  revoke(accountId: string, sid?: string): Promise<number>;
}

/**
 * A Native SSO token exchange, granted or refused.
 *
 * @group Native SSO
 */
export interface NativeSsoExchangeEvent {
  /** The client that asked. */
  clientId: string;
  /** The account signed in, when the exchange was granted. */
  accountId?: string;
  /** Why it was refused (the `error_description` the app got); absent when granted. */
  refused?: string;
}

/**
 * Native SSO's events, by name.
 *
 * @group Native SSO
 */
export interface NativeSsoEvents {
  /** Another app of a group exchanged a device secret for its own tokens. */
  'native_sso.exchanged': NativeSsoExchangeEvent;
  /** A Native SSO exchange was refused. */
  'native_sso.refused': NativeSsoExchangeEvent;
}
