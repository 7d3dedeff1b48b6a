import * as oidc from 'openid-client';
import { insecure } from './example.js';
import { type JsonBody, json } from './json.js';

/** A raw RFC 7591 registration request, with an optional bearer token. */
export async function postRegistration(
  issuer: string,
  body: Record<string, unknown>,
  token?: string,
): Promise<{ status: number; body: JsonBody; headers: Headers }> {
  const res = await fetch(`${issuer}/reg`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await json(res), headers: res.headers };
}

/**
 * openid-client's view of a registered instance: its own secret by default, or `clientAuth`
 * (e.g. `oidc.PrivateKeyJwt(key)`) for a key-based instance.
 */
export async function instanceConfiguration(
  issuer: string,
  registered: JsonBody,
  clientAuth?: oidc.ClientAuth,
): Promise<oidc.Configuration> {
  const discovered = await oidc.discovery(
    new URL(issuer),
    'discovery-only',
    undefined,
    undefined,
    insecure,
  );
  const instance = new oidc.Configuration(
    discovered.serverMetadata(),
    registered.client_id,
    clientAuth ? undefined : registered.client_secret,
    clientAuth,
  );
  oidc.allowInsecureRequests(instance);
  return instance;
}

/** Whether openid-client rejected a request with the given OAuth error code. */
export function isOAuthError(code: string) {
  return (error: unknown) =>
    (error instanceof oidc.ResponseBodyError && error.error === code) ||
    (error instanceof oidc.WWWAuthenticateChallengeError &&
      error.cause.some((c) => c.parameters.error === code));
}

/** A fresh challenge from the server's attestation challenge endpoint (fails unless 200). */
export async function fetchChallenge(issuer: string): Promise<string> {
  const res = await fetch(`${issuer}/attestation/challenge`, { method: 'POST' });
  if (res.status !== 200) throw new Error(`the challenge endpoint answered ${res.status}`);
  return ((await res.json()) as { attestation_challenge: string }).attestation_challenge;
}

/**
 * A token request sent by hand, with the instance's client_secret_basic credentials: for the
 * answers openid-client turns into exceptions (503, 500), or a request at another server.
 */
export function rawTokenRequest(
  instance: oidc.Configuration,
  parameters: Record<string, string>,
): Promise<Response> {
  const { client_id, client_secret } = instance.clientMetadata();
  return fetch(instance.serverMetadata().token_endpoint as string, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${client_id}:${String(client_secret)}`).toString('base64')}`,
    },
    body: new URLSearchParams(parameters).toString(),
  });
}

/** A refresh request (RFC 6749 §6) sent by hand (see {@link rawTokenRequest}). */
export function rawRefresh(instance: oidc.Configuration, refreshToken: string): Promise<Response> {
  return rawTokenRequest(instance, { grant_type: 'refresh_token', refresh_token: refreshToken });
}
