import type { Middleware } from 'koa';
import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';
import type { InstanceRecord } from '../core/instance-record.js';
import { meetsLevel } from '../core/levels.js';
import { acrOf, acrValuesOf, SIGN_IN_ACR, SIGN_IN_AMR } from '../core/sign-in-acr.js';
import { clientAddress } from '../http/client-address.js';
import { HttpProblem, sendJson, sendProblem } from '../http/problem.js';
import { routed, routerPath } from '../http/routed.js';
import { asProviderError } from '../provider/adapter.js';
import {
  type AuthenticatedRequest,
  authenticatingClient,
} from '../provider/client-authenticated-endpoint.js';
import { instanceRecordOf } from '../provider/loaded-client.js';
import { checkDpopReplay, validateDpop } from '../provider/sender-constraints.js';
import type { TemplateSource } from '../registration/templates.js';
import {
  AUTHORIZATION_CHALLENGE,
  accessDenied,
  type ChallengeEndpointSettings,
  invalidSession,
} from './challenge-settings.js';
import { idTokenStep, passkeyStep, signIn } from './credential-steps.js';
import { type FirstPartyStep, firstPartyMinimum } from './options.js';
import { resourceServer } from './outcome.js';
import type { AuthSession } from './sessions.js';
import { alternatives, finish, parametersOf } from './step-end.js';

/** The endpoint's own parameters (the client authentication ones come on top). */
const PARAMS: ReadonlySet<string> = new Set([
  'scope',
  'code_challenge',
  'code_challenge_method',
  'resource',
  'username',
  'password',
  'auth_session',
  'id_token',
  'method',
  'passkey_assertion',
  'acr_values',
  'max_age',
  'login_hint',
]);

// RFC 7636 §4.2: 43 to 128 characters of the unreserved set.
const CODE_CHALLENGE = /^[A-Za-z0-9._~-]{43,128}$/;

/**
 * The endpoint as provider middleware: `POST <path>`, anything else passes by at no cost.
 *
 * @internal
 */
export function createChallengeEndpoint(settings: ChallengeEndpointSettings): Middleware {
  const path = settings.path.toLowerCase();
  const serve = authenticatingClient(
    settings.provider,
    AUTHORIZATION_CHALLENGE,
    settings.url,
    PARAMS,
    (ctx) => challenge(ctx, settings),
  );
  return routed(
    (ctx) => routerPath(ctx) === path,
    async function authorizationChallenge(ctx) {
      if (ctx.method !== 'POST') {
        ctx.set('Allow', 'POST');
        return sendJson(ctx, 405, { error: 'invalid_request', error_description: 'use POST' });
      }
      try {
        await serve(ctx);
      } catch (error) {
        if (error instanceof HttpProblem) return sendProblem(ctx, '', error);
        // oidc-provider's errors and the store's outage (503) render as OAuth JSON above.
        throw asProviderError(error);
      }
    },
  );
}

/** The instance the request authenticated as, if its template allows first-party sign-in. */
async function firstPartyInstance(
  ctx: AuthenticatedRequest,
  templates: TemplateSource,
): Promise<InstanceRecord> {
  const record = instanceRecordOf(ctx.oidc.client);
  const template = record?.template
    ? await templates.find(record.template, { purpose: 'load' })
    : undefined;
  if (!record || !template?.firstParty) {
    throw new errors.UnauthorizedClient('this client may not use the authorization challenge');
  }
  const minimum = firstPartyMinimum(template.firstParty);
  if (!meetsLevel(record.cal ?? 'none', minimum)) {
    throw new errors.UnauthorizedClient(
      `the authorization challenge needs an app install proven at ${minimum} or above`,
    );
  }
  return record;
}

/** The request's authorization parameters, checked; bound to its session from then on. */
async function startRequest(
  ctx: AuthenticatedRequest,
  settings: ChallengeEndpointSettings,
  record: InstanceRecord,
  dpopJkt: string | undefined,
): Promise<AuthSession> {
  const { params } = ctx.oidc;
  const client = ctx.oidc.client as NonNullable<AuthenticatedRequest['oidc']['client']>;
  if (!params.code_challenge || !CODE_CHALLENGE.test(params.code_challenge)) {
    throw new errors.InvalidRequest('code_challenge is required (RFC 7636, S256)');
  }
  if (params.code_challenge_method !== 'S256') {
    throw new errors.InvalidRequest('code_challenge_method must be S256');
  }
  const allowed = new Set((client.scope ?? '').split(' ').filter(Boolean));
  const requested = params.scope ? params.scope.split(' ').filter(Boolean) : [...allowed];
  const refused = requested.filter((scope) => !allowed.has(scope));
  if (refused.length > 0) {
    throw new errors.InvalidScope('requested scope is not allowed', refused.join(' '));
  }
  if (requested.length === 0) throw new errors.InvalidScope('no scope to grant', '');
  settings.guard.assertScopes(record, requested);
  if (params.resource !== undefined) await resourceServer(ctx, settings.provider, params.resource);
  if (
    params.acr_values !== undefined &&
    !offeredSteps(settings).some((step) =>
      acrValuesOf(params.acr_values).includes(SIGN_IN_ACR[step]),
    )
  ) {
    throw new errors.InvalidRequest(
      `acr_values names no acr this server's sign-in gives (${offeredSteps(settings)
        .map((step) => SIGN_IN_ACR[step])
        .join(' ')})`,
    );
  }
  const maxAge = params.max_age;
  if (maxAge !== undefined && !/^\d{1,10}$/.test(maxAge)) {
    throw new errors.InvalidRequest('max_age must be a non-negative integer of seconds');
  }
  // As at the authorization endpoint, where redirect_to_web continues this request: there
  // oidc-provider takes them only with openid, so a request the browser would refuse never starts.
  if ((params.acr_values !== undefined || maxAge !== undefined) && !requested.includes('openid')) {
    throw new errors.InvalidRequest('acr_values and max_age need the openid scope');
  }
  // login_hint names the account (the draft's authorization request parameter): it binds the
  // session's username, so the first answer asks only for the password.
  const hint = params.login_hint;
  if (hint !== undefined && params.username !== undefined && params.username !== hint) {
    throw new errors.InvalidRequest('username and login_hint name different accounts');
  }
  return {
    client_id: client.clientId,
    scope: [...new Set(requested)].join(' '),
    code_challenge: params.code_challenge,
    ...(params.resource !== undefined ? { resource: params.resource } : {}),
    ...(dpopJkt !== undefined ? { dpop_jkt: dpopJkt } : {}),
    ...(params.acr_values !== undefined ? { acr_values: params.acr_values } : {}),
    ...(maxAge !== undefined ? { max_age: Number(maxAge) } : {}),
    ...(hint ? { username: hint } : {}),
  };
}

/** The steps this server takes (the password always, the others when enabled). */
function offeredSteps(settings: ChallengeEndpointSettings): FirstPartyStep[] {
  return [
    ...(settings.passkeys ? (['passkey'] as const) : []),
    ...(settings.federation ? (['id_token'] as const) : []),
    'password',
  ];
}

/**
 * The steps that, taken next, would give a sign-in of one of the session's `acr_values`
 * (strongest first); every step without `acr_values`.
 */
function stepsMeetingAcr(settings: ChallengeEndpointSettings, session: AuthSession) {
  const wanted = acrValuesOf(session.acr_values);
  const offered = offeredSteps(settings);
  if (session.acr_values === undefined) return offered;
  return offered.filter((step) => wanted.includes(acrOf([...(session.steps ?? []), step])));
}

/** The session a continuing request names, taken; its bound parameters unchanged. */
async function continueSession(
  ctx: AuthenticatedRequest,
  settings: ChallengeEndpointSettings,
  value: string,
  dpopJkt: string | undefined,
): Promise<AuthSession> {
  const client = ctx.oidc.client as NonNullable<AuthenticatedRequest['oidc']['client']>;
  // Bound to the DPoP key it started with (or to none): another key's attempt leaves it be.
  const session = await settings.sessions.take(value, client.clientId, dpopJkt);
  if (!session) throw invalidSession();
  const { params } = ctx.oidc;
  // Bound at the start: a later step may repeat a parameter, never change it.
  const changed = (
    [
      ['scope', session.scope],
      ['code_challenge', session.code_challenge],
      ['code_challenge_method', 'S256'],
      ['resource', session.resource],
      ['username', session.username],
      ['acr_values', session.acr_values],
      ['max_age', session.max_age === undefined ? undefined : String(session.max_age)],
    ] as const
  ).filter(([name, bound]) => {
    const sent = params[name];
    return sent !== undefined && bound !== undefined && sent !== bound;
  });
  if (params.resource !== undefined && session.resource === undefined) {
    changed.push(['resource', undefined]);
  }
  if (changed.length > 0) {
    throw new errors.InvalidRequest(
      `${changed.map(([name]) => name).join(', ')} cannot change within an auth_session`,
    );
  }
  return session;
}

/**
 * The thumbprint of the request's DPoP proof (RFC 9449), checked as the token endpoint checks
 * one (signature, `htm`, `htu` this endpoint, `iat` or the server's nonce) and never replayed;
 * `undefined` without a proof. A malformed or replayed proof is `invalid_dpop_proof`.
 */
async function dpopProof(ctx: AuthenticatedRequest, provider: Provider) {
  const proof = await validateDpop(provider, ctx);
  if (!proof) return undefined;
  await checkDpopReplay(
    provider,
    ctx,
    proof,
    ctx.oidc.client?.clientId as string,
    errors.InvalidDpopProof,
  );
  return proof.thumbprint;
}

/** A credential step of the endpoint: one per request. */
type Step = FirstPartyStep;

/** The step a request takes, from its credential parameters; more than one is refused. */
function stepOf(params: AuthenticatedRequest['oidc']['params']): Step | undefined {
  if (params.method !== undefined && params.method !== 'passkey') {
    throw new errors.InvalidRequest('method must be passkey');
  }
  const steps: Step[] = [];
  if (params.username !== undefined || params.password !== undefined) steps.push('password');
  if (params.id_token !== undefined) steps.push('id_token');
  if (params.method !== undefined || params.passkey_assertion !== undefined) steps.push('passkey');
  if (steps.length > 1) {
    throw new errors.InvalidRequest(`send one credential at a time, not ${steps.join(' and ')}`);
  }
  return steps[0];
}

async function challenge(ctx: AuthenticatedRequest, settings: ChallengeEndpointSettings) {
  const record = await firstPartyInstance(ctx, settings.templates);
  const { params } = ctx.oidc;
  const dpopJkt = await dpopProof(ctx, settings.provider);
  const session = params.auth_session
    ? await continueSession(ctx, settings, params.auth_session, dpopJkt)
    : await startRequest(ctx, settings, record, dpopJkt);
  const step = stepOf(params);
  // After the policy's `more`, only a step it named may come (a password asked for, or given).
  if (session.require && !session.require.includes(step ?? 'password')) {
    throw new errors.InvalidRequest(
      `this auth_session continues with ${session.require.join(' or ')}`,
    );
  }
  // Step-up (RFC 9470): a step that cannot give an acr the app asked for is not taken (its
  // credential is not checked); the answer names the steps that can.
  const meeting = stepsMeetingAcr(settings, session);
  // A step this server does not take gets its own refusal below.
  const taking = step ?? 'password';
  if (offeredSteps(settings).includes(taking) && !meeting.includes(taking)) {
    // The steps so far already give a stronger acr than any asked for: no step can help.
    if (meeting.length === 0) throw accessDenied('no step gives a sign-in of acr_values now');
    const username = params.username ?? session.username;
    const { passkey: _binding, ...bound } = session;
    const next = await settings.sessions.issue({
      ...bound,
      ...(username !== undefined ? { username } : {}),
    });
    const [first, ...others] = meeting as [FirstPartyStep, ...FirstPartyStep[]];
    return sendJson(ctx, 400, {
      error: 'insufficient_authorization',
      error_description: `acr_values needs a sign-in with ${meeting.join(' or ')}`,
      auth_session: next,
      required: parametersOf(first, username),
      alternatives: others.map((other) => parametersOf(other, username)),
    });
  }
  if (step === 'id_token') return idTokenStep(ctx, settings, record, session);
  if (step === 'passkey') return passkeyStep(ctx, settings, record, session);
  const username = params.username ?? session.username;
  if (params.password !== undefined && username === undefined) {
    throw new errors.InvalidRequest('a password needs its username');
  }
  if (username === undefined || params.password === undefined) {
    // The next step, machine-readable: what the app must send with the new auth_session.
    const required = username === undefined ? ['username', 'password'] : ['password'];
    const next = await settings.sessions.issue({
      ...session,
      ...(username !== undefined ? { username } : {}),
    });
    return sendJson(ctx, 400, {
      error: 'insufficient_authorization',
      error_description: `send ${required.join(' and ')} with this auth_session`,
      auth_session: next,
      required,
      // The other steps this server takes instead of the password (see docs/first-party.md).
      ...(username === undefined ? { alternatives: alternatives(settings) } : {}),
    });
  }
  const accountId = await signIn(ctx, settings, username, params.password);
  await finish(ctx, settings, record, session, {
    step: 'password',
    method: 'password',
    accountId,
    amr: [...SIGN_IN_AMR.password],
    succeeded: () =>
      settings.emit('signin.succeeded', {
        method: 'password',
        accountId,
        clientId: session.client_id,
        ip: clientAddress(ctx).address,
        endpoint: AUTHORIZATION_CHALLENGE,
      }),
  });
}
