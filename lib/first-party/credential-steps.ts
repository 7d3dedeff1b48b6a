// The credentials a step checks: a password, a passkey assertion, a native id_token; each
// through the feature that owns it (accounts and throttle, passkeys, federation).

import { randomBytes } from 'node:crypto';
import { errors } from 'oidc-provider';
import type { FederatedIdentity } from '../core/accounts.js';
import type { InstanceRecord } from '../core/instance-record.js';
import { SIGN_IN_AMR } from '../core/sign-in-acr.js';
import type { ResolvedAccount } from '../federation/sign-in.js';
import { clientAddress } from '../http/client-address.js';
import { HttpProblem, sendJson, tooManyAttempts } from '../http/problem.js';
import { parseAssertion } from '../passkeys/service.js';
import type { AuthenticatedRequest } from '../provider/client-authenticated-endpoint.js';
import {
  AUTHORIZATION_CHALLENGE,
  accessDenied,
  type ChallengeEndpointSettings,
  isRefusal,
  reportFailure,
} from './challenge-settings.js';
import { redirectToWeb } from './outcome.js';
import type { AuthSession } from './sessions.js';
import { finish } from './step-end.js';

/**
 * A native Apple/Google id_token, checked as the native token exchange checks it (signature,
 * issuer, audience, lifetime, the single-use nonce, `accounts.federated`), then a code.
 */
export async function idTokenStep(
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
    provider: identity.provider,
    accountId: account.accountId,
    amr: [...SIGN_IN_AMR.id_token],
    succeeded: () =>
      federation.reportSignIn(identity, account, session.client_id, AUTHORIZATION_CHALLENGE),
  });
}

/**
 * A passkey: without an assertion, WebAuthn request options whose challenge is bound to the
 * next auth_session; with one, the passkeys feature's verification (RP ID, origins, user
 * verification, counter), through the sign-in throttle, then a code.
 */
export async function passkeyStep(
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
    amr: [...SIGN_IN_AMR.passkey],
    succeeded: () =>
      settings.emit('signin.succeeded', {
        method: 'passkey',
        accountId,
        clientId: session.client_id,
        ip: client.address,
        endpoint: AUTHORIZATION_CHALLENGE,
      }),
  });
}

// The passkeys feature binds sign-in challenges to an interaction uid; these never collide with one.
const passkeyBinding = (binding: string) => `first-party:${binding}`;

/** The password check, through the sign-in pages' throttle and with their events. */
export async function signIn(
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
      endpoint: AUTHORIZATION_CHALLENGE,
    });
    throw accessDenied('the username or password is wrong');
  }
  return outcome.accountId;
}
