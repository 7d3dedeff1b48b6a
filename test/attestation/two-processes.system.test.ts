// Attestation challenges across server processes: two processes share one Redis; a challenge
// issued by one is honoured by the other, and taken exactly once however the registrations
// that race for it are spread.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { TEST_REDIS_URL } from '../helpers/redis-url.js';
import { fetchChallenge, postRegistration } from '../helpers/registration.js';
import { type SpawnedExample, spawnTwoServingOneIssuer } from '../helpers/spawn.js';
import {
  ATTESTED_SOFTWARE_ID,
  createDeviceKey,
  createTestCa,
  evidenceFor,
  TEST_FORMAT,
  type TestCa,
} from '../helpers/test-attestation.js';

describe('attestation challenges across two processes sharing one Redis', {
  timeout: 120_000,
}, () => {
  const processes: SpawnedExample[] = [];
  let ca: TestCa;
  let urls: [string, string];

  before(async () => {
    ca = await createTestCa();
    const env = {
      NODE_ENV: 'test',
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: `attest-processes:${randomBytes(6).toString('hex')}:`,
      TEST_CA_ROOT: ca.root.toString('pem'),
    };
    // A and B serve one issuer (A's address) on two ports.
    const {
      processes: [a, b],
    } = await spawnTwoServingOneIssuer('test/helpers/attested-server.ts', env);
    processes.push(a, b);
    urls = [`http://127.0.0.1:${a.port}`, `http://127.0.0.1:${b.port}`];
  });
  after(async () => {
    await Promise.all(processes.map((process_) => process_.stop()));
  });

  async function attestedBody(challengeFrom: string) {
    const device = await createDeviceKey();
    const challenge = await fetchChallenge(challengeFrom);
    return {
      software_id: ATTESTED_SOFTWARE_ID,
      jwks: { keys: [device.jwk] },
      attestation: {
        format: TEST_FORMAT,
        challenge,
        evidence: await evidenceFor(ca, challenge, device),
      },
    };
  }

  it('a challenge issued by A registers at B', async () => {
    const res = await postRegistration(urls[1], await attestedBody(urls[0]));
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.cal, 'by-policy');
  });

  it('20 parallel registrations with one challenge, spread over A and B: exactly one client', async () => {
    const body = await attestedBody(urls[0]);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => postRegistration(urls[i % 2] as string, body)),
    );
    assert.equal(results.filter((r) => r.status === 201).length, 1);
    assert.equal(results.filter((r) => r.status === 403).length, 19);
  });
});
