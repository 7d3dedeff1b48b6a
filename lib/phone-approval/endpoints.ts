// The install's side of phone approval: `POST <issuer>/approvals` lists its pending approvals,
// each with a fresh challenge; `POST <issuer>/approvals/<id>` answers one with a JWS signed by the
// install's registered key. Both authenticate the install as the token endpoint does.
import { compactVerify, createLocalJWKSet, type JSONWebKeySet } from 'jose';
import type { Middleware } from 'koa';
import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';
import type { InstanceRecord } from '../core/instance-record.js';
import { type AssuranceLevel, meetsLevel } from '../core/levels.js';
import { sendJson } from '../http/problem.js';
import { findUnsafeKey } from '../http/prototype-safety.js';
import { routed, routerPath } from '../http/routed.js';
import { asProviderError } from '../provider/adapter.js';
import type { Emit } from '../provider/assembly.js';
import {
  type AuthenticatedRequest,
  authenticatingClient,
  CLIENT_AUTHENTICATED_ROUTES,
} from '../provider/client-authenticated-endpoint.js';
import { instanceRecordOf } from '../provider/loaded-client.js';
import type { TemplateSource } from '../registration/templates.js';
import { type Approvals, type PendingApproval, secondsLeft } from './approvals.js';
import type { PhoneApprovalEvents } from './events.js';
import { keyAuthenticationRefusal } from './key-authentication.js';
import { approverMinimum, PHONE_APPROVAL_ACR, templateApprovals } from './options.js';
import { answerPageRequest } from './page.js';

/** The algorithms an answer may be signed with: the keys platforms keep in hardware, and RSA. */
const ANSWER_ALGORITHMS = ['ES256', 'EdDSA', 'RS256', 'PS256'];

/** What the endpoints need. @internal */
export interface ApprovalEndpointSettings {
  provider: Provider;
  /** The list's path, relative to the issuer; `<path>/<id>` answers one. */
  path: string;
  /** The list's absolute URL (a client assertion's `aud` may name it). */
  url: string;
  approvals: Approvals;
  templates: TemplateSource;
  /** `phoneApproval.minimumLevel`. */
  minimumLevel: AssuranceLevel;
  emit: Emit<PhoneApprovalEvents>;
  logger: { warn(fields: Record<string, unknown>, message: string): void };
}

/** The signed answer's payload, as the install signs it. */
interface Answer {
  approval_id: string;
  binding_message: string;
  challenge: string;
  decision: 'approve' | 'deny';
  uv?: boolean;
}

const unknownApproval = () =>
  new errors.InvalidRequest('no pending approval of this app install has this id');

/**
 * The install the request authenticated as, and its template's approvals setting; refused
 * unless it may approve now (its template and level are read again: a request made while it
 * could gives it nothing once it no longer can).
 */
async function approvingInstall(ctx: AuthenticatedRequest, settings: ApprovalEndpointSettings) {
  const client = ctx.oidc.client;
  const record = instanceRecordOf(client);
  const template = record?.template
    ? await settings.templates.find(record.template, { purpose: 'load' })
    : undefined;
  const approvals = template && templateApprovals(template);
  if (!client || !record || !approvals) {
    throw new errors.UnauthorizedClient('this client does not approve sign-ins');
  }
  const minimum = approverMinimum(approvals, settings.minimumLevel);
  if (!meetsLevel(record.cal ?? 'none', minimum)) {
    throw new errors.UnauthorizedClient(
      `approving sign-ins needs an app install proven at ${minimum} or above`,
    );
  }
  const keyRefusal = keyAuthenticationRefusal(approvals, record);
  if (keyRefusal) throw new errors.UnauthorizedClient(keyRefusal);
  const jwks = client.metadata().jwks as JSONWebKeySet | undefined;
  return { clientId: client.clientId, record, approvals, jwks };
}

/** The pending approvals of the install, each with a fresh single-use challenge. */
async function list(ctx: AuthenticatedRequest, settings: ApprovalEndpointSettings) {
  const { clientId, record } = await approvingInstall(ctx, settings);
  const pending = (await settings.approvals.ofInstall(clientId)).filter(
    (approval) => approval.account_id === record.account_id,
  );
  const listed = await Promise.all(
    pending.map(async (approval) => ({
      approval_id: approval.id,
      client_name: approval.requester_name,
      binding_message: approval.binding_message,
      scope: approval.scope,
      expires_in: secondsLeft(approval.expires_at),
      challenge: await settings.approvals.challenge(approval),
    })),
  );
  sendJson(ctx, 200, { approvals: listed });
}

/** The answer's payload, verified with a key the install registered; refused otherwise. */
async function verifiedAnswer(value: string | undefined, jwks: JSONWebKeySet | undefined) {
  if (!value) throw new errors.InvalidRequest('answer is required: a JWS signed by this install');
  if (!jwks?.keys?.length) {
    throw new errors.UnauthorizedClient('this app install has no registered key to sign with');
  }
  let payload: Uint8Array;
  try {
    ({ payload } = await compactVerify(value, createLocalJWKSet(jwks), {
      algorithms: ANSWER_ALGORITHMS,
    }));
  } catch {
    throw new errors.InvalidRequest(
      'answer must be a compact JWS signed by a key this app install registered',
    );
  }
  let answer: unknown;
  try {
    answer = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    throw new errors.InvalidRequest('answer payload must be a JSON object');
  }
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) {
    throw new errors.InvalidRequest('answer payload must be a JSON object');
  }
  if (findUnsafeKey(answer)) throw new errors.InvalidRequest('answer payload is not allowed');
  const a = answer as Record<string, unknown>;
  for (const name of ['approval_id', 'binding_message', 'challenge'] as const) {
    if (typeof a[name] !== 'string') throw new errors.InvalidRequest(`answer ${name} is required`);
  }
  if (a.decision !== 'approve' && a.decision !== 'deny') {
    throw new errors.InvalidRequest('answer decision must be approve or deny');
  }
  if (a.uv !== undefined && typeof a.uv !== 'boolean') {
    throw new errors.InvalidRequest('answer uv must be true or false');
  }
  return a as unknown as Answer;
}

/**
 * Completes the request with the install's decision: a CIBA request through oidc-provider's
 * backchannelResult, a login page's for its interaction.
 */
async function complete(
  settings: ApprovalEndpointSettings,
  approval: PendingApproval,
  answer: Answer,
) {
  // A login page's request: its interaction's browser takes the answer.
  if (approval.interaction !== undefined) {
    return answerPageRequest(settings.approvals, approval, answer.decision, answer.uv === true);
  }
  const { provider } = settings;
  const request = await provider.BackchannelAuthenticationRequest.find(approval.request_id);
  if (!request || request.consumed || request.grantId || request.error) {
    throw new errors.ExpiredToken('the sign-in request has expired');
  }
  let result: InstanceType<Provider['Grant']> | InstanceType<typeof errors.AccessDenied>;
  const signIn: { acr?: string; amr?: string[]; authTime?: number } = {};
  if (answer.decision === 'approve') {
    const grant = new provider.Grant({
      accountId: approval.account_id,
      clientId: approval.requester,
    });
    grant.addOIDCScope(approval.scope);
    await grant.save();
    result = grant;
    signIn.acr = PHONE_APPROVAL_ACR;
    // RFC 8176: proof of possession of the install's key; with user verification, two factors.
    signIn.amr = answer.uv ? ['pop', 'mfa'] : ['pop'];
    signIn.authTime = Math.floor(Date.now() / 1000);
  } else {
    result = new errors.AccessDenied('the user denied the sign-in on their phone');
  }
  try {
    await provider.backchannelResult(request, result, signIn);
  } catch (error) {
    // The result is stored before a ping: a client endpoint that failed only misses the ping.
    const current = await provider.BackchannelAuthenticationRequest.find(approval.request_id);
    if (!current || !(current.grantId || current.error)) throw error;
    settings.logger.warn(
      { clientId: approval.requester, error: (error as Error)?.name },
      'the CIBA ping to the client failed; it can still poll the token endpoint',
    );
  }
}

/** Answers one pending approval: the checks in order, the single-use steps last. */
async function answer(ctx: AuthenticatedRequest, settings: ApprovalEndpointSettings, id: string) {
  const install = await approvingInstall(ctx, settings);
  const approval = await settings.approvals.find(id);
  if (
    !approval ||
    approval.client_id !== install.clientId ||
    approval.account_id !== (install.record as InstanceRecord).account_id
  ) {
    throw unknownApproval();
  }
  const signed = await verifiedAnswer(ctx.oidc.params.answer, install.jwks);
  if (signed.approval_id !== approval.id) {
    throw new errors.InvalidRequest('the answer is signed for another approval');
  }
  if (signed.binding_message !== approval.binding_message) {
    throw new errors.InvalidRequest('the answer is signed over another binding_message');
  }
  if (
    signed.decision === 'approve' &&
    install.approvals.requireUserVerification &&
    signed.uv !== true
  ) {
    throw new errors.InvalidRequest('this app must verify the user (uv: true) to approve');
  }
  if (!(await settings.approvals.takeChallenge(signed.challenge, approval))) {
    throw new errors.InvalidGrant('the challenge is unknown, expired or used: list again');
  }
  if (
    !(await settings.approvals.takeApproval(approval)) ||
    !(await settings.approvals.claimAnswer(approval))
  ) {
    throw new errors.InvalidGrant('this sign-in request was already answered');
  }
  await settings.approvals.withdrawOthers(approval);
  await settings.approvals.removePending(approval.account_id, approval.request_id);
  await complete(settings, approval, signed);
  settings.emit(
    signed.decision === 'approve' ? 'phone_approval.approved' : 'phone_approval.denied',
    {
      clientId: approval.requester,
      accountId: approval.account_id,
      installClientId: install.clientId,
      userVerified: signed.uv === true,
    },
  );
  sendJson(ctx, 200, { decision: signed.decision });
}

/**
 * The endpoints as provider middleware: `POST <path>` and `POST <path>/<id>`; anything else
 * passes by at no cost.
 *
 * @internal
 */
export function createApprovalEndpoints(settings: ApprovalEndpointSettings): Middleware {
  const path = settings.path.toLowerCase();
  const prefix = `${path}/`;
  const { phoneApproval } = CLIENT_AUTHENTICATED_ROUTES;
  const listing = authenticatingClient(
    settings.provider,
    phoneApproval,
    settings.url,
    new Set(),
    (ctx) => list(ctx, settings),
  );
  const answering = authenticatingClient(
    settings.provider,
    phoneApproval,
    settings.url,
    new Set(['answer']),
    (ctx) => answer(ctx, settings, ctx.state.approvalId as string),
  );
  return routed(
    (ctx) => {
      const at = routerPath(ctx);
      if (at === path) return { id: undefined };
      if (!at.startsWith(prefix)) return undefined;
      // The id keeps its case: only the path prefix is matched case-insensitively.
      const raw = ctx.path.length > 1 ? ctx.path.replace(/\/$/, '') : ctx.path;
      return { id: raw.slice(raw.length - (at.length - prefix.length)) };
    },
    async function approvalEndpoints(ctx, _next, { id }) {
      if (ctx.method !== 'POST') {
        ctx.set('Allow', 'POST');
        return sendJson(ctx, 405, { error: 'invalid_request', error_description: 'use POST' });
      }
      try {
        if (id === undefined) await listing(ctx);
        else if (!/^[\w-]{1,64}$/.test(id)) throw unknownApproval();
        else {
          ctx.state.approvalId = id;
          await answering(ctx);
        }
      } catch (error) {
        // oidc-provider's errors and the store's outage (503) render as OAuth JSON above.
        throw asProviderError(error);
      }
    },
  );
}
