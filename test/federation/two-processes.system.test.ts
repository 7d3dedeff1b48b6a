// Native sign-in nonces across server processes: two processes share one Redis; a nonce issued
// by one is honoured by the other, and taken exactly once however the exchanges that race for it
// are spread.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { REGISTRATION_CLIENT_ID } from '../helpers/fixture.js';
import { json } from '../helpers/json.js';
import { TEST_REDIS_URL } from '../helpers/redis-url.js';
import { type SpawnedExample, spawnTwoServingOneIssuer } from '../helpers/spawn.js';
import { startUpstreamIdp, type UpstreamIdp } from '../helpers/upstream-idp.js';

// The audience test/helpers/server-process.ts accepts from FEDERATION_ISSUER.
const AUDIENCE = 'io.example.app';

describe('native sign-in nonces across two processes sharing one Redis', {
  timeout: 120_000,
}, () => {
  const processes: SpawnedExample[] = [];
  let upstream: UpstreamIdp;
  let urls: [string, string];

  before(async () => {
    upstream = await startUpstreamIdp({ quirks: 'google' });
    const env = {
      NODE_ENV: 'test',
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: `federation-processes:${randomBytes(6).toString('hex')}:`,
      FEDERATION_ISSUER: upstream.issuer,
    };
    // A and B serve one issuer (A's address) on two ports.
    const {
      processes: [a, b],
    } = await spawnTwoServingOneIssuer('test/helpers/server-process.ts', env);
    processes.push(a, b);
    urls = [`http://127.0.0.1:${a.port}`, `http://127.0.0.1:${b.port}`];
  });
  after(async () => {
    await Promise.all(processes.map((process_) => process_.stop()));
    await upstream?.close();
  });

  async function nonceFrom(url: string): Promise<string> {
    const res = await fetch(`${url}/federation/nonce`, { method: 'POST' });
    assert.equal(res.status, 200);
    return (await json(res)).nonce as string;
  }

  /** The registration client's token exchange at `url`: the status and the body. */
  async function exchangeAt(url: string, subjectToken: string) {
    const res = await fetch(`${url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        client_id: REGISTRATION_CLIENT_ID,
        subject_token: subjectToken,
        subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
      }),
    });
    return { status: res.status, body: await json(res) };
  }

  it('a nonce issued by A is accepted at B', async () => {
    const nonce = await nonceFrom(urls[0]);
    const token = await upstream.mintIdToken({ sub: 'u-1', aud: AUDIENCE, nonce });
    const result = await exchangeAt(urls[1], token);
    assert.equal(result.status, 200, JSON.stringify(result.body));
    assert.equal(result.body.scope, 'dcr');
  });

  it('10 parallel exchanges carrying one nonce from A, spread over A and B: exactly one succeeds', async () => {
    const nonce = await nonceFrom(urls[0]);
    // Distinct id_tokens (jti), so only the nonce can stop the others.
    const tokens = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        upstream.mintIdToken({ sub: 'u-2', aud: AUDIENCE, nonce, claims: { jti: `race-${i}` } }),
      ),
    );
    const results = await Promise.all(
      tokens.map((token, i) => exchangeAt(urls[i % 2] as string, token)),
    );
    const succeeded = results.filter((r) => r.status === 200);
    assert.equal(succeeded.length, 1, JSON.stringify(results));
    const refused = results.filter((r) => r.status !== 200);
    for (const { status, body } of refused) {
      assert.equal(status, 400);
      assert.equal(body.error, 'invalid_grant');
      assert.match(body.error_description as string, /nonce/);
    }
  });
});
