// Generated Android key attestations: a test root issues the device key's certificate with a
// KeyDescription built by @peculiar/asn1-android, for the branches real chains do not reach
// (imported keys, software keys, self-signed boot) and for end-to-end registration; and
// multi-level chains, proper or forged, certificate by certificate (issueCert).
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
  /** User-authentication tags in the hardware-enforced list (teeEnforced). */
  userAuth?: UserAuthTags;
  /** User-authentication tags in the software-enforced list. */
  softwareUserAuth?: UserAuthTags;
}

/** The KeyDescription's user-authentication tags, as Android's keystore writes them. */
export interface UserAuthTags {
  /** noAuthRequired [503]: the key needs no user authentication. */
  noAuthRequired?: boolean;
  /** userAuthType [504]: HardwareAuthenticatorType bits (1 password, 2 biometric, 0xFFFFFFFF any). */
  userAuthType?: number;
  /** authTimeout [505], seconds; absent: every use needs its own authentication. */
  authTimeout?: number;
}

/** A key unlocked by a strong biometric only, for each use (BiometricPrompt with a CryptoObject). */
export const BIOMETRIC_PER_USE: UserAuthTags = { userAuthType: 2 };

const userAuthFields = (tags: UserAuthTags | undefined) => ({
  ...(tags?.noAuthRequired ? { noAuthRequired: null } : {}),
  ...(tags?.userAuthType !== undefined ? { userAuthType: tags.userAuthType } : {}),
  ...(tags?.authTimeout !== undefined ? { authTimeout: tags.authTimeout } : {}),
});

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
      const leaf = await x509.X509CertificateGenerator.create({
        serialNumber: '01',
        subject: 'CN=Android Keystore Key',
        issuer: root.subject,
        notBefore: new Date(Date.now() - 60_000),
        notAfter: new Date(Date.now() + 3_600_000),
        publicKey: deviceKey,
        signingKey: keys.privateKey,
        signingAlgorithm: EC,
        extensions: [keyDescriptionExtension(claims)],
      });
      return [leaf, root].map((c) => Buffer.from(c.rawData).toString('base64'));
    },
  };
}

/** The KeyDescription extension (OID 1.3.6.1.4.1.11129.2.1.17) Android's keystore writes. */
export function keyDescriptionExtension(claims: AndroidClaims): x509.Extension {
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
    ...userAuthFields(claims.userAuth),
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
    ...userAuthFields(claims.softwareUserAuth),
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
    softwareEnforced: level === SecurityLevel.software ? mergeLists(software, hardware) : software,
    teeEnforced: level === SecurityLevel.software ? new AuthorizationList() : hardware,
  });
  const der = AsnConvert.serialize(description);
  return new x509.Extension(
    id_ce_keyDescription,
    false,
    claims.unknownTag ? withUnknownTag(der) : der,
  );
}

/** A generated certificate with its key pair, to issue certificates below it. */
export interface GeneratedCert {
  cert: x509.X509Certificate;
  keys: webcrypto.CryptoKeyPair;
}

/** What {@link issueCert} writes into a certificate. */
export interface CertSpec {
  subject: string;
  /** basicConstraints cA (critical); no basicConstraints when undefined, as Android leaves. */
  ca?: boolean;
  /** basicConstraints pathLenConstraint, with `ca: true`. */
  pathLen?: number;
  /** keyUsage bits (critical), e.g. `x509.KeyUsageFlags.keyCertSign`; none when undefined. */
  keyUsage?: number;
  /** A KeyDescription attesting the certificate's key with these claims. */
  claims?: AndroidClaims;
  /** The issuer name to write, when it must differ from the signer's subject. */
  issuerName?: string;
  /** More extensions, as given. */
  extensions?: x509.Extension[];
}

let serial = 0x100;

/**
 * Issues a certificate for `keys` (a fresh P-256 pair by default), signed by `issuer` (self-signed
 * without one): the building block of multi-level chains, proper or forged.
 */
export async function issueCert(
  spec: CertSpec,
  issuer?: GeneratedCert,
  keys?: webcrypto.CryptoKeyPair,
): Promise<GeneratedCert> {
  keys ??= await webcrypto.subtle.generateKey(EC, false, ['sign', 'verify']);
  const extensions: x509.Extension[] = [];
  if (spec.ca !== undefined) {
    extensions.push(new x509.BasicConstraintsExtension(spec.ca, spec.pathLen, true));
  }
  if (spec.keyUsage !== undefined) {
    extensions.push(new x509.KeyUsagesExtension(spec.keyUsage, true));
  }
  if (spec.claims) extensions.push(keyDescriptionExtension(spec.claims));
  extensions.push(...(spec.extensions ?? []));
  serial += 1;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial.toString(16),
    subject: spec.subject,
    issuer: spec.issuerName ?? issuer?.cert.subject ?? spec.subject,
    notBefore: new Date(Date.now() - 3_600_000),
    notAfter: new Date(Date.now() + 86_400_000),
    publicKey: keys.publicKey,
    signingKey: (issuer?.keys ?? keys).privateKey,
    signingAlgorithm: EC,
    extensions,
  });
  return { cert, keys };
}

/** A chain as verifiers take it: base64 DER, leaf first. */
export const chainOf = (...certs: GeneratedCert[]): string[] =>
  certs.map((c) => Buffer.from(c.cert.rawData).toString('base64'));

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
