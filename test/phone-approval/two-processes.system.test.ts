// Phone approval across server processes (issue #30): two processes serve one issuer on one Redis
// (started for this file). The web client starts the request at A, the install lists and approves
// it at B, and the web client gets its tokens at A; the same answer replayed at A is refused,
// since the approval's single use is the store's atomic consume, seen by every process.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CompactSign, type CryptoKey, exportJWK, generateKeyPair } from 'jose';
import * as oidc from 'openid-client';
import { insecure } from '../helpers/example.js';
import { challengeOf, type Json, verifier } from '../helpers/first-party.js';
import { FALLBACK_PKI_CLIENT_ID, FALLBACK_SOFTWARE_ID } from '../helpers/fixture.js';
import { type OwnRedis, startOwnRedis } from '../helpers/redis-server.js';
import { postRegistration } from '../helpers/registration.js';
import { type SpawnedExample, spawnTwoServingOneIssuer } from '../helpers/spawn.js';

const WEB_SECRET = 'web-portal-secret-for-two-processes-0123456789';
const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

describe('phone approval across two processes sharing one Redis', { timeout: 120_000 }, () => {
  const processes: SpawnedExample[] = [];
  let redis: OwnRedis;
  let urls: [string, string];
  let install: { client_id: string; client_secret: string };
  let key: CryptoKey;

  before(async () => {
    redis = await startOwnRedis();
    const pki = await generateKeyPair('ES256');
    const pkiJwks = { keys: [{ ...(await exportJWK(pki.publicKey)), alg: 'ES256' }] };
    const started = await spawnTwoServingOneIssuer('test/helpers/server-process.ts', {
      NODE_ENV: 'test',
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: `phone-approval-processes:${randomBytes(6).toString('hex')}:`,
      FIRST_PARTY_JWKS: JSON.stringify(pkiJwks),
      PHONE_APPROVAL_SECRET: WEB_SECRET,
    });
    processes.push(...started.processes);
    const [a, b] = started.processes;
    urls = [`http://127.0.0.1:${a.port}`, `http://127.0.0.1:${b.port}`];
    // The install registers at A with the fallback client's provisioned key, and its own key.
    const config = await oidc.discovery(
      new URL(started.issuer),
      FALLBACK_PKI_CLIENT_ID,
      undefined,
      oidc.PrivateKeyJwt(pki.privateKey),
      insecure,
    );
    const dcr = await oidc.clientCredentialsGrant(config, { scope: 'dcr' });
    const own = await generateKeyPair('ES256');
    key = own.privateKey;
    const registered = await postRegistration(
      started.issuer,
      {
        software_id: FALLBACK_SOFTWARE_ID,
        jwks: { keys: [{ ...(await exportJWK(own.publicKey)), alg: 'ES256' }] },
      },
      dcr.access_token,
    );
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    install = registered.body as unknown as typeof install;
    // It belongs to demouser once demouser signs in through it (at B).
    const signedIn = await post(urls[1], '/authorize-challenge', asInstall(), {
      scope: 'openid',
      code_challenge: challengeOf(verifier()),
      code_challenge_method: 'S256',
      username: 'demouser',
      password: 'Password1',
    });
    assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
  });
  after(async () => {
    await Promise.all(processes.map((process_) => process_.stop()));
    await redis?.destroy();
  });

  const asInstall = () => basic(install.client_id, install.client_secret);
  async function post(
    base: string,
    path: string,
    authorization: string,
    body: Record<string, string>,
  ) {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(body),
    });
    return { status: res.status, body: (await res.json()) as Json };
  }

  it('started at A, approved at B, tokens at A; the answer replayed at A is refused', async () => {
    const [a, b] = urls;
    const web = basic('web-portal', WEB_SECRET);
    const started = await post(a, '/backchannel', web, {
      scope: 'openid',
      login_hint: 'demouser',
      binding_message: 'TWO-1',
    });
    assert.equal(started.status, 200, JSON.stringify(started.body));
    const listed = await post(b, '/approvals', asInstall(), {});
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    const [approval] = listed.body.approvals as Json[];
    assert.equal(approval?.binding_message, 'TWO-1');
    const answer = await new CompactSign(
      new TextEncoder().encode(
        JSON.stringify({
          approval_id: approval?.approval_id,
          binding_message: 'TWO-1',
          challenge: approval?.challenge,
          decision: 'approve',
        }),
      ),
    )
      .setProtectedHeader({ alg: 'ES256' })
      .sign(key);
    const path = `/approvals/${approval?.approval_id}`;
    const answered = await post(b, path, asInstall(), { answer });
    assert.equal(answered.status, 200, JSON.stringify(answered.body));
    const replayed = await post(a, path, asInstall(), { answer });
    assert.equal(replayed.status, 400, JSON.stringify(replayed.body));
    const tokens = await post(a, '/token', web, {
      grant_type: 'urn:openid:params:grant-type:ciba',
      auth_req_id: started.body.auth_req_id as string,
    });
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    assert.equal(typeof tokens.body.id_token, 'string');
  });
});
