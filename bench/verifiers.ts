// The built-in verifiers in-process, on real data where it exists (test/fixtures), as ratios to
// one ES256 signature verification measured in the same run: what a verification costs in units
// of the cheapest check it contains.
import { createSign, generateKeyPairSync, verify, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import {
  verifyAndroidKeyAttestation,
  verifyAppAttestAttestation,
  verifyPlayIntegrityToken,
} from 'mobile-oidc-provider/attestation';
import {
  createPlayKeys,
  integrityPayload,
  PACKAGE_NAME,
  SIGNING_DIGEST,
} from '../test/helpers/play-integrity.js';

const fixture = (path: string) => new URL(`../test/fixtures/${path}`, import.meta.url);

async function opsPerSecond(operation: () => unknown, count: number): Promise<number> {
  for (let i = 0; i < Math.min(20, count); i += 1) await operation(); // warm up
  const started = performance.now();
  for (let i = 0; i < count; i += 1) await operation();
  return count / ((performance.now() - started) / 1000);
}

/** Rows of the verifier table: name, ops/s, ratio to the ES256 baseline. */
export async function benchVerifiers(count: number): Promise<string[][]> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const data = Buffer.from('baseline');
  const signature = createSign('sha256').update(data).sign({ key: privateKey, dsaEncoding: 'der' });
  const baseline = await opsPerSecond(() => verify('sha256', data, publicKey, signature), count);

  const pem = readFileSync(fixture('android-key/tegu_sdk36_TEE_EC_2026_ROOT.pem'), 'utf8');
  const chain = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  const described = JSON.parse(
    readFileSync(fixture('android-key/tegu_sdk36_TEE_EC_2026_ROOT.json'), 'utf8').replace(
      /^\s*\/\/.*$/gm,
      '',
    ),
  );
  const androidNow = new Date(
    Math.max(...chain.map((c) => new Date(new X509Certificate(c).validFrom).getTime())) + 60_000,
  );
  const android = await opsPerSecond(
    () =>
      verifyAndroidKeyAttestation({
        chain,
        challenge: Buffer.from(described.attestationChallenge, 'base64'),
        packageNames: described.softwareEnforced.attestationApplicationId.packages.map(
          (p: { name: string }) => p.name,
        ),
        signingCertDigests: described.softwareEnforced.attestationApplicationId.signatures,
        now: androidNow,
      }),
    count,
  );

  const appAttest = JSON.parse(
    readFileSync(fixture('app-attest/attestation-production.json'), 'utf8'),
  );
  const apple = await opsPerSecond(
    () =>
      verifyAppAttestAttestation({
        attestation: Buffer.from(appAttest.attestation, 'base64'),
        challenge: Buffer.from(appAttest.challenge, 'base64'),
        keyId: appAttest.keyId,
        appId: 'V8H6LQ9448.io.uebelacker.AppAttestExample',
        now: new Date('2024-06-01T00:00:00Z'),
      }),
    count,
  );

  const keys = await createPlayKeys();
  const nonce = 'R2Rra24fVm5xa2Mg3H2bYCMaZ-fsUTzVzUdzRZ3GFkA';
  const token = await keys.sign(integrityPayload(nonce));
  const play = await opsPerSecond(
    () =>
      verifyPlayIntegrityToken({
        token,
        nonce,
        decryptionKey: keys.decryptionKey,
        verificationKey: keys.verificationKey,
        packageName: PACKAGE_NAME,
        certificateSha256Digests: [SIGNING_DIGEST],
      }),
    count,
  );
  const row = (name: string, ops: number) => [name, ops.toFixed(0), (baseline / ops).toFixed(1)];
  return [
    row('one ES256 signature verification (baseline)', baseline),
    row('verifyAndroidKeyAttestation, real 5-certificate chain (Pixel 9a)', android),
    row('verifyAppAttestAttestation, real production attestation', apple),
    row('verifyPlayIntegrityToken (JWE + JWS)', play),
  ];
}
