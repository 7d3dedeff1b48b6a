// The app's side of attestation-based client authentication (draft-ietf-oauth-attestation-based-
// client-auth-12): asking the server's Client Attester for a Client Attestation, and presenting it
// with a PoP at the token endpoint through openid-client (which has no such method of its own).
import { randomUUID, type webcrypto } from 'node:crypto';
import { type JWK, SignJWT } from 'jose';
import type { Template } from 'mobile-oidc-provider';
import type * as oidc from 'openid-client';
import { type JsonBody, json } from './json.js';

type CryptoKey = webcrypto.CryptoKey;

/** The client assertion type of RFC 7523. */
export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** A key an instance registered: its private half and its public JWK. */
export interface InstanceKey {
  privateKey: CryptoKey;
  jwk: JWK;
}

/** A `private_key_jwt`-style client assertion (RFC 7523) for `audience`, with extra `claims`. */
export function clientAssertion(
  key: InstanceKey,
  clientId: string,
  audience: string,
  claims: Record<string, unknown> = {},
  lifetime = 60,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ jti: randomUUID(), ...claims })
    .setProtectedHeader({ alg: 'ES256' })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(audience)
    .setIssuedAt(now)
    .setExpirationTime(now + lifetime)
    .sign(key.privateKey);
}

/** What the attester answered. */
export interface AttesterAnswer {
  status: number;
  body: JsonBody;
  headers: Headers;
}

/** One request at the Client Attester: the client assertion, extra headers and form fields. */
export async function requestAttestation(
  attesterUrl: string,
  assertion: string,
  {
    headers = {},
    form = {},
  }: { headers?: Record<string, string>; form?: Record<string, string> } = {},
): Promise<AttesterAnswer> {
  const res = await fetch(attesterUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({
      client_assertion_type: JWT_BEARER,
      client_assertion: assertion,
      ...form,
    }).toString(),
  });
  return { status: res.status, body: await json(res), headers: res.headers };
}

/** A Client Attestation PoP JWT (`typ: oauth-client-attestation-pop+jwt`) for `audience`. */
export function attestationPop(
  key: InstanceKey,
  audience: string,
  {
    challenge,
    jti = randomUUID(),
    typ = 'oauth-client-attestation-pop+jwt',
  }: { challenge?: string | undefined; jti?: string; typ?: string } = {},
): Promise<string> {
  return new SignJWT({ jti, ...(challenge ? { challenge } : {}) })
    .setProtectedHeader({ alg: 'ES256', typ })
    .setAudience(audience)
    .setIssuedAt()
    .sign(key.privateKey);
}

/** What the app keeps between token requests. */
export interface AttestationState {
  /** The Client Attestation JWT it presents. */
  attestation: string;
  /** The key the attestation attests, which signs the PoPs. */
  key: InstanceKey;
  /** The latest PoP challenge the server handed out (`OAuth-Client-Attestation-Challenge`). */
  challenge?: string | undefined;
  /** `dpop`: the DPoP proof is the PoP (`attest_jwt_client_auth_dpop`); no PoP header. */
  mode?: 'pop' | 'dpop';
}

/**
 * openid-client client authentication by Client Attestation: `client_id`, the attestation and,
 * unless in DPoP-combined mode, a fresh PoP with the latest challenge.
 */
export function attestationClientAuth(state: AttestationState): oidc.ClientAuth {
  const auth = async (
    as: oidc.ServerMetadata,
    client: oidc.ClientMetadata,
    body: URLSearchParams,
    headers: Headers,
  ) => {
    body.set('client_id', client.client_id);
    headers.set('OAuth-Client-Attestation', state.attestation);
    if (state.mode !== 'dpop') {
      headers.set(
        'OAuth-Client-Attestation-PoP',
        await attestationPop(state.key, as.issuer, { challenge: state.challenge }),
      );
    }
  };
  return auth as unknown as oidc.ClientAuth;
}

/** A fetch for openid-client that keeps each `OAuth-Client-Attestation-Challenge` answered. */
export function challengeKeepingFetch(state: AttestationState): typeof fetch {
  return async (url, options) => {
    const res = await fetch(url, options);
    const challenge = res.headers.get('OAuth-Client-Attestation-Challenge');
    if (challenge) state.challenge = challenge;
    return res;
  };
}

/** The `software_id` of the App Attest template whose installs authenticate by attestation. */
export const ATTEST_CLIENT_AUTH_SOFTWARE_ID = 'io.example.attest-client-auth';

/** That template: App Attest evidence at registration, then attestation-based client auth. */
export function attestClientAuthTemplate(redirectUri: string, appId: string): Template {
  return {
    software_id: ATTEST_CLIENT_AUTH_SOFTWARE_ID,
    client: {
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'private_key_jwt',
      scope: 'openid offline_access payments',
    },
    instanceFields: ['jwks', 'software_version'],
    attestation: { formats: ['apple-appattest'], appleAppAttest: { appId } },
    attestClientAuth: true,
  };
}
