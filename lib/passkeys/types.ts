/**
 * A passkey of an account, as the account page and the APIs show it. Never its public key.
 *
 * @group Passkeys
 */
export interface PasskeyInfo {
  /** The credential id, base64url. */
  id: string;
  /** The account it signs in to. */
  accountId: string;
  /** The name the user gave it when adding it, if any. */
  name?: string;
  /** When it was added, in seconds since the epoch. */
  createdAt: number;
  /** When it last signed in, in seconds since the epoch. */
  lastUsedAt?: number;
  /**
   * `multiDevice` for a passkey a password manager may sync to the user's other devices,
   * `singleDevice` for one bound to one authenticator (a security key).
   */
  deviceType: 'singleDevice' | 'multiDevice';
  /** Whether it is backed up (synced) now, as the authenticator last said. */
  backedUp: boolean;
  /** How the browser can reach the authenticator (`internal`, `hybrid`, `usb`, …), as it said. */
  transports?: string[];
  /** The authenticator model's AAGUID (all zeros when it does not say). */
  aaguid: string;
}

/**
 * Who removed a passkey: its owner (the account page or the self-service API), an
 * administrator (the admin API), or your code (`server.passkeys.remove`).
 *
 * @group Passkeys
 */
export type PasskeyRemovedBy = 'user' | 'admin' | 'api';

/**
 * What a `passkey.registered` event carries.
 *
 * @group Passkeys
 */
export interface PasskeyEvent {
  /** The credential id. */
  credentialId: string;
  /** The account it belongs to. */
  accountId: string;
}

/**
 * What a `passkey.removed` event carries.
 *
 * @group Passkeys
 */
export interface PasskeyRemovalEvent extends PasskeyEvent {
  /** Who removed it. */
  by: PasskeyRemovedBy;
}

/**
 * Why a passkey sign-in was refused:
 * - `malformed`: the credential posted is not a WebAuthn assertion;
 * - `challenge`: its challenge was not issued for this sign-in, has expired or was used;
 * - `unknown`: no such passkey (never added, or removed);
 * - `assertion`: the origin, relying party id, flags (user verification is required) or
 *   signature do not check out;
 * - `counter`: the authenticator's counter did not rise: a cloned authenticator or a replay;
 * - `account`: the account is gone (`accounts.findAccount` found none).
 *
 * @group Passkeys
 */
export type PasskeyRefusalReason =
  | 'malformed'
  | 'challenge'
  | 'unknown'
  | 'assertion'
  | 'counter'
  | 'account';

/**
 * What a `passkey.refused` event carries: a failed passkey sign-in (it also counts against the
 * sign-in throttle like a wrong password).
 *
 * @group Passkeys
 */
export interface PasskeyRefusalEvent {
  /** Why it was refused. */
  reason: PasskeyRefusalReason;
  /** The credential id presented, when it names a stored passkey. */
  credentialId?: string;
  /** The account of that passkey. */
  accountId?: string;
  /** The client IP address. */
  ip: string;
}

/**
 * Passkey events, by name, for audit logs.
 *
 * @group Passkeys
 */
export interface PasskeyEvents {
  /** A signed-in user added a passkey on the account page. */
  'passkey.registered': PasskeyEvent;
  /** A passkey was removed: by its owner, an administrator or your code. */
  'passkey.removed': PasskeyRemovalEvent;
  /** A passkey sign-in was refused; `counter` is the sign of a cloned authenticator. */
  'passkey.refused': PasskeyRefusalEvent;
}

/**
 * Lists and removes passkeys (`server.passkeys`).
 *
 * @group Passkeys
 */
export interface PasskeyManagement {
  /** The account's passkeys, oldest first. */
  list(accountId: string): Promise<PasskeyInfo[]>;
  /** One passkey by its credential id, or `undefined`. */
  get(credentialId: string): Promise<PasskeyInfo | undefined>;
  /**
   * Removes a passkey: it can no longer sign in. The copy in the user's password manager stays
   * until they delete it there.
   *
   * @returns the passkey removed, or `undefined` when there was none.
   */
  remove(credentialId: string): Promise<PasskeyInfo | undefined>;
}
