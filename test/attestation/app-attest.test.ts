// verifyAppAttestAttestation and verifyAppAttestAssertion (mobile-oidc-provider/attestation) on
// real App Attest data (test/fixtures/app-attest, MIT) with the clock pinned inside the
// credential certificate's validity, and one negative variant per check.
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { JWK } from 'jose';
import {
  type AppAttestAttestationOptions,
  AttestationError,
  appAttestVerifier,
  attestationBinding,
  verifyAppAttestAssertion,
  verifyAppAttestAttestation,
} from 'mobile-oidc-provider/attestation';
import { createAppAttestCa, TEST_APP_ID } from '../helpers/app-attest.js';
import { startExampleWithTemplate } from '../helpers/example.js';
import { fetchChallenge, postRegistration } from '../helpers/registration.js';
import { attestedTemplate, createDeviceKey } from '../helpers/test-attestation.js';

const FIXTURES = new URL('../fixtures/app-attest/', import.meta.url);
const read = (name: string) => JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8'));
const APP_ID = 'V8H6LQ9448.io.uebelacker.AppAttestExample';
// Inside both credential certificates' validity (Feb 2024 – Dec 2024).
const NOW = new Date('2024-06-01T00:00:00Z');

function optionsFor(environment: 'production' | 'development'): AppAttestAttestationOptions {
  const fixture = read(`attestation-${environment}.json`);
  return {
    attestation: Buffer.from(fixture.attestation, 'base64'),
    challenge: Buffer.from(fixture.challenge, 'base64'),
    keyId: fixture.keyId,
    appId: APP_ID,
    allowDevelopment: environment === 'development',
    now: NOW,
  };
}

const refusedWith = (code: string) => (error: unknown) => {
  assert.ok(error instanceof AttestationError, String(error));
  assert.equal(error.code, code, error.message);
  return true;
};

describe('verifyAppAttestAttestation on real attestations', () => {
  it('a production attestation verifies: key id, P-256 key, environment, receipt, counter 0', async () => {
    const options = optionsFor('production');
    const result = await verifyAppAttestAttestation(options);
    assert.equal(result.keyId, options.keyId);
    assert.equal(result.environment, 'production');
    assert.equal(result.publicKeyJwk.crv, 'P-256');
    assert.ok(result.receipt.length > 100);
    assert.equal(result.signCount, 0);
  });

  it('a development attestation verifies only with allowDevelopment', async () => {
    const result = await verifyAppAttestAttestation(optionsFor('development'));
    assert.equal(result.environment, 'development');
    await assert.rejects(
      verifyAppAttestAttestation({ ...optionsFor('development'), allowDevelopment: false }),
      refusedWith('development_not_allowed'),
    );
  });

  it('another challenge → challenge_mismatch', async () => {
    await assert.rejects(
      verifyAppAttestAttestation({
        ...optionsFor('production'),
        challenge: Buffer.from('another'),
      }),
      refusedWith('challenge_mismatch'),
    );
  });
  it('another app id → app_id_mismatch', async () => {
    await assert.rejects(
      verifyAppAttestAttestation({
        ...optionsFor('production'),
        appId: 'V8H6LQ9448.com.evil.clone',
      }),
      refusedWith('app_id_mismatch'),
    );
  });
  it('another key id → key_id_mismatch', async () => {
    await assert.rejects(
      verifyAppAttestAttestation({
        ...optionsFor('production'),
        keyId: optionsFor('development').keyId,
      }),
      refusedWith('key_id_mismatch'),
    );
  });
  it('an untrusted root → chain_untrusted', async () => {
    const android = JSON.parse(
      readFileSync(new URL('../fixtures/android-key/roots.json', import.meta.url), 'utf8'),
    ) as string[];
    await assert.rejects(
      verifyAppAttestAttestation({ ...optionsFor('production'), roots: android }),
      refusedWith('chain_untrusted'),
    );
  });
  it('checked after the credential certificate expired → certificate_expired', async () => {
    await assert.rejects(
      verifyAppAttestAttestation({
        ...optionsFor('production'),
        now: new Date('2026-01-01T00:00:00Z'),
      }),
      refusedWith('certificate_expired'),
    );
  });
  it('tampered authData (one bit of the counter) → challenge_mismatch: the nonce covers it', async () => {
    const options = optionsFor('production');
    const bytes = Buffer.from(options.attestation);
    const authData = bytes.indexOf(Buffer.from('authData'));
    // authData's bytes follow its key and a 2-byte length header; flip a counter bit.
    const counterAt = authData + 'authData'.length + 2 + 33 + 3;
    bytes[counterAt] = (bytes[counterAt] as number) ^ 1;
    await assert.rejects(
      verifyAppAttestAttestation({ ...options, attestation: bytes }),
      refusedWith('challenge_mismatch'),
    );
  });
  it('garbage → malformed', async () => {
    await assert.rejects(
      verifyAppAttestAttestation({
        ...optionsFor('production'),
        attestation: Buffer.from('not cbor'),
      }),
      refusedWith('malformed'),
    );
  });
});

describe('verifyAppAttestAssertion on a real assertion', () => {
  const fixture = read('assertion.json');
  const options = () => ({
    assertion: Buffer.from(fixture.assertion, 'base64'),
    clientData: Buffer.from(fixture.clientData),
    publicKeyJwk: createPublicKey(fixture.publicKeyPem).export({ format: 'jwk' }) as JWK,
    appId: `${fixture.teamId}.${fixture.bundleId}`,
    previousSignCount: 0,
  });

  it('verifies and returns the new counter', async () => {
    assert.deepEqual(await verifyAppAttestAssertion(options()), { signCount: 1 });
  });
  it('a counter that does not increase (a replay) → counter_not_increasing', async () => {
    await assert.rejects(
      verifyAppAttestAssertion({ ...options(), previousSignCount: 1 }),
      refusedWith('counter_not_increasing'),
    );
  });
  it('other client data → signature_invalid', async () => {
    await assert.rejects(
      verifyAppAttestAssertion({ ...options(), clientData: Buffer.from('{}') }),
      refusedWith('signature_invalid'),
    );
  });
  it('a corrupted key is refused; another app → app_id_mismatch', async () => {
    const other = createPublicKey(read('assertion.json').publicKeyPem).export({
      format: 'jwk',
    }) as JWK;
    other.x = Buffer.from(other.x as string, 'base64url')
      .reverse()
      .toString('base64url');
    await assert.rejects(
      verifyAppAttestAssertion({ ...options(), publicKeyJwk: other }),
      (e: unknown) => e instanceof AttestationError,
    );
    await assert.rejects(
      verifyAppAttestAssertion({ ...options(), appId: 'V8H6LQ9448.com.evil.clone' }),
      refusedWith('app_id_mismatch'),
    );
  });
});

describe('generated App Attest attestations', () => {
  it('an unknown AAGUID → malformed; production verifies with the injected root', async () => {
    const ca = await createAppAttestCa();
    const clientData = Buffer.from('client data');
    const good = await ca.attest(clientData);
    const options = (evidence: { attestation: string; keyId: string }) => ({
      attestation: Buffer.from(evidence.attestation, 'base64'),
      keyId: evidence.keyId,
      challenge: clientData,
      appId: TEST_APP_ID,
      roots: [ca.rootPem],
    });
    assert.equal((await verifyAppAttestAttestation(options(good))).environment, 'production');
    const odd = await ca.attest(clientData, { aaguid: Buffer.alloc(16, 1) });
    await assert.rejects(verifyAppAttestAttestation(options(odd)), refusedWith('malformed'));
  });
});

describe('the apple-appattest evidence format in registration', () => {
  it('attestKey over SHA-256(binding.clientData) → instance with cal=by-policy; other client data is refused', async () => {
    const ca = await createAppAttestCa();
    const server = await startExampleWithTemplate(
      {
        ...attestedTemplate('io.example.ios', 'optional'),
        attestation: { formats: ['apple-appattest'], appIds: [TEST_APP_ID] },
      },
      {
        verifiers: {
          'apple-appattest': appAttestVerifier({ appId: TEST_APP_ID, roots: [ca.rootPem] }),
        },
      },
    );
    try {
      const register = async (clientDataFor: (binding: { clientData: string }) => string) => {
        const device = await createDeviceKey();
        const challenge = await fetchChallenge(server.issuer);
        const binding = await attestationBinding(challenge, device.jwk);
        const evidence = await ca.attest(Buffer.from(clientDataFor(binding)));
        return postRegistration(server.issuer, {
          software_id: 'io.example.ios',
          jwks: { keys: [device.jwk] },
          attestation: { format: 'apple-appattest', challenge, evidence },
        });
      };
      const ok = await register((binding) => binding.clientData);
      assert.equal(ok.status, 201, JSON.stringify(ok.body));
      assert.equal(ok.body.cal, 'by-policy');
      const info = await server.auth.devices.get(ok.body.client_id);
      assert.equal(info?.registeredBy.evidence?.platform, 'ios');
      assert.deepEqual(info?.registeredBy.evidence?.verdicts, ['environment:production']);
      const unbound = await register(() => 'just the challenge');
      assert.equal(unbound.status, 403);
      assert.match(unbound.body.error_description, /another challenge/);
    } finally {
      await server.close();
    }
  });
});
