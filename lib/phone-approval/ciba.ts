// oidc-provider's `features.ciba`, configured from `phoneApproval`: who may start a request, how
// the user is named, and the authentication device: a pending approval per eligible install.
import type { Middleware } from 'koa';
import type {
  Account,
  BackchannelAuthenticationRequest,
  CIBAConfiguration,
  Client,
  KoaContextWithOIDC,
  default as Provider,
} from 'oidc-provider';
import { errors } from 'oidc-provider';
import type { AccountOptions } from '../core/accounts.js';
import { meetsLevel } from '../core/levels.js';
import type { Logger } from '../core/logger.js';
import { routed, routerPath } from '../http/routed.js';
import type { InstanceManager } from '../instances/manager.js';
import { asProviderError } from '../provider/adapter.js';
import type { Emit } from '../provider/assembly.js';
import { instanceRecordOf } from '../provider/loaded-client.js';
import type { TemplateSource } from '../registration/templates.js';
import type { ApprovalRequest, Approvals } from './approvals.js';
import type { PhoneApprovalEvents } from './events.js';
import { keyAuthenticationRefusal } from './key-authentication.js';
import {
  approverMinimum,
  CIBA_GRANT_TYPE,
  type ResolvedPhoneApprovalOptions,
  templateApprovals,
} from './options.js';

// oidc-provider's own binding_message rule (its default validateBindingMessage), kept: short
// enough to compare at a glance, and no characters a screen could render misleadingly.
const BINDING_MESSAGE = /^[a-zA-Z0-9-._+/!?#]{1,20}$/;

/** What the CIBA configuration needs. @internal */
export interface CibaSettings {
  options: ResolvedPhoneApprovalOptions;
  accounts: Pick<AccountOptions, 'findAccount'>;
  templates: TemplateSource;
  manager: InstanceManager;
  approvals: Approvals;
  provider: () => Provider;
  emit: Emit<PhoneApprovalEvents>;
  logger: Logger;
}

/** Refuses a client not listed in `phoneApproval.clients` (installs are never listed). */
function requireListed(ctx: KoaContextWithOIDC, listed: ReadonlySet<string>): void {
  const clientId = ctx.oidc.client?.clientId;
  if (!clientId || !listed.has(clientId) || instanceRecordOf(ctx.oidc.client)) {
    throw new errors.UnauthorizedClient('this client may not start a backchannel authentication');
  }
}

/**
 * The installs of `accountId` that may approve: bound to the account, of a template that allows
 * approvals, at or above the minimum level, whose key requires the user as the template asks,
 * with a registered key to sign with.
 *
 * @internal
 */
export async function eligibleInstalls(
  settings: Pick<CibaSettings, 'provider' | 'manager' | 'templates' | 'options'>,
  accountId: string,
): Promise<string[]> {
  const provider = settings.provider();
  const infos = await settings.manager.list(accountId);
  const eligible = await Promise.all(
    infos
      .filter((info) => info.status !== 'revoked' && info.accountId === accountId)
      .map(async (info) => {
        // The template-merged view, as the install authenticates: a disabled template or a
        // revoked install loads as nothing.
        const client = await provider.Client.find(info.clientId);
        const record = instanceRecordOf(client);
        if (!client || record?.account_id !== accountId || !record.template) return undefined;
        const template = await settings.templates.find(record.template, { purpose: 'load' });
        const approvals = template && templateApprovals(template);
        if (!approvals) return undefined;
        const minimum = approverMinimum(approvals, settings.options.minimumLevel);
        if (!meetsLevel(record.cal ?? 'none', minimum)) return undefined;
        if (keyAuthenticationRefusal(approvals, record)) return undefined;
        const jwks = client.metadata().jwks as { keys?: unknown[] } | undefined;
        return Array.isArray(jwks?.keys) && jwks.keys.length > 0 ? info.clientId : undefined;
      }),
  );
  return eligible.filter((id): id is string => id !== undefined);
}

/**
 * The authentication device: a pending approval for each eligible install, stored with the
 * request's lifetime, then `notify` per install. No eligible install, or the account's pending
 * limit reached: the request is removed and refused with `access_denied`.
 */
async function triggerApprovals(
  settings: CibaSettings,
  request: BackchannelAuthenticationRequest,
  account: Account,
  client: Client,
): Promise<void> {
  const { approvals, options } = settings;
  const accountId = account.accountId;
  const ttl = request.expiration;
  const refuse = async (description: string) => {
    await request.destroy();
    throw new errors.AccessDenied(description);
  };
  const installs = await eligibleInstalls(settings, accountId);
  if (installs.length === 0) return refuse('no app install of this account can approve sign-ins');
  if (!(await approvals.addPending(accountId, request.jti, options.maxPendingPerAccount, ttl))) {
    return refuse('this account has too many sign-in requests waiting for approval');
  }
  const pending: ApprovalRequest = {
    request_id: request.jti,
    account_id: accountId,
    requester: client.clientId,
    requester_name: client.clientName ?? client.clientId,
    binding_message: String(request.params?.binding_message),
    scope: request.scope ?? '',
    expires_at: Math.floor(Date.now() / 1000) + ttl,
  };
  try {
    await askInstalls(settings, pending, installs);
  } catch (error) {
    await request.destroy().catch(() => undefined);
    throw error;
  }
}

/**
 * Stores a pending approval of `pending` for each of `installs`, tells the audit log, then
 * `notify` per install (not awaited). A store failure removes what was written, and the slot the
 * request took among the account's pending ones, and rejects.
 *
 * @internal
 */
export async function askInstalls(
  settings: Pick<CibaSettings, 'approvals' | 'options' | 'emit' | 'logger'>,
  pending: ApprovalRequest,
  installs: readonly string[],
): Promise<void> {
  const { approvals } = settings;
  const accountId = pending.account_id;
  let created: Awaited<ReturnType<Approvals['create']>>[];
  try {
    created = await Promise.all(installs.map((install) => approvals.create(pending, install)));
  } catch (error) {
    // Nothing half-written: the approvals and the slot the request took go.
    await approvals.removeAll(pending.request_id).catch(() => undefined);
    await approvals.removePending(accountId, pending.request_id).catch(() => undefined);
    throw error;
  }
  settings.emit('phone_approval.requested', {
    clientId: pending.requester,
    accountId,
    installs: [...installs],
  });
  const { notify } = settings.options;
  if (!notify) return;
  // Not awaited: the requester's answer never waits for a push service.
  for (const approval of created) {
    Promise.resolve()
      .then(() => notify({ approvalId: approval.id, clientId: approval.client_id, accountId }))
      .catch((error: unknown) =>
        settings.logger.error(
          { clientId: approval.client_id, error: (error as Error)?.name },
          'phoneApproval.notify failed: the install sees the request when it lists its approvals',
        ),
      );
  }
}

/**
 * oidc-provider's `features.ciba` for phone approval.
 *
 * @internal
 */
export function cibaFeature(settings: CibaSettings): CIBAConfiguration {
  const listed: ReadonlySet<string> = new Set(settings.options.clients);
  return {
    enabled: true,
    deliveryModes: [...settings.options.deliveryModes],
    // login_hint is the account id, as `accounts.findAccount` knows it.
    processLoginHint: async (ctx, hint) => {
      requireListed(ctx, listed);
      return hint && (await settings.accounts.findAccount(hint)) ? hint : undefined;
    },
    processLoginHintToken: async (ctx) => {
      requireListed(ctx, listed);
      throw new errors.InvalidRequest('login_hint_token is not supported: send login_hint');
    },
    validateBindingMessage: async (ctx, message) => {
      requireListed(ctx, listed);
      if (message === undefined) {
        throw new errors.InvalidBindingMessage(
          'binding_message is required: the user compares it on both screens',
        );
      }
      if (!BINDING_MESSAGE.test(message)) {
        throw new errors.InvalidBindingMessage(
          'binding_message must be 1 to 20 characters of ^[a-zA-Z0-9-._+/!?#]$',
        );
      }
    },
    validateRequestContext: async (ctx) => {
      requireListed(ctx, listed);
      // The approval's grant carries OpenID scopes only in this version.
      if (ctx.oidc.params?.resource !== undefined) {
        throw new errors.InvalidTarget('resource is not supported with phone approval');
      }
    },
    verifyUserCode: async (_ctx, _account, userCode) => {
      if (userCode !== undefined) {
        throw new errors.InvalidRequest('user_code is not supported');
      }
    },
    // A store outage answers 503 temporarily_unavailable, as at every other endpoint.
    triggerAuthenticationDevice: (_ctx, request, account, client) =>
      triggerApprovals(settings, request, account, client).catch((error: unknown) => {
        throw asProviderError(error);
      }),
  } as CIBAConfiguration;
}

/**
 * The request lifetime: `requested_expiry` bounded by `maxExpiry`, which is also the default.
 *
 * @internal
 */
export function requestTtl(maxExpiry: number) {
  return (ctx: KoaContextWithOIDC | undefined): number => {
    const requested = Number(ctx?.oidc?.params?.requested_expiry);
    return Number.isSafeInteger(requested) && requested > 0
      ? Math.min(requested, maxExpiry)
      : maxExpiry;
  };
}

// oidc-provider refuses a client without the CIBA grant with `invalid_request` naming the grant;
// CIBA Core §13 and RFC 6749 §5.2 call that `unauthorized_client`. Rewritten on the way out:
// oidc-provider checks the grant before any CIBA hook runs. test/phone-approval/attacks.test.ts
// fails if an upgrade changes the refusal.
const GRANT_REFUSAL = `${CIBA_GRANT_TYPE} is not allowed for this client`;

/**
 * Answers a client that may not start CIBA (an install, a static client not listed) at the
 * backchannel authentication endpoint (`path`, relative to the issuer) with `unauthorized_client`.
 *
 * @internal
 */
export function unauthorizedClientRefusal(path: string): Middleware {
  const at = path.toLowerCase();
  return routed(
    (ctx) => ctx.method === 'POST' && routerPath(ctx) === at,
    async (ctx, next) => {
      await next();
      const body = ctx.body as { error?: unknown; error_description?: unknown } | undefined;
      if (body?.error === 'invalid_request' && body.error_description === GRANT_REFUSAL) {
        ctx.status = 400;
        ctx.body = {
          error: 'unauthorized_client',
          error_description: 'this client may not start a backchannel authentication',
        };
      }
    },
  );
}
