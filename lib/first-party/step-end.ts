// The end of every step: the account rule, `firstParty.policy`, then the code, one more step, or
// the browser.

import type { InstanceRecord } from '../core/instance-record.js';
import { acrOf } from '../core/sign-in-acr.js';
import { clientAddress } from '../http/client-address.js';
import { sendJson } from '../http/problem.js';
import { accountMayUse } from '../instances/instance-guard.js';
import type { AuthenticatedRequest } from '../provider/client-authenticated-endpoint.js';
import {
  accessDenied,
  type ChallengeEndpointSettings,
  type CheckedStep,
  reportFailure,
} from './challenge-settings.js';
import type { FirstPartyDecision, FirstPartyStep } from './options.js';
import { bindInstance, mintCode, redirectToWeb } from './outcome.js';
import type { AuthSession } from './sessions.js';

/** The parameters that start each step, as `required` and `alternatives` name them. */
export function parametersOf(step: FirstPartyStep, username: string | undefined): string[] {
  if (step === 'id_token') return ['id_token'];
  if (step === 'passkey') return ['method'];
  return username === undefined ? ['username', 'password'] : ['password'];
}

/**
 * The end of every step: the account rule, then the policy, then (allowed) the binding and the
 * code. Nothing is written before the policy allowed it, so its `deny`, `more`, `web` or throw
 * leaves the install unbound and no grant behind.
 */
export async function finish(
  ctx: AuthenticatedRequest,
  settings: ChallengeEndpointSettings,
  record: InstanceRecord,
  session: AuthSession,
  checked: CheckedStep,
) {
  const { accountId, method } = checked;
  if (
    (session.account_id !== undefined && session.account_id !== accountId) ||
    !accountMayUse(record, accountId)
  ) {
    reportFailure(ctx, settings, method);
    throw accessDenied(
      session.account_id !== undefined && session.account_id !== accountId
        ? 'this step signed in another account than the steps before it'
        : 'this app install is registered to another account',
    );
  }
  const steps = [...(session.steps ?? []), checked.step];
  const amr = [...new Set([...(session.amr ?? []), ...checked.amr])];
  const decision = await decide(ctx, settings, record, checked.step, steps, accountId);
  if (decision === 'deny') {
    reportFailure(ctx, settings, method);
    throw accessDenied('the sign-in policy refused this sign-in');
  }
  if (decision === 'web') return redirectToWeb(ctx, settings, session);
  if (decision !== 'allow') {
    const [first, ...others] = decision.more;
    const { passkey: _binding, ...bound } = session;
    const next = await settings.sessions.issue({
      ...bound,
      account_id: accountId,
      steps,
      amr,
      require: decision.more,
    });
    return sendJson(ctx, 400, {
      error: 'insufficient_authorization',
      error_description: `this sign-in needs one more step: ${decision.more.join(' or ')}`,
      auth_session: next,
      required: parametersOf(first as FirstPartyStep, session.username),
      alternatives: others.map((step) => parametersOf(step, session.username)),
    });
  }
  await bindInstance(ctx, settings, record, accountId, method);
  const code = await mintCode(ctx, settings, session, accountId, {
    acr: acrOf(steps),
    ...(amr.length > 0 ? { amr } : {}),
  });
  // After the code, so the device list never shows a sign-in that got none; its own write, as
  // an install already bound has no record written on its sign-in to carry it.
  await settings.recordSignIn(session.client_id, {
    method,
    ...(checked.provider !== undefined ? { provider: checked.provider } : {}),
  });
  checked.succeeded();
  sendJson(ctx, 200, { authorization_code: code });
}

/** `firstParty.policy`'s answer, checked; a throw or a malformed answer fails closed. */
async function decide(
  ctx: AuthenticatedRequest,
  settings: ChallengeEndpointSettings,
  record: InstanceRecord,
  step: FirstPartyStep,
  steps: FirstPartyStep[],
  accountId: string,
): Promise<FirstPartyDecision> {
  const { policy } = settings;
  if (!policy) return 'allow';
  let decision: FirstPartyDecision;
  try {
    decision = await policy({
      clientId: ctx.oidc.client?.clientId as string,
      softwareId: record.template ?? '',
      cal: record.cal ?? 'none',
      step,
      steps,
      accountId,
      ip: clientAddress(ctx).address,
    });
  } catch (error) {
    // Rendered as oidc-provider's generic server_error (logged): the hook's message stays here.
    throw new Error('firstParty.policy threw', { cause: error });
  }
  if (decision === 'allow' || decision === 'deny' || decision === 'web') return decision;
  const more: unknown = (decision as { more?: unknown } | null)?.more;
  if (
    Array.isArray(more) &&
    more.length > 0 &&
    more.every(
      (s) =>
        s === 'password' ||
        (s === 'id_token' && settings.federation) ||
        (s === 'passkey' && settings.passkeys),
    )
  ) {
    return { more: [...new Set(more as FirstPartyStep[])] };
  }
  throw new Error(
    `firstParty.policy answered ${JSON.stringify(decision)}: not a decision this server can follow`,
  );
}

/** The steps other than the password this server takes, each as the parameters that start it. */
export function alternatives(settings: ChallengeEndpointSettings): string[][] {
  return [
    ...(settings.federation ? [['id_token']] : []),
    ...(settings.passkeys ? [['method']] : []),
  ];
}
