// First-party sign-in across server processes (issue #29, DESIGN flow 11): two processes serve one
// issuer on one Redis (started for this file). An auth_session issued by A continues on B, which
// answers the code; the same auth_session replayed on A is invalid_session, since its single use
// is the store's atomic consume, seen by every process.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair } from 'jose';
import * as oidc from 'openid-client';
import {
  challengeOf,
  type Install,
  postAs,
  registerFallbackInstall,
  verifier,
} from '../helpers/first-party.js';
import { FALLBACK_PKI_CLIENT_ID } from '../helpers/fixture.js';
import { type OwnRedis, startOwnRedis } from '../helpers/redis-server.js';
import { type SpawnedExample, spawnTwoServingOneIssuer } from '../helpers/spawn.js';

describe('first-party auth_sessions across two processes sharing one Redis', {
  timeout: 120_000,
}, () => {
  const processes: SpawnedExample[] = [];
  let redis: OwnRedis;
  let issuer: string;
  let urls: [string, string];
  let install: Install;

  before(async () => {
    redis = await startOwnRedis();
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwks = { keys: [{ ...(await exportJWK(publicKey)), alg: 'ES256' }] };
    const started = await spawnTwoServingOneIssuer('test/helpers/server-process.ts', {
      NODE_ENV: 'test',
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: `first-party-processes:${randomBytes(6).toString('hex')}:`,
      FIRST_PARTY_JWKS: JSON.stringify(jwks),
    });
    processes.push(...started.processes);
    issuer = started.issuer;
    const [a, b] = started.processes;
    urls = [`http://127.0.0.1:${a.port}`, `http://127.0.0.1:${b.port}`];
    // The install registers at A with the fallback client's provisioned key.
    install = (await registerFallbackInstall(
      issuer,
      FALLBACK_PKI_CLIENT_ID,
      oidc.PrivateKeyJwt(privateKey),
    )) as unknown as Install;
  });
  after(async () => {
    await Promise.all(processes.map((process_) => process_.stop()));
    await redis?.destroy();
  });

  const post = (base: string, path: string, body: Record<string, string>) =>
    postAs(`${base}${path}`, install, body);

  it('an auth_session issued by A continues on B, and is spent there for A too', async () => {
    const [a, b] = urls;
    const v = verifier();
    const started = await post(a, '/authorize-challenge', {
      scope: 'openid offline_access',
      code_challenge: challengeOf(v),
      code_challenge_method: 'S256',
    });
    assert.equal(started.body.error, 'insufficient_authorization', JSON.stringify(started.body));
    const auth_session = started.body.auth_session as string;

    const credentials = { auth_session, username: 'demouser', password: 'Password1' };
    const done = await post(b, '/authorize-challenge', credentials);
    assert.equal(done.status, 200, JSON.stringify(done.body));
    const tokens = await post(b, '/token', {
      grant_type: 'authorization_code',
      code: done.body.authorization_code as string,
      code_verifier: v,
    });
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));

    const replayed = await post(a, '/authorize-challenge', credentials);
    assert.equal(replayed.status, 400);
    assert.equal(replayed.body.error, 'invalid_session');
    assert.equal(replayed.body.authorization_code, undefined);
  });

  it('a step answered by B continues on A (control: every process takes the sessions of the others)', async () => {
    const [a, b] = urls;
    const v = verifier();
    const started = await post(b, '/authorize-challenge', {
      code_challenge: challengeOf(v),
      code_challenge_method: 'S256',
      username: 'demouser',
    });
    assert.deepEqual(started.body.required, ['password'], JSON.stringify(started.body));
    const done = await post(a, '/authorize-challenge', {
      auth_session: started.body.auth_session as string,
      password: 'Password1',
    });
    assert.equal(done.status, 200, JSON.stringify(done.body));
  });
});
