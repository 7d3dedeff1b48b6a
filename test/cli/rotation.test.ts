// The rotation procedure of docs/operations.md, on a real server restarted with each stage's keys
// (one issuer, one store, as a deployment's processes are redeployed): after `add` the new keys
// are published and tokens are still signed with the old ones; after `promote` new tokens carry
// the new kid while tokens signed before still verify against the published JWKS, and a sign-in
// session made before goes on; after `retire` a token signed with the retired key no longer
// verifies, and the new key's tokens do.
import assert from 'node:assert/strict';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from 'jose';
import {
  type AuthServer,
  createAuthServer,
  MemoryStore,
  type ServerKeys,
} from 'mobile-oidc-provider';
import * as oidc from 'openid-client';
import { keysFrom, rotated } from '../helpers/cli.js';
import { APP_SOFTWARE_ID, testServerOptions } from '../helpers/fixture.js';
import { json } from '../helpers/json.js';
import { instanceConfiguration, postRegistration } from '../helpers/registration.js';
import { codeForInstance, freshDcrToken, SignInBrowser, signIn } from '../helpers/sign-in.js';

describe('key rotation on a running deployment (keys rotate --stage add, promote, retire)', () => {
  const store = new MemoryStore();
  let handle: RequestListener = (_req, res) => {
    res.writeHead(503).end();
  };
  const http = createServer((req, res) => handle(req, res));
  let issuer: string;
  let server: AuthServer | undefined;
  let instance: oidc.Configuration;
  let refreshToken: string;
  const browser = new SignInBrowser();

  /**
   * Replaces the running server by one with `keys`, on the same issuer and store. Development
   * mode stays on for the plain-http loopback issuer only: given keys are used as given.
   */
  async function deploy(keys: ServerKeys): Promise<void> {
    await server?.close();
    server = await createAuthServer({ ...testServerOptions({ issuer }), ...keys, store });
    handle = server.callback();
  }

  /** An ID token issued now: a refresh (which rotates the refresh token). */
  async function idTokenNow(): Promise<string> {
    const tokens = await oidc.refreshTokenGrant(instance, refreshToken);
    refreshToken = tokens.refresh_token as string;
    return tokens.id_token as string;
  }

  /** Whether `idToken` verifies against the JWKS the server publishes now. */
  async function verifiesNow(idToken: string): Promise<boolean> {
    const jwks = (await json(await fetch(`${issuer}/jwks`))) as JSONWebKeySet;
    try {
      await jwtVerify(idToken, createLocalJWKSet(jwks), { issuer });
      return true;
    } catch {
      return false;
    }
  }

  const kidOf = (jwt: string) => decodeProtectedHeader(jwt).kid;
  const publishedKids = async () =>
    ((await json(await fetch(`${issuer}/jwks`))) as JSONWebKeySet).keys.map((jwk) => jwk.kid);

  before(async () => {
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  after(async () => {
    await server?.close();
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  });

  // The stages build on each other: each test is the next step of one rotation.
  let original: ServerKeys;
  let added: ServerKeys;
  let promoted: ServerKeys;
  let before0: string;

  it('before: the generated keys sign; an install signs in and holds an ID token of the RS256 key', async () => {
    original = await keysFrom(['keys', 'generate']);
    await deploy(original);
    const registered = await postRegistration(
      issuer,
      { software_id: APP_SOFTWARE_ID, software_version: '1.0.0' },
      await freshDcrToken(issuer),
    );
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    instance = await instanceConfiguration(issuer, registered.body);
    const { callback, checks } = await codeForInstance(browser, instance);
    const tokens = await oidc.authorizationCodeGrant(instance, callback, checks);
    refreshToken = tokens.refresh_token as string;
    before0 = tokens.id_token as string;
    assert.equal(kidOf(before0), original.jwks.keys[0]?.kid);
  });

  it('add: the new keys are published (for JWKS caches to learn), the old ones still sign', async () => {
    added = await rotated(original, 'add');
    await deploy(added);
    assert.deepEqual(
      await publishedKids(),
      added.jwks.keys.map((jwk) => jwk.kid),
    );
    const token = await idTokenNow();
    assert.equal(kidOf(token), original.jwks.keys[0]?.kid, 'still signed with the old key');
    assert.ok(await verifiesNow(before0));
  });

  it('promote: new tokens carry the new kid; tokens signed before still verify; the sign-in session goes on', async () => {
    promoted = await rotated(added, 'promote');
    await deploy(promoted);
    const newRsa = added.jwks.keys[2]?.kid;
    const token = await idTokenNow();
    assert.equal(kidOf(token), newRsa);
    assert.ok(await verifiesNow(token));
    assert.ok(await verifiesNow(before0), 'a token signed with the old key still verifies');
    // The session cookie was signed with the old cookie key, which still verifies.
    const { pages } = await signIn(
      browser,
      oidc.buildAuthorizationUrl(instance, {
        redirect_uri: 'io.example.app:/callback',
        scope: 'openid',
        code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
      }),
    );
    assert.ok(!pages.includes('login'), `no second login: ${pages.join(', ')}`);
  });

  it('retire: a token signed with the retired key no longer verifies; the new key signs and verifies', async () => {
    const retired = await rotated(promoted, 'retire');
    await deploy(retired);
    assert.deepEqual(
      await publishedKids(),
      promoted.jwks.keys.slice(0, 2).map((jwk) => jwk.kid),
    );
    assert.equal(await verifiesNow(before0), false, 'the retired key is gone from the JWKS');
    const token = await idTokenNow();
    assert.equal(kidOf(token), added.jwks.keys[2]?.kid);
    assert.ok(await verifiesNow(token));
  });
});
