import type { AuthServerOptions, EvidenceVerifier, Template } from 'mobile-oidc-provider';
import {
  androidKeyVerifier,
  appAttestVerifier,
  playIntegrityVerifier,
} from 'mobile-oidc-provider/attestation';
import { APP_REDIRECT_URI } from './app.js';

/** The `software_id` of installs that register with platform attestation evidence. */
export const ATTESTED_SOFTWARE_ID = 'mobile-attested-template';

/** Environment that turns attestation formats on. */
export interface AttestationEnv {
  /** `<TeamID>.<BundleID>` of the iOS app: turns `apple-appattest` on. */
  APP_ATTEST_APP_ID?: string;
  /** `1` to accept App Attest's development environment too. */
  APP_ATTEST_ALLOW_DEVELOPMENT?: string;
  /** The Android package name: with the digest, turns `android-key` on. */
  ANDROID_PACKAGE_NAME?: string;
  /** SHA-256 digests of the Android app signing certificate, comma-separated (hex or base64). */
  ANDROID_SIGNING_CERT_DIGESTS?: string;
  /** Play Console's response decryption key (base64): with the verification key, `play-integrity`. */
  PLAY_INTEGRITY_DECRYPTION_KEY?: string;
  /** Play Console's response verification key (base64 SPKI). */
  PLAY_INTEGRITY_VERIFICATION_KEY?: string;
}

/** The example's attestation settings: the formats its environment configures, if any. */
export function attestationFromEnv(env: AttestationEnv): {
  formats: string[];
  options: Pick<AuthServerOptions, 'attestation'>;
  template: Template | undefined;
} {
  const verifiers: Record<string, EvidenceVerifier> = {};
  const appIds: string[] = [];
  if (env.APP_ATTEST_APP_ID) {
    verifiers['apple-appattest'] = appAttestVerifier({
      appId: env.APP_ATTEST_APP_ID,
      allowDevelopment: env.APP_ATTEST_ALLOW_DEVELOPMENT === '1',
    });
    appIds.push(env.APP_ATTEST_APP_ID);
  }
  const packageName = env.ANDROID_PACKAGE_NAME;
  const digests = (env.ANDROID_SIGNING_CERT_DIGESTS ?? '').split(',').filter(Boolean);
  if (packageName && digests.length > 0) {
    verifiers['android-key'] = androidKeyVerifier({
      packageNames: [packageName],
      signingCertDigests: digests,
    });
    appIds.push(packageName);
    if (env.PLAY_INTEGRITY_DECRYPTION_KEY && env.PLAY_INTEGRITY_VERIFICATION_KEY) {
      verifiers['play-integrity'] = playIntegrityVerifier({
        decryptionKey: env.PLAY_INTEGRITY_DECRYPTION_KEY,
        verificationKey: env.PLAY_INTEGRITY_VERIFICATION_KEY,
        packageName,
        certificateSha256Digests: digests,
      });
    }
  }
  const formats = Object.keys(verifiers);
  if (formats.length === 0) return { formats, options: {}, template: undefined };
  return {
    formats,
    options: { attestation: { verifiers } },
    template: {
      software_id: ATTESTED_SOFTWARE_ID,
      client: {
        client_name: 'Example App',
        redirect_uris: [APP_REDIRECT_URI],
        grant_types: ['authorization_code', 'refresh_token'],
        token_endpoint_auth_method: 'private_key_jwt',
        scope: 'openid profile offline_access payments',
      },
      instanceFields: ['jwks', 'client_name', 'software_version'],
      attestation: { formats, appIds },
    },
  };
}
