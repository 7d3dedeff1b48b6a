import type { AccountClaims } from '../core/accounts.js';
import type { RegistrationMethod } from '../core/instance-record.js';
import type { AssuranceLevel } from '../core/levels.js';
import type { Template } from '../core/template-types.js';

/**
 * What a {@link RegistrationPolicy} sees.
 *
 * @group Registration
 */
export interface RegistrationPolicyInput {
  /** `create` for `POST /reg`, `update` for an RFC 7592 `PUT`. */
  operation: 'create' | 'update';
  /**
   * The account the instance belongs to: the user whose DCR token opened the registration.
   * Absent for a registration authorized by a fallback client or by evidence alone.
   */
  accountId: string | undefined;
  /** That account's claims, as `accounts.findAccount` returned them. */
  account: AccountClaims | undefined;
  /** The registration client the user's DCR token was issued to, if a user's token opened it. */
  registrationClientId: string | undefined;
  /** The instance's client assurance level. */
  cal: AssuranceLevel;
  /** How the registration was authorized. */
  method: RegistrationMethod;
  /** The instance client's id (already generated on `create`). */
  clientId: string;
  /** The template the instance registers from (its `software_id`), if any. */
  template: Template | undefined;
  /** The client IP address of the registration request. */
  ip: string;
  /**
   * The instance's client metadata, after the built-in rules (for a templatized instance, the
   * template's settings merged with the instance's fields; only the instance's own fields are
   * stored, so amend those). Amend it in place; the built-in
   * rules check it again after every policy.
   */
  metadata: Record<string, unknown>;
}

/**
 * A registration policy hook: amends `input.metadata` in place, or rejects by throwing a
 * {@link RegistrationPolicyError}. Any other error fails the registration with `server_error`.
 * Either way, no client is created.
 *
 * @group Registration
 */
export type RegistrationPolicy = (input: RegistrationPolicyInput) => void | Promise<void>;
