// Apple's client secret (Sign in with Apple, browser flow): an ES256 JWT the server signs with
// the team's key, `kid` = key id, `iss` = team id, `sub` = Services ID, `aud` = Apple's issuer,
// valid for 180 days (Apple refuses more than 6 months), and made again 30 days before it ends.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeProtectedHeader, exportPKCS8, generateKeyPair, jwtVerify } from 'jose';
import {
  APPLE_SECRET_LIFETIME,
  APPLE_SECRET_RENEW_BEFORE,
  AppleClientSecret,
} from '../../lib/federation/apple-client-secret.js';

const DAY = 86400;
const APPLE_ISSUER = 'https://appleid.apple.com';
// Apple's documented maximum for exp - iat: 6 months in seconds.
const APPLE_MAXIMUM = 15777000;

async function appleKey() {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { pem: await exportPKCS8(privateKey), publicKey };
}

/** A secret maker on a clock the test moves, in seconds. */
async function maker() {
  const key = await appleKey();
  const clock = { seconds: 1_800_000_000 };
  const secret = new AppleClientSecret({
    teamId: 'TEAM123456',
    keyId: 'KEY7654321',
    privateKey: key.pem,
    clientId: 'io.example.signin',
    audience: APPLE_ISSUER,
    now: () => clock.seconds * 1000,
  });
  return { secret, clock, publicKey: key.publicKey };
}

describe("Apple's client secret", () => {
  it('is an ES256 JWT with kid, iss, sub, aud, iat and exp 180 days later, signed by the team key', async () => {
    const { secret, clock, publicKey } = await maker();
    const jwt = await secret.secret();
    assert.deepEqual(decodeProtectedHeader(jwt), { alg: 'ES256', kid: 'KEY7654321' });
    const { payload } = await jwtVerify(jwt, publicKey, {
      algorithms: ['ES256'],
      issuer: 'TEAM123456',
      subject: 'io.example.signin',
      audience: APPLE_ISSUER,
      currentDate: new Date(clock.seconds * 1000),
    });
    assert.deepEqual(Object.keys(payload).sort(), ['aud', 'exp', 'iat', 'iss', 'sub']);
    assert.equal(payload.iat, clock.seconds);
    assert.equal(payload.exp, clock.seconds + 180 * DAY);
    assert.equal(APPLE_SECRET_LIFETIME, 180 * DAY);
    assert.ok((payload.exp as number) - (payload.iat as number) <= APPLE_MAXIMUM);
  });

  it('a key of another team does not verify it (control for the signature check)', async () => {
    const { secret } = await maker();
    const other = await appleKey();
    await assert.rejects(jwtVerify(await secret.secret(), other.publicKey));
  });

  it('is reused while more than 30 days remain, and made anew before the 6-month limit', async () => {
    const { secret, clock } = await maker();
    const start = clock.seconds;
    const first = await secret.secret();
    clock.seconds = start + 149 * DAY; // 31 days left: still good
    assert.equal(await secret.secret(), first);
    clock.seconds = start + 180 * DAY - APPLE_SECRET_RENEW_BEFORE; // exactly 30 days left
    const renewed = await secret.secret();
    assert.notEqual(renewed, first);
    const { iat, exp } = JSON.parse(
      Buffer.from(renewed.split('.')[1] as string, 'base64url').toString(),
    );
    assert.equal(iat, clock.seconds);
    assert.equal(exp, clock.seconds + 180 * DAY);
    // The renewed one is then reused in its turn.
    clock.seconds += DAY;
    assert.equal(await secret.secret(), renewed);
  });

  it('concurrent first uses share one signing', async () => {
    const { secret } = await maker();
    const secrets = await Promise.all([secret.secret(), secret.secret(), secret.secret()]);
    assert.equal(new Set(secrets).size, 1);
  });

  it('a key that is not PKCS#8 fails each use, and is not cached as a secret', async () => {
    const secret = new AppleClientSecret({
      teamId: 'TEAM123456',
      keyId: 'KEY7654321',
      privateKey: '-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----',
      clientId: 'io.example.signin',
      audience: APPLE_ISSUER,
    });
    await assert.rejects(secret.secret());
    await assert.rejects(secret.secret());
  });
});
