// The phone approval options (`phoneApproval`): CIBA with the user's install as the
// authentication device. Which templates' installs may approve is `Template.approvals`.
import type { ClientMetadata } from 'oidc-provider';
import { type AssuranceLevel, meetsLevel } from '../core/levels.js';
import type { DefaultsOf, WithDefaults } from '../core/options/resolve-types.js';
import { nonEmptyString, positiveInteger } from '../core/options/schema-pieces.js';
import type { Template, TemplateApprovals } from '../core/template-types.js';

/** CIBA's grant type (CIBA Core §10.1). @internal */
export const CIBA_GRANT_TYPE = 'urn:openid:params:grant-type:ciba';

/** The install's endpoints, relative to the issuer: the list, and `/<id>` to answer one. @internal */
export const APPROVALS_PATH = '/approvals';

/**
 * The authentication context class (`acr`) of a sign-in approved on the user's phone: the
 * install's registered key signed the answer. ID tokens and access tokens of the request carry it.
 *
 * @group Phone approval
 */
export const PHONE_APPROVAL_ACR = 'urn:mobile-oidc:phone';

/**
 * What {@link PhoneApprovalOptions.notify} receives: enough to send a push to one install, and
 * nothing a push service or a lock screen should see (no binding message, no token, no scope).
 *
 * @group Phone approval
 */
export interface ApprovalNotice {
  /** The pending approval's opaque id: the app lists its approvals to learn what it is about. */
  approvalId: string;
  /** The install to notify (its client id: look up its push token in your records). */
  clientId: string;
  /** The account the request is for. */
  accountId: string;
}

/**
 * CIBA (OpenID Connect Client-Initiated Backchannel Authentication Core 1.0) with the user's own
 * app install as the authentication device. See [Phone approval](../../docs/phone-approval.md).
 *
 * @group Options
 */
export interface PhoneApprovalOptions {
  /**
   * The static clients (of `options.clients`) that may start a request at the backchannel
   * authentication endpoint; any other client, and every install, is refused with
   * `unauthorized_client`. Each needs the grant type `urn:openid:params:grant-type:ciba`, a
   * `backchannel_token_delivery_mode` of {@link PhoneApprovalOptions.deliveryModes} and client
   * authentication. Empty: phone approval is off (no endpoint, nothing in discovery).
   *
   * @default []
   */
  clients?: string[];
  /**
   * The token delivery modes offered: `poll` (the client polls the token endpoint) and `ping`
   * (the server calls the client's `backchannel_client_notification_endpoint` once answered).
   *
   * @default ['poll', 'ping']
   */
  deliveryModes?: ('poll' | 'ping')[];
  /**
   * The lowest assurance level (`cal`) an install needs to be asked; a template's
   * `approvals.minimumLevel` may ask for more, never less.
   *
   * @default 'by-provisioned-key'
   */
  minimumLevel?: AssuranceLevel;
  /**
   * Pending requests an account may have at once (push fatigue): one more is refused with
   * `access_denied` (CIBA Core §13) until one is answered or expires.
   *
   * @default 3
   */
  maxPendingPerAccount?: number;
  /**
   * The longest a request may wait for its answer, in seconds: `requested_expiry` is bounded by
   * it, and a request without one gets it.
   *
   * @default 120
   */
  maxExpiry?: number;
  /**
   * Called once per install asked (after the request is stored), to send the push through
   * FCM/APNs; the web client's answer does not wait for it. A throw or rejection is logged and
   * the request stays pending: the app can still list it when it opens.
   *
   * @default no push: the app sees its approvals when it lists them
   */
  notify?: (notice: ApprovalNotice) => void | Promise<void>;
  /**
   * How the `ping` notification reaches a client's `backchannel_client_notification_endpoint`
   * (a `fetch`, e.g. through your egress proxy). It also carries oidc-provider's other outgoing
   * requests (a static client's `jwks_uri`).
   *
   * @default oidc-provider's: a 2.5 s timeout, no private or loopback addresses
   */
  fetch?: typeof globalThis.fetch;
}

/** Defaults of {@link AuthServerOptions.phoneApproval}. @internal */
export const PHONE_APPROVAL_DEFAULTS = {
  clients: [],
  deliveryModes: ['poll', 'ping'],
  minimumLevel: 'by-provisioned-key',
  maxPendingPerAccount: 3,
  maxExpiry: 120,
} as const satisfies DefaultsOf<PhoneApprovalOptions>;

/** {@link PhoneApprovalOptions} with its defaults filled in. @internal */
export type ResolvedPhoneApprovalOptions = WithDefaults<
  PhoneApprovalOptions,
  typeof PHONE_APPROVAL_DEFAULTS
>;

const LEVELS = { enum: ['none', 'by-provisioned-key', 'by-policy'] } as const;

/** The schema of {@link AuthServerOptions.phoneApproval}. @internal */
export const phoneApprovalSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    clients: { type: 'array', uniqueItems: true, items: nonEmptyString },
    deliveryModes: {
      type: 'array',
      minItems: 1,
      uniqueItems: true,
      items: { enum: ['poll', 'ping'] },
    },
    minimumLevel: LEVELS,
    maxPendingPerAccount: { type: 'integer', minimum: 1, maximum: 20 },
    maxExpiry: { ...positiveInteger, maximum: 600 },
    notify: { isFunction: true },
    fetch: { isFunction: true },
  },
} as const;

/** A template's approvals setting as an object; `undefined` when its installs may not approve. @internal */
export function templateApprovals(template: Template): TemplateApprovals | undefined {
  const { approvals } = template;
  if (!approvals) return undefined;
  return approvals === true ? {} : approvals;
}

/** The lowest level an install of a template that allows approvals needs: the higher of both. @internal */
export function approverMinimum(
  approvals: TemplateApprovals,
  minimum: AssuranceLevel,
): AssuranceLevel {
  const own = approvals.minimumLevel;
  return own && !meetsLevel(minimum, own) ? own : minimum;
}

/** What the phone approval rules read of the options. @internal */
export interface PhoneApprovalRuleSettings {
  clients: readonly ClientMetadata[];
  phoneApproval: ResolvedPhoneApprovalOptions;
}

/**
 * The listed clients are confidential static clients with the CIBA grant and a delivery mode
 * offered; no other static client has the CIBA grant.
 *
 * @internal
 */
export function phoneApprovalProblems(o: PhoneApprovalRuleSettings): string[] {
  const problems: string[] = [];
  const listed = new Set(o.phoneApproval.clients);
  for (const [i, id] of o.phoneApproval.clients.entries()) {
    const path = `options.phoneApproval.clients[${i}] '${id}'`;
    const client = o.clients.find((c) => c.client_id === id);
    if (!client) {
      problems.push(`${path} is not in options.clients`);
      continue;
    }
    if (!client.grant_types?.includes(CIBA_GRANT_TYPE)) {
      problems.push(`${path} must have the grant type ${CIBA_GRANT_TYPE}`);
    }
    if ((client.token_endpoint_auth_method ?? 'client_secret_basic') === 'none') {
      problems.push(`${path} must be a confidential client (CIBA Core §7.1)`);
    }
    if (client.backchannel_user_code_parameter === true) {
      problems.push(
        `${path} must not have backchannel_user_code_parameter: user_code is not supported`,
      );
    }
    const mode = client.backchannel_token_delivery_mode;
    if (!o.phoneApproval.deliveryModes.includes(mode as 'poll' | 'ping')) {
      problems.push(
        `${path} must have a backchannel_token_delivery_mode of options.phoneApproval.deliveryModes (${o.phoneApproval.deliveryModes.join(', ')})`,
      );
    }
  }
  for (const [i, client] of o.clients.entries()) {
    if (client.grant_types?.includes(CIBA_GRANT_TYPE) && !listed.has(client.client_id)) {
      problems.push(
        `options.clients[${i}] '${client.client_id}' has the CIBA grant but is not in options.phoneApproval.clients`,
      );
    }
  }
  return problems;
}
