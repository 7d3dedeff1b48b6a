import type { RegistrationProof } from '../core/instance-record.js';
import type { AssuranceLevel } from '../core/levels.js';

/**
 * One instance client (an app install on one device), as instance management shows it.
 *
 * @group Instances
 */
export interface InstanceInfo {
  /** The instance's client id. */
  clientId: string;
  /**
   * The account it belongs to: the user who registered it, or the first one who signed in
   * through it. Absent until then for an instance registered without a user.
   */
  accountId?: string;
  /** Its client assurance level. */
  cal: AssuranceLevel;
  /** How its registration was authorized (evidence summary, fallback client). */
  registeredBy: RegistrationProof;
  /**
   * `active` once it has obtained a token; `pending` while it never has (a registration whose
   * app never got its credentials, or never signed in: it is removed at
   * {@link InstanceInfo.unusedUntil}, and counts toward no limit); `revoked` once revoked: it can
   * no longer authenticate and holds no tokens. With `registration.instances.unusedTtl` 0 an
   * install is `active` from registration on.
   */
  status: InstanceStatus;
  /** When it registered, in seconds since the epoch. */
  createdAt: number;
  /** When it was revoked, in seconds since the epoch. */
  revokedAt?: number;
  /** When it last obtained tokens, in seconds since the epoch (to the minute). */
  lastUsedAt?: number;
  /**
   * Set while the instance has never obtained a token: it is removed at this time (seconds since
   * the epoch) unless it is used first (`registration.instances.unusedTtl`). Unused instances do
   * not count toward the per-account limit.
   */
  unusedUntil?: number;
  /** Its template's `software_id` (or the `software_id` it registered with). */
  softwareId?: string;
  /** Its `client_name` (or its template's). */
  clientName?: string;
  /** The app version it registered with (`software_version`). */
  softwareVersion?: string;
  /**
   * The last time a user signed in through this install without a browser, at the Authorization
   * Challenge Endpoint ("signed in with the app"); absent when none did within the grant
   * lifetime (`ttl.grant`), e.g. an install that only ever signed in through the browser.
   */
  firstPartySignIn?: FirstPartySignIn;
}

/**
 * A sign-in at the Authorization Challenge Endpoint, as instance management shows it
 * ({@link InstanceInfo.firstPartySignIn}).
 *
 * @group Instances
 */
export interface FirstPartySignIn {
  /** When the sign-in got its authorization code, in seconds since the epoch. */
  at: number;
  /**
   * The step that completed it: `password`, `passkey`, or `federated` (a native Apple/Google
   * id_token; see `provider`).
   */
  method: 'password' | 'passkey' | 'federated';
  /** With `federated`: the provider's `name` (`google`, `apple`, …). */
  provider?: string;
}

/**
 * Where an instance stands: see {@link InstanceInfo.status}.
 *
 * @group Instances
 */
export type InstanceStatus = 'active' | 'pending' | 'revoked';

/**
 * Which page of an account's instances to read (see `InstanceManagement.page`).
 *
 * @group Instances
 */
export interface InstancePageOptions {
  /** How many instances at most: an integer from 1 to 100. Default 50. */
  limit?: number;
  /** The `nextCursor` of the previous page; absent for the first page. */
  cursor?: string;
}

/**
 * One page of an account's instances, oldest first.
 *
 * @group Instances
 */
export interface InstancePage {
  /**
   * At most `limit` instances, continuing where the cursor left off. (The field keeps its name
   * `devices`, as in the HTTP APIs' answers, so readers of either need no change.)
   */
  devices: InstanceInfo[];
  /**
   * Pass it as `cursor` to read the next page; absent on the last page. Opaque: it names a
   * position within this account's list (after the last instance of this page), so instances
   * added or revoked between pages neither repeat nor skip the ones not yet read. It is
   * refused for any other account.
   */
  nextCursor?: string;
}

/**
 * Who revoked an instance.
 *
 * @group Instances
 */
export type RevokedBy = 'admin' | 'user' | 'limit' | 'api';

/**
 * What every instance event carries: ids, never secrets.
 *
 * @group Instances
 */
export interface InstanceEvent {
  /** The instance's client id. */
  clientId: string;
  /** The account the instance belongs to, if it is bound to one yet. */
  accountId?: string;
  /** Its template's `software_id`, if it has one. */
  softwareId?: string;
}

/**
 * What an `instance.revoked` event carries.
 *
 * @group Instances
 */
export interface RevocationEvent extends InstanceEvent {
  /** Who revoked it. */
  by: RevokedBy;
}

/**
 * What an `instance.bound` event carries.
 *
 * @group Instances
 */
export interface BindingEvent extends InstanceEvent {
  /** The account the instance now belongs to. */
  accountId: string;
}

/**
 * The events an auth server emits, by name, for audit logs.
 *
 * @group Instances
 */
export interface InstanceEvents {
  /** An instance registered (RFC 7591). */
  'instance.registered': InstanceEvent;
  /** An instance updated its registration (RFC 7592 `PUT`). */
  'instance.updated': InstanceEvent;
  /** An instance deleted its registration (RFC 7592 `DELETE`). */
  'instance.deleted': InstanceEvent;
  /** An instance was revoked: by an administrator, by its user, by the instance limit, or by your code. */
  'instance.revoked': RevocationEvent;
  /** An instance registered without a user was bound to the first account that signed in through it. */
  'instance.bound': BindingEvent;
}

/**
 * @deprecated Use {@link InstanceInfo}: the same type under the library's one word.
 * @group Deprecated
 */
export type DeviceInfo = InstanceInfo;
/**
 * @deprecated Use {@link InstanceStatus}.
 * @group Deprecated
 */
export type DeviceStatus = InstanceStatus;
/**
 * @deprecated Use {@link InstancePageOptions}.
 * @group Deprecated
 */
export type DevicePageOptions = InstancePageOptions;
/**
 * @deprecated Use {@link InstancePage}.
 * @group Deprecated
 */
export type DevicePage = InstancePage;
/**
 * @deprecated Use {@link InstanceEvent}.
 * @group Deprecated
 */
export type DeviceEvent = InstanceEvent;
/**
 * @deprecated Use {@link InstanceEvents}.
 * @group Deprecated
 */
export type DeviceEvents = InstanceEvents;
