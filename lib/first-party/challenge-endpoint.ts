// The Authorization Challenge Endpoint (draft-ietf-oauth-first-party-apps-04 §5): an install
// that proved it is the genuine app signs its user in without a browser and gets an
// authorization code, exchanged at the token endpoint with its PKCE verifier.

import { randomBytes } from 'node:crypto';
import { UnsecuredJWT } from 'jose';
import type { Middleware } from 'koa';
import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';
import { checkDpopReplay, validateDpop } from 'oidc-provider/lib/helpers/grants.js';
import internalState from 'oidc-provider/lib/helpers/weak_cache.js';
import type { AccountOptions, FederatedIdentity } from '../core/accounts.js';
import type { InstanceRecord } from '../core/instance-record.js';
import { meetsLevel } from '../core/levels.js';
import type { FederatedSignIn, ResolvedAccount } from '../federation/sign-in.js';
import { clientAddress } from '../http/client-address.js';
import { HttpProblem, sendJson, sendProblem, tooManyAttempts } from '../http/problem.js';
import { routed, routerPath } from '../http/routed.js';
import { accountMayUse, type InstanceGuard } from '../instances/instance-guard.js';
import type { SignInEvent, SignInEvents } from '../interactions/events.js';
import type { SignInThrottle } from '../interactions/throttle.js';
import { type PasskeyService, parseAssertion } from '../passkeys/service.js';
import { asProviderError } from '../provider/adapter.js';
import type { Emit } from '../provider/assembly.js';
import { instanceRecordOf } from '../provider/loaded-client.js';
import { protocolError } from '../provider/protocol-error.js';
import type { TemplateSource } from '../registration/templates.js';
import { type AuthenticatedRequest, authenticatingClient } from './client-auth.js';
import {
  type FirstPartyDecision,
  type FirstPartyPolicy,
  type FirstPartyStep,
  firstPartyMinimum,
} from './options.js';
import type { AuthSession, AuthSessions } from './sessions.js';

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
]);

// RFC 7636 §4.2: 43 to 128 characters of the unreserved set.
const CODE_CHALLENGE = /^[A-Za-z0-9._~-]{43,128}$/;

/** What the endpoint needs. @internal */
export interface ChallengeEndpointSettings {
  provider: Provider;
  /** Its path (relative to the issuer) and absolute URL. */
  path: string;
  url: string;
  templates: TemplateSource;
  guard: InstanceGuard;
  sessions: AuthSessions;
  /** The sign-in pages' throttle: one budget of failures for both. */
  throttle: SignInThrottle;
  authenticate: AccountOptions['authenticate'];
  /** Binds an unbound instance to `accountId`; resolves the owner it has after. */
  bind(clientId: string, accountId: string): Promise<string | undefined>;
  emit: Emit<SignInEvents>;
  /** The native id_token step: absent when no provider has `audiences`. */
  federation?: FederatedSignIn;
  /** The passkey step: absent without `passkeys.enabled`. */
  passkeys?: PasskeyService;
  /** `firstParty.policy`: absent, every step that checks out ends the sign-in. */
  policy?: FirstPartyPolicy;
}

const invalidSession = () =>
  protocolError(400, 'invalid_session', 'the auth_session is unknown, expired or already used');

/** A refused sign-in: the draft's `access_denied`, no code and no session to continue. */
const accessDenied = (description: string) => new errors.AccessDenied(description);

/**
 * The endpoint as provider middleware: `POST <path>`, anything else passes by at no cost.
 *
 * @internal
 */
export function createChallengeEndpoint(settings: ChallengeEndpointSettings): Middleware {
  const path = settings.path.toLowerCase();
  const serve = authenticatingClient(settings.provider, settings.url, PARAMS, (ctx) =>
    challenge(ctx, settings),
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
  return {
    client_id: client.clientId,
    scope: [...new Set(requested)].join(' '),
    code_challenge: params.code_challenge,
    ...(params.resource !== undefined ? { resource: params.resource } : {}),
    ...(dpopJkt !== undefined ? { dpop_jkt: dpopJkt } : {}),
  };
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

/** The resource server `resource` names, as the token endpoint resolves it. */
async function resourceServer(ctx: AuthenticatedRequest, provider: Provider, resource: string) {
  const { features } = (internalState(provider) as unknown as InternalConfiguration).configuration;
  return features.resourceIndicators.getResourceServerInfo(ctx, resource, ctx.oidc.client);
}

type InternalConfiguration = {
  configuration: {
    features: {
      pushedAuthorizationRequests: { enabled: boolean };
      resourceIndicators: {
        getResourceServerInfo(
          ctx: unknown,
          resource: string,
          client: unknown,
        ): Promise<{ scope?: string }>;
      };
    };
  };
};

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
    amr: ['pwd'],
    succeeded: () =>
      settings.emit('signin.succeeded', {
        method: 'password',
        accountId,
        clientId: session.client_id,
        ip: clientAddress(ctx).address,
      }),
  });
}

/** A step whose credential checked out: what the policy sees and, allowed, what the code carries. */
interface CheckedStep {
  step: FirstPartyStep;
  method: SignInEvent['method'];
  accountId: string;
  amr: string[];
  /** The step's success events, sent once the sign-in ends with a code. */
  succeeded(): void;
}

/** The parameters that start each step, as `required` and `alternatives` name them. */
function parametersOf(step: FirstPartyStep, username: string | undefined): string[] {
  if (step === 'id_token') return ['id_token'];
  if (step === 'passkey') return ['method'];
  return username === undefined ? ['username', 'password'] : ['password'];
}

/**
 * The end of every step: the account rule, then the policy, then (allowed) the binding and the
 * code. Nothing is written before the policy allowed it, so its `deny`, `more`, `web` or throw
 * leaves the install unbound and no grant behind.
 */
async function finish(
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
  const code = await mintCode(ctx, settings, session, accountId, amr.length > 0 ? amr : undefined);
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
function alternatives(settings: ChallengeEndpointSettings): string[][] {
  return [
    ...(settings.federation ? [['id_token']] : []),
    ...(settings.passkeys ? [['method']] : []),
  ];
}

/** Whether `error` refuses the sign-in (a 4xx), rather than failing it (an outage, a bug). */
function isRefusal(error: unknown): boolean {
  const status =
    error instanceof HttpProblem ? error.status : (error as { statusCode?: unknown })?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500;
}

/**
 * A native Apple/Google id_token, checked as the native token exchange checks it (signature,
 * issuer, audience, lifetime, the single-use nonce, `accounts.federated`), then a code.
 */
async function idTokenStep(
  ctx: AuthenticatedRequest,
  settings: ChallengeEndpointSettings,
  record: InstanceRecord,
  session: AuthSession,
) {
  const { federation } = settings;
  const idToken = ctx.oidc.params.id_token as string;
  if (!federation) {
    throw new errors.InvalidRequest('this server takes no id_token: no provider has audiences');
  }
  const provider = federation.providerOf(idToken);
  // Its sign-in page can: the browser continues the request (and the token stays unchecked).
  if (provider && !provider.native) return redirectToWeb(ctx, settings, session);
  let signedIn: { identity: FederatedIdentity; account: ResolvedAccount };
  try {
    const identity = await federation.verifyNative(idToken);
    signedIn = { identity, account: await federation.resolveAccount(identity) };
  } catch (error) {
    if (!isRefusal(error)) throw error;
    reportFailure(ctx, settings, 'federated');
    // The exchange's invalid_grant is this endpoint's access_denied; a missing nonce stays invalid_request.
    if (error instanceof HttpProblem && error.error === 'invalid_grant') {
      throw accessDenied(error.description);
    }
    throw error;
  }
  const { identity, account } = signedIn;
  await finish(ctx, settings, record, session, {
    step: 'id_token',
    method: 'federated',
    accountId: account.accountId,
    amr: [],
    succeeded: () => federation.reportSignIn(identity, account, session.client_id),
  });
}

/**
 * A passkey: without an assertion, WebAuthn request options whose challenge is bound to the
 * next auth_session; with one, the passkeys feature's verification (RP ID, origins, user
 * verification, counter), through the sign-in throttle, then a code.
 */
async function passkeyStep(
  ctx: AuthenticatedRequest,
  settings: ChallengeEndpointSettings,
  record: InstanceRecord,
  session: AuthSession,
) {
  const { passkeys } = settings;
  if (!passkeys) throw new errors.InvalidRequest('passkeys are not enabled on this server');
  const posted = ctx.oidc.params.passkey_assertion;
  if (posted === undefined) {
    const binding = randomBytes(16).toString('base64url');
    const options = JSON.parse(await passkeys.authenticationOptions(passkeyBinding(binding)));
    const next = await settings.sessions.issue({ ...session, passkey: binding });
    return sendJson(ctx, 400, {
      error: 'insufficient_authorization',
      error_description: 'sign passkey_options with a passkey, send it with this auth_session',
      auth_session: next,
      required: ['passkey_assertion'],
      passkey_options: options,
    });
  }
  if (session.passkey === undefined) {
    throw new errors.InvalidRequest(
      'passkey_assertion answers the challenge of an auth_session from method=passkey',
    );
  }
  const binding = passkeyBinding(session.passkey);
  const assertion = parseAssertion(posted);
  const client = clientAddress(ctx);
  const outcome = await settings.throttle.attempt(
    await passkeys.throttleKey(assertion),
    client,
    async () => {
      const verified = await passkeys.signIn(binding, assertion, client.address);
      return 'accountId' in verified ? verified.accountId : undefined;
    },
  );
  if ('throttled' in outcome) {
    throw tooManyAttempts(outcome.throttled.retryAfterSeconds, 'failed sign-ins');
  }
  const { accountId } = outcome;
  if (!accountId) {
    reportFailure(ctx, settings, 'passkey');
    throw accessDenied('the passkey assertion was refused');
  }
  await finish(ctx, settings, record, session, {
    step: 'passkey',
    method: 'passkey',
    accountId,
    amr: ['hwk', 'user'],
    succeeded: () =>
      settings.emit('signin.succeeded', {
        method: 'passkey',
        accountId,
        clientId: session.client_id,
        ip: client.address,
      }),
  });
}

// The passkeys feature binds sign-in challenges to an interaction uid; these never collide with one.
const passkeyBinding = (binding: string) => `first-party:${binding}`;

function reportFailure(
  ctx: AuthenticatedRequest,
  settings: ChallengeEndpointSettings,
  method: SignInEvent['method'],
) {
  settings.emit('signin.failed', {
    method,
    clientId: ctx.oidc.client?.clientId as string,
    ip: clientAddress(ctx).address,
  });
}

/** The password check, through the sign-in pages' throttle and with their events. */
async function signIn(
  ctx: AuthenticatedRequest,
  settings: ChallengeEndpointSettings,
  username: string,
  password: string,
): Promise<string> {
  const client = clientAddress(ctx);
  const outcome = await settings.throttle.attempt(username, client, () =>
    settings.authenticate(username, password),
  );
  if ('throttled' in outcome) {
    throw tooManyAttempts(outcome.throttled.retryAfterSeconds, 'failed sign-ins');
  }
  if (!outcome.accountId) {
    settings.emit('signin.failed', {
      method: 'password',
      clientId: ctx.oidc.client?.clientId as string,
      ip: client.address,
    });
    throw accessDenied('the username or password is wrong');
  }
  return outcome.accountId;
}

/** The instance's account rule, as the sign-in pages apply it: bound to its first account. */
async function bindInstance(
  ctx: AuthenticatedRequest,
  settings: ChallengeEndpointSettings,
  record: InstanceRecord,
  accountId: string,
  method: SignInEvent['method'],
) {
  const clientId = ctx.oidc.client?.clientId as string;
  const refuse = () => {
    reportFailure(ctx, settings, method);
    return accessDenied('this app install is registered to another account');
  };
  if (!accountMayUse(record, accountId)) throw refuse();
  if (!record.account_id) {
    const owner = await settings.bind(clientId, accountId);
    if (owner !== accountId && !record.shared_devices) throw refuse();
  }
}

/**
 * A real oidc-provider authorization code, as the authorization endpoint would issue it after
 * this sign-in: a Grant with the scopes, the PKCE challenge, and the install's redirect URI (the
 * token endpoint requires one; an install with a single one may omit it there).
 */
async function mintCode(
  ctx: AuthenticatedRequest,
  settings: ChallengeEndpointSettings,
  session: AuthSession,
  accountId: string,
  amr?: string[],
): Promise<string> {
  const { provider } = settings;
  const client = ctx.oidc.client as NonNullable<AuthenticatedRequest['oidc']['client']>;
  const grant = new provider.Grant({ accountId, clientId: client.clientId });
  grant.addOIDCScope(session.scope);
  if (session.resource !== undefined) {
    const info = await resourceServer(ctx, provider, session.resource);
    const apiScopes = new Set((info.scope ?? '').split(' '));
    const scopes = session.scope.split(' ').filter((s) => apiScopes.has(s));
    if (scopes.length > 0) grant.addResourceScope(session.resource, scopes.join(' '));
  }
  const grantId = await grant.save();
  return new provider.AuthorizationCode({
    client,
    accountId,
    grantId,
    scope: session.scope,
    authTime: Math.floor(Date.now() / 1000),
    ...(amr ? { amr } : {}),
    codeChallenge: session.code_challenge,
    codeChallengeMethod: 'S256',
    redirectUri: client.redirectUris?.[0],
    ...(session.resource !== undefined ? { resource: session.resource } : {}),
    // As a code from a request with dpop_jkt: the token endpoint wants a proof by this key.
    ...(session.dpop_jkt !== undefined ? { dpopJkt: session.dpop_jkt } : {}),
  } as ConstructorParameters<Provider['AuthorizationCode']>[0]).save();
}

// RFC 9126 §2.2's request_uri prefix, as oidc-provider's PAR endpoint issues it.
const PUSHED_REQUEST_URN = 'urn:ietf:params:oauth:request_uri:';
// oidc-provider's own lifetime of a pushed request.
const PUSHED_REQUEST_TTL = 60;

/**
 * `redirect_to_web` (draft §5.2.2): the session's request, pushed as oidc-provider's PAR
 * endpoint would push it (an unsigned request object of the authenticated install), so the app
 * opens `<authorization_endpoint>?client_id=…&request_uri=…` in the browser and exchanges the
 * code with the same PKCE verifier. Without PAR, the answer carries no request_uri.
 */
async function redirectToWeb(
  ctx: AuthenticatedRequest,
  settings: ChallengeEndpointSettings,
  session: AuthSession,
) {
  const { provider } = settings;
  const client = ctx.oidc.client as NonNullable<AuthenticatedRequest['oidc']['client']>;
  const description = 'continue this sign-in in the browser';
  const { features } = (internalState(provider) as unknown as InternalConfiguration).configuration;
  if (!features.pushedAuthorizationRequests.enabled) {
    return sendJson(ctx, 400, { error: 'redirect_to_web', error_description: description });
  }
  const now = Math.floor(Date.now() / 1000);
  const request = new UnsecuredJWT({
    client_id: client.clientId,
    response_type: 'code',
    scope: session.scope,
    code_challenge: session.code_challenge,
    code_challenge_method: 'S256',
    redirect_uri: client.redirectUris?.[0],
    ...(session.resource !== undefined ? { resource: session.resource } : {}),
    ...(session.username !== undefined ? { login_hint: session.username } : {}),
    // oidc-provider grants offline_access only with consent asked for, as the app would ask.
    ...(session.scope.split(' ').includes('offline_access') ? { prompt: 'consent' } : {}),
  })
    .setIssuedAt(now)
    .setIssuer(client.clientId)
    .setAudience(ctx.oidc.issuer)
    .setNotBefore(now)
    .setExpirationTime(now + PUSHED_REQUEST_TTL)
    .encode();
  // Trusted as PAR trusts an authenticated client's request: this endpoint authenticated it.
  const pushed = new provider.PushedAuthorizationRequest({
    request,
    trusted: true,
    // The browser's code stays bound to the app's DPoP key, as PAR binds it (RFC 9449 §10.1).
    ...(session.dpop_jkt !== undefined ? { dpopJkt: session.dpop_jkt } : {}),
  } as never);
  const id = await pushed.save(PUSHED_REQUEST_TTL);
  sendJson(ctx, 400, {
    error: 'redirect_to_web',
    error_description: description,
    request_uri: `${PUSHED_REQUEST_URN}${id}`,
    expires_in: PUSHED_REQUEST_TTL,
  });
}
