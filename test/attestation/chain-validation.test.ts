// RFC 5280 §6.1 path validation of attestation chains, on generated PKI: each test performs an
// attack (or its proper control) through the public verifier and expects the specific refusal.
// The forgeries are generated, not built from a real fixture chain: forging below a real leaf
// needs that leaf's private key, which stays in the device's keystore.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { createHash, webcrypto, X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import * as x509 from '@peculiar/x509';
import { isoCBOR } from '@simplewebauthn/server/helpers';
import {
  type AndroidKeyAttestationOptions,
  AttestationError,
  GOOGLE_HARDWARE_ATTESTATION_ROOTS,
  verifyAndroidKeyAttestation,
  verifyAppAttestAttestation,
} from 'mobile-oidc-provider/attestation';
import {
  extensionValue,
  parseCertificate,
  verifyChain,
} from '../../lib/attestation/verifiers/x509.js';
import {
  type AndroidClaims,
  type CertSpec,
  chainOf,
  type GeneratedCert,
  issueCert,
  TEST_PACKAGE,
  TEST_SIGNING_DIGEST,
} from '../helpers/android-attestation.js';
import { PRODUCTION_AAGUID, TEST_APP_ID } from '../helpers/app-attest.js';
import { EC } from '../helpers/test-pki.js';

const { keyCertSign, cRLSign, digitalSignature } = x509.KeyUsageFlags;
// The Android KeyDescription extension.
const KD = '1.3.6.1.4.1.11129.2.1.17';
const CA = { ca: true, keyUsage: keyCertSign | cRLSign } satisfies Partial<CertSpec>;
// Android leaves: keyUsage digitalSignature, no basicConstraints.
const LEAF = { subject: 'CN=Android Keystore Key', keyUsage: digitalSignature } as const;

// The server's challenge, and the victim app it expects (TEST_PACKAGE, signed TEST_SIGNING_DIGEST).
const CHALLENGE = Buffer.from('the server challenge');
const VICTIM: AndroidClaims = { challenge: CHALLENGE };
// What the attacker's device truthfully attests for the attacker's own key: another app, another
// challenge, an unlocked, unverified device.
const ATTACKER: AndroidClaims = {
  challenge: Buffer.from('whatever the attacker asked'),
  packageName: 'com.attacker.app',
  signingDigest: new Uint8Array(32).fill(7),
  deviceLocked: false,
};

const refusedWith = (code: string) => (error: unknown) => {
  assert.ok(error instanceof AttestationError, String(error));
  assert.equal(error.code, code, error.message);
  return true;
};

/** A test root and a CA intermediate below it: the genuine part of every chain. */
async function genuinePki(rootSpec: Partial<CertSpec> = {}) {
  const root = await issueCert({ subject: 'CN=Test Attestation Root', ...CA, ...rootSpec });
  const intermediate = await issueCert({ subject: 'CN=Test Attestation CA', ...CA }, root);
  return { root, intermediate };
}

/** What the server checks: the victim app, the server's challenge, trusting `root` only. */
const expecting = (
  root: GeneratedCert,
  ...chain: GeneratedCert[]
): AndroidKeyAttestationOptions => ({
  chain: chainOf(...chain),
  challenge: CHALLENGE,
  packageNames: [TEST_PACKAGE],
  signingCertDigests: [Buffer.from(TEST_SIGNING_DIGEST).toString('hex')],
  roots: [root.cert.toString('pem')],
});

const signedBy = (cert: GeneratedCert, issuer: GeneratedCert) =>
  new X509Certificate(Buffer.from(cert.cert.rawData)).verify(
    new X509Certificate(Buffer.from(issuer.cert.rawData)).publicKey,
  );

describe('RFC 5280 §6.1 path validation: the chain-extension attack on Android key attestation', () => {
  it('(d) control: root → CA intermediate → leaf, issued properly, verifies and returns the claims', async () => {
    const { root, intermediate } = await genuinePki();
    const leaf = await issueCert({ ...LEAF, claims: VICTIM }, intermediate);
    const result = await verifyAndroidKeyAttestation(expecting(root, leaf, intermediate, root));
    assert.deepEqual(result.packageNames, [TEST_PACKAGE]);
    assert.equal(result.securityLevel, 'TRUSTED_ENVIRONMENT');
    assert.equal(result.verifiedBootState, 'VERIFIED');
    assert.equal(result.deviceLocked, true);
    const leafKey = await webcrypto.subtle.exportKey('jwk', leaf.keys.publicKey);
    assert.equal(result.publicKeyJwk.x, leafKey.x);
  });

  it('(a) RFC 5280 §6.1.4 (k): a certificate forged below a genuine, non-CA attested leaf → issuer_not_ca', async () => {
    const { root, intermediate } = await genuinePki();
    // The attacker's own keystore key: genuinely attested, for the attacker's app.
    const genuineLeaf = await issueCert({ ...LEAF, claims: ATTACKER }, intermediate);
    // The genuine part holds on its own: the attacker's app really is attested.
    const own = await verifyAndroidKeyAttestation({
      ...expecting(root, genuineLeaf, intermediate, root),
      challenge: ATTACKER.challenge,
      packageNames: ['com.attacker.app'],
      signingCertDigests: [Buffer.from(ATTACKER.signingDigest as Uint8Array).toString('hex')],
      requireDeviceLocked: false,
    });
    assert.deepEqual(own.packageNames, ['com.attacker.app']);
    // The keystore key signs a certificate of the attacker's making, claiming the victim app, the
    // server's challenge and a locked, verified device; every signature of the chain is valid.
    const forged = await issueCert({ ...LEAF, claims: VICTIM }, genuineLeaf);
    assert.ok(signedBy(forged, genuineLeaf));
    await assert.rejects(
      verifyAndroidKeyAttestation(expecting(root, forged, genuineLeaf, intermediate, root)),
      refusedWith('issuer_not_ca'),
    );
  });

  it('(a) RFC 5280 §6.1.4 (k): path validation alone, without the KeyDescription rule, refuses the forgery → issuer_not_ca', async () => {
    const { root, intermediate } = await genuinePki();
    const genuineLeaf = await issueCert({ ...LEAF, claims: ATTACKER }, intermediate);
    const forged = await issueCert({ ...LEAF, claims: VICTIM }, genuineLeaf);
    const chain = chainOf(forged, genuineLeaf, intermediate, root).map((c, i) =>
      parseCertificate(c, `certificate ${i}`),
    );
    const roots = [root.cert.toString('pem')];
    assert.throws(() => verifyChain(chain, roots, new Date()), refusedWith('issuer_not_ca'));
    // With the Android batch-key allowance as verifyAndroidKeyAttestation grants it: still refused,
    // because the attested key's certificate carries a KeyDescription.
    const allowance = (cert: X509Certificate, index: number) =>
      index === 1 && extensionValue(cert, KD) === undefined;
    assert.throws(
      () => verifyChain(chain, roots, new Date(), { nonCaIssuer: allowance }),
      refusedWith('issuer_not_ca'),
    );
  });

  it('(b) RFC 5280 §6.1.4 (k): an intermediate without the CA flag → issuer_not_ca', async () => {
    const root = await issueCert({ subject: 'CN=Test Attestation Root', ...CA });
    const notCa = await issueCert(
      { subject: 'CN=Not A CA', ca: false, keyUsage: keyCertSign },
      root,
    );
    const intermediate = await issueCert({ subject: 'CN=Test Attestation CA', ...CA }, notCa);
    const leaf = await issueCert({ ...LEAF, claims: VICTIM }, intermediate);
    await assert.rejects(
      verifyAndroidKeyAttestation(expecting(root, leaf, intermediate, notCa, root)),
      refusedWith('issuer_not_ca'),
    );
    // Without basicConstraints at all (as a v1 certificate), the same.
    const bare = await issueCert({ subject: 'CN=No Constraints' }, root);
    const below = await issueCert({ subject: 'CN=Test Attestation CA', ...CA }, bare);
    const leaf2 = await issueCert({ ...LEAF, claims: VICTIM }, below);
    await assert.rejects(
      verifyAndroidKeyAttestation(expecting(root, leaf2, below, bare, root)),
      refusedWith('issuer_not_ca'),
    );
  });

  it('(b) RFC 5280 §6.1.4 (k): the top of the chain (a pinned root) without the CA flag → issuer_not_ca', async () => {
    const root = await issueCert({ subject: 'CN=End Entity Root', ca: false });
    const leaf = await issueCert({ ...LEAF, claims: VICTIM }, root);
    await assert.rejects(
      verifyAndroidKeyAttestation(expecting(root, leaf, root)),
      refusedWith('issuer_not_ca'),
    );
  });

  it('(c) the KeyDescription rule alone: a KeyDescription in the leaf and in a proper CA intermediate → key_description_duplicated', async () => {
    // The forgery of (a) if the attested key's certificate were a CA (it never is): path
    // validation passes, the KeyDescription above the leaf still refuses it.
    const root = await issueCert({ subject: 'CN=Test Attestation Root', ...CA });
    const intermediate = await issueCert(
      { subject: 'CN=Test Attestation CA', ...CA, claims: ATTACKER },
      root,
    );
    const leaf = await issueCert({ ...LEAF, claims: VICTIM }, intermediate);
    await assert.rejects(
      verifyAndroidKeyAttestation(expecting(root, leaf, intermediate, root)),
      refusedWith('key_description_duplicated'),
    );
  });

  it('RFC 5280 §6.1.4 (n): a CA intermediate whose keyUsage lacks keyCertSign → key_cert_sign_missing', async () => {
    const root = await issueCert({ subject: 'CN=Test Attestation Root', ...CA });
    const noSign = await issueCert(
      { subject: 'CN=No keyCertSign', ca: true, keyUsage: cRLSign },
      root,
    );
    const intermediate = await issueCert({ subject: 'CN=Test Attestation CA', ...CA }, noSign);
    const leaf = await issueCert({ ...LEAF, claims: VICTIM }, intermediate);
    await assert.rejects(
      verifyAndroidKeyAttestation(expecting(root, leaf, intermediate, noSign, root)),
      refusedWith('key_cert_sign_missing'),
    );
  });

  it('RFC 5280 §4.2.1.9: pathLenConstraint 0 on the root, an intermediate below it → path_length_exceeded', async () => {
    const { root, intermediate } = await genuinePki({ pathLen: 0 });
    const leaf = await issueCert({ ...LEAF, claims: VICTIM }, intermediate);
    await assert.rejects(
      verifyAndroidKeyAttestation(expecting(root, leaf, intermediate, root)),
      refusedWith('path_length_exceeded'),
    );
  });

  it('RFC 5280 §4.2.1.9: pathLenConstraint 0 on an intermediate, an intermediate below it → path_length_exceeded', async () => {
    const root = await issueCert({ subject: 'CN=Test Attestation Root', ...CA, pathLen: 2 });
    const upper = await issueCert({ subject: 'CN=Upper CA', ...CA, pathLen: 0 }, root);
    const lower = await issueCert({ subject: 'CN=Lower CA', ...CA }, upper);
    const leaf = await issueCert({ ...LEAF, claims: VICTIM }, lower);
    await assert.rejects(
      verifyAndroidKeyAttestation(expecting(root, leaf, lower, upper, root)),
      refusedWith('path_length_exceeded'),
    );
    // pathLenConstraint 1 on the root: two intermediates are one too many.
    const strict = await issueCert({ subject: 'CN=Test Attestation Root', ...CA, pathLen: 1 });
    const a = await issueCert({ subject: 'CN=CA A', ...CA }, strict);
    const b = await issueCert({ subject: 'CN=CA B', ...CA }, a);
    const leaf2 = await issueCert({ ...LEAF, claims: VICTIM }, b);
    await assert.rejects(
      verifyAndroidKeyAttestation(expecting(strict, leaf2, b, a, strict)),
      refusedWith('path_length_exceeded'),
    );
  });

  it('RFC 5280 §6.1.4 (l): the limits hold exactly, and self-issued intermediates do not count', async () => {
    const { root, intermediate } = await genuinePki({ pathLen: 1 });
    const leaf = await issueCert({ ...LEAF, claims: VICTIM }, intermediate);
    await verifyAndroidKeyAttestation(expecting(root, leaf, intermediate, root));
    // A root with pathLen 0 rolls its key over: the new CA has the root's name (self-issued).
    const zero = await issueCert({ subject: 'CN=Test Attestation Root', ...CA, pathLen: 0 });
    const rollover = await issueCert({ subject: 'CN=Test Attestation Root', ...CA }, zero);
    const leaf2 = await issueCert({ ...LEAF, claims: VICTIM }, rollover);
    await verifyAndroidKeyAttestation(expecting(zero, leaf2, rollover, zero));
  });

  it('RFC 5280 §4.2.1.9: a leaf with basicConstraints cA=TRUE → leaf_is_ca', async () => {
    const { root, intermediate } = await genuinePki();
    const leaf = await issueCert({ ...LEAF, ...CA, claims: VICTIM }, intermediate);
    await assert.rejects(
      verifyAndroidKeyAttestation(expecting(root, leaf, intermediate, root)),
      refusedWith('leaf_is_ca'),
    );
  });

  it('RFC 5280 §6.1.3 (a)(4): an issuer name that is not the next subject, signature valid → name_chaining_broken', async () => {
    const { root, intermediate } = await genuinePki();
    const leaf = await issueCert(
      { ...LEAF, claims: VICTIM, issuerName: 'CN=Somebody Else' },
      intermediate,
    );
    assert.ok(signedBy(leaf, intermediate));
    await assert.rejects(
      verifyAndroidKeyAttestation(expecting(root, leaf, intermediate, root)),
      refusedWith('name_chaining_broken'),
    );
  });

  it('RFC 5280 §6.1.4 (o): a critical extension the verifier does not process → critical_extension_unknown', async () => {
    const unknown = new x509.Extension('1.3.6.1.4.1.55555.1', true, new Uint8Array([5, 0]));
    const { root, intermediate } = await genuinePki();
    const leaf = await issueCert({ ...LEAF, claims: VICTIM, extensions: [unknown] }, intermediate);
    await assert.rejects(
      verifyAndroidKeyAttestation(expecting(root, leaf, intermediate, root)),
      refusedWith('critical_extension_unknown'),
    );
    const odd = await issueCert({ subject: 'CN=Odd CA', ...CA, extensions: [unknown] }, root);
    const leaf2 = await issueCert({ ...LEAF, claims: VICTIM }, odd);
    await assert.rejects(
      verifyAndroidKeyAttestation(expecting(root, leaf2, odd, root)),
      refusedWith('critical_extension_unknown'),
    );
  });

  it('RFC 5280 §4.2: a leaf with two KeyDescriptions (which one counts?) → malformed', async () => {
    const { root, intermediate } = await genuinePki();
    const leaf = await issueCert(
      {
        ...LEAF,
        claims: ATTACKER,
        extensions: [
          (await issueCert({ ...LEAF, claims: VICTIM })).cert.getExtension(KD) as x509.Extension,
        ],
      },
      intermediate,
    );
    await assert.rejects(
      verifyAndroidKeyAttestation(expecting(root, leaf, intermediate, root)),
      refusedWith('malformed'),
    );
  });
});

describe('the batch attestation key allowance (real chains that are not RFC 5280 paths)', () => {
  const FIXTURES = new URL('../fixtures/android-key/', import.meta.url);
  const realChain = (name: string) => {
    const pem = readFileSync(new URL(name, FIXTURES), 'utf8');
    const chain = (
      pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []
    ).map((c, i) => parseCertificate(c, `certificate ${i}`));
    const now = new Date(Math.max(...chain.map((c) => new Date(c.validFrom).getTime())) + 60_000);
    return { chain, now };
  };

  it('RFC 5280 §6.1.4 (k): every real device chain is a strict path, but Sony Xperia 10 III (non-CA batch key certificate)', () => {
    const names = readdirSync(FIXTURES).filter((f) => f.endsWith('.pem'));
    assert.ok(names.length >= 7);
    for (const name of names) {
      const { chain, now } = realChain(name);
      if (name.startsWith('sony-xperia10-iii')) {
        // Its certificate 1 (the batch attestation key) has basicConstraints cA=FALSE and keyUsage
        // digitalSignature only; Google's verifier accepts it, and so does verifyAndroidKeyAttestation.
        assert.throws(
          () => verifyChain(chain, GOOGLE_HARDWARE_ATTESTATION_ROOTS, now),
          refusedWith('issuer_not_ca'),
        );
      } else {
        verifyChain(chain, GOOGLE_HARDWARE_ATTESTATION_ROOTS, now);
      }
    }
  });

  it('RFC 5280 §6.1.4 (k) departure: a non-CA certificate without KeyDescription right above the leaf verifies (the Sony layout)', async () => {
    const { root, intermediate } = await genuinePki();
    const batchKey = await issueCert(
      { subject: 'CN=Batch Attestation Key', ca: false, keyUsage: digitalSignature },
      intermediate,
    );
    const leaf = await issueCert({ ...LEAF, claims: VICTIM }, batchKey);
    const result = await verifyAndroidKeyAttestation(
      expecting(root, leaf, batchKey, intermediate, root),
    );
    assert.deepEqual(result.packageNames, [TEST_PACKAGE]);
    // Nowhere else: not as the top of the chain, not for App Attest (below), not with a
    // KeyDescription (a), not higher up (b).
    await assert.rejects(
      verifyAndroidKeyAttestation(expecting(intermediate, leaf, batchKey)),
      refusedWith('issuer_not_ca'),
    );
  });
});

describe('RFC 5280 §6.1 path validation of App Attest chains', () => {
  const sha256 = (...parts: Uint8Array[]) => {
    const hash = createHash('sha256');
    for (const part of parts) hash.update(part);
    return hash.digest();
  };
  const clientData = Buffer.from('client data');

  /** An App Attest attestation whose credential certificate is issued by `issuer`. */
  async function attestation(
    root: GeneratedCert,
    issuer: GeneratedCert,
    spec: Partial<CertSpec> = {},
  ) {
    const keys = await webcrypto.subtle.generateKey(EC, false, ['sign', 'verify']);
    const keyId = sha256(Buffer.from(await webcrypto.subtle.exportKey('raw', keys.publicKey)));
    const authData = Buffer.concat([
      sha256(Buffer.from(TEST_APP_ID)),
      Buffer.from([0x40]),
      Buffer.alloc(4),
      PRODUCTION_AAGUID,
      Buffer.from([0x00, 0x20]),
      keyId,
      Buffer.from([0xa0]),
    ]);
    const nonce = sha256(authData, sha256(clientData));
    const prefix = Buffer.from([0x30, 0x24, 0xa1, 0x22, 0x04, 0x20]);
    const credential = await issueCert(
      {
        subject: `CN=${keyId.toString('hex')}`,
        ca: false,
        keyUsage: digitalSignature,
        extensions: [
          new x509.Extension('1.2.840.113635.100.8.2', false, Buffer.concat([prefix, nonce])),
        ],
        ...spec,
      },
      issuer,
      keys,
    );
    const object = new Map<string, unknown>([
      ['fmt', 'apple-appattest'],
      [
        'attStmt',
        new Map<string, unknown>([
          ['x5c', [credential, issuer].map((c) => new Uint8Array(c.cert.rawData))],
          ['receipt', new Uint8Array([1, 2, 3])],
        ]),
      ],
      ['authData', new Uint8Array(authData)],
    ]);
    return {
      attestation: isoCBOR.encode(object as never),
      challenge: clientData,
      keyId: keyId.toString('base64'),
      appId: TEST_APP_ID,
      roots: [root.cert.toString('pem')],
    };
  }

  it('control: credential ← CA intermediate ← pinned root (outside x5c, as Apple sends it) verifies', async () => {
    const { root, intermediate } = await genuinePki();
    const result = await verifyAppAttestAttestation(await attestation(root, intermediate));
    assert.equal(result.environment, 'production');
  });

  it('RFC 5280 §6.1.4 (k): a credential certificate signed by a non-CA certificate → issuer_not_ca', async () => {
    // Apple's x5c is [credential, intermediate]: here a non-CA certificate the root signed takes
    // the intermediate's place; no batch-key allowance applies to App Attest.
    const root = await issueCert({ subject: 'CN=Test App Attestation Root', ...CA });
    const notCa = await issueCert(
      { subject: 'CN=Another Credential', ca: false, keyUsage: digitalSignature },
      root,
    );
    await assert.rejects(
      verifyAppAttestAttestation(await attestation(root, notCa)),
      refusedWith('issuer_not_ca'),
    );
  });

  it('RFC 5280 §4.2.1.9: a CA credential certificate → leaf_is_ca; root pathLen 0 with an intermediate → path_length_exceeded', async () => {
    const { root, intermediate } = await genuinePki();
    await assert.rejects(
      verifyAppAttestAttestation(await attestation(root, intermediate, CA)),
      refusedWith('leaf_is_ca'),
    );
    const tight = await genuinePki({ pathLen: 0 });
    await assert.rejects(
      verifyAppAttestAttestation(await attestation(tight.root, tight.intermediate)),
      refusedWith('path_length_exceeded'),
    );
  });

  it('verifyChain: a generated chain with a non-CA intermediate → issuer_not_ca, unless allowed', async () => {
    const { root, intermediate } = await genuinePki();
    const notCa = await issueCert({ subject: 'CN=Not A CA', ca: false }, intermediate);
    const leaf = await issueCert({ subject: 'CN=Leaf' }, notCa);
    const chain = chainOf(leaf, notCa, intermediate).map((c, i) =>
      parseCertificate(c, `certificate ${i}`),
    );
    const roots = [root.cert.toString('pem')];
    assert.throws(() => verifyChain(chain, roots, new Date()), refusedWith('issuer_not_ca'));
    verifyChain(chain, roots, new Date(), { nonCaIssuer: (_, index) => index === 1 });
    // The allowance never covers the chain's top.
    assert.throws(
      () =>
        verifyChain(chain.slice(0, 2), [intermediate.cert.toString('pem')], new Date(), {
          nonCaIssuer: () => true,
        }),
      refusedWith('issuer_not_ca'),
    );
  });
});
