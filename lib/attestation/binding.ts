import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';

/**
 * What a device must sign or embed so its evidence is bound to one challenge and to the key the
 * instance registers. Apps compute the same values (see docs/attestation.md, "Binding evidence to the
 * registered key"):
 *
 * - `thumbprint` = the RFC 7638 SHA-256 JWK thumbprint of the registered public key, base64url;
 * - `clientData` = the UTF-8 string `<attestation_challenge>.<thumbprint>`;
 * - `clientDataHash` = SHA-256(`clientData`): App Attest's `clientDataHash`, and the Android
 *   key attestation challenge;
 * - `nonce` = base64url(`clientDataHash`): the Play Integrity `nonce`.
 *
 * @group Attestation
 */
export interface AttestationBinding {
  /** The RFC 7638 SHA-256 thumbprint of the registered key, base64url. */
  thumbprint: string;
  /** `<challenge>.<thumbprint>`: the client data the device signs. */
  clientData: string;
  /** SHA-256 of `clientData`. */
  clientDataHash: Uint8Array;
  /** `clientDataHash`, base64url without padding. */
  nonce: string;
}

/**
 * Computes the binding of evidence to a challenge and a registered public key.
 *
 * @param challenge - the `attestation_challenge` the challenge endpoint returned.
 * @param publicKey - the public JWK the instance registers in its `jwks`.
 * @group Attestation
 */
export async function attestationBinding(
  challenge: string,
  publicKey: JWK,
): Promise<AttestationBinding> {
  const thumbprint = await calculateJwkThumbprint(publicKey, 'sha256');
  const clientData = `${challenge}.${thumbprint}`;
  const clientDataHash = new Uint8Array(createHash('sha256').update(clientData, 'utf8').digest());
  return {
    thumbprint,
    clientData,
    clientDataHash,
    nonce: Buffer.from(clientDataHash).toString('base64url'),
  };
}

// The RFC 7638 thumbprints of a JWK Set's keys, or undefined when a key has none (malformed).
async function thumbprints(jwks: unknown): Promise<string[] | undefined> {
  const keys = (jwks as { keys?: unknown } | null | undefined)?.keys;
  if (keys === undefined) return [];
  if (!Array.isArray(keys)) return undefined;
  try {
    const all = await Promise.all(keys.map((key) => calculateJwkThumbprint(key as JWK, 'sha256')));
    return [...new Set(all)].sort();
  } catch {
    return undefined;
  }
}

/**
 * Whether two `jwks` values hold the same public keys (by RFC 7638 thumbprint: a changed `kid`,
 * `use` or key order is the same key material). A malformed key set is never the same.
 *
 * @internal
 */
export async function sameKeyMaterial(a: unknown, b: unknown): Promise<boolean> {
  const [left, right] = await Promise.all([thumbprints(a), thumbprints(b)]);
  return left !== undefined && right !== undefined && left.join(' ') === right.join(' ');
}
