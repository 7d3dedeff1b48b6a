import type { KoaContextWithOIDC } from 'oidc-provider';
import type {
  ReattestationAttempt,
  RegistrationAttempt,
  RegistrationAuthority,
} from '../../attestation/authorize.js';
import type { AccountClaims } from '../../core/accounts.js';
import { type InstanceRecord, instanceRecord, storedRecord } from '../../core/instance-record.js';
import type { Phases } from '../../provider/phases.js';
import { type RegistrationOpener, registrationOpener } from '../dcr-gate.js';
import type { InstanceRuleSettings } from '../instance-rules.js';
import type { RegistrationPolicy } from '../policy-types.js';
import type { ResolvedTemplate, TemplateSource } from '../templates.js';

/** An active instance of an account, as the instance limit sees it. @internal */
export interface ActiveInstance {
  clientId: string;
  createdAt: number;
}

/** What the instance policy needs beyond the built-in rules. @internal */
export interface InstancePolicySettings {
  /** Loads the account of an instance being updated (a registration has it from its token). */
  findAccount(accountId: string): Promise<AccountClaims | undefined>;
  rules: InstanceRuleSettings & {
    allowedRedirectSchemes?: readonly string[];
    /**
     * Seconds a new instance is kept until its first token (0: kept for good, and counted toward
     * the limit from registration on).
     */
    unusedTtl: number;
  };
  /**
   * Grant types the server gives every instance as it is loaded, never stored (the RFC 8693
   * exchange with native sign-in): a request may send them back, and the response shows them.
   */
  serverGrants?: readonly string[];
  hooks: readonly RegistrationPolicy[];
  /** Runs each hook as a phase of its request. */
  phases: Phases;
  templates: TemplateSource;
  templatesOnly: boolean;
  limit?: { max: number; onLimit: 'reject' | 'revoke-oldest' };
  /** The account's active instances that count toward the limit, oldest first. */
  activeInstances(accountId: string): Promise<ActiveInstance[]>;
  /** Revokes an instance (for `revoke-oldest`). */
  revokeInstance(clientId: string): Promise<void>;
  /** The attestation pipeline: who may register, and at what level. */
  authorize(attempt: RegistrationAttempt): Promise<RegistrationAuthority>;
  /** Verifies fresh evidence sent with an update that changes the instance's key. */
  reattest(attempt: ReattestationAttempt): Promise<RegistrationAuthority>;
  /** Reports a registration authorized by a fallback client or evidence, once it succeeded. */
  onAuthorized(authority: RegistrationAuthority, clientId: string, softwareId?: string): void;
  /** Reports a registration refused for its credential or evidence. */
  onRefused(reason: string, ip: string, softwareId?: string): void;
}

/**
 * What the steps of one registration (`POST`) or RFC 7592 update (`PUT`) share: the request,
 * what is known so far, and the metadata being judged. Each step reads and amends it in turn.
 *
 * @internal
 */
export interface RegistrationState {
  readonly ctx: KoaContextWithOIDC;
  readonly settings: InstancePolicySettings;
  readonly operation: 'create' | 'update';
  /** What oidc-provider built from the request and will save; the last step makes it final. */
  readonly properties: Record<string, unknown>;
  /** Who opened the registration, from the DCR gate (an update has none). */
  readonly opener: RegistrationOpener | undefined;
  /** The instance's metadata before this update; empty on create. */
  readonly current: Record<string, unknown>;
  /** The instance record: a new one on create, the stored one on update. */
  readonly record: InstanceRecord;
  /** Registered scopes the instance's level withholds from reads (an update sends them back). */
  readonly withheldScopes: readonly string[];
  /** The request's `attestation` member: evidence, set aside from the metadata. */
  evidence: unknown;
  /** The `software_id` a create names, or the template an updated instance was registered from. */
  softwareId: unknown;
  template: ResolvedTemplate | undefined;
  /** The metadata the rules and hooks judge: `properties`, or the template's merged with them. */
  metadata: Record<string, unknown>;
  /** The built-in rules for this instance (its template may allow more auth methods). */
  rules: InstanceRuleSettings;
}

/** One named step of the instance policy; it throws to refuse the request. @internal */
export type RegistrationStep = (state: RegistrationState) => void | Promise<void>;

/** A new instance's record: who opened its registration, and when. */
function newRecord(opener: RegistrationOpener, unusedTtl: number): InstanceRecord {
  const now = Date.now();
  const { credential } = opener;
  return {
    ...(credential.kind === 'user'
      ? {
          account_id: credential.accountId,
          registration_client_id: credential.registrationClientId,
        }
      : {}),
    created_at: Math.floor(now / 1000),
    created_ms: now,
    status: 'active',
    ...(unusedTtl > 0 ? { unused_until: Math.floor(now / 1000) + unusedTtl } : {}),
  };
}

/**
 * The state a request starts from: on create, a new record for the registration's opener; on
 * update, the stored record.
 *
 * @internal
 */
export function openState(
  ctx: KoaContextWithOIDC,
  settings: InstancePolicySettings,
  properties: Record<string, unknown>,
): RegistrationState {
  const operation = ctx.method === 'PUT' ? 'update' : 'create';
  const opener = registrationOpener(ctx);
  const current = operation === 'update' ? (ctx.oidc.client?.metadata() ?? {}) : {};
  const stored = operation === 'update' ? instanceRecord(current) : undefined;
  const record =
    operation === 'update'
      ? stored && storedRecord(stored)
      : opener && newRecord(opener, settings.rules.unusedTtl);
  // Only the DCR gate mints the tokens that carry this policy, so this is a wiring fault.
  if (!record) throw new Error('instance registration policy ran without a registration opener');
  return {
    ctx,
    settings,
    operation,
    properties,
    opener,
    current,
    record,
    withheldScopes: stored?.withheld_scopes ?? [],
    evidence: undefined,
    softwareId: undefined,
    template: undefined,
    metadata: properties,
    rules: settings.rules,
  };
}
