// How a first-party sign-in ends once allowed: the install bound, a real authorization code; or
// the request pushed (PAR) for the browser to continue (`redirect_to_web`).

import { randomBytes } from 'node:crypto';
import { UnsecuredJWT } from 'jose';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { InstanceRecord } from '../core/instance-record.js';
import { acrValuesOf } from '../core/sign-in-acr.js';
import { sendJson } from '../http/problem.js';
import { accountMayUse } from '../instances/instance-guard.js';
import type { SignInEvent } from '../interactions/events.js';
import type { AuthenticatedRequest } from '../provider/client-authenticated-endpoint.js';
import { resolvedFeatures } from '../provider/resolved-features.js';
import {
  accessDenied,
  type ChallengeEndpointSettings,
  reportFailure,
} from './challenge-settings.js';
import type { AuthSession } from './sessions.js';

/** The resource server `resource` names, as the token endpoint resolves it. */
export async function resourceServer(
  ctx: AuthenticatedRequest,
  provider: Provider,
  resource: string,
) {
  return resolvedFeatures(provider).resourceIndicators.getResourceServerInfo(
    ctx,
    resource,
    ctx.oidc.client,
  );
}

/** The instance's account rule, as the sign-in pages apply it: bound to its first account. */
export async function bindInstance(
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
 * The start of every code this endpoint mints. oidc-provider's own codes are base64url (no `.`),
 * so no browser code ever starts with it: the token endpoint tells a challenge code by its value
 * alone, with no store read.
 */
const CHALLENGE_CODE_PREFIX = 'fp.';

/**
 * The token endpoint's step before oidc-provider's code exchange: a challenge code sent without
 * `redirect_uri` (the draft's app has none to send) gets the one it was minted with, the
 * install's first, which oidc-provider then compares as for any code. Any other code, or one
 * sent with a `redirect_uri`, is left as it came: a browser code still needs its own.
 */
export function challengeCodeRedirectUri(ctx: KoaContextWithOIDC): void {
  const { params, client } = ctx.oidc;
  if (!params || params.redirect_uri !== undefined) return;
  const { code } = params;
  if (typeof code !== 'string' || !code.startsWith(CHALLENGE_CODE_PREFIX)) return;
  const uri = client?.redirectUris?.[0];
  if (uri !== undefined) params.redirect_uri = uri;
}

/**
 * The ID token claims a browser request would ask for with these parameters (oidc-provider's
 * authorization endpoint asks for `acr` with `acr_values` and `auth_time` with `max_age`), so
 * the ID token from this code carries them likewise.
 */
function requestedClaims(
  session: AuthSession,
): Pick<ConstructorParameters<Provider['AuthorizationCode']>[0], 'claims'> {
  const idToken = {
    ...(session.acr_values !== undefined
      ? { acr: { values: acrValuesOf(session.acr_values) } }
      : {}),
    ...(session.max_age !== undefined ? { auth_time: { essential: true } } : {}),
  };
  return Object.keys(idToken).length > 0 ? { claims: { id_token: idToken } } : {};
}

/**
 * A real oidc-provider authorization code, as the authorization endpoint would issue it after
 * this sign-in: a Grant with the scopes, the PKCE challenge, the sign-in's `acr`, `amr` and time,
 * and the install's first redirect URI, which the token endpoint fills in when the app sends
 * none (see {@link challengeCodeRedirectUri}).
 */
export async function mintCode(
  ctx: AuthenticatedRequest,
  settings: ChallengeEndpointSettings,
  session: AuthSession,
  accountId: string,
  signIn: { acr: string; amr?: string[] },
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
  const code = new provider.AuthorizationCode({
    client,
    accountId,
    grantId,
    scope: session.scope,
    // A sign-in just now: it satisfies any max_age the request carried.
    authTime: Math.floor(Date.now() / 1000),
    acr: signIn.acr,
    ...(signIn.amr ? { amr: signIn.amr } : {}),
    ...requestedClaims(session),
    codeChallenge: session.code_challenge,
    codeChallengeMethod: 'S256',
    redirectUri: client.redirectUris?.[0],
    ...(session.resource !== undefined ? { resource: session.resource } : {}),
    // As a code from a request with dpop_jkt: the token endpoint wants a proof by this key.
    ...(session.dpop_jkt !== undefined ? { dpopJkt: session.dpop_jkt } : {}),
  } as ConstructorParameters<Provider['AuthorizationCode']>[0]);
  // Its own id (oidc-provider's save keeps one that is set): as long as oidc-provider's (256
  // bits), after the prefix.
  code.jti = `${CHALLENGE_CODE_PREFIX}${randomBytes(32).toString('base64url')}`;
  return code.save();
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
export async function redirectToWeb(
  ctx: AuthenticatedRequest,
  settings: ChallengeEndpointSettings,
  session: AuthSession,
) {
  const { provider } = settings;
  const client = ctx.oidc.client as NonNullable<AuthenticatedRequest['oidc']['client']>;
  const description = 'continue this sign-in in the browser';
  const features = resolvedFeatures(provider);
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
    // The step-up the app asked for goes with it: the browser's sign-in answers to it.
    ...(session.acr_values !== undefined ? { acr_values: session.acr_values } : {}),
    ...(session.max_age !== undefined ? { max_age: session.max_age } : {}),
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
