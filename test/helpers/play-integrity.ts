// Play Integrity tokens as Google's servers make them for "manage responses yourself": an ES256
// JWS wrapped in an A256KW/A256GCM JWE, with keys generated per run (Play Console's stand-ins).
import { createSecretKey, randomBytes } from 'node:crypto';
import { CompactEncrypt, CompactSign, exportSPKI, generateKeyPair } from 'jose';

/** Play Console's two keys, as base64 strings the way it shows them, and the signing key. */
export interface PlayKeys {
  decryptionKey: string;
  verificationKey: string;
  sign: (payload: object, alg?: 'ES256' | 'ES384') => Promise<string>;
}

/** The SHA-256 digest of a made-up app signing certificate, base64url as Play reports it. */
export const SIGNING_DIGEST = Buffer.alloc(32, 7).toString('base64url');
export const PACKAGE_NAME = 'io.example.app';

export async function createPlayKeys(): Promise<PlayKeys> {
  const aes = randomBytes(32);
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const p384 = await generateKeyPair('ES384');
  const spki = (await exportSPKI(publicKey)).replace(/-----[^-]+-----|\s/g, '');
  return {
    decryptionKey: aes.toString('base64'),
    verificationKey: spki,
    async sign(payload, alg = 'ES256') {
      const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
        .setProtectedHeader({ alg })
        .sign(alg === 'ES256' ? privateKey : p384.privateKey);
      return new CompactEncrypt(new TextEncoder().encode(jws))
        .setProtectedHeader({ alg: 'A256KW', enc: 'A256GCM' })
        .encrypt(createSecretKey(aes));
    },
  };
}

/** A token payload for a genuine device and app, answering `nonce`. */
export function integrityPayload(nonce: string, now = Date.now()) {
  return {
    requestDetails: { requestPackageName: PACKAGE_NAME, nonce, timestampMillis: String(now) },
    appIntegrity: {
      appRecognitionVerdict: 'PLAY_RECOGNIZED',
      packageName: PACKAGE_NAME,
      certificateSha256Digest: [SIGNING_DIGEST],
      versionCode: '42',
    },
    deviceIntegrity: {
      deviceRecognitionVerdict: ['MEETS_DEVICE_INTEGRITY', 'MEETS_BASIC_INTEGRITY'],
    },
    accountDetails: { appLicensingVerdict: 'LICENSED' },
  };
}
