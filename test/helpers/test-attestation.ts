// A made-up evidence format, "test-ca", on an honestly generated test PKI: the device key's
// certificate is issued by a test root and carries the binding hash in a private extension, the
// way Android key attestation carries its challenge. Stands in for platform verifiers (#7).
import 'reflect-metadata';
import { createPublicKey, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { exportJWK, type JWK } from 'jose';
import {
  AttestationError,
  attestationBinding,
  type EvidenceVerifier,
  type Template,
  type VerifiedEvidence,
} from 'mobile-oidc-provider';
import { APP_REDIRECT_URI } from './fixture.js';
// test-pki also sets @peculiar/x509's crypto provider.
import { EC } from './test-pki.js';

type CryptoKey = webcrypto.CryptoKey;

/** The format name the test verifier is registered under. */
export const TEST_FORMAT = 'test-ca';
// A private-use OID (under 1.3.6.1.4.1.0 "reserved") for the binding hash extension.
const BINDING_OID = '1.3.6.1.4.1.0.7638.1';

/** A test certificate authority that attests device keys. */
export interface TestCa {
  root: x509.X509Certificate;
  /** Attests `deviceKey` for `appId`, embedding `bindingHash`. @returns the evidence. */
  attest(options: {
    deviceKey: CryptoKey;
    appId: string;
    bindingHash: Uint8Array;
    notAfter?: Date;
  }): Promise<{ x5c: string[] }>;
}

export async function createTestCa(name = 'Test Attestation Root'): Promise<TestCa> {
  const keys = await webcrypto.subtle.generateKey(EC, false, ['sign', 'verify']);
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: `CN=${name}`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 86_400_000),
    keys,
    signingAlgorithm: EC,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true)],
  });
  let serial = 1;
  return {
    root,
    async attest({ deviceKey, appId, bindingHash, notAfter }) {
      serial += 1;
      const leaf = await x509.X509CertificateGenerator.create({
        serialNumber: serial.toString(16).padStart(2, '0'),
        subject: `CN=${appId}`,
        issuer: root.subject,
        notBefore: new Date(Date.now() - 60_000),
        notAfter: notAfter ?? new Date(Date.now() + 3_600_000),
        publicKey: deviceKey,
        signingKey: keys.privateKey,
        signingAlgorithm: EC,
        extensions: [new x509.Extension(BINDING_OID, false, bindingHash)],
      });
      return { x5c: [Buffer.from(leaf.rawData).toString('base64')] };
    },
  };
}

/** A device: its key pair, as an app would generate it in its keystore. */
export async function createDeviceKey(): Promise<{
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
}> {
  const { privateKey, publicKey } = await webcrypto.subtle.generateKey(EC, true, [
    'sign',
    'verify',
  ]);
  const jwk = { ...(await exportJWK(publicKey)), alg: 'ES256', use: 'sig' };
  return { privateKey, publicKey, jwk };
}

/** Evidence for `device`, bound to `challenge` and to the key it registers (`registers`). */
export async function evidenceFor(
  ca: TestCa,
  challenge: string,
  device: { publicKey: CryptoKey; jwk: JWK },
  {
    appId = ATTESTED_APP_ID,
    registers = device.jwk,
    notAfter,
  }: { appId?: string; registers?: JWK; notAfter?: Date } = {},
) {
  const binding = await attestationBinding(challenge, registers);
  return ca.attest({
    deviceKey: device.publicKey,
    appId,
    bindingHash: binding.clientDataHash,
    ...(notAfter ? { notAfter } : {}),
  });
}

/**
 * The test format's verifier: the leaf must be issued by `root` and valid now, carry the binding
 * hash of this challenge and registered key, and its key is the attested key.
 */
export function testCaVerifier(root: x509.X509Certificate): EvidenceVerifier {
  return async (evidence, { binding }): Promise<VerifiedEvidence> => {
    const chain = (evidence as { x5c?: unknown } | null)?.x5c;
    if (!Array.isArray(chain) || typeof chain[0] !== 'string') {
      throw new AttestationError('malformed', 'test-ca evidence must be { x5c: [leaf] }');
    }
    const leaf = new x509.X509Certificate(Buffer.from(chain[0], 'base64'));
    const now = new Date();
    if (leaf.notBefore > now || leaf.notAfter < now) {
      throw new AttestationError(
        'certificate_expired',
        'the attestation certificate is not valid now',
      );
    }
    if (
      leaf.issuer !== root.subject ||
      !(await leaf.verify({ publicKey: root.publicKey, signatureOnly: true }))
    ) {
      throw new AttestationError(
        'chain_untrusted',
        'the attestation certificate is not from a trusted root',
      );
    }
    const bound = leaf.getExtension(BINDING_OID);
    if (
      !bound ||
      Buffer.compare(Buffer.from(bound.value), Buffer.from(binding.clientDataHash)) !== 0
    ) {
      throw new AttestationError(
        'challenge_mismatch',
        'the evidence does not answer this challenge',
      );
    }
    const attestedKey = createPublicKey({
      key: Buffer.from(leaf.publicKey.rawData),
      format: 'der',
      type: 'spki',
    }).export({
      format: 'jwk',
    }) as JWK;
    return {
      platform: 'test',
      appId: leaf.subjectName.getField('CN')[0] ?? '',
      binding: 'attested-key',
      attestedKey,
      keyId: leaf.serialNumber,
      verdicts: ['test-ca-trusted'],
    };
  };
}

/** The `software_id` of the attested template the cross-process server serves. */
export const ATTESTED_SOFTWARE_ID = 'com.example.attested';

/** The app id the test CA attests by default. */
export const ATTESTED_APP_ID = 'com.example.attested';

/** A template whose installs register with test-ca evidence, alone or with a user's DCR token. */
export function attestedTemplate(softwareId: string, user: 'optional' | 'required'): Template {
  return {
    software_id: softwareId,
    client: {
      redirect_uris: [APP_REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'private_key_jwt',
      scope: 'openid offline_access payments',
    },
    instanceFields: ['jwks', 'software_version'],
    attestation: { formats: [TEST_FORMAT], user, appIds: [ATTESTED_APP_ID] },
  };
}
