import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import type { JWK } from 'oidc-provider';

/** Signing keys and cookie keys, as the provider needs them. @internal */
export interface ServerKeys {
  jwks: { keys: JWK[] };
  cookieKeys: string[];
}

async function generateSigningKey(alg: 'RS256' | 'ES256'): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, alg, use: 'sig', kid: randomBytes(8).toString('hex') } as JWK;
}

/**
 * Returns the configured keys, generating ephemeral ones (with a loud warning) only where the
 * options leave them out — which validation allows only in development mode.
 *
 * @internal
 */
export async function resolveKeys(
  configured: { jwks: { keys: JWK[] } | undefined; cookieKeys: string[] | undefined },
  warn: (message: string) => void,
): Promise<ServerKeys> {
  let { jwks, cookieKeys } = configured;
  if (!jwks) {
    warn(
      'DEVELOPMENT ONLY — generated ephemeral signing keys; every token ' +
        'becomes invalid on restart and other processes cannot verify them. Set options.jwks.',
    );
    jwks = { keys: [await generateSigningKey('RS256'), await generateSigningKey('ES256')] };
  }
  if (!cookieKeys) {
    warn(
      'DEVELOPMENT ONLY — generated ephemeral cookie keys; sign-in sessions ' +
        'are lost on restart. Set options.cookieKeys.',
    );
    cookieKeys = [randomBytes(32).toString('base64url')];
  }
  return { jwks, cookieKeys };
}
