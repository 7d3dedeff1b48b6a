import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import type { JWK } from 'oidc-provider';

/**
 * A server's keys, as `options.jwks` and `options.cookieKeys` take them.
 *
 * @group Server
 */
export interface ServerKeys {
  /** Private signing keys (a JWK Set with private members): keep it secret. */
  jwks: {
    /** The keys, each with `alg`, `use: 'sig'` and a `kid`. */
    keys: JWK[];
  };
  /** Keys that sign the sign-in session cookies, newest first. */
  cookieKeys: string[];
}

async function generateSigningKey(alg: 'RS256' | 'ES256'): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, alg, use: 'sig', kid: randomBytes(8).toString('hex') } as JWK;
}

const signingKeys = async () => ({
  keys: [await generateSigningKey('RS256'), await generateSigningKey('ES256')],
});
const cookieKey = () => randomBytes(32).toString('base64url');

/**
 * Generates the keys a server needs: private signing keys (RS256, which OpenID Connect requires
 * every provider to offer, and ES256) as a JWK Set for `options.jwks`, and one 256-bit cookie
 * key for `options.cookieKeys`. Generate them once, keep them in your secret store, and give
 * every process the same ones; rotate by adding new keys in front of the old.
 *
 * @example
 * ```sh
 * node -e "import('mobile-oidc-provider').then(async (m) => console.log(JSON.stringify(await m.generateKeys())))" > keys.json
 * ```
 * @group Server
 */
export async function generateKeys(): Promise<ServerKeys> {
  return { jwks: await signingKeys(), cookieKeys: [cookieKey()] };
}

/**
 * Returns the configured keys, generating ephemeral ones (with a loud warning) only where the
 * options leave them out — which validation allows only in development mode.
 *
 * @internal
 */
export async function resolveKeys(
  configured: { jwks?: { keys: JWK[] }; cookieKeys?: string[] },
  warn: (message: string) => void,
): Promise<ServerKeys> {
  let { jwks, cookieKeys } = configured;
  if (!jwks) {
    warn(
      'DEVELOPMENT ONLY — generated ephemeral signing keys; every token ' +
        'becomes invalid on restart and other processes cannot verify them. Set options.jwks.',
    );
    jwks = await signingKeys();
  }
  if (!cookieKeys) {
    warn(
      'DEVELOPMENT ONLY — generated ephemeral cookie keys; sign-in sessions ' +
        'are lost on restart. Set options.cookieKeys.',
    );
    cookieKeys = [cookieKey()];
  }
  return { jwks, cookieKeys };
}
