import { createHash } from 'node:crypto';
import {
  calculateJwkThumbprint,
  decodeProtectedHeader,
  EmbeddedJWK,
  type JWK,
  errors as joseErrors,
  jwtVerify,
} from 'jose';
import { TokenVerificationError, unavailable } from './errors.js';
import { isJsonObject } from './http.js';
import { tokenShape } from './jwt.js';
import type { ResolvedVerifierOptions } from './options.js';
import type { ReplayStore } from './types.js';

/** Remembered `jti`s at most before expired ones are swept on the next insert. */
const SWEEP_THRESHOLD = 10_000;

/**
 * The default replay cache: `jti`s remembered in this process's memory until their proof is
 * too old. An API running in several processes needs a shared store instead.
 *
 * @internal
 */
export class MemoryReplayStore implements ReplayStore {
  readonly #uses = new Map<string, { count: number; expiresAt: number }>();

  async takeUse(key: string, maxUses: number, ttlSeconds: number): Promise<boolean> {
    const now = Date.now();
    if (this.#uses.size >= SWEEP_THRESHOLD) {
      for (const [stored, entry] of this.#uses) {
        if (entry.expiresAt <= now) this.#uses.delete(stored);
      }
    }
    const entry = this.#uses.get(key);
    const live = entry && entry.expiresAt > now ? entry : undefined;
    if (live && live.count >= maxUses) return false;
    this.#uses.set(key, {
      count: (live?.count ?? 0) + 1,
      expiresAt: live?.expiresAt ?? now + ttlSeconds * 1000,
    });
    return true;
  }
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');

/** RFC 9449 §4.3 step 9: `htu` is compared without query and fragment. */
const withoutQuery = (url: URL) => `${url.protocol}//${url.host}${url.pathname}`;

// RFC 3986 §2.3: characters that mean the same percent-encoded or not.
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/**
 * `withoutQuery` after RFC 3986 §6.2.2 syntax-based normalisation, which RFC 9449 §4.3 says
 * servers should apply to `htu`. WHATWG parsing already did the case of scheme and host, the
 * default port and dot segments (encoded ones too); left are the case of percent-encodings
 * (§6.2.2.1) and the decoding of unreserved characters (§6.2.2.2).
 */
function normalizedTarget(url: URL): string {
  const path = url.pathname.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => {
    const character = String.fromCharCode(Number.parseInt(hex, 16));
    return UNRESERVED.test(character) ? character : `%${hex.toUpperCase()}`;
  });
  return `${url.protocol}//${url.host}${path}`;
}

/**
 * Whether `htu` names the request's URL (RFC 9449 §4.3 step 9): exactly as parsed, which is
 * the common case and costs no normalisation, or once both are normalised. An `htu` with
 * userinfo is refused: RFC 9110 §4.2.4 forbids generating it, so no honest client does.
 */
function sameTarget(htu: unknown, url: URL): boolean {
  if (typeof htu !== 'string' || !URL.canParse(htu)) return false;
  const named = new URL(htu);
  if (named.username || named.password) return false;
  return (
    withoutQuery(named) === withoutQuery(url) || normalizedTarget(named) === normalizedTarget(url)
  );
}

/**
 * An `invalid_dpop_proof` refusal, challenging with the DPoP scheme and the accepted
 * algorithms (RFC 9449 §7.1).
 *
 * @internal
 */
export function proofRefusal(
  description: string,
  algorithms: readonly string[],
  cause?: unknown,
): TokenVerificationError {
  return new TokenVerificationError(
    { error: 'invalid_dpop_proof', description, scheme: 'DPoP', algs: algorithms },
    cause === undefined ? undefined : { cause },
  );
}

/** What a proof is checked against. @internal */
export interface ProofContext {
  /** The `DPoP` header's values (none, one, or several). */
  proofs: string[];
  method: string;
  url: URL;
  accessToken: string;
  /** The thumbprint the token is bound to (`cnf.jkt`). */
  jkt: string;
  settings: Pick<ResolvedVerifierOptions, 'clockSkewSeconds'> & {
    algorithms: string[];
    maxAgeSeconds: number;
    store: ReplayStore;
  };
}

/**
 * Checks the DPoP proof of a request with a DPoP-bound token (RFC 9449 §4.3, §7.1): one proof,
 * `typ` `dpop+jwt`, an allowed asymmetric `alg`, a public `jwk` that verifies it and whose
 * thumbprint is the token's `cnf.jkt`, `htm` and `htu` of this request (`htu` compared after
 * RFC 3986 §6.2.2 normalisation), a recent numeric `iat`, `ath` of this token, a string `nonce`
 * if any, and a string `jti` not seen before (taken last, so a refused proof spends nothing).
 *
 * @throws TokenVerificationError `invalid_dpop_proof`; `temporarily_unavailable` when the
 *   replay store fails.
 * @internal
 */
export async function verifyDpopProof(context: ProofContext): Promise<void> {
  const { proofs, method, url, accessToken, jkt, settings } = context;
  const refuse = (description: string, cause?: unknown) =>
    proofRefusal(description, settings.algorithms, cause);
  if (proofs.length === 0) throw refuse('the token is DPoP-bound: the request needs a DPoP proof');
  const proof = proofs[0] as string;
  // Node joins repeated DPoP headers with a comma, which no compact JWS contains.
  if (proofs.length > 1 || proof.includes(',')) {
    throw refuse('the request has more than one DPoP proof');
  }
  if (tokenShape(proof) !== 'jws') throw refuse('the DPoP proof is not a single compact JWS');
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(proof);
  } catch (cause) {
    throw refuse('the DPoP proof is malformed', cause);
  }
  if (header.typ !== 'dpop+jwt') throw refuse('the DPoP proof typ must be dpop+jwt');
  if (typeof header.alg !== 'string' || !settings.algorithms.includes(header.alg)) {
    throw refuse('the DPoP proof signing algorithm is not accepted');
  }
  const jwk = header.jwk;
  if (!isJsonObject(jwk) || 'd' in jwk || 'k' in jwk) {
    throw refuse('the DPoP proof jwk must be a public key');
  }
  let claims: Record<string, unknown>;
  try {
    ({ payload: claims } = await jwtVerify(proof, EmbeddedJWK, {
      typ: 'dpop+jwt',
      algorithms: settings.algorithms,
      maxTokenAge: settings.maxAgeSeconds,
      clockTolerance: settings.clockSkewSeconds,
      requiredClaims: ['jti', 'htm', 'htu', 'iat', 'ath'],
    }));
  } catch (cause) {
    if (cause instanceof joseErrors.JWTExpired) throw refuse('the DPoP proof is too old', cause);
    if (cause instanceof joseErrors.JWTClaimValidationFailed) {
      throw refuse(`the DPoP proof ${cause.claim} claim is missing or invalid`, cause);
    }
    if (cause instanceof joseErrors.JWSSignatureVerificationFailed) {
      throw refuse('the DPoP proof signature is invalid', cause);
    }
    throw refuse('the DPoP proof is malformed', cause);
  }
  const { jti, htm, htu, ath, iat, nonce } = claims;
  if (typeof jti !== 'string' || jti === '' || jti.length > 512) {
    throw refuse('the DPoP proof jti is missing or invalid');
  }
  if (htm !== method) throw refuse('the DPoP proof is for another HTTP method (htm)');
  if (!sameTarget(htu, url)) throw refuse('the DPoP proof is for another URL (htu)');
  // RFC 9449 §4.2: a nonce is a string; this API never asks for one, so its value is not checked.
  if (nonce !== undefined && typeof nonce !== 'string') {
    throw refuse('the DPoP proof nonce claim is invalid');
  }
  if (ath !== sha256(accessToken)) throw refuse('the DPoP proof is for another access token (ath)');
  const thumbprint = await calculateJwkThumbprint(jwk as JWK, 'sha256');
  if (thumbprint !== jkt) {
    throw refuse('the DPoP proof is signed with another key than the token is bound to');
  }
  // Remembered as long as the proof could be accepted: until iat + max age + skew.
  const acceptedUntil = (iat as number) + settings.maxAgeSeconds + settings.clockSkewSeconds;
  const ttlSeconds = Math.max(1, Math.ceil(acceptedUntil - Date.now() / 1000));
  let fresh: boolean;
  try {
    fresh = await settings.store.takeUse(`dpop-jti:${sha256(thumbprint + jti)}`, 1, ttlSeconds);
  } catch (cause) {
    throw unavailable('the DPoP replay store could not be reached', cause);
  }
  if (!fresh) throw refuse('the DPoP proof was already used (jti)');
}
