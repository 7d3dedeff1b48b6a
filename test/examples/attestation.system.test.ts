// The example server's attestation: env vars turn formats on for `mobile-attested-template`, the
// start-up log says which, and a Play Integrity token made with the configured keys registers an
// instance with cal=by-policy; evidence that does not chain to Apple's or Google's roots does not.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { attestationBinding } from 'mobile-oidc-provider/attestation';
import { createAndroidRoot, TEST_PACKAGE } from '../helpers/android-attestation.js';
import {
  createPlayKeys,
  integrityPayload,
  type PlayKeys,
  SIGNING_DIGEST,
} from '../helpers/play-integrity.js';
import { fetchChallenge, postRegistration } from '../helpers/registration.js';
import { type SpawnedExample, spawnEarly, spawnExample } from '../helpers/spawn.js';
import { createDeviceKey } from '../helpers/test-attestation.js';

async function waitFor(example: SpawnedExample, text: string) {
  for (let i = 0; i < 100 && !example.output().includes(text); i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return example.output();
}

// Started now, beside the first suite's server: it only has to say that attestation is off.
const withoutSettings = spawnEarly('examples/server/main.ts');

describe('the example server with attestation turned on by its environment', {
  timeout: 120_000,
}, () => {
  let example: SpawnedExample;
  let issuer: string;
  let keys: PlayKeys;

  before(async () => {
    keys = await createPlayKeys();
    example = await spawnExample('examples/server/main.ts', {
      APP_ATTEST_APP_ID: 'TEAMID1234.io.example.app',
      ANDROID_PACKAGE_NAME: TEST_PACKAGE,
      ANDROID_SIGNING_CERT_DIGESTS: SIGNING_DIGEST,
      PLAY_INTEGRITY_DECRYPTION_KEY: keys.decryptionKey,
      PLAY_INTEGRITY_VERIFICATION_KEY: keys.verificationKey,
    });
    issuer = `http://localhost:${example.port}`;
  });
  after(() => example.stop());

  const challenge = () => fetchChallenge(issuer);

  it('logs the active formats and advertises the challenge endpoint', async () => {
    const output = await waitFor(example, 'attestation:');
    assert.match(
      output,
      /attestation: mobile-attested-template accepts apple-appattest, android-key, play-integrity/,
    );
    const discovery = (await (
      await fetch(`${issuer}/.well-known/openid-configuration`)
    ).json()) as Record<string, unknown>;
    assert.equal(discovery.attestation_challenge_endpoint, `${issuer}/attestation/challenge`);
  });

  it('a Play Integrity token bound to the registered key registers with cal=by-policy', async () => {
    const device = await createDeviceKey();
    const value = await challenge();
    const { nonce } = await attestationBinding(value, device.jwk);
    const res = await postRegistration(issuer, {
      software_id: 'mobile-attested-template',
      jwks: { keys: [device.jwk] },
      attestation: {
        format: 'play-integrity',
        challenge: value,
        evidence: await keys.sign(integrityPayload(nonce)),
      },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.cal, 'by-policy');
  });

  it("a key attestation from a test root is refused: the example trusts only Google's roots", async () => {
    const device = await createDeviceKey();
    const value = await challenge();
    const binding = await attestationBinding(value, device.jwk);
    const chain = await (await createAndroidRoot()).attest(device.publicKey, {
      challenge: binding.clientDataHash,
    });
    const res = await postRegistration(issuer, {
      software_id: 'mobile-attested-template',
      jwks: { keys: [device.jwk] },
      attestation: { format: 'android-key', challenge: value, evidence: chain },
    });
    assert.equal(res.status, 403);
    assert.equal(res.body.error, 'invalid_client_attestation');
    assert.match(res.body.error_description, /trusted root/);
  });
});

describe('the example server without attestation settings', () => {
  it('says attestation is off', async () => {
    const example = await withoutSettings();
    try {
      assert.match(await waitFor(example, 'attestation:'), /attestation: off/);
    } finally {
      await example.stop();
    }
  });
});
