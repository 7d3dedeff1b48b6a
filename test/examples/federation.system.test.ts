// The example server with "Sign in with Google / Apple" turned on from its environment, started
// as `npm start` starts it, the upstreams being real oidc-providers on loopback: the app exchanges
// their id_tokens, the example's hook links them to demo users by verified email.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { registrationClient } from '../helpers/example.js';
import { json } from '../helpers/json.js';
import { postRegistration } from '../helpers/registration.js';
import { type SpawnedExample, spawnExample } from '../helpers/spawn.js';
import { startUpstreamIdp, type UpstreamIdp } from '../helpers/upstream-idp.js';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';
const GOOGLE_CLIENT_IDS = [
  'ios.apps.googleusercontent.example',
  'web.apps.googleusercontent.example',
];
const APPLE_BUNDLE_ID = 'io.example.app';

const sha256hex = (value: string) => createHash('sha256').update(value).digest('hex');

// A developer's shell may set these; the tests need them unset.
const UNSET = {
  GOOGLE_CLIENT_SECRET: '',
  GOOGLE_HOSTED_DOMAIN: '',
  APPLE_SERVICES_ID: '',
  APPLE_TEAM_ID: '',
  APPLE_KEY_ID: '',
  APPLE_PRIVATE_KEY_FILE: '',
};

describe('the example server with federation from its environment', { timeout: 120_000 }, () => {
  let google: UpstreamIdp;
  let apple: UpstreamIdp;
  let example: SpawnedExample;
  let issuer: string;
  let reg: oidc.Configuration;

  before(async () => {
    [google, apple] = await Promise.all([
      startUpstreamIdp({ quirks: 'google' }),
      startUpstreamIdp({ quirks: 'apple' }),
    ]);
    example = await spawnExample('examples/server/main.ts', {
      ...UNSET,
      GOOGLE_CLIENT_IDS: GOOGLE_CLIENT_IDS.join(','),
      GOOGLE_ISSUER: google.issuer,
      APPLE_BUNDLE_IDS: APPLE_BUNDLE_ID,
      APPLE_ISSUER: apple.issuer,
    });
    issuer = `http://localhost:${example.port}`;
    reg = await registrationClient(issuer);
  });
  after(async () => {
    await example?.stop();
    await Promise.all([google, apple].map((idp) => idp?.close()));
  });

  async function freshNonce(): Promise<string> {
    const endpoint = reg.serverMetadata().native_sign_in_nonce_endpoint as string;
    const res = await fetch(endpoint, { method: 'POST' });
    assert.equal(res.status, 200);
    return (await json(res)).nonce as string;
  }

  function exchange(subjectToken: string) {
    return oidc.genericGrantRequest(reg, TOKEN_EXCHANGE, {
      subject_token: subjectToken,
      subject_token_type: ID_TOKEN_TYPE,
    });
  }

  /** Registers an install of the example app with the DCR token; resolves the HTTP status. */
  async function registerWith(dcrToken: string): Promise<number> {
    const registered = await postRegistration(
      issuer,
      { software_id: 'io.example.app', software_version: '1.0.0' },
      dcrToken,
    );
    return registered.status;
  }

  it('announces the providers and advertises the nonce endpoint in discovery', () => {
    assert.match(example.output(), /federation: google \(native\), apple \(native\)/);
    const metadata = reg.serverMetadata() as Record<string, unknown>;
    assert.equal(metadata.native_sign_in_nonce_endpoint, `${issuer}/federation/nonce`);
    assert.ok((metadata.grant_types_supported as string[]).includes(TOKEN_EXCHANGE));
  });

  it("a Google id_token with a demo user's verified email links to them: a DCR token that registers", async () => {
    const subjectToken = await google.mintIdToken({
      sub: 'google-demo',
      // The second client id: every one listed is an accepted audience.
      aud: GOOGLE_CLIENT_IDS[1] as string,
      nonce: await freshNonce(),
      claims: { email: 'demouser@example.com', email_verified: true },
    });
    const tokens = await exchange(subjectToken);
    assert.equal(tokens.scope, 'dcr');
    assert.equal(await registerWith(tokens.access_token), 201);

    // Linked now: the same Google user signs in again without an email.
    const again = await google.mintIdToken({
      sub: 'google-demo',
      aud: GOOGLE_CLIENT_IDS[0] as string,
      nonce: await freshNonce(),
      claims: { email: undefined, email_verified: undefined },
    });
    assert.equal((await exchange(again)).scope, 'dcr');
  });

  it("an Apple id_token (the nonce's SHA-256) with a verified email links the same way", async () => {
    const subjectToken = await apple.mintIdToken({
      sub: 'apple-other',
      aud: APPLE_BUNDLE_ID,
      nonce: sha256hex(await freshNonce()),
      claims: { email: 'otheruser@example.com' },
    });
    const tokens = await exchange(subjectToken);
    assert.equal(tokens.scope, 'dcr');
    assert.equal(await registerWith(tokens.access_token), 201);
  });

  it("an unknown identity with an unverified demo user's email is refused: invalid_grant", async () => {
    const subjectToken = await google.mintIdToken({
      sub: 'google-stranger',
      aud: GOOGLE_CLIENT_IDS[0] as string,
      nonce: await freshNonce(),
      claims: { email: 'demouser@example.com', email_verified: false },
    });
    await assert.rejects(
      exchange(subjectToken),
      // The hook's refusal, not a failed check of the id_token.
      (error: unknown) =>
        error instanceof oidc.ResponseBodyError &&
        error.error === 'invalid_grant' &&
        /no account may sign in/.test(error.error_description ?? ''),
    );
  });
});

describe('the example server without federation variables', { timeout: 60_000 }, () => {
  it('starts with federation off: no nonce endpoint, no token exchange', async () => {
    const example = await spawnExample('examples/server/main.ts', {
      ...UNSET,
      GOOGLE_CLIENT_IDS: '',
      APPLE_BUNDLE_IDS: '',
    });
    try {
      const res = await fetch(`http://127.0.0.1:${example.port}/.well-known/openid-configuration`);
      const metadata = await json(res);
      assert.equal(metadata.native_sign_in_nonce_endpoint, undefined);
      assert.ok(!(metadata.grant_types_supported as string[]).includes(TOKEN_EXCHANGE));
      assert.match(example.output(), /federation: off/);
    } finally {
      await example.stop();
    }
  });
});
