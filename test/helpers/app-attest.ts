// Generated App Attest attestations: a test root and intermediate issue the credential
// certificate with the nonce extension, and the attestation object is CBOR-encoded as iOS does,
// for AAGUID variants and end-to-end registration (real attestations are in test/fixtures).
import 'reflect-metadata';
import { createHash, KeyObject, sign, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { isoCBOR } from '@simplewebauthn/server/helpers';
import { EC } from './test-pki.js';

const sha256 = (...parts: Uint8Array[]) => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
};

export const TEST_APP_ID = 'TEAMID1234.io.example.app';
export const PRODUCTION_AAGUID = Buffer.concat([Buffer.from('appattest'), Buffer.alloc(7)]);

/** A test App Attestation CA: root and intermediate, as Apple's. */
export async function createAppAttestCa() {
  const rootKeys = await webcrypto.subtle.generateKey(EC, false, ['sign', 'verify']);
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=Test App Attestation Root CA',
    notBefore: new Date(Date.now() - 3_600_000),
    notAfter: new Date(Date.now() + 86_400_000),
    keys: rootKeys,
    signingAlgorithm: EC,
    extensions: [new x509.BasicConstraintsExtension(true, 1, true)],
  });
  const caKeys = await webcrypto.subtle.generateKey(EC, false, ['sign', 'verify']);
  const intermediate = await x509.X509CertificateGenerator.create({
    serialNumber: '02',
    subject: 'CN=Test App Attestation CA 1',
    issuer: root.subject,
    notBefore: new Date(Date.now() - 3_600_000),
    notAfter: new Date(Date.now() + 86_400_000),
    publicKey: caKeys.publicKey,
    signingKey: rootKeys.privateKey,
    signingAlgorithm: EC,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true)],
  });
  return {
    rootPem: root.toString('pem'),
    /**
     * An attestation of a new App Attest key for `clientData` (whose SHA-256 the app passes as
     * clientDataHash). @returns the evidence the apple-appattest format takes.
     */
    async attest(clientData: Uint8Array, { appId = TEST_APP_ID, aaguid = PRODUCTION_AAGUID } = {}) {
      const keys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']);
      const point = Buffer.from(await webcrypto.subtle.exportKey('raw', keys.publicKey));
      const keyId = sha256(point);
      // rpIdHash ‖ flags ‖ counter 0 ‖ aaguid ‖ credential id length ‖ credential id (the COSE
      // key that follows is not read by verifiers; a short stand-in keeps the layout honest).
      const authData = Buffer.concat([
        sha256(Buffer.from(appId)),
        Buffer.from([0x40]),
        Buffer.alloc(4),
        aaguid,
        Buffer.from([0x00, 0x20]),
        keyId,
        Buffer.from([0xa0]),
      ]);
      const nonce = sha256(authData, sha256(clientData));
      const credential = await x509.X509CertificateGenerator.create({
        serialNumber: '03',
        subject: `CN=${keyId.toString('hex')}`,
        issuer: intermediate.subject,
        notBefore: new Date(Date.now() - 60_000),
        notAfter: new Date(Date.now() + 3_600_000),
        publicKey: keys.publicKey,
        signingKey: caKeys.privateKey,
        signingAlgorithm: EC,
        extensions: [
          new x509.Extension(
            '1.2.840.113635.100.8.2',
            false,
            Buffer.concat([Buffer.from([0x30, 0x24, 0xa1, 0x22, 0x04, 0x20]), nonce]),
          ),
        ],
      });
      const object = new Map<string, unknown>([
        ['fmt', 'apple-appattest'],
        [
          'attStmt',
          new Map<string, unknown>([
            ['x5c', [new Uint8Array(credential.rawData), new Uint8Array(intermediate.rawData)]],
            ['receipt', new Uint8Array([1, 2, 3])],
          ]),
        ],
        ['authData', new Uint8Array(authData)],
      ]);
      return {
        attestation: Buffer.from(isoCBOR.encode(object as never)).toString('base64'),
        keyId: keyId.toString('base64'),
        /** The App Attest key's private half: what the Secure Enclave keeps. */
        privateKey: keys.privateKey,
      };
    },
  };
}

/**
 * An App Attest assertion, as `generateAssertion(keyId, SHA-256(clientData))` makes it, with the
 * key's counter at `counter`. @returns base64 CBOR.
 */
export async function appAttestAssertion(
  privateKey: webcrypto.CryptoKey,
  clientData: Uint8Array,
  counter: number,
  appId = TEST_APP_ID,
): Promise<string> {
  const counterBytes = Buffer.alloc(4);
  counterBytes.writeUInt32BE(counter);
  const authenticatorData = Buffer.concat([
    sha256(Buffer.from(appId)),
    Buffer.from([0x40]),
    counterBytes,
  ]);
  const nonce = sha256(authenticatorData, sha256(clientData));
  const key = KeyObject.from(privateKey);
  const signature = sign('sha256', nonce, { key, dsaEncoding: 'der' });
  const assertion = new Map<string, unknown>([
    ['signature', new Uint8Array(signature)],
    ['authenticatorData', new Uint8Array(authenticatorData)],
  ]);
  return Buffer.from(isoCBOR.encode(assertion as never)).toString('base64');
}
