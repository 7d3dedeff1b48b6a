import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';
import type { AccountOptions } from '../core/accounts.js';
import type { FederatedSignIn } from '../federation/sign-in.js';
import { clientAddress } from '../http/client-address.js';
import { HttpProblem } from '../http/problem.js';
import type { InstanceGuard } from '../instances/instance-guard.js';
import type { FirstPartySignIn } from '../instances/types.js';
import type { SignInEvent, SignInEvents } from '../interactions/events.js';
import type { SignInThrottle } from '../interactions/throttle.js';
import type { PasskeyService } from '../passkeys/service.js';
import type { Emit } from '../provider/assembly.js';
import {
  type AuthenticatedRequest,
  CLIENT_AUTHENTICATED_ROUTES,
} from '../provider/client-authenticated-endpoint.js';
import { protocolError } from '../provider/protocol-error.js';
import type { TemplateSource } from '../registration/templates.js';
import type { FirstPartyPolicy, FirstPartyStep } from './options.js';
import type { AuthSessions } from './sessions.js';

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
  /** Notes the sign-in on the install, for the device list ("signed in with the app"). */
  recordSignIn(clientId: string, signIn: Omit<FirstPartySignIn, 'at'>): Promise<void>;
  emit: Emit<SignInEvents>;
  /** The native id_token step: absent when no provider has `audiences`. */
  federation?: FederatedSignIn;
  /** The passkey step: absent without `passkeys.enabled`. */
  passkeys?: PasskeyService;
  /** `firstParty.policy`: absent, every step that checks out ends the sign-in. */
  policy?: FirstPartyPolicy;
}

export const invalidSession = () =>
  protocolError(400, 'invalid_session', 'the auth_session is unknown, expired or already used');

/** A refused sign-in: the draft's `access_denied`, no code and no session to continue. */
export const accessDenied = (description: string) => new errors.AccessDenied(description);

/** A step whose credential checked out: what the policy sees and, allowed, what the code carries. */
export interface CheckedStep {
  step: FirstPartyStep;
  method: SignInEvent['method'];
  /** With `federated`: the provider's `name`, for the device list. */
  provider?: string;
  accountId: string;
  amr: string[];
  /** The step's success events, sent once the sign-in ends with a code. */
  succeeded(): void;
}

export function reportFailure(
  ctx: AuthenticatedRequest,
  settings: ChallengeEndpointSettings,
  method: SignInEvent['method'],
) {
  settings.emit('signin.failed', {
    method,
    clientId: ctx.oidc.client?.clientId as string,
    ip: clientAddress(ctx).address,
    endpoint: AUTHORIZATION_CHALLENGE,
  });
}

/** What this endpoint's sign-in events say they came through (`endpoint`), and its route name. */
export const AUTHORIZATION_CHALLENGE = CLIENT_AUTHENTICATED_ROUTES.authorizationChallenge;

/** Whether `error` refuses the sign-in (a 4xx), rather than failing it (an outage, a bug). */
export function isRefusal(error: unknown): boolean {
  const status =
    error instanceof HttpProblem ? error.status : (error as { statusCode?: unknown })?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500;
}
