// verifyAndroidKeyAttestation (mobile-oidc-provider/attestation) on real chains from several
// devices and Android versions (test/fixtures/android-key, Apache-2.0), with the clock pinned
// inside each chain's validity, and one negative variant per check.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  id_ce_keyDescription,
  KeyDescription,
  SecurityLevel,
  VerifiedBootState,
} from '@peculiar/asn1-android';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import {
  type AndroidKeyAttestationOptions,
  type AndroidRevocationList,
  AttestationError,
  attestationBinding,
  GOOGLE_HARDWARE_ATTESTATION_ROOTS,
  verifyAndroidKeyAttestation,
} from 'mobile-oidc-provider/attestation';
import {
  type AndroidClaims,
  BIOMETRIC_PER_USE,
  createAndroidRoot,
  TEST_PACKAGE,
  TEST_SIGNING_DIGEST,
} from '../helpers/android-attestation.js';
import { startExampleWithTemplate } from '../helpers/example.js';
import { fetchChallenge, postRegistration } from '../helpers/registration.js';
import { attestedTemplate, createDeviceKey } from '../helpers/test-attestation.js';

const FIXTURES = new URL('../fixtures/android-key/', import.meta.url);

interface Described {
  attestationVersion: string;
  attestationSecurityLevel: string;
  attestationChallenge: string;
  softwareEnforced: {
    attestationApplicationId: { packages: Array<{ name: string }>; signatures: string[] };
  };
  hardwareEnforced: {
    rootOfTrust: { verifiedBootState: string; deviceLocked: boolean };
    noAuthRequired?: boolean;
    osVersion?: string;
    osPatchLevel?: string;
  };
}

interface Vector {
  name: string;
  chain: string[];
  described: Described;
  /** A moment when every certificate of the chain is valid. */
  now: Date;
}

function vector(name: string): Vector {
  const pem = readFileSync(new URL(`${name}.pem`, FIXTURES), 'utf8');
  const chain = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  const json = readFileSync(new URL(`${name}.json`, FIXTURES), 'utf8').replace(/^\s*\/\/.*$/gm, '');
  const certs = chain.map((c) => new X509Certificate(c));
  const from = Math.max(...certs.map((c) => new Date(c.validFrom).getTime()));
  return { name, chain, described: JSON.parse(json) as Described, now: new Date(from + 60_000) };
}

const VECTORS = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.json') && f !== 'roots.json')
  .map((f) => vector(f.replace(/\.json$/, '')));

/** Options under which a vector verifies (some are development devices: unlocked, unverified). */
function optionsFor(v: Vector): AndroidKeyAttestationOptions {
  const { attestationApplicationId } = v.described.softwareEnforced;
  const trust = v.described.hardwareEnforced.rootOfTrust;
  return {
    chain: v.chain,
    challenge: Buffer.from(v.described.attestationChallenge, 'base64'),
    packageNames: attestationApplicationId.packages.map((p) => p.name),
    signingCertDigests: attestationApplicationId.signatures,
    requireVerifiedBoot: trust.verifiedBootState === 'VERIFIED',
    requireDeviceLocked: trust.deviceLocked,
    now: v.now,
  };
}

const refusedWith = (code: string) => (error: unknown) => {
  assert.ok(error instanceof AttestationError, String(error));
  assert.equal(error.code, code, error.message);
  return true;
};

describe('verifyAndroidKeyAttestation on real device chains', () => {
  assert.ok(VECTORS.length >= 6);
  for (const v of VECTORS) {
    it(`${v.name}: verifies, with the values its description lists`, async () => {
      const result = await verifyAndroidKeyAttestation(optionsFor(v));
      const d = v.described;
      assert.equal(result.attestationVersion, Number(d.attestationVersion));
      assert.equal(result.securityLevel, d.attestationSecurityLevel);
      assert.deepEqual(
        result.packageNames,
        d.softwareEnforced.attestationApplicationId.packages.map((p) => p.name),
      );
      assert.equal(result.verifiedBootState, d.hardwareEnforced.rootOfTrust.verifiedBootState);
      assert.equal(result.deviceLocked, d.hardwareEnforced.rootOfTrust.deviceLocked);
      if (d.hardwareEnforced.osVersion) {
        assert.equal(result.osVersion, Number(d.hardwareEnforced.osVersion));
      }
      const leafKey = new X509Certificate(v.chain[0] as string).publicKey.export({ format: 'jwk' });
      assert.deepEqual(result.publicKeyJwk, leafKey);
      // Every device key here was generated without user authentication (noAuthRequired).
      assert.equal(d.hardwareEnforced.noAuthRequired, true);
      assert.equal(result.userAuthentication, undefined);
    });
  }

  it('chains to the RSA root and to the 2025 EC P-384 root are both trusted by default', () => {
    const tops = VECTORS.map(
      (v) => new X509Certificate(v.chain.at(-1) as string).publicKey.asymmetricKeyType,
    );
    assert.ok(tops.includes('rsa') && tops.includes('ec'));
    assert.equal(GOOGLE_HARDWARE_ATTESTATION_ROOTS.length, 2);
  });

  it('an unverified, unlocked development device is refused under the defaults', async () => {
    const dev = VECTORS.find(
      (v) => v.described.hardwareEnforced.rootOfTrust.verifiedBootState !== 'VERIFIED',
    );
    assert.ok(dev);
    const strict = { ...optionsFor(dev), requireVerifiedBoot: true, requireDeviceLocked: false };
    await assert.rejects(verifyAndroidKeyAttestation(strict), refusedWith('boot_not_verified'));
    const locked = { ...optionsFor(dev), requireVerifiedBoot: false, requireDeviceLocked: true };
    await assert.rejects(verifyAndroidKeyAttestation(locked), refusedWith('device_not_locked'));
  });

  describe('negative variants (Pixel 9a, TEE, EC root)', () => {
    const v = VECTORS.find((x) => x.name === 'tegu_sdk36_TEE_EC_2026_ROOT') as Vector;
    const base = () => optionsFor(v);

    it('wrong challenge → challenge_mismatch', async () => {
      await assert.rejects(
        verifyAndroidKeyAttestation({ ...base(), challenge: Buffer.from('another challenge') }),
        refusedWith('challenge_mismatch'),
      );
    });
    it('another package → app_id_mismatch', async () => {
      await assert.rejects(
        verifyAndroidKeyAttestation({ ...base(), packageNames: ['com.evil.clone'] }),
        refusedWith('app_id_mismatch'),
      );
    });
    it('another signing digest → app_id_mismatch', async () => {
      await assert.rejects(
        verifyAndroidKeyAttestation({ ...base(), signingCertDigests: ['ab'.repeat(32)] }),
        refusedWith('app_id_mismatch'),
      );
    });
    it('the signing digest may be given as hex', async () => {
      const digest = Buffer.from(base().signingCertDigests[0] as string, 'base64').toString('hex');
      const result = await verifyAndroidKeyAttestation({ ...base(), signingCertDigests: [digest] });
      // The attested digest, reported base64, is the one given as hex.
      assert.ok(
        result.signingCertDigests.some((d) => Buffer.from(d, 'base64').toString('hex') === digest),
      );
    });
    it('an untrusted root → chain_untrusted', async () => {
      const rsaOnly = GOOGLE_HARDWARE_ATTESTATION_ROOTS.filter(
        (r) => new X509Certificate(r).publicKey.asymmetricKeyType === 'rsa',
      );
      await assert.rejects(
        verifyAndroidKeyAttestation({ ...base(), roots: rsaOnly }),
        refusedWith('chain_untrusted'),
      );
    });
    it('checked at a later date, when a certificate has expired → certificate_expired', async () => {
      await assert.rejects(
        verifyAndroidKeyAttestation({ ...base(), now: new Date('2100-01-01T00:00:00Z') }),
        refusedWith('certificate_expired'),
      );
    });
    it('tampered bytes in a certificate → chain_untrusted or malformed, never accepted', async () => {
      const der = Buffer.from((v.chain[1] as string).replace(/-----[^-]+-----|\s/g, ''), 'base64');
      der[der.length - 10] = (der[der.length - 10] as number) ^ 0xff;
      const chain = [...v.chain];
      chain[1] = der.toString('base64');
      await assert.rejects(verifyAndroidKeyAttestation({ ...base(), chain }), (error: unknown) => {
        assert.ok(error instanceof AttestationError);
        assert.ok(['chain_untrusted', 'malformed'].includes(error.code), error.code);
        return true;
      });
    });
    it('a revoked serial anywhere in the chain → revoked', async () => {
      for (const cert of v.chain.slice(0, -1)) {
        const serial = new X509Certificate(cert).serialNumber.toLowerCase().replace(/^0+(?=.)/, '');
        await assert.rejects(
          verifyAndroidKeyAttestation({
            ...base(),
            revocationList: {
              entries: { [serial]: { status: 'REVOKED', reason: 'KEY_COMPROMISE' } },
            },
          }),
          refusedWith('revoked'),
        );
      }
    });
    it('a status list older than maxRevocationListAge, or without fetchedAt, fails closed → revocation_list_stale', async () => {
      const maxRevocationListAge = 86_400;
      const fresh = { entries: {}, fetchedAt: new Date(v.now.getTime() - 3_600_000) };
      await verifyAndroidKeyAttestation({ ...base(), revocationList: fresh, maxRevocationListAge });
      const old = { entries: {}, fetchedAt: new Date(v.now.getTime() - 2 * 86_400_000) };
      for (const revocationList of [old, { entries: {} }, undefined]) {
        await assert.rejects(
          verifyAndroidKeyAttestation({
            ...base(),
            ...(revocationList ? { revocationList } : {}),
            maxRevocationListAge,
          }),
          refusedWith('revocation_list_stale'),
        );
      }
    });
    it('a StrongBox minimum refuses a TEE key → security_level_too_low', async () => {
      await assert.rejects(
        verifyAndroidKeyAttestation({ ...base(), minSecurityLevel: 'STRONG_BOX' }),
        refusedWith('security_level_too_low'),
      );
      const strongBox = VECTORS.find((x) => x.name === 'tegu_sdk36_SB_EC_2026_ROOT') as Vector;
      await verifyAndroidKeyAttestation({
        ...optionsFor(strongBox),
        minSecurityLevel: 'STRONG_BOX',
      });
    });
    it('a chain without its issuers → malformed; a leaf alone cannot be trusted', async () => {
      await assert.rejects(
        verifyAndroidKeyAttestation({ ...base(), chain: v.chain.slice(0, 1) }),
        refusedWith('malformed'),
      );
    });
  });

  it('a RootOfTrust that is not DER (deviceLocked encoded as 0x01) is malformed, not read as locked', async () => {
    const pem = readFileSync(new URL('invalid_malformed_rot_device_locked.pem', FIXTURES), 'utf8');
    const chain = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
    const certs = chain.map((c) => new X509Certificate(c));
    const now = new Date(Math.max(...certs.map((c) => new Date(c.validFrom).getTime())) + 60_000);
    await assert.rejects(
      verifyAndroidKeyAttestation({
        chain,
        challenge: Buffer.alloc(0),
        packageNames: [],
        signingCertDigests: [],
        now,
      }),
      refusedWith('malformed'),
    );
  });
});

describe('verifyAndroidKeyAttestation on generated attestations (branches real chains do not reach)', () => {
  const challenge = Buffer.from('generated challenge');
  async function attested(claims: Partial<AndroidClaims>) {
    const root = await createAndroidRoot();
    const device = await createDeviceKey();
    const chain = await root.attest(device.publicKey, { challenge, ...claims });
    return {
      chain,
      challenge,
      packageNames: [TEST_PACKAGE],
      signingCertDigests: [Buffer.from(TEST_SIGNING_DIGEST).toString('hex')],
      roots: [root.pem],
    } satisfies AndroidKeyAttestationOptions;
  }

  it('a TEE key generated on a verified, locked device verifies', async () => {
    const result = await verifyAndroidKeyAttestation(await attested({}));
    assert.equal(result.securityLevel, 'TRUSTED_ENVIRONMENT');
    assert.equal(result.osPatchLevel, 202501);
  });
  it('a hardware-enforced tag no parser knows yet is tolerated; the known ones are still checked', async () => {
    const options = await attested({ unknownTag: true });
    // The tag really is unknown: @peculiar/asn1-android's schema alone refuses this extension.
    const leaf = new X509Certificate(Buffer.from(options.chain[0] as string, 'base64'));
    const extension = AsnConvert.parse(leaf.raw, Certificate).tbsCertificate.extensions?.find(
      (e) => e.extnID === id_ce_keyDescription,
    );
    assert.throws(() =>
      AsnConvert.parse(extension?.extnValue.buffer as ArrayBuffer, KeyDescription),
    );
    const result = await verifyAndroidKeyAttestation(options);
    assert.equal(result.securityLevel, 'TRUSTED_ENVIRONMENT');
    await assert.rejects(
      verifyAndroidKeyAttestation(await attested({ unknownTag: true, origin: 2 })),
      refusedWith('key_not_generated'),
    );
  });
  it('an imported key (origin IMPORTED) → key_not_generated', async () => {
    await assert.rejects(
      verifyAndroidKeyAttestation(await attested({ origin: 2 })),
      refusedWith('key_not_generated'),
    );
  });
  it('a software key → security_level_too_low (accepted only with minSecurityLevel SOFTWARE)', async () => {
    const options = await attested({ securityLevel: SecurityLevel.software });
    await assert.rejects(
      verifyAndroidKeyAttestation(options),
      refusedWith('security_level_too_low'),
    );
    const result = await verifyAndroidKeyAttestation({ ...options, minSecurityLevel: 'SOFTWARE' });
    assert.equal(result.securityLevel, 'SOFTWARE');
  });
  it('the key user authentication the hardware enforces: its kinds and timeout', async () => {
    const perUse = await verifyAndroidKeyAttestation(
      await attested({ userAuth: BIOMETRIC_PER_USE }),
    );
    assert.deepEqual(perUse.userAuthentication, { methods: ['biometric'], timeout: 0 });
    // ANY (0xFFFFFFFF, five DER bytes) and the signed -1 some implementations write: both kinds.
    for (const userAuthType of [0xffffffff, -1]) {
      const any = await verifyAndroidKeyAttestation(
        await attested({ userAuth: { userAuthType, authTimeout: 30 } }),
      );
      assert.deepEqual(any.userAuthentication, {
        methods: ['biometric', 'credential'],
        timeout: 30,
      });
    }
    const credential = await verifyAndroidKeyAttestation(
      await attested({ userAuth: { userAuthType: 1, authTimeout: 5 } }),
    );
    assert.deepEqual(credential.userAuthentication, { methods: ['credential'], timeout: 5 });
  });
  it('no key user authentication: noAuthRequired (in either list), no userAuthType, NONE, or no known kind', async () => {
    for (const claims of [
      {},
      { userAuth: { noAuthRequired: true } },
      { userAuth: { noAuthRequired: true, userAuthType: 2 } },
      { userAuth: BIOMETRIC_PER_USE, softwareUserAuth: { noAuthRequired: true } },
      { userAuth: { userAuthType: 0 } },
      { userAuth: { userAuthType: 4 } },
    ] satisfies Partial<AndroidClaims>[]) {
      const result = await verifyAndroidKeyAttestation(await attested(claims));
      assert.equal(result.userAuthentication, undefined, JSON.stringify(claims));
    }
  });
  it('a software-enforced claim is not trusted: only the hardware-enforced list of a hardware attestation counts', async () => {
    const softwareOnly = await verifyAndroidKeyAttestation(
      await attested({ softwareUserAuth: BIOMETRIC_PER_USE }),
    );
    assert.equal(softwareOnly.userAuthentication, undefined);
    // A software key's lists are all the OS's word, whatever they say.
    const softwareKey = await verifyAndroidKeyAttestation({
      ...(await attested({ securityLevel: SecurityLevel.software, userAuth: BIOMETRIC_PER_USE })),
      minSecurityLevel: 'SOFTWARE',
    });
    assert.equal(softwareKey.userAuthentication, undefined);
    // Control: the same tags in the hardware-enforced list.
    const hardware = await verifyAndroidKeyAttestation(
      await attested({ userAuth: BIOMETRIC_PER_USE }),
    );
    assert.deepEqual(hardware.userAuthentication, { methods: ['biometric'], timeout: 0 });
  });
  it('a self-signed boot image → boot_not_verified; an unlocked bootloader → device_not_locked', async () => {
    await assert.rejects(
      verifyAndroidKeyAttestation(await attested({ bootState: VerifiedBootState.selfSigned })),
      refusedWith('boot_not_verified'),
    );
    await assert.rejects(
      verifyAndroidKeyAttestation(await attested({ deviceLocked: false })),
      refusedWith('device_not_locked'),
    );
  });
});

describe('the android-key evidence format in registration', () => {
  it('the attested key is the registered key: cal=by-policy; another registered key is refused', async () => {
    const root = await createAndroidRoot();
    let statusList: AndroidRevocationList = { entries: {} };
    const server = await startExampleWithTemplate(
      {
        ...attestedTemplate('io.example.android', 'optional'),
        // The built-in verifier, configured by the template.
        attestation: {
          formats: ['android-key'],
          androidKey: {
            packageNames: [TEST_PACKAGE],
            signingCertDigests: [Buffer.from(TEST_SIGNING_DIGEST).toString('base64')],
          },
        },
      },
      {
        androidRoots: [root.pem],
        androidRevocationList: () => statusList,
      },
    );
    try {
      const register = async (registers?: Awaited<ReturnType<typeof createDeviceKey>>) => {
        const device = await createDeviceKey();
        const value = await fetchChallenge(server.issuer);
        const key = registers ?? device;
        const binding = await attestationBinding(value, key.jwk);
        const chain = await root.attest(device.publicKey, { challenge: binding.clientDataHash });
        return postRegistration(server.issuer, {
          software_id: 'io.example.android',
          jwks: { keys: [key.jwk] },
          attestation: { format: 'android-key', challenge: value, evidence: chain },
        });
      };
      const ok = await register();
      assert.equal(ok.status, 201, JSON.stringify(ok.body));
      assert.equal(ok.body.cal, 'by-policy');
      const info = await server.auth.devices.get(ok.body.client_id);
      assert.deepEqual(info?.registeredBy.evidence?.verdicts, [
        'security-level:TRUSTED_ENVIRONMENT',
        'boot:VERIFIED',
      ]);
      const other = await register(await createDeviceKey());
      assert.equal(other.status, 403);
      assert.match(other.body.error_description, /not the key registered|another challenge/);
      // The status list is read at each registration: once the root's serial is listed, refused.
      const rootSerial = new X509Certificate(root.pem).serialNumber
        .toLowerCase()
        .replace(/^0+(?=.)/, '');
      statusList = { entries: { [rootSerial]: { status: 'REVOKED' } } };
      const revoked = await register();
      assert.equal(revoked.status, 403);
      assert.match(revoked.body.error_description, /revoked/);
    } finally {
      await server.close();
    }
  });
});
