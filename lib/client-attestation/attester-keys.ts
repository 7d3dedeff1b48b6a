import { createECDH, hkdfSync } from 'node:crypto';
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  importJWK,
  type JSONWebKeySet,
  type JWK,
  type JWSHeaderParameters,
  type JWTPayload,
  SignJWT,
} from 'jose';

/** The `typ` of a Client Attestation JWT (draft-ietf-oauth-attestation-based-client-auth). */
export const CLIENT_ATTESTATION_TYP = 'oauth-client-attestation+jwt';

// The order n of P-256: a private scalar must lie in [1, n - 1].
const P256_ORDER = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');

/**
 * A private ES256 JWK derived from `secret` (HKDF-SHA-256, rejection-sampled into P-256's
 * scalar range), so every process with the same cookie keys signs with the same attester key.
 *
 * @internal
 */
export async function deriveAttesterKey(secret: string): Promise<JWK> {
  for (let attempt = 0; ; attempt += 1) {
    const d = Buffer.from(
      hkdfSync('sha256', secret, 'mobile-oidc-provider', `client attester key ${attempt}`, 32),
    );
    const scalar = BigInt(`0x${d.toString('hex')}`);
    if (scalar === 0n || scalar >= P256_ORDER) continue;
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(d);
    // Uncompressed point: 0x04 ‖ x ‖ y.
    const point = ecdh.getPublicKey();
    const jwk: JWK = {
      kty: 'EC',
      crv: 'P-256',
      x: point.subarray(1, 33).toString('base64url'),
      y: point.subarray(33).toString('base64url'),
    };
    return {
      ...jwk,
      d: d.toString('base64url'),
      alg: 'ES256',
      use: 'sig',
      kid: await thumbprint(jwk),
    };
  }
}

const thumbprint = (jwk: JWK) => calculateJwkThumbprint(jwk, 'sha256');

/**
 * What is wrong with configured attester keys: each must be a private P-256 JWK with a `kid`,
 * for ES256.
 *
 * @internal
 */
export function attesterKeyProblems(keys: readonly unknown[] | undefined, path: string): string[] {
  return (keys ?? []).flatMap((key, i) => {
    const jwk = key as Record<string, unknown>;
    const at = `${path}[${i}]`;
    if (jwk.kty !== 'EC' || jwk.crv !== 'P-256') return [`${at} must be an EC P-256 key (ES256)`];
    if (typeof jwk.d !== 'string' || typeof jwk.x !== 'string' || typeof jwk.y !== 'string') {
      return [`${at} must be a private key (with d, x and y)`];
    }
    if (typeof jwk.kid !== 'string' || jwk.kid === '') return [`${at} needs a kid`];
    if (jwk.alg !== undefined && jwk.alg !== 'ES256') return [`${at}.alg must be ES256`];
    // A d that does not make x and y would sign attestations its published key never verifies.
    try {
      const ecdh = createECDH('prime256v1');
      ecdh.setPrivateKey(Buffer.from(jwk.d, 'base64url'));
      const point = ecdh.getPublicKey();
      if (
        point.subarray(1, 33).toString('base64url') !== jwk.x ||
        point.subarray(33).toString('base64url') !== jwk.y
      ) {
        return [`${at}: its d does not belong to its x and y`];
      }
    } catch {
      return [`${at}.d is not a P-256 private key`];
    }
    return [];
  });
}

/** Only the public members of a private EC key, with its `kid`, `alg` and `use`. */
function publicPart(jwk: JWK): JWK {
  const { kty, crv, x, y, kid } = jwk;
  return { kty, crv, x, y, kid, alg: 'ES256', use: 'sig' } as JWK;
}

/**
 * The Client Attester's keys: the first signs Client Attestations, all verify them (rotation),
 * and their public halves are published as a JWK Set.
 *
 * @internal
 */
export class AttesterKeys {
  /** The public keys, as the attester's JWKS endpoint serves them. */
  readonly publicJwks: JSONWebKeySet;
  readonly #verify: ReturnType<typeof createLocalJWKSet>;

  private constructor(
    private readonly signing: JWK,
    keys: readonly JWK[],
  ) {
    this.publicJwks = { keys: keys.map(publicPart) };
    this.#verify = createLocalJWKSet(this.publicJwks);
  }

  /**
   * The configured keys, or one derived from each cookie key (the first signing).
   *
   * @param configured - private ES256 JWKs (validated by {@link attesterKeyProblems}).
   */
  static async create(configured: readonly object[] | undefined, cookieKeys: readonly string[]) {
    const keys = configured?.length
      ? (configured as JWK[])
      : await Promise.all(cookieKeys.map((cookieKey) => deriveAttesterKey(cookieKey)));
    const [first] = keys;
    if (!first) throw new Error('the Client Attester needs a key');
    return new AttesterKeys(first, keys);
  }

  /** Signs a Client Attestation with the first key. */
  async sign(payload: JWTPayload): Promise<string> {
    const key = await importJWK(this.signing, 'ES256');
    return new SignJWT(payload)
      .setProtectedHeader({
        alg: 'ES256',
        typ: CLIENT_ATTESTATION_TYP,
        kid: String(this.signing.kid),
      })
      .sign(key);
  }

  /** The public key a Client Attestation names in its header (by `kid`). */
  verificationKey(header: JWSHeaderParameters) {
    return this.#verify(header);
  }
}
