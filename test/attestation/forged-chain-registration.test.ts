// The forged Android chain, end to end over HTTP (RFC 7591 §3 registration with android-key
// evidence, RFC 5280 §6.1.4 (k)): an attacker's genuinely attested keystore key signs a
// certificate of the attacker's making for the key they register, claiming the victim app, the
// server's challenge and a locked device. The registration is refused and leaves no client; the
// same chain issued properly registers at cal=by-policy.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import * as x509 from '@peculiar/x509';
import { attestationBinding } from 'mobile-oidc-provider';
import {
  chainOf,
  type GeneratedCert,
  issueCert,
  TEST_PACKAGE,
  TEST_SIGNING_DIGEST,
} from '../helpers/android-attestation.js';
import { ClientCountingStore } from '../helpers/client-counter.js';
import { type RunningServer, startExample } from '../helpers/example.js';
import { fetchChallenge, postRegistration } from '../helpers/registration.js';
import { attestedTemplate, createDeviceKey } from '../helpers/test-attestation.js';

const SOFTWARE_ID = 'io.example.android';
const { keyCertSign, cRLSign, digitalSignature } = x509.KeyUsageFlags;
const CA = { ca: true, keyUsage: keyCertSign | cRLSign };
const LEAF = { subject: 'CN=Android Keystore Key', keyUsage: digitalSignature };

describe('a forged Android chain is refused at registration (RFC 5280 §6.1.4 (k))', () => {
  let server: RunningServer;
  let store: ClientCountingStore;
  let root: GeneratedCert;
  let intermediate: GeneratedCert;

  before(async () => {
    root = await issueCert({ subject: 'CN=Test Attestation Root', ...CA });
    intermediate = await issueCert({ subject: 'CN=Test Attestation CA', ...CA }, root);
    store = new ClientCountingStore();
    server = await startExample((o) => ({
      ...o,
      store,
      registration: {
        ...o.registration,
        templates: [
          ...(o.registration?.templates ?? []),
          {
            ...attestedTemplate(SOFTWARE_ID, 'optional'),
            attestation: {
              formats: ['android-key'],
              androidKey: {
                packageNames: [TEST_PACKAGE],
                signingCertDigests: [Buffer.from(TEST_SIGNING_DIGEST).toString('base64')],
              },
            },
          },
        ],
      },
      attestation: { androidRoots: [root.cert.toString('pem')] },
    }));
  });
  after(async () => {
    await server.close();
    await store.close();
  });

  /** Registers `device`'s key with the chain `chainFor` builds for the server's binding. */
  async function register(
    device: Awaited<ReturnType<typeof createDeviceKey>>,
    chainFor: (challenge: Uint8Array) => Promise<GeneratedCert[]>,
  ) {
    const value = await fetchChallenge(server.issuer);
    const binding = await attestationBinding(value, device.jwk);
    return postRegistration(server.issuer, {
      software_id: SOFTWARE_ID,
      jwks: { keys: [device.jwk] },
      attestation: {
        format: 'android-key',
        challenge: value,
        evidence: chainOf(...(await chainFor(binding.clientDataHash))),
      },
    });
  }

  it('the attack: a certificate signed by the attacker’s attested (non-CA) key → 403, no client', async () => {
    const attackerDevice = await webcrypto.subtle.generateKey(
      { name: 'ECDSA', namedCurve: 'P-256' },
      false,
      ['sign', 'verify'],
    );
    // Genuinely attested by the device: the attacker's own app, an unlocked bootloader.
    const attackerLeaf = await issueCert(
      {
        ...LEAF,
        claims: {
          challenge: Buffer.from('anything'),
          packageName: 'com.attacker.app',
          deviceLocked: false,
        },
      },
      intermediate,
      attackerDevice,
    );
    const registered = await createDeviceKey();
    const before = store.clientWrites;
    const res = await register(registered, async (challenge) => [
      // Signed by the attacker's keystore key: the victim app, this challenge, a locked device.
      await issueCert({ ...LEAF, claims: { challenge } }, attackerLeaf, {
        publicKey: registered.publicKey,
        privateKey: registered.privateKey,
      }),
      attackerLeaf,
      intermediate,
      root,
    ]);
    assert.equal(res.status, 403);
    assert.equal(res.body.error, 'invalid_client_attestation');
    assert.match(res.body.error_description, /not a CA certificate/);
    assert.equal(store.clientWrites, before);
  });

  it('control: the same chain issued properly registers at cal=by-policy', async () => {
    const device = await createDeviceKey();
    const res = await register(device, async (challenge) => [
      await issueCert({ ...LEAF, claims: { challenge } }, intermediate, {
        publicKey: device.publicKey,
        privateKey: device.privateKey,
      }),
      intermediate,
      root,
    ]);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.cal, 'by-policy');
  });
});
