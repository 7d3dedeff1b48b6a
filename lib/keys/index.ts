import { createPrivateKey, type JsonWebKey, randomBytes } from 'node:crypto';
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
 * every process the same ones; rotate with `npx mobile-oidc-provider keys rotate`, which puts new
 * keys in front of the old (in three stages for several processes: docs/operations.md).
 *
 * @example
 * ```sh
 * npx mobile-oidc-provider keys generate > keys.json
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

/**
 * The algorithm the server always signs with: OpenID Connect's default ID token algorithm (every
 * client's unless it registers another, Core §15.1) and that of the JWT access tokens.
 */
const ALWAYS_SIGNED = 'RS256';

// The members a private JWK of each type has (RFC 7518 §6.2.2, §6.3.2; RFC 8037 §2), all of
// which oidc-provider requires.
const PRIVATE_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  RSA: ['d', 'p', 'q', 'dp', 'dq', 'qi'],
  EC: ['d'],
  OKP: ['d'],
};

// The JWS algorithms a key of each type (and curve) signs with, as oidc-provider reads them.
const RSA_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
const CURVE_ALGS: Readonly<Record<string, readonly string[]>> = {
  'P-256': ['ES256'],
  'P-384': ['ES384'],
  'P-521': ['ES512'],
  Ed25519: ['EdDSA', 'Ed25519'],
};

// Client metadata naming an algorithm the server signs a response with.
const SIGNED_RESPONSE_FIELDS = [
  'id_token_signed_response_alg',
  'userinfo_signed_response_alg',
  'introspection_signed_response_alg',
  'authorization_signed_response_alg',
] as const;

/** The algorithms `jwk` may sign with: by its type and curve, narrowed by `alg`, `use`, `key_ops`. */
function signingAlgorithms(jwk: Record<string, unknown>): readonly string[] {
  if (jwk.use !== undefined && jwk.use !== 'sig') return [];
  if (Array.isArray(jwk.key_ops) && !jwk.key_ops.includes('sign')) return [];
  const available =
    jwk.kty === 'RSA'
      ? RSA_ALGS
      : jwk.kty === 'EC' || jwk.kty === 'OKP'
        ? (CURVE_ALGS[String(jwk.crv)] ?? [])
        : [];
  if (jwk.alg === undefined) return available;
  return available.includes(String(jwk.alg)) ? [String(jwk.alg)] : [];
}

/** Why `jwk` is no usable private signing key, or `undefined` when it is one. */
function privateKeyProblem(jwk: Record<string, unknown>): string | undefined {
  const members = PRIVATE_MEMBERS[String(jwk.kty)];
  if (!members) return `has the key type '${String(jwk.kty)}': use RSA, EC or OKP signing keys`;
  const missing = members.filter((member) => typeof jwk[member] !== 'string');
  if (missing.length > 0) {
    return `is a public key (it lacks ${missing.join(', ')}): options.jwks holds the server's private signing keys, and the server publishes their public halves`;
  }
  try {
    createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' });
  } catch (error) {
    // node's message names the key type, never key material.
    return `is not a valid private key (${(error as Error).message})`;
  }
  return undefined;
}

/**
 * What is wrong with the configured signing keys, one message per problem: every key must be a
 * private key; there must be a private RSA key for RS256, OpenID Connect's default ID token
 * algorithm and that of the JWT access tokens; and one for each algorithm a static client asks
 * responses to be signed with. Without this the server would start, then fail every sign-in
 * (`id_token_signed_response_alg must be …`) or refuse to start with oidc-provider's own error.
 *
 * @internal
 */
export function signingKeyProblems(
  jwks: { keys: readonly unknown[] },
  clients: readonly { [field: string]: unknown }[],
): string[] {
  const problems: string[] = [];
  const signable = new Set<string>();
  for (const [i, key] of jwks.keys.entries()) {
    if (typeof key !== 'object' || key === null) continue;
    const jwk = key as Record<string, unknown>;
    const problem = privateKeyProblem(jwk);
    if (problem) problems.push(`options.jwks.keys[${i}] ${problem}`);
    else for (const alg of signingAlgorithms(jwk)) signable.add(alg);
  }
  if (!signable.has(ALWAYS_SIGNED)) {
    problems.push(
      `options.jwks has no private RSA signing key for ${ALWAYS_SIGNED}, the algorithm of ID tokens (OpenID Connect's default, OpenID Connect Core §15.1) and JWT access tokens: add one (generateKeys() makes one)`,
    );
  }
  for (const [i, client] of clients.entries()) {
    for (const field of SIGNED_RESPONSE_FIELDS) {
      const alg = client[field];
      if (typeof alg !== 'string' || alg === 'none' || /^HS/.test(alg) || signable.has(alg)) {
        continue;
      }
      problems.push(
        `options.clients[${i}].${field} '${alg}' has no private signing key in options.jwks`,
      );
    }
  }
  return problems;
}
