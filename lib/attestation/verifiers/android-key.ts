import type { X509Certificate } from 'node:crypto';
import {
  AttestationApplicationId,
  type AuthorizationList,
  id_ce_keyDescription,
  KeyDescription,
  VerifiedBootState,
} from '@peculiar/asn1-android';
import { AsnConvert } from '@peculiar/asn1-schema';
import * as asn1js from 'asn1js';
import type { JWK } from 'jose';
import { AttestationError } from '../../core/errors.js';
import type { KeyUserAuthentication, KeyUserAuthMethod } from '../../core/instance-record.js';
import type { EvidenceVerifier } from '../types.js';
import { bytesOf } from './encoding.js';
import { GOOGLE_HARDWARE_ATTESTATION_ROOTS } from './google-roots.js';
import { extensionValue, parseCertificate, verifyChain } from './x509.js';

/**
 * Where an Android key lives, weakest first.
 *
 * @group Android Key Attestation
 */
export type AndroidSecurityLevel = 'SOFTWARE' | 'TRUSTED_ENVIRONMENT' | 'STRONG_BOX';

/**
 * The verified boot state of the device (Android's RootOfTrust).
 *
 * @group Android Key Attestation
 */
export type VerifiedBootStateName = 'VERIFIED' | 'SELF_SIGNED' | 'UNVERIFIED' | 'FAILED';

const LEVELS: readonly AndroidSecurityLevel[] = ['SOFTWARE', 'TRUSTED_ENVIRONMENT', 'STRONG_BOX'];
const BOOT_STATES: Record<number, VerifiedBootStateName> = {
  [VerifiedBootState.verified]: 'VERIFIED',
  [VerifiedBootState.selfSigned]: 'SELF_SIGNED',
  [VerifiedBootState.unverified]: 'UNVERIFIED',
  [VerifiedBootState.failed]: 'FAILED',
};
// KeyMint's KeyOrigin: the key was generated inside the secure hardware.
const ORIGIN_GENERATED = 0;

/**
 * Google's attestation status list, as published (`entries` by certificate serial number).
 *
 * @group Android Key Attestation
 */
export interface AndroidRevocationList {
  /** Revoked or suspended certificates, by serial number in lowercase hex. */
  entries: Record<string, AndroidRevocationEntry>;
  /** When your copy was fetched from Google: checked against `maxRevocationListAge`. */
  fetchedAt?: Date;
}

/**
 * One entry of Google's attestation status list.
 *
 * @group Android Key Attestation
 */
export interface AndroidRevocationEntry {
  /** `REVOKED` or `SUSPENDED`. */
  status: string;
  /** Why, e.g. `KEY_COMPROMISE`. */
  reason?: string;
}

/**
 * What {@link verifyAndroidKeyAttestation} checks a chain against.
 *
 * @group Android Key Attestation
 */
export interface AndroidKeyAttestationOptions {
  /** The attestation certificate chain, leaf first: PEM or base64 DER strings. */
  chain: string[];
  /** The attestation challenge the app set (`setAttestationChallenge`). */
  challenge: Uint8Array;
  /** Package names accepted. */
  packageNames: string[];
  /** SHA-256 digests of the app signing certificates accepted (hex, base64 or base64url). */
  signingCertDigests: string[];
  /**
   * The weakest place the key may live.
   *
   * @default 'TRUSTED_ENVIRONMENT'
   */
  minSecurityLevel?: AndroidSecurityLevel;
  /**
   * Require a verified boot (`VERIFIED`: a locked bootloader running the vendor's image).
   *
   * @default true
   */
  requireVerifiedBoot?: boolean;
  /**
   * Require a locked bootloader.
   *
   * @default true
   */
  requireDeviceLocked?: boolean;
  /**
   * Trusted roots, PEM certificates; the chain's last certificate must have one's public key.
   *
   * @default GOOGLE_HARDWARE_ATTESTATION_ROOTS
   */
  roots?: readonly string[];
  /** Google's status list; any certificate of the chain listed in it is refused. */
  revocationList?: AndroidRevocationList;
  /**
   * The oldest status list accepted, in seconds since its `fetchedAt`. When set, a missing list,
   * a list without `fetchedAt` or an older one fails closed (`revocation_list_stale`). Unset,
   * the list is used as given.
   */
  maxRevocationListAge?: number;
  /** The time to check validity periods at. @default the current time */
  now?: Date;
}

/**
 * What a verified Android key attestation says.
 *
 * @group Android Key Attestation
 */
export interface AndroidKeyAttestation {
  /** Where the attestation was made. */
  securityLevel: AndroidSecurityLevel;
  /** Where the Keymaster/KeyMint implementation runs. */
  keyMintSecurityLevel: AndroidSecurityLevel;
  /** The attestation format version (e.g. 4, 100, 400). */
  attestationVersion: number;
  /** The package names of the attesting app. */
  packageNames: string[];
  /** Its signing certificate digests, base64. */
  signingCertDigests: string[];
  /** The attested public key: the key the app generated. */
  publicKeyJwk: JWK;
  /** The device's verified boot state, when the attestation reports it. */
  verifiedBootState: VerifiedBootStateName | undefined;
  /** Whether the bootloader is locked, when reported. */
  deviceLocked: boolean | undefined;
  /** The OS version, e.g. 160000 for Android 16. */
  osVersion: number | undefined;
  /** The OS patch level, YYYYMM. */
  osPatchLevel: number | undefined;
  /**
   * How the user must authenticate before the key signs, when the secure hardware enforces it
   * (the hardware-enforced `userAuthType` and `authTimeout`); `undefined` when the key needs no
   * user authentication (`noAuthRequired` in either list, no `userAuthType`, or one of no known
   * kind), or only software claims it does.
   */
  userAuthentication: KeyUserAuthentication | undefined;
}

// Serial numbers as Google's status list writes them: lowercase hex without leading zeros.
const serialOf = (cert: X509Certificate) => cert.serialNumber.toLowerCase().replace(/^0+(?=.)/, '');

function checkRevocation(
  chain: X509Certificate[],
  list: AndroidRevocationList | undefined,
  maxAge: number | undefined,
  now: Date,
) {
  if (maxAge !== undefined) {
    const fetchedAt = list?.fetchedAt?.getTime();
    if (fetchedAt === undefined || now.getTime() - fetchedAt > maxAge * 1000) {
      throw new AttestationError(
        'revocation_list_stale',
        'the attestation status list is missing or too old to rely on',
      );
    }
  }
  for (const [i, cert] of chain.entries()) {
    const status = list?.entries[serialOf(cert)];
    if (status) {
      throw new AttestationError('revoked', `certificate ${i} is ${status.status.toLowerCase()}`);
    }
  }
}

// The AuthorizationList tags @peculiar/asn1-android knows (KeyMint 4). Newer devices add tags;
// its schema refuses any it does not know, so unknown ones are dropped before parsing.
const KNOWN_TAGS = new Set([
  1, 2, 3, 5, 6, 10, 200, 203, 303, 305, 400, 401, 402, 405, 503, 504, 505, 506, 507, 508, 509, 600,
  601, 701, 702, 703, 704, 705, 706, 709, 710, 711, 712, 713, 714, 715, 716, 717, 718, 719, 720,
  723, 724,
]);
// KeyDescription's two AuthorizationLists: softwareEnforced and teeEnforced/hardwareEnforced.
const AUTHORIZATION_LISTS = [6, 7];

function parseKeyDescription(extension: Buffer): KeyDescription {
  try {
    return AsnConvert.parse(extension, KeyDescription);
  } catch (error) {
    const parsed = asn1js.fromBER(new Uint8Array(extension));
    const sequence = parsed.result;
    if (parsed.offset === -1 || !(sequence instanceof asn1js.Sequence)) throw error;
    let dropped = false;
    for (const index of AUTHORIZATION_LISTS) {
      const list = sequence.valueBlock.value[index];
      if (!(list instanceof asn1js.Sequence)) throw error;
      const kept = list.valueBlock.value.filter(
        (item) => item.idBlock.tagClass === 3 && KNOWN_TAGS.has(item.idBlock.tagNumber),
      );
      dropped ||= kept.length !== list.valueBlock.value.length;
      list.valueBlock.value = kept;
    }
    if (!dropped) throw error;
    return AsnConvert.parse(sequence.toBER(false), KeyDescription);
  }
}

function keyDescription(leaf: X509Certificate): KeyDescription {
  const extension = extensionValue(leaf, id_ce_keyDescription);
  if (!extension) {
    throw new AttestationError(
      'malformed',
      'the leaf certificate has no key attestation extension',
    );
  }
  let description: KeyDescription;
  try {
    description = parseKeyDescription(extension);
  } catch (cause) {
    throw new AttestationError('malformed', 'the key attestation extension is malformed', {
      cause,
    });
  }
  // The parser reads BER leniently (a BOOLEAN of 0x01 is true); a RootOfTrust that is not the
  // exact DER of what was read is malformed, not "locked".
  const lists = [description.teeEnforced, description.softwareEnforced];
  for (const rootOfTrust of lists.map((list) => list.rootOfTrust)) {
    if (rootOfTrust && !extension.includes(Buffer.from(AsnConvert.serialize(rootOfTrust)))) {
      throw new AttestationError('malformed', 'the RootOfTrust is not DER-encoded');
    }
  }
  return description;
}

// asn1-schema yields OCTET STRINGs as ArrayBuffers or OctetString objects.
const bytes = (value: unknown): Buffer => {
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  const inner = (value as { buffer?: ArrayBuffer } | undefined)?.buffer;
  return inner instanceof ArrayBuffer ? Buffer.from(inner) : Buffer.alloc(0);
};

function applicationId(list: AuthorizationList): { packageNames: string[]; digests: Buffer[] } {
  if (!list.attestationApplicationId) {
    throw new AttestationError('app_id_mismatch', 'the attestation names no application');
  }
  try {
    const id = AsnConvert.parse(bytes(list.attestationApplicationId), AttestationApplicationId);
    return {
      packageNames: id.packageInfos.map((p) => bytes(p.packageName).toString('utf8')),
      digests: id.signatureDigests.map(bytes),
    };
  } catch (cause) {
    throw new AttestationError('malformed', 'the attestation application id is malformed', {
      cause,
    });
  }
}

// KeyMint's HardwareAuthenticatorType bits (ANY is every bit set).
const AUTHENTICATOR_BITS: ReadonlyArray<[number, KeyUserAuthMethod]> = [
  [1 << 1, 'biometric'],
  [1 << 0, 'credential'],
];

/**
 * What the hardware enforces about user authentication. Only the hardware-enforced list of a
 * hardware attestation counts: Android's keystore daemon, not the secure hardware, enforces the
 * software list, so a claim there binds nothing a compromised OS could not skip; and a software
 * attestation's lists are all the OS's word. `noAuthRequired` in either list wins.
 */
function userAuthenticationOf(
  description: KeyDescription,
  securityLevel: AndroidSecurityLevel,
): KeyUserAuthentication | undefined {
  const hardware = description.teeEnforced;
  if (
    securityLevel === 'SOFTWARE' ||
    hardware.noAuthRequired !== undefined ||
    description.softwareEnforced.noAuthRequired !== undefined ||
    hardware.userAuthType === undefined
  ) {
    return undefined;
  }
  // Some implementations write ANY (0xFFFFFFFF) as the signed INTEGER -1.
  const type = hardware.userAuthType >>> 0;
  const methods = AUTHENTICATOR_BITS.filter(([bit]) => (type & bit) !== 0).map(([, m]) => m);
  if (methods.length === 0) return undefined;
  // No AUTH_TIMEOUT: every use of the key needs its own authentication.
  // A negative timeout is read as the longest there is: it meets no bound.
  return { methods, timeout: (hardware.authTimeout ?? 0) >>> 0 };
}

const levelName = (level: number): AndroidSecurityLevel => LEVELS[level] ?? 'SOFTWARE';

/**
 * An RFC 5280 departure Google's own verifier (android/keyattestation) makes too: older
 * factory-provisioned devices (e.g. Sony Xperia 10 III, Android 13) sign the leaf with a batch
 * attestation key whose certificate is not a CA. Only the certificate right above the leaf may be
 * so, and only without a KeyDescription: an app's own attested keys always carry one, so none of
 * them can sign a leaf.
 */
const batchAttestationKey = (cert: X509Certificate, index: number) =>
  index === 1 && extensionValue(cert, id_ce_keyDescription) === undefined;

// Only the leaf describes the attested key (Google's "chain extension attack prevention"): a
// KeyDescription above it means a device-attested key signed the certificate below it.
function checkKeyDescriptionOnlyInLeaf(chain: X509Certificate[]) {
  for (const [i, cert] of chain.entries()) {
    if (i > 0 && extensionValue(cert, id_ce_keyDescription)) {
      throw new AttestationError(
        'key_description_duplicated',
        `certificate ${i} carries a key attestation extension: only the leaf may`,
      );
    }
  }
}

/**
 * Verifies an Android key attestation: the chain by RFC 5280 §6.1 path validation at `now`
 * (signatures, validity periods, name chaining, CA issuers with keyCertSign, path lengths, a
 * non-CA leaf, no unknown critical extension; only the leaf's direct issuer may be a non-CA batch
 * attestation key certificate, as on older devices) to a root pinned by public key, a
 * KeyDescription in the leaf only, Google's status list for every certificate, then the leaf's
 * KeyDescription: the challenge, the security level, the app's package name and signing
 * certificate, verified boot and a locked bootloader, and that the key was generated in secure
 * hardware. No network access.
 *
 * @throws AttestationError naming the failed check.
 * @group Android Key Attestation
 */
export async function verifyAndroidKeyAttestation(
  options: AndroidKeyAttestationOptions,
): Promise<AndroidKeyAttestation> {
  const {
    minSecurityLevel = 'TRUSTED_ENVIRONMENT',
    requireVerifiedBoot = true,
    requireDeviceLocked = true,
    now = new Date(),
  } = options;
  if (options.chain.length < 2) {
    throw new AttestationError('malformed', 'the attestation chain needs the leaf and its issuers');
  }
  const chain = options.chain.map((c, i) => parseCertificate(c, `certificate ${i}`));
  verifyChain(chain, options.roots ?? GOOGLE_HARDWARE_ATTESTATION_ROOTS, now, {
    nonCaIssuer: batchAttestationKey,
  });
  checkKeyDescriptionOnlyInLeaf(chain);
  checkRevocation(chain, options.revocationList, options.maxRevocationListAge, now);
  const leaf = chain[0] as X509Certificate;
  const description = keyDescription(leaf);

  if (!bytes(description.attestationChallenge).equals(Buffer.from(options.challenge))) {
    throw new AttestationError('challenge_mismatch', 'the attestation answers another challenge');
  }
  const securityLevel = levelName(description.attestationSecurityLevel);
  if (LEVELS.indexOf(securityLevel) < LEVELS.indexOf(minSecurityLevel)) {
    throw new AttestationError('security_level_too_low', `the key is not in ${minSecurityLevel}`);
  }
  const hardware = description.teeEnforced;
  const app = applicationId(description.softwareEnforced);
  if (!app.packageNames.some((name) => options.packageNames.includes(name))) {
    throw new AttestationError('app_id_mismatch', 'the attestation is for another app');
  }
  const accepted = options.signingCertDigests.map((d) =>
    bytesOf(d, 'a signing certificate digest'),
  );
  if (!app.digests.some((digest) => accepted.some((a) => a.equals(digest)))) {
    throw new AttestationError(
      'app_id_mismatch',
      'the app is not signed with an accepted certificate',
    );
  }
  // With a hardware-backed key, what matters is what the hardware enforces.
  const enforced = securityLevel === 'SOFTWARE' ? description.softwareEnforced : hardware;
  const rootOfTrust = enforced.rootOfTrust;
  const verifiedBootState =
    rootOfTrust === undefined ? undefined : BOOT_STATES[rootOfTrust.verifiedBootState];
  if (requireVerifiedBoot && verifiedBootState !== 'VERIFIED') {
    throw new AttestationError('boot_not_verified', 'the device did not boot a verified system');
  }
  if (requireDeviceLocked && rootOfTrust?.deviceLocked !== true) {
    throw new AttestationError('device_not_locked', 'the device bootloader is unlocked');
  }
  if (enforced.origin !== ORIGIN_GENERATED) {
    throw new AttestationError(
      'key_not_generated',
      'the key was imported, not generated on the device',
    );
  }
  return {
    securityLevel,
    keyMintSecurityLevel: levelName(description.keymasterSecurityLevel),
    attestationVersion: description.attestationVersion,
    packageNames: app.packageNames,
    signingCertDigests: app.digests.map((d) => d.toString('base64')),
    publicKeyJwk: leaf.publicKey.export({ format: 'jwk' }) as JWK,
    verifiedBootState,
    deviceLocked: rootOfTrust?.deviceLocked,
    osVersion: enforced.osVersion,
    osPatchLevel: enforced.osPatchLevel,
    userAuthentication: userAuthenticationOf(description, securityLevel),
  };
}

/**
 * Settings of the built-in `android-key` evidence verifier: everything
 * {@link verifyAndroidKeyAttestation} takes but the chain and challenge, which come from the
 * registration.
 *
 * @group Android Key Attestation
 */
export type AndroidKeyVerifierOptions = Omit<
  AndroidKeyAttestationOptions,
  'chain' | 'challenge' | 'now'
> & {
  /** The clock. @default the current time */
  now?: () => Date;
};

/**
 * The `android-key` evidence verifier for `attestation.verifiers`: the evidence is the chain
 * (array of base64 DER or PEM strings, leaf first) of the key the instance registers, generated
 * with `setAttestationChallenge(clientDataHash)`.
 *
 * @group Android Key Attestation
 */
export function androidKeyVerifier(settings: AndroidKeyVerifierOptions): EvidenceVerifier {
  const { now, ...checks } = settings;
  return async (evidence, { binding }) => {
    if (!Array.isArray(evidence) || !evidence.every((c) => typeof c === 'string')) {
      throw new AttestationError('malformed', 'android-key evidence must be the certificate chain');
    }
    const attested = await verifyAndroidKeyAttestation({
      ...checks,
      chain: evidence,
      challenge: binding.clientDataHash,
      ...(now ? { now: now() } : {}),
    });
    return {
      platform: 'android',
      appId:
        attested.packageNames.find((name) => checks.packageNames.includes(name)) ??
        (attested.packageNames[0] as string),
      binding: 'attested-key',
      attestedKey: attested.publicKeyJwk,
      verdicts: [
        `security-level:${attested.securityLevel}`,
        ...(attested.verifiedBootState ? [`boot:${attested.verifiedBootState}`] : []),
      ],
      details: {
        attestationVersion: attested.attestationVersion,
        ...(attested.osVersion !== undefined ? { osVersion: attested.osVersion } : {}),
        ...(attested.osPatchLevel !== undefined ? { osPatchLevel: attested.osPatchLevel } : {}),
      },
      ...(attested.userAuthentication
        ? { keyUserAuthentication: attested.userAuthentication }
        : {}),
    };
  };
}
