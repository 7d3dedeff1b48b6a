import {
  createHash,
  createPublicKey,
  type JsonWebKey,
  verify,
  type X509Certificate,
} from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';
import type { JWK } from 'jose';
import { AttestationError } from '../../core/errors.js';
import type { EvidenceVerifier } from '../types.js';
import { APPLE_APP_ATTESTATION_ROOT } from './apple-roots.js';
import { extensionValue, parseCertificate, verifyChain } from './x509.js';

// The credential certificate's extension holding the nonce (Apple, "Validating apps that connect
// to your server", step 4).
const NONCE_OID = '1.2.840.113635.100.8.2';
// Its exact DER: SEQUENCE { [1] { OCTET STRING (32 bytes) } } before the nonce.
const NONCE_PREFIX = Buffer.from([0x30, 0x24, 0xa1, 0x22, 0x04, 0x20]);
const AAGUID_DEVELOPMENT = Buffer.from('appattestdevelop');
const AAGUID_PRODUCTION = Buffer.concat([Buffer.from('appattest'), Buffer.alloc(7)]);

const sha256 = (...parts: Uint8Array[]) => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
};

/**
 * What {@link verifyAppAttestAttestation} checks an attestation against.
 *
 * @group App Attest
 */
export interface AppAttestAttestationOptions {
  /** The attestation object `attestKey` returned (CBOR bytes). */
  attestation: Uint8Array;
  /** The bytes whose SHA-256 the app passed to `attestKey` as `clientDataHash`. */
  challenge: Uint8Array;
  /** The key id `generateKey` returned, base64. */
  keyId: string;
  /** `<TeamID>.<BundleID>`. */
  appId: string;
  /**
   * Accept attestations from the development environment (`appattestdevelop`).
   *
   * @default false
   */
  allowDevelopment?: boolean;
  /**
   * Trusted roots, PEM.
   *
   * @default [APPLE_APP_ATTESTATION_ROOT]
   */
  roots?: readonly string[];
  /** The time to check validity periods at. @default the current time */
  now?: Date;
}

/**
 * What a verified App Attest attestation says. Keep `publicKeyJwk` and `signCount` to verify
 * the key's later assertions.
 *
 * @group App Attest
 */
export interface AppAttestAttestation {
  /** The key id, base64. */
  keyId: string;
  /** The attested public key (EC P-256). */
  publicKeyJwk: JWK;
  /** Which App Attest environment attested it. */
  environment: 'production' | 'development';
  /** The receipt, to obtain fraud metrics from Apple. */
  receipt: Uint8Array;
  /** Always 0 for an attestation. */
  signCount: 0;
}

type Fields = Map<string, unknown>;

function decode(bytes: Uint8Array, what: string): Fields {
  try {
    const decoded = isoCBOR.decodeFirst<unknown>(new Uint8Array(bytes));
    if (!(decoded instanceof Map)) throw new Error('not a map');
    return decoded as Fields;
  } catch (cause) {
    throw new AttestationError('malformed', `the ${what} is not valid CBOR`, { cause });
  }
}

const bytesField = (fields: Fields, key: string, what: string): Buffer => {
  const value = fields.get(key);
  if (!(value instanceof Uint8Array))
    throw new AttestationError('malformed', `the ${what} has no ${key}`);
  return Buffer.from(value);
};

/** The uncompressed EC point of a P-256 key: what App Attest hashes into the key id. */
function ecPoint(cert: X509Certificate): Buffer {
  const jwk = cert.publicKey.export({ format: 'jwk' });
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !jwk.x || !jwk.y) {
    throw new AttestationError('malformed', 'the credential key is not an EC P-256 key');
  }
  return Buffer.concat([
    Buffer.from([0x04]),
    Buffer.from(jwk.x, 'base64url'),
    Buffer.from(jwk.y, 'base64url'),
  ]);
}

/**
 * Verifies an App Attest attestation as Apple describes: the certificate chain to the App
 * Attestation root at `now`, by RFC 5280 §6.1 path validation (CA issuers, path lengths, name
 * chaining, a non-CA credential certificate), the nonce extension (exact DER), the key id
 * (SHA-256 of the credential public key), the RP id hash (SHA-256 of `appId`), counter 0, the
 * environment (AAGUID) and the credential id. `authData` is read by fixed offsets: recent iOS
 * appends data a strict WebAuthn parser refuses. No network access.
 *
 * @throws AttestationError naming the failed check.
 * @group App Attest
 */
export async function verifyAppAttestAttestation(
  options: AppAttestAttestationOptions,
): Promise<AppAttestAttestation> {
  const {
    allowDevelopment = false,
    roots = [APPLE_APP_ATTESTATION_ROOT],
    now = new Date(),
  } = options;
  const object = decode(options.attestation, 'attestation object');
  if (object.get('fmt') !== 'apple-appattest') {
    throw new AttestationError('malformed', 'the attestation is not an App Attest attestation');
  }
  const statement = object.get('attStmt');
  const x5c = statement instanceof Map ? statement.get('x5c') : undefined;
  if (!Array.isArray(x5c) || x5c.length < 2 || !x5c.every((c) => c instanceof Uint8Array)) {
    throw new AttestationError('malformed', 'the attestation has no certificate chain');
  }
  const authData = bytesField(object, 'authData', 'attestation object');
  if (authData.length < 87) throw new AttestationError('malformed', 'authData is too short');

  // 1. The chain, to Apple's root, valid now, strictly RFC 5280: Apple's chains conform.
  const chain = (x5c as Uint8Array[]).map((c, i) => parseCertificate(c, `certificate ${i}`));
  verifyChain(chain, roots, now);
  const credential = chain[0] as X509Certificate;

  // 2-4. nonce = SHA-256(authData ‖ SHA-256(challenge)), in the credential certificate.
  const nonce = sha256(authData, sha256(options.challenge));
  const extension = extensionValue(credential, NONCE_OID);
  if (!extension?.equals(Buffer.concat([NONCE_PREFIX, nonce]))) {
    throw new AttestationError('challenge_mismatch', 'the attestation answers another challenge');
  }
  // 5. The key id is the SHA-256 of the credential public key.
  const keyId = Buffer.from(options.keyId, 'base64');
  if (!sha256(ecPoint(credential)).equals(keyId)) {
    throw new AttestationError('key_id_mismatch', 'the attested key is not the key named by keyId');
  }
  // 6. The RP id hash is the SHA-256 of the app id.
  if (!authData.subarray(0, 32).equals(sha256(Buffer.from(options.appId)))) {
    throw new AttestationError('app_id_mismatch', 'the attestation is for another app');
  }
  // 7. The counter starts at 0.
  if (authData.readUInt32BE(33) !== 0) {
    throw new AttestationError('counter_not_increasing', 'an attestation counter must be 0');
  }
  // 8. The environment.
  const aaguid = authData.subarray(37, 53);
  const environment = aaguid.equals(AAGUID_PRODUCTION)
    ? 'production'
    : aaguid.equals(AAGUID_DEVELOPMENT)
      ? 'development'
      : undefined;
  if (!environment) throw new AttestationError('malformed', 'the attestation AAGUID is unknown');
  if (environment === 'development' && !allowDevelopment) {
    throw new AttestationError(
      'development_not_allowed',
      'development attestations are not accepted',
    );
  }
  // 9. The credential id is the key id.
  const idLength = authData.readUInt16BE(53);
  if (idLength !== 32 || !authData.subarray(55, 55 + idLength).equals(keyId)) {
    throw new AttestationError('key_id_mismatch', 'the credential id is not the key id');
  }
  const receipt = statement instanceof Map ? statement.get('receipt') : undefined;
  return {
    keyId: keyId.toString('base64'),
    publicKeyJwk: credential.publicKey.export({ format: 'jwk' }) as JWK,
    environment,
    receipt: receipt instanceof Uint8Array ? receipt : new Uint8Array(0),
    signCount: 0,
  };
}

/**
 * What {@link verifyAppAttestAssertion} checks an assertion against.
 *
 * @group App Attest
 */
export interface AppAttestAssertionOptions {
  /** The assertion `generateAssertion` returned (CBOR bytes). */
  assertion: Uint8Array;
  /** The client data whose SHA-256 the app passed to `generateAssertion`. */
  clientData: Uint8Array;
  /** The key's public key, from its attestation. */
  publicKeyJwk: JWK;
  /** `<TeamID>.<BundleID>`. */
  appId: string;
  /** The counter of the key's last accepted assertion (0 after the attestation). */
  previousSignCount: number;
}

/**
 * What a verified App Attest assertion says.
 *
 * @group App Attest
 */
export interface AppAttestAssertion {
  /** The assertion's counter: store it as the key's `previousSignCount`. */
  signCount: number;
}

/**
 * Verifies an App Attest assertion: the ES256 signature over SHA-256(authenticatorData ‖
 * SHA-256(clientData)), the RP id hash, and a counter strictly above `previousSignCount` (store
 * the returned `signCount` atomically before trusting the request).
 *
 * @throws AttestationError naming the failed check.
 * @group App Attest
 */
export async function verifyAppAttestAssertion(
  options: AppAttestAssertionOptions,
): Promise<AppAttestAssertion> {
  const assertion = decode(options.assertion, 'assertion');
  const signature = bytesField(assertion, 'signature', 'assertion');
  const authenticatorData = bytesField(assertion, 'authenticatorData', 'assertion');
  if (authenticatorData.length < 37) {
    throw new AttestationError('malformed', 'authenticatorData is too short');
  }
  const nonce = sha256(authenticatorData, sha256(options.clientData));
  let key: ReturnType<typeof createPublicKey>;
  try {
    key = createPublicKey({ key: options.publicKeyJwk as JsonWebKey, format: 'jwk' });
  } catch (cause) {
    throw new AttestationError('malformed', 'the public key is not a valid JWK', { cause });
  }
  if (!verify('sha256', nonce, { key, dsaEncoding: 'der' }, signature)) {
    throw new AttestationError('signature_invalid', 'the assertion signature is not valid');
  }
  if (!authenticatorData.subarray(0, 32).equals(sha256(Buffer.from(options.appId)))) {
    throw new AttestationError('app_id_mismatch', 'the assertion is for another app');
  }
  const signCount = authenticatorData.readUInt32BE(33);
  if (signCount <= options.previousSignCount) {
    throw new AttestationError('counter_not_increasing', 'the assertion counter did not increase');
  }
  return { signCount };
}

/**
 * Settings of the built-in `apple-appattest` evidence verifier.
 *
 * @group App Attest
 */
export type AppAttestVerifierOptions = Pick<
  AppAttestAttestationOptions,
  'appId' | 'allowDevelopment' | 'roots'
> & {
  /** The clock. @default the current time */
  now?: () => Date;
};

/**
 * The `apple-appattest` evidence verifier for `attestation.verifiers`: the evidence is
 * `{ "attestation": "<base64 attestation object>", "keyId": "<base64 key id>" }`, made with
 * `attestKey(keyId, clientDataHash: SHA-256(binding.clientData))`.
 *
 * @group App Attest
 */
export function appAttestVerifier(settings: AppAttestVerifierOptions): EvidenceVerifier {
  const { now, ...checks } = settings;
  return async (evidence, { binding }) => {
    const { attestation, keyId } = (evidence ?? {}) as { attestation?: unknown; keyId?: unknown };
    if (typeof attestation !== 'string' || typeof keyId !== 'string') {
      throw new AttestationError(
        'malformed',
        'apple-appattest evidence must be { attestation, keyId }',
      );
    }
    const attested = await verifyAppAttestAttestation({
      ...checks,
      attestation: Buffer.from(attestation, 'base64'),
      keyId,
      challenge: Buffer.from(binding.clientData, 'utf8'),
      ...(now ? { now: now() } : {}),
    });
    return {
      platform: 'ios',
      appId: checks.appId,
      binding: 'client-data',
      keyId: attested.keyId,
      assertionKey: attested.publicKeyJwk,
      verdicts: [`environment:${attested.environment}`],
    };
  };
}
