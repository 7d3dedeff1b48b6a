// Generated Android key attestations: a test root issues the device key's certificate with a
// KeyDescription built by @peculiar/asn1-android, for the branches real chains do not reach
// (imported keys, software keys, self-signed boot) and for end-to-end registration.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import {
  AttestationApplicationId,
  AttestationPackageInfo,
  AuthorizationList,
  id_ce_keyDescription,
  KeyDescription,
  RootOfTrust,
  SecurityLevel,
  VerifiedBootState,
} from '@peculiar/asn1-android';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import * as x509 from '@peculiar/x509';
import * as asn1js from 'asn1js';
import { EC } from './test-pki.js';

/** What the generated attestation says. */
export interface AndroidClaims {
  challenge: Uint8Array;
  packageName?: string;
  signingDigest?: Uint8Array;
  securityLevel?: SecurityLevel;
  origin?: number;
  bootState?: VerifiedBootState;
  deviceLocked?: boolean;
  /** Add a hardware-enforced tag no parser knows yet ([9999], as a future KeyMint might). */
  unknownTag?: boolean;
}

export const TEST_PACKAGE = 'io.example.app';
export const TEST_SIGNING_DIGEST = new Uint8Array(32).fill(9);

/** A test attestation root that attests device keys as Android's keystore does. */
export async function createAndroidRoot() {
  const keys = await webcrypto.subtle.generateKey(EC, false, ['sign', 'verify']);
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '0a',
    name: 'CN=Test Key Attestation Root',
    notBefore: new Date(Date.now() - 3_600_000),
    notAfter: new Date(Date.now() + 86_400_000),
    keys,
    signingAlgorithm: EC,
    extensions: [new x509.BasicConstraintsExtension(true, 1, true)],
  });
  return {
    pem: root.toString('pem'),
    /** The chain `[leaf, root]`, base64 DER, attesting `deviceKey` with `claims`. */
    async attest(deviceKey: webcrypto.CryptoKey, claims: AndroidClaims): Promise<string[]> {
      const level = claims.securityLevel ?? SecurityLevel.trustedEnvironment;
      const applicationId = new AttestationApplicationId({
        packageInfos: [
          new AttestationPackageInfo({
            packageName: new OctetString(Buffer.from(claims.packageName ?? TEST_PACKAGE)),
            version: 42,
          }),
        ],
        signatureDigests: [new OctetString(claims.signingDigest ?? TEST_SIGNING_DIGEST)],
      });
      const hardware = new AuthorizationList({
        origin: claims.origin ?? 0,
        rootOfTrust: new RootOfTrust({
          verifiedBootKey: new OctetString(new Uint8Array(32).fill(1)),
          deviceLocked: claims.deviceLocked ?? true,
          verifiedBootState: claims.bootState ?? VerifiedBootState.verified,
        }),
        osVersion: 150000,
        osPatchLevel: 202501,
      });
      const software = new AuthorizationList({
        attestationApplicationId: new OctetString(AsnConvert.serialize(applicationId)),
      });
      const description = new KeyDescription({
        attestationVersion: 300,
        attestationSecurityLevel: level,
        keymasterVersion: 300,
        keymasterSecurityLevel: level,
        attestationChallenge: new OctetString(claims.challenge),
        uniqueId: new OctetString(new Uint8Array(0)),
        // A software key's authorizations are all software-enforced.
        softwareEnforced:
          level === SecurityLevel.software ? mergeLists(software, hardware) : software,
        teeEnforced: level === SecurityLevel.software ? new AuthorizationList() : hardware,
      });
      const leaf = await x509.X509CertificateGenerator.create({
        serialNumber: '01',
        subject: 'CN=Android Keystore Key',
        issuer: root.subject,
        notBefore: new Date(Date.now() - 60_000),
        notAfter: new Date(Date.now() + 3_600_000),
        publicKey: deviceKey,
        signingKey: keys.privateKey,
        signingAlgorithm: EC,
        extensions: [
          new x509.Extension(
            id_ce_keyDescription,
            false,
            claims.unknownTag
              ? withUnknownTag(AsnConvert.serialize(description))
              : AsnConvert.serialize(description),
          ),
        ],
      });
      return [leaf, root].map((c) => Buffer.from(c.rawData).toString('base64'));
    },
  };
}

function mergeLists(a: AuthorizationList, b: AuthorizationList): AuthorizationList {
  const defined = (list: AuthorizationList) =>
    Object.fromEntries(Object.entries(list).filter(([, value]) => value !== undefined));
  return new AuthorizationList({ ...defined(b), ...defined(a) });
}

/** The KeyDescription with an extra [9999] INTEGER at the end of its hardware-enforced list. */
function withUnknownTag(der: ArrayBuffer): ArrayBuffer {
  const sequence = asn1js.fromBER(der).result as asn1js.Sequence;
  const hardware = sequence.valueBlock.value[7] as asn1js.Sequence;
  hardware.valueBlock.value.push(
    new asn1js.Constructed({
      idBlock: { tagClass: 3, tagNumber: 9999 },
      value: [new asn1js.Integer({ value: 1 })],
    }),
  );
  return sequence.toBER(false);
}
