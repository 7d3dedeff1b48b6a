import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { compactDecrypt, compactVerify } from 'jose';
import { AttestationError } from '../../core/errors.js';
import type { EvidenceVerifier } from '../types.js';
import { bytesOf } from './encoding.js';

/**
 * A device integrity verdict of Play Integrity, weakest first.
 *
 * @group Play Integrity
 */
export type DeviceVerdict =
  | 'MEETS_BASIC_INTEGRITY'
  | 'MEETS_DEVICE_INTEGRITY'
  | 'MEETS_STRONG_INTEGRITY';

const DEVICE_VERDICTS: readonly DeviceVerdict[] = [
  'MEETS_BASIC_INTEGRITY',
  'MEETS_DEVICE_INTEGRITY',
  'MEETS_STRONG_INTEGRITY',
];

/**
 * What {@link verifyPlayIntegrityToken} checks a token against.
 *
 * @group Play Integrity
 */
export interface PlayIntegrityOptions {
  /** The integrity token the app got from a classic Play Integrity request. */
  token: string;
  /** The response decryption key from Play Console (base64 AES-256 key). */
  decryptionKey: string | KeyObject;
  /** The response verification key from Play Console (base64 DER SPKI of an EC P-256 key). */
  verificationKey: string | KeyObject;
  /** The app's package name. */
  packageName: string;
  /** The nonce the app passed to the request (for a registration: the binding's `nonce`). */
  nonce: string;
  /** SHA-256 digests of the app signing certificates accepted (hex, base64 or base64url). */
  certificateSha256Digests: string[];
  /**
   * The weakest device verdict accepted.
   *
   * @default 'MEETS_DEVICE_INTEGRITY'
   */
  minDeviceVerdict?: DeviceVerdict;
  /**
   * Whether the app must be the version Google Play knows (`PLAY_RECOGNIZED`).
   *
   * @default true
   */
  requirePlayRecognized?: boolean;
  /**
   * The oldest token accepted, in seconds since its `timestampMillis`.
   *
   * @default 300
   */
  maxAgeSeconds?: number;
  /** The time to check against. @default the current time */
  now?: Date;
}

/**
 * What a verified Play Integrity token says.
 *
 * @group Play Integrity
 */
export interface PlayIntegrityVerdict {
  /** `PLAY_RECOGNIZED`, `UNRECOGNIZED_VERSION` or `UNEVALUATED`. */
  appRecognitionVerdict: string;
  /** The device verdicts, e.g. `['MEETS_DEVICE_INTEGRITY', 'MEETS_BASIC_INTEGRITY']`. */
  deviceRecognitionVerdict: string[];
  /** The strongest of {@link DeviceVerdict} the device meets, if any. */
  strongestDeviceVerdict: DeviceVerdict | undefined;
  /** The package name Google Play saw. */
  packageName: string;
  /** The app's version code, when Google Play recognized it. */
  versionCode: string | undefined;
  /** The signing certificate digests Google Play saw (base64url). */
  certificateSha256Digests: string[];
  /** `LICENSED`, `UNLICENSED` or `UNEVALUATED`, when present. */
  appLicensingVerdict: string | undefined;
  /** When the token was made, in milliseconds since the epoch. */
  timestampMillis: number;
}

// A token stamped this far in the future is refused: clocks drift, but not by minutes.
const CLOCK_SKEW_MS = 60_000;

function keyFrom(value: string | KeyObject, kind: 'decryption' | 'verification'): KeyObject {
  if (typeof value !== 'string') return value;
  try {
    const bytes = Buffer.from(value, 'base64');
    return kind === 'decryption'
      ? createSecretKey(bytes)
      : createPublicKey({ key: bytes, format: 'der', type: 'spki' });
  } catch (cause) {
    throw new AttestationError('malformed', `the Play Integrity ${kind} key is not valid`, {
      cause,
    });
  }
}

type Payload = {
  requestDetails?: { requestPackageName?: unknown; nonce?: unknown; timestampMillis?: unknown };
  appIntegrity?: {
    appRecognitionVerdict?: unknown;
    packageName?: unknown;
    certificateSha256Digest?: unknown;
    versionCode?: unknown;
  };
  deviceIntegrity?: { deviceRecognitionVerdict?: unknown };
  accountDetails?: { appLicensingVerdict?: unknown };
};

/** Decrypts the JWE (A256KW / A256GCM), then verifies the inner JWS (ES256). */
async function openToken(options: PlayIntegrityOptions): Promise<Payload> {
  let jws: string;
  try {
    const decrypted = await compactDecrypt(
      options.token,
      keyFrom(options.decryptionKey, 'decryption'),
      {
        keyManagementAlgorithms: ['A256KW'],
        contentEncryptionAlgorithms: ['A256GCM'],
      },
    );
    jws = new TextDecoder().decode(decrypted.plaintext);
  } catch (cause) {
    if (cause instanceof AttestationError) throw cause;
    throw new AttestationError('malformed', 'the integrity token cannot be decrypted', { cause });
  }
  let payload: Uint8Array;
  try {
    ({ payload } = await compactVerify(jws, keyFrom(options.verificationKey, 'verification'), {
      algorithms: ['ES256'],
    }));
  } catch (cause) {
    if (cause instanceof AttestationError) throw cause;
    throw new AttestationError('signature_invalid', 'the integrity token signature is not valid', {
      cause,
    });
  }
  try {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(payload));
    if (typeof parsed !== 'object' || parsed === null) throw new Error('not an object');
    return parsed as Payload;
  } catch (cause) {
    throw new AttestationError('malformed', 'the integrity token payload is not JSON', { cause });
  }
}

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

/**
 * Verifies a Play Integrity token from a classic request whose responses the app's backend
 * decrypts itself (Play Console, "Manage responses yourself"): decrypts it, verifies its
 * signature, then checks the nonce, the package name (from `appIntegrity`, never
 * `requestPackageName` alone), the signing certificate, Play recognition, the device verdict
 * and the token's age. No network access.
 *
 * @throws AttestationError naming the failed check.
 * @group Play Integrity
 */
export async function verifyPlayIntegrityToken(
  options: PlayIntegrityOptions,
): Promise<PlayIntegrityVerdict> {
  const {
    minDeviceVerdict = 'MEETS_DEVICE_INTEGRITY',
    requirePlayRecognized = true,
    maxAgeSeconds = 300,
    now = new Date(),
  } = options;
  const payload = await openToken(options);
  const request = payload.requestDetails ?? {};
  const app = payload.appIntegrity ?? {};

  if (typeof request.nonce !== 'string' || request.nonce !== options.nonce) {
    throw new AttestationError('challenge_mismatch', 'the integrity token answers another nonce');
  }
  const timestampMillis = Number(request.timestampMillis);
  if (!Number.isFinite(timestampMillis)) {
    throw new AttestationError('malformed', 'the integrity token has no timestamp');
  }
  const age = now.getTime() - timestampMillis;
  if (age > maxAgeSeconds * 1000 || age < -CLOCK_SKEW_MS) {
    throw new AttestationError(
      'token_too_old',
      'the integrity token is too old: request a new one',
    );
  }
  if (
    app.packageName !== options.packageName ||
    request.requestPackageName !== options.packageName
  ) {
    throw new AttestationError('app_id_mismatch', 'the integrity token is for another app');
  }
  const accepted = options.certificateSha256Digests.map((d) => bytesOf(d, 'a certificate digest'));
  const seen = strings(app.certificateSha256Digest);
  if (
    !seen.some((digest) => accepted.some((a) => a.equals(bytesOf(digest, 'a certificate digest'))))
  ) {
    throw new AttestationError(
      'app_id_mismatch',
      'the app is not signed with an accepted certificate',
    );
  }
  const appRecognitionVerdict =
    typeof app.appRecognitionVerdict === 'string' ? app.appRecognitionVerdict : 'UNEVALUATED';
  if (requirePlayRecognized && appRecognitionVerdict !== 'PLAY_RECOGNIZED') {
    throw new AttestationError(
      'app_not_recognized',
      'Google Play does not recognize this app build',
    );
  }
  const deviceRecognitionVerdict = strings(payload.deviceIntegrity?.deviceRecognitionVerdict);
  const met = DEVICE_VERDICTS.filter((v) => deviceRecognitionVerdict.includes(v));
  const strongest = met.at(-1);
  if (
    !strongest ||
    DEVICE_VERDICTS.indexOf(strongest) < DEVICE_VERDICTS.indexOf(minDeviceVerdict)
  ) {
    throw new AttestationError(
      'device_integrity_too_low',
      `the device does not meet ${minDeviceVerdict}`,
    );
  }
  const licensing = payload.accountDetails?.appLicensingVerdict;
  return {
    appRecognitionVerdict,
    deviceRecognitionVerdict,
    strongestDeviceVerdict: strongest,
    packageName: options.packageName,
    versionCode:
      typeof app.versionCode === 'string' || typeof app.versionCode === 'number'
        ? String(app.versionCode)
        : undefined,
    certificateSha256Digests: seen,
    appLicensingVerdict: typeof licensing === 'string' ? licensing : undefined,
    timestampMillis,
  };
}

/**
 * Settings of the built-in `play-integrity` evidence verifier: everything
 * {@link verifyPlayIntegrityToken} takes but the token and nonce, which come from the
 * registration.
 *
 * @group Play Integrity
 */
export type PlayIntegrityVerifierOptions = Omit<PlayIntegrityOptions, 'token' | 'nonce' | 'now'> & {
  /** The clock. @default the current time */
  now?: () => Date;
};

/**
 * The `play-integrity` evidence verifier for `attestation.verifiers`: the evidence is the
 * integrity token, and its nonce must be the registration's binding `nonce`
 * (base64url(SHA-256(challenge "." thumbprint))).
 *
 * @group Play Integrity
 */
export function playIntegrityVerifier(settings: PlayIntegrityVerifierOptions): EvidenceVerifier {
  const { now, ...checks } = settings;
  return async (evidence, { binding }) => {
    if (typeof evidence !== 'string') {
      throw new AttestationError(
        'malformed',
        'play-integrity evidence must be the integrity token',
      );
    }
    const verdict = await verifyPlayIntegrityToken({
      ...checks,
      token: evidence,
      nonce: binding.nonce,
      ...(now ? { now: now() } : {}),
    });
    return {
      platform: 'android',
      appId: verdict.packageName,
      binding: 'client-data',
      verdicts: [verdict.appRecognitionVerdict, ...verdict.deviceRecognitionVerdict],
      ...(verdict.versionCode ? { details: { versionCode: verdict.versionCode } } : {}),
    };
  };
}
