import type { RegistrationProof } from '../core/instance-record.js';
import type { AssuranceLevel } from '../core/levels.js';

/**
 * One instance client (an app install on one device), as device management shows it.
 *
 * @group Devices
 */
export interface DeviceInfo {
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
   * {@link DeviceInfo.unusedUntil}, and counts toward no limit); `revoked` once revoked: it can
   * no longer authenticate and holds no tokens. With `registration.instances.unusedTtl` 0 an
   * install is `active` from registration on.
   */
  status: DeviceStatus;
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
}

/**
 * Where an install stands: see {@link DeviceInfo.status}.
 *
 * @group Devices
 */
export type DeviceStatus = 'active' | 'pending' | 'revoked';

/**
 * Which page of an account's devices to read (see `DeviceManagement.page`).
 *
 * @group Devices
 */
export interface DevicePageOptions {
  /** How many devices at most: an integer from 1 to 100. Default 50. */
  limit?: number;
  /** The `nextCursor` of the previous page; absent for the first page. */
  cursor?: string;
}

/**
 * One page of an account's devices, oldest first.
 *
 * @group Devices
 */
export interface DevicePage {
  /** At most `limit` devices, continuing where the cursor left off. */
  devices: DeviceInfo[];
  /**
   * Pass it as `cursor` to read the next page; absent on the last page. Opaque: it names a
   * position within this account's list (after the last device of this page), so devices
   * added or revoked between pages neither repeat nor skip the ones not yet read. It is
   * refused for any other account.
   */
  nextCursor?: string;
}

/**
 * Who revoked an instance.
 *
 * @group Devices
 */
export type RevokedBy = 'admin' | 'user' | 'limit' | 'api';

/**
 * What every device event carries: ids, never secrets.
 *
 * @group Devices
 */
export interface DeviceEvent {
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
 * @group Devices
 */
export interface RevocationEvent extends DeviceEvent {
  /** Who revoked it. */
  by: RevokedBy;
}

/**
 * What an `instance.bound` event carries.
 *
 * @group Devices
 */
export interface BindingEvent extends DeviceEvent {
  /** The account the instance now belongs to. */
  accountId: string;
}

/**
 * The events an auth server emits, by name, for audit logs.
 *
 * @group Devices
 */
export interface DeviceEvents {
  /** An instance registered (RFC 7591). */
  'instance.registered': DeviceEvent;
  /** An instance updated its registration (RFC 7592 `PUT`). */
  'instance.updated': DeviceEvent;
  /** An instance deleted its registration (RFC 7592 `DELETE`). */
  'instance.deleted': DeviceEvent;
  /** An instance was revoked: by an administrator, by its user, by the instance limit, or by your code. */
  'instance.revoked': RevocationEvent;
  /** An instance registered without a user was bound to the first account that signed in through it. */
  'instance.bound': BindingEvent;
}
