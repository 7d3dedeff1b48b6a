import type { Template, TemplateAttestation } from 'mobile-oidc-provider';
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

/**
 * The example's attested template, with the built-in verifiers its environment configures, or
 * `undefined` when it configures none.
 */
export function attestedTemplate(env: AttestationEnv): Template | undefined {
  const attestation: TemplateAttestation = { formats: [] };
  if (env.APP_ATTEST_APP_ID) {
    attestation.formats.push('apple-appattest');
    attestation.appleAppAttest = {
      appId: env.APP_ATTEST_APP_ID,
      allowDevelopment: env.APP_ATTEST_ALLOW_DEVELOPMENT === '1',
    };
  }
  const packageName = env.ANDROID_PACKAGE_NAME;
  const digests = (env.ANDROID_SIGNING_CERT_DIGESTS ?? '').split(',').filter(Boolean);
  if (packageName && digests.length > 0) {
    attestation.formats.push('android-key');
    attestation.androidKey = { packageNames: [packageName], signingCertDigests: digests };
    if (env.PLAY_INTEGRITY_DECRYPTION_KEY && env.PLAY_INTEGRITY_VERIFICATION_KEY) {
      attestation.formats.push('play-integrity');
      attestation.playIntegrity = {
        packageName,
        certificateSha256Digests: digests,
        decryptionKey: env.PLAY_INTEGRITY_DECRYPTION_KEY,
        verificationKey: env.PLAY_INTEGRITY_VERIFICATION_KEY,
      };
    }
  }
  if (attestation.formats.length === 0) return undefined;
  return {
    software_id: ATTESTED_SOFTWARE_ID,
    client: {
      client_name: 'Example App',
      redirect_uris: [APP_REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'private_key_jwt',
      scope: 'openid profile offline_access payments',
    },
    instanceFields: ['jwks', 'client_name', 'software_version'],
    attestation,
    // Installs may authenticate with Client Attestations from <issuer>/attestation/client-attestation.
    attestClientAuth: true,
    // Installs proven by a provisioned key or attestation may sign in without a browser…
    firstParty: { minimumLevel: 'by-provisioned-key' },
    // …and approve sign-ins requested elsewhere (CIBA), with their attested key.
    approvals: true,
  };
}
