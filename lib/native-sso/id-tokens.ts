// The ID tokens of Native SSO: `ds_hash` (the device secret's hash, made like `at_hash`), and the
// check of an ID token an app presents as the subject of the exchange.
import { createHash, timingSafeEqual } from 'node:crypto';
import { compactVerify, createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet } from 'jose';
import type { JWK } from 'oidc-provider';

/** The digest an ID token signed with `alg` hashes with (OpenID Connect Core §3.3.2.11). */
function digestOf(alg: string): string | undefined {
  const bits = /^(?:RS|PS|ES|HS)(256|384|512)$/.exec(alg)?.[1];
  if (bits) return `sha${bits}`;
  if (alg === 'EdDSA' || alg === 'Ed25519') return 'sha512';
  return undefined;
}

/**
 * `ds_hash`: the base64url of the left half of the device secret's hash, by the digest of the ID
 * token's `alg` (Native SSO draft 07 §3.4, like `at_hash`).
 *
 * @throws Error for an algorithm without a defined digest.
 * @internal
 */
export function dsHash(deviceSecret: string, alg: string): string {
  const digest = digestOf(alg);
  if (!digest) throw new Error(`no ds_hash digest for the ID token algorithm ${alg}`);
  const hash = createHash(digest).update(deviceSecret, 'ascii').digest();
  return hash.subarray(0, hash.length / 2).toString('base64url');
}

/** Whether `claimed` is the `ds_hash` of `deviceSecret` for `alg`, compared in constant time. */
export function dsHashMatches(claimed: unknown, deviceSecret: string, alg: string): boolean {
  if (typeof claimed !== 'string' || !digestOf(alg)) return false;
  const expected = Buffer.from(dsHash(deviceSecret, alg));
  const given = Buffer.from(claimed);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** What the exchange reads of a verified subject ID token. @internal */
export interface SubjectIdToken {
  alg: string;
  sub: string;
  sid: string;
  dsHash: string;
  aud: string[];
  iat: number;
}

// The private members of a JWK: what a public copy leaves out.
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/**
 * Verifies ID tokens this server signed: the signature with one of its own keys (asymmetric
 * only), and `iss`. Not their expiry: a Native SSO subject token is only as good as its device
 * secret, whose live record, `ds_hash` and session the exchange checks (see docs/native-sso.md).
 *
 * @internal
 */
export class OwnIdTokens {
  readonly #keys: ReturnType<typeof createLocalJWKSet>;
  readonly #algorithms: string[];

  constructor(
    private readonly issuer: string,
    jwks: { keys: readonly JWK[] },
  ) {
    const publicKeys = jwks.keys.map((key) =>
      Object.fromEntries(Object.entries(key).filter(([name]) => !PRIVATE_MEMBERS.includes(name))),
    );
    this.#keys = createLocalJWKSet({ keys: publicKeys } as JSONWebKeySet);
    this.#algorithms = [
      ...new Set(jwks.keys.map((k) => k.alg).filter((a) => typeof a === 'string')),
    ].filter((alg) => !alg.startsWith('HS')) as string[];
  }

  /**
   * The claims of `jwt` if this server signed it as a Native SSO ID token.
   *
   * @returns the claims, or a reason it is refused (for `error_description`).
   */
  async verify(jwt: string): Promise<SubjectIdToken | string> {
    let alg: string;
    let payload: Record<string, unknown>;
    try {
      const header = decodeProtectedHeader(jwt);
      if (typeof header.alg !== 'string' || !this.#algorithms.includes(header.alg)) {
        return 'subject_token is not an ID token signed by this server';
      }
      const verified = await compactVerify(jwt, this.#keys, { algorithms: this.#algorithms });
      alg = verified.protectedHeader.alg;
      payload = JSON.parse(new TextDecoder().decode(verified.payload)) as Record<string, unknown>;
    } catch {
      return 'subject_token is not an ID token signed by this server';
    }
    if (typeof payload !== 'object' || payload === null || payload.iss !== this.issuer) {
      return 'subject_token was not issued by this server';
    }
    const { sub, sid, ds_hash, aud, iat } = payload;
    if (typeof sub !== 'string' || typeof iat !== 'number') {
      return 'subject_token is not an ID token';
    }
    if (typeof ds_hash !== 'string' || typeof sid !== 'string') {
      return 'subject_token carries no ds_hash and sid: it was not issued for Native SSO';
    }
    const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
    return {
      alg,
      sub,
      sid,
      dsHash: ds_hash,
      aud: audiences.filter((a): a is string => typeof a === 'string'),
      iat,
    };
  }
}
