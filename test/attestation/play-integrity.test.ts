// verifyPlayIntegrityToken (mobile-oidc-provider/attestation): classic Play Integrity requests
// with responses decrypted by the app's backend. Each test removes one condition a check
// enforces and expects that check's code; tokens are built with jose as Google builds them
// (JWE A256KW/A256GCM around an ES256 JWS), with keys generated per run.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  AttestationError,
  attestationBinding,
  type PlayIntegrityOptions,
  playIntegrityVerifier,
  verifyPlayIntegrityToken,
} from 'mobile-oidc-provider/attestation';
import { startExampleWithTemplate } from '../helpers/example.js';
import {
  createPlayKeys,
  integrityPayload,
  PACKAGE_NAME,
  type PlayKeys,
  SIGNING_DIGEST,
} from '../helpers/play-integrity.js';
import { fetchChallenge, postRegistration } from '../helpers/registration.js';
import { attestedTemplate, createDeviceKey } from '../helpers/test-attestation.js';

const NONCE = 'R2Rra24fVm5xa2Mg3H2bYCMaZ-fsUTzVzUdzRZ3GFkA';

describe('verifyPlayIntegrityToken', () => {
  let keys: PlayKeys;
  before(async () => {
    keys = await createPlayKeys();
  });

  const options = (
    token: string,
    extra: Partial<PlayIntegrityOptions> = {},
  ): PlayIntegrityOptions => ({
    token,
    decryptionKey: keys.decryptionKey,
    verificationKey: keys.verificationKey,
    packageName: PACKAGE_NAME,
    nonce: NONCE,
    certificateSha256Digests: [SIGNING_DIGEST],
    ...extra,
  });
  const refusedWith = (code: string) => (error: unknown) => {
    assert.ok(error instanceof AttestationError, String(error));
    assert.equal(error.code, code, error.message);
    return true;
  };
  const tokenWith = (change: (payload: ReturnType<typeof integrityPayload>) => void) => {
    const payload = integrityPayload(NONCE);
    change(payload);
    return keys.sign(payload);
  };

  it('decrypts, verifies and resolves the verdicts of a genuine token', async () => {
    const verdict = await verifyPlayIntegrityToken(
      options(await keys.sign(integrityPayload(NONCE))),
    );
    assert.equal(verdict.appRecognitionVerdict, 'PLAY_RECOGNIZED');
    assert.equal(verdict.strongestDeviceVerdict, 'MEETS_DEVICE_INTEGRITY');
    assert.deepEqual(verdict.deviceRecognitionVerdict, [
      'MEETS_DEVICE_INTEGRITY',
      'MEETS_BASIC_INTEGRITY',
    ]);
    assert.equal(verdict.packageName, PACKAGE_NAME);
    assert.equal(verdict.versionCode, '42');
    assert.equal(verdict.appLicensingVerdict, 'LICENSED');
  });

  it('accepts the signing digest as hex, base64 or base64url', async () => {
    const token = await keys.sign(integrityPayload(NONCE));
    const digest = Buffer.from(SIGNING_DIGEST, 'base64url');
    for (const form of [digest.toString('hex'), digest.toString('base64'), SIGNING_DIGEST]) {
      const verdict = await verifyPlayIntegrityToken(
        options(token, { certificateSha256Digests: [form] }),
      );
      // The digest Google Play saw (base64url) is the one given in this form.
      assert.deepEqual(verdict.certificateSha256Digests, [SIGNING_DIGEST]);
    }
  });

  it('nonce: a token for another nonce is challenge_mismatch', async () => {
    const token = await tokenWith((p) => {
      p.requestDetails.nonce = 'another-nonce-another-nonce-another-nonce00';
    });
    await assert.rejects(
      verifyPlayIntegrityToken(options(token)),
      refusedWith('challenge_mismatch'),
    );
  });

  it('age: older than maxAgeSeconds (default 300), or from the future, is token_too_old', async () => {
    const token = await keys.sign(integrityPayload(NONCE, Date.now() - 301_000));
    await assert.rejects(verifyPlayIntegrityToken(options(token)), refusedWith('token_too_old'));
    await verifyPlayIntegrityToken(options(token, { maxAgeSeconds: 600 }));
    const future = await keys.sign(integrityPayload(NONCE, Date.now() + 120_000));
    await assert.rejects(verifyPlayIntegrityToken(options(future)), refusedWith('token_too_old'));
  });

  it('package: appIntegrity.packageName decides; requestPackageName must agree', async () => {
    const otherApp = await tokenWith((p) => {
      p.appIntegrity.packageName = 'com.evil.clone';
    });
    await assert.rejects(
      verifyPlayIntegrityToken(options(otherApp)),
      refusedWith('app_id_mismatch'),
    );
    const spoofedRequest = await tokenWith((p) => {
      p.requestDetails.requestPackageName = 'com.evil.clone';
    });
    await assert.rejects(
      verifyPlayIntegrityToken(options(spoofedRequest)),
      refusedWith('app_id_mismatch'),
    );
  });

  it('signing certificate: a digest not accepted is app_id_mismatch', async () => {
    const token = await keys.sign(integrityPayload(NONCE));
    await assert.rejects(
      verifyPlayIntegrityToken(options(token, { certificateSha256Digests: ['ab'.repeat(32)] })),
      refusedWith('app_id_mismatch'),
    );
  });

  it('recognition: UNRECOGNIZED_VERSION is app_not_recognized unless requirePlayRecognized is false', async () => {
    const token = await tokenWith((p) => {
      p.appIntegrity.appRecognitionVerdict = 'UNRECOGNIZED_VERSION';
    });
    await assert.rejects(
      verifyPlayIntegrityToken(options(token)),
      refusedWith('app_not_recognized'),
    );
    await verifyPlayIntegrityToken(options(token, { requirePlayRecognized: false }));
  });

  it('device: below minDeviceVerdict (default MEETS_DEVICE_INTEGRITY) is device_integrity_too_low', async () => {
    const basic = await tokenWith((p) => {
      p.deviceIntegrity.deviceRecognitionVerdict = ['MEETS_BASIC_INTEGRITY'];
    });
    await assert.rejects(
      verifyPlayIntegrityToken(options(basic)),
      refusedWith('device_integrity_too_low'),
    );
    await verifyPlayIntegrityToken(options(basic, { minDeviceVerdict: 'MEETS_BASIC_INTEGRITY' }));
    const genuine = await keys.sign(integrityPayload(NONCE));
    await assert.rejects(
      verifyPlayIntegrityToken(options(genuine, { minDeviceVerdict: 'MEETS_STRONG_INTEGRITY' })),
      refusedWith('device_integrity_too_low'),
    );
    const none = await tokenWith((p) => {
      p.deviceIntegrity.deviceRecognitionVerdict = [];
    });
    await assert.rejects(
      verifyPlayIntegrityToken(options(none, { minDeviceVerdict: 'MEETS_BASIC_INTEGRITY' })),
      refusedWith('device_integrity_too_low'),
    );
  });

  it('signature: signed by another key or algorithm is signature_invalid', async () => {
    const other = await createPlayKeys();
    const forged = await keys.sign(integrityPayload(NONCE));
    await assert.rejects(
      verifyPlayIntegrityToken(options(forged, { verificationKey: other.verificationKey })),
      refusedWith('signature_invalid'),
    );
    const es384 = await keys.sign(integrityPayload(NONCE), 'ES384');
    await assert.rejects(
      verifyPlayIntegrityToken(options(es384)),
      refusedWith('signature_invalid'),
    );
  });

  it('encryption: another decryption key, or tampered ciphertext, is malformed', async () => {
    const other = await createPlayKeys();
    const token = await keys.sign(integrityPayload(NONCE));
    await assert.rejects(
      verifyPlayIntegrityToken(options(token, { decryptionKey: other.decryptionKey })),
      refusedWith('malformed'),
    );
    const parts = token.split('.');
    const ciphertext = Buffer.from(parts[3] as string, 'base64url');
    ciphertext[0] = (ciphertext[0] as number) ^ 1;
    parts[3] = ciphertext.toString('base64url');
    await assert.rejects(
      verifyPlayIntegrityToken(options(parts.join('.'))),
      refusedWith('malformed'),
    );
    await assert.rejects(
      verifyPlayIntegrityToken(options('not-a-token')),
      refusedWith('malformed'),
    );
  });
});

describe('the play-integrity evidence format in registration', () => {
  it('challenge → token whose nonce is the binding nonce → instance with cal=by-policy', async () => {
    const keys = await createPlayKeys();
    const server = await startExampleWithTemplate(
      {
        ...attestedTemplate('io.example.android', 'optional'),
        attestation: { formats: ['play-integrity'], appIds: [PACKAGE_NAME] },
      },
      {
        verifiers: {
          'play-integrity': playIntegrityVerifier({
            decryptionKey: keys.decryptionKey,
            verificationKey: keys.verificationKey,
            packageName: PACKAGE_NAME,
            certificateSha256Digests: [SIGNING_DIGEST],
          }),
        },
      },
    );
    try {
      const device = await createDeviceKey();
      const register = async (nonceFor: (binding: { nonce: string }) => string) => {
        const challenge = await fetchChallenge(server.issuer);
        const binding = await attestationBinding(challenge, device.jwk);
        const token = await keys.sign(integrityPayload(nonceFor(binding)));
        return postRegistration(server.issuer, {
          software_id: 'io.example.android',
          jwks: { keys: [device.jwk] },
          attestation: { format: 'play-integrity', challenge, evidence: token },
        });
      };
      const registered = await register((binding) => binding.nonce);
      assert.equal(registered.status, 201, JSON.stringify(registered.body));
      assert.equal(registered.body.cal, 'by-policy');
      const info = await server.auth.devices.get(registered.body.client_id);
      assert.deepEqual(info?.registeredBy.evidence, {
        format: 'play-integrity',
        platform: 'android',
        app_id: PACKAGE_NAME,
        verdicts: ['PLAY_RECOGNIZED', 'MEETS_DEVICE_INTEGRITY', 'MEETS_BASIC_INTEGRITY'],
        details: { versionCode: '42' },
      });
      // A token whose nonce is the bare challenge is not bound to the key: refused.
      const unbound = await register(() => NONCE);
      assert.equal(unbound.status, 403);
      assert.equal(unbound.body.error, 'invalid_client_attestation');
    } finally {
      await server.close();
    }
  });
});
