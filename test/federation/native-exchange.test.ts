// Native "Sign in with Apple / Google": the app exchanges the id_token its platform SDK gave it
// at the token endpoint (RFC 8693 token exchange), with a single-use nonce from the server.
// The upstream providers are real oidc-provider instances on loopback; openid-client is the app.

import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { FederatedAccountEvent, FederatedIdentity } from 'mobile-oidc-provider';
import * as oidc from 'openid-client';
import { type RunningServer, registrationClient, startExample } from '../helpers/example.js';
import { json } from '../helpers/json.js';
import { registerInstance } from '../helpers/sign-in.js';
import { startUpstreamIdp, type UpstreamIdp } from '../helpers/upstream-idp.js';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const GOOGLE_CLIENT_ID = 'android-and-web.apps.googleusercontent.example';
const APPLE_BUNDLE_ID = 'io.example.app';

const sha256hex = (value: string) => createHash('sha256').update(value).digest('hex');

interface OAuthFailure {
  status: number;
  error: string;
  error_description: string;
}

describe('native sign-in: exchanging a platform id_token (RFC 8693)', () => {
  let google: UpstreamIdp;
  let apple: UpstreamIdp;
  let corp: UpstreamIdp;
  let unconfigured: UpstreamIdp;
  let server: RunningServer;
  let reg: oidc.Configuration;
  const events: { name: string; event: FederatedAccountEvent }[] = [];
  const seen: FederatedIdentity[] = [];
  // The identities linked so far: provider + subject → account. Pre-linked: one per demo user.
  const links = new Map<string, string>([
    ['google:g-demo', 'demouser'],
    ['apple:a-other', 'otheruser'],
    ['corp:c-demo', 'demouser'],
  ]);
  const emails = new Map([['demouser@example.com', 'demouser']]);

  before(async () => {
    [google, apple, corp, unconfigured] = await Promise.all([
      startUpstreamIdp({ quirks: 'google' }),
      startUpstreamIdp({ quirks: 'apple' }),
      startUpstreamIdp({ quirks: 'google' }),
      startUpstreamIdp(),
    ]);
    server = await startExample((o) => ({
      ...o,
      accounts: {
        ...o.accounts,
        async federated(identity) {
          seen.push(identity);
          const key = `${identity.provider}:${identity.subject}`;
          const linked = links.get(key);
          if (linked) return linked;
          // A hook's own decision, to test what reaches it: link by a verified email (the
          // library never does it by itself, and the example server signs up instead).
          const byEmail = identity.email && emails.get(identity.email);
          if (!byEmail) return undefined;
          links.set(key, byEmail);
          return { accountId: byEmail, linked: true };
        },
      },
      federation: {
        providers: [
          {
            name: 'google',
            issuer: google.issuer,
            quirks: 'google',
            audiences: [GOOGLE_CLIENT_ID],
          },
          { name: 'apple', issuer: apple.issuer, quirks: 'apple', audiences: [APPLE_BUNDLE_ID] },
          {
            name: 'corp',
            issuer: corp.issuer,
            quirks: 'google',
            audiences: [GOOGLE_CLIENT_ID],
            hostedDomain: 'corp.example',
          },
        ],
      },
    }));
    for (const name of ['account.federated', 'account.linked'] as const) {
      server.auth.on(name, (event) => events.push({ name, event }));
    }
    reg = await registrationClient(server.issuer);
  });
  after(async () => {
    await server.close();
    await Promise.all([google, apple, corp, unconfigured].map((idp) => idp.close()));
  });

  async function freshNonce(): Promise<string> {
    const res = await fetch(new URL('/federation/nonce', server.issuer), { method: 'POST' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const body = await json(res);
    assert.equal(body.expires_in, 600);
    return body.nonce as string;
  }

  const googleToken = async (sub = 'g-demo', extra: Record<string, unknown> = {}) =>
    google.mintIdToken({ sub, aud: GOOGLE_CLIENT_ID, nonce: await freshNonce(), ...extra });

  function exchange(config: oidc.Configuration, subjectToken: string, extra = {}) {
    return oidc.genericGrantRequest(config, TOKEN_EXCHANGE, {
      subject_token: subjectToken,
      subject_token_type: ID_TOKEN_TYPE,
      ...extra,
    });
  }

  /** The exchange's refusal: the status and the RFC 6749 §5.2 body. */
  async function refusal(config: oidc.Configuration, subjectToken: string, extra = {}) {
    try {
      await exchange(config, subjectToken, extra);
    } catch (error) {
      assert.ok(error instanceof oidc.ResponseBodyError, String(error));
      return {
        status: error.status,
        error: error.error,
        error_description: error.error_description ?? '',
      } satisfies OAuthFailure;
    }
    assert.fail('the exchange was not refused');
  }

  /** An install of demouser's, registered with a DCR token from a native Google sign-in. */
  async function demoInstall(): Promise<oidc.Configuration> {
    const dcr = await exchange(reg, await googleToken());
    return registerInstance(server.issuer, dcr.access_token);
  }

  it('discovery advertises the nonce endpoint and the exchange grant type', async () => {
    const metadata = reg.serverMetadata() as Record<string, unknown>;
    assert.equal(
      metadata.native_sign_in_nonce_endpoint,
      new URL('/federation/nonce', server.issuer).href,
    );
    assert.ok((metadata.grant_types_supported as string[]).includes(TOKEN_EXCHANGE));
  });

  it('the nonce endpoint answers POST only, with a fresh nonce each time', async () => {
    const [a, b] = await Promise.all([freshNonce(), freshNonce()]);
    assert.notEqual(a, b);
    assert.match(a, /^[\w-]{43}$/);
    const get = await fetch(new URL('/federation/nonce', server.issuer));
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
  });

  it('a registration client gets a DCR token, and the install it registers belongs to the user', async () => {
    const tokens = await exchange(reg, await googleToken());
    assert.equal(tokens.issued_token_type, ACCESS_TOKEN_TYPE);
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.equal(tokens.scope, 'dcr');
    assert.equal(tokens.expires_in, 300, 'the DCR token lifetime, as through the browser');
    assert.equal(tokens.refresh_token, undefined);

    const instance = await registerInstance(server.issuer, tokens.access_token);
    const { client_id } = instance.clientMetadata();
    const device = await server.auth.devices.get(client_id);
    assert.equal(device?.accountId, 'demouser');
    // The DCR token is single use, as one earned through the browser.
    await assert.rejects(
      registerInstance(server.issuer, tokens.access_token),
      (error: Error) =>
        error instanceof oidc.WWWAuthenticateChallengeError &&
        /used up/.test(error.cause[0]?.parameters.error_description ?? ''),
    );
    assert.deepEqual(events.at(-1), {
      name: 'account.federated',
      event: {
        provider: 'google',
        subject: 'g-demo',
        accountId: 'demouser',
        via: 'native',
        clientId: reg.clientMetadata().client_id,
      },
    });
  });

  it('an install gets its own tokens: a rotating refresh token and its assurance level', async () => {
    const instance = await demoInstall();
    const tokens = await exchange(instance, await googleToken(), {
      scope: 'openid offline_access',
    });
    assert.equal(tokens.issued_token_type, ACCESS_TOKEN_TYPE);
    assert.equal(tokens.scope, 'openid offline_access');
    assert.ok(tokens.refresh_token);
    const userinfo = await oidc.fetchUserInfo(instance, tokens.access_token, oidc.skipSubjectCheck);
    assert.equal(userinfo.sub, 'demouser');

    const refreshed = await oidc.refreshTokenGrant(instance, tokens.refresh_token as string);
    assert.ok(refreshed.refresh_token);
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'the refresh token rotated');
    const introspected = await oidc.tokenIntrospection(instance, refreshed.access_token);
    assert.equal(introspected.active, true);
    assert.equal(introspected.sub, 'demouser');
    assert.equal(introspected.cal, 'none', "the install's level travels in its tokens");
  });

  it("an install bound to one account refuses another account's id_token, and issues nothing", async () => {
    const instance = await demoInstall();
    const before = events.length;
    const subjectToken = await apple.mintIdToken({
      sub: 'a-other',
      aud: APPLE_BUNDLE_ID,
      nonce: sha256hex(await freshNonce()),
    });
    const refused = await refusal(instance, subjectToken);
    assert.equal(refused.error, 'invalid_grant');
    assert.match(refused.error_description, /belongs to another account/);
    assert.equal(events.length, before, 'no sign-in reported');
  });

  it("Apple: the id_token carries the nonce's SHA-256 and string booleans", async () => {
    const nonce = await freshNonce();
    const subjectToken = await apple.mintIdToken({
      sub: 'a-other',
      aud: APPLE_BUNDLE_ID,
      nonce: sha256hex(nonce),
    });
    const tokens = await exchange(reg, subjectToken);
    assert.equal(tokens.scope, 'dcr');
    const identity = seen.at(-1);
    assert.equal(identity?.provider, 'apple');
    assert.equal(identity?.claims.email_verified, true);
    assert.equal(identity?.claims.is_private_email, false);
    assert.equal(identity?.email, 'a-other@example.test');

    // The control: Apple never sends the nonce itself.
    const raw = await apple.mintIdToken({
      sub: 'a-other',
      aud: APPLE_BUNDLE_ID,
      nonce: await freshNonce(),
    });
    assert.equal((await refusal(reg, raw)).error, 'invalid_grant');
  });

  describe('refused id_tokens (OpenID Connect Core §3.1.3.7), each with what failed', () => {
    const cases: [string, () => Promise<string>, RegExp][] = [
      ['wrong aud', async () => googleToken('g-demo', { aud: 'someone-else' }), /aud/],
      [
        'another issuer',
        async () =>
          unconfigured.mintIdToken({
            sub: 'g-demo',
            aud: GOOGLE_CLIENT_ID,
            nonce: await freshNonce(),
          }),
        /not from a provider accepted/,
      ],
      [
        'expired',
        async () =>
          googleToken('g-demo', { iat: Math.floor(Date.now() / 1000) - 7200, expiresIn: 600 }),
        /expired/,
      ],
      [
        'bad signature',
        async () =>
          googleToken('g-demo', {
            signWith: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
          }),
        /signature/,
      ],
      ['alg none', async () => googleToken('g-demo', { alg: 'none' }), /alg/],
      [
        'hd mismatch',
        async () =>
          corp.mintIdToken({
            sub: 'c-demo',
            aud: GOOGLE_CLIENT_ID,
            hd: 'gmail.example',
            nonce: await freshNonce(),
          }),
        /hd/,
      ],
      [
        'hd missing',
        async () =>
          corp.mintIdToken({ sub: 'c-demo', aud: GOOGLE_CLIENT_ID, nonce: await freshNonce() }),
        /hd/,
      ],
      [
        'unknown nonce',
        async () =>
          google.mintIdToken({ sub: 'g-demo', aud: GOOGLE_CLIENT_ID, nonce: 'never-issued' }),
        /nonce/,
      ],
    ];
    for (const [name, token, description] of cases) {
      it(`${name}: invalid_grant`, async () => {
        const refused = await refusal(reg, await token());
        assert.equal(refused.status, 400);
        assert.equal(refused.error, 'invalid_grant');
        assert.match(refused.error_description, description);
      });
    }

    it('the control: the right hosted domain is accepted', async () => {
      const token = await corp.mintIdToken({
        sub: 'c-demo',
        aud: GOOGLE_CLIENT_ID,
        hd: 'corp.example',
        nonce: await freshNonce(),
      });
      assert.equal((await exchange(reg, token)).scope, 'dcr');
    });

    it('no nonce in the id_token: invalid_request', async () => {
      const refused = await refusal(
        reg,
        await google.mintIdToken({ sub: 'g-demo', aud: GOOGLE_CLIENT_ID }),
      );
      assert.equal(refused.error, 'invalid_request');
      assert.match(refused.error_description, /nonce/);
    });

    it('a nonce is taken once, and an id_token is accepted once', async () => {
      const nonce = await freshNonce();
      const first = await google.mintIdToken({ sub: 'g-demo', aud: GOOGLE_CLIENT_ID, nonce });
      const second = await google.mintIdToken({
        sub: 'g-demo',
        aud: GOOGLE_CLIENT_ID,
        nonce,
        claims: { jti: 'other' },
      });
      const results = await Promise.allSettled([
        exchange(reg, first),
        exchange(reg, first),
        exchange(reg, second),
      ]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      assert.equal((await refusal(reg, first)).error, 'invalid_grant');
    });

    it('a key rotated at the upstream is fetched once and accepted', async () => {
      await google.rotateKeys();
      assert.equal((await exchange(reg, await googleToken())).scope, 'dcr');
    });

    it('an unverified email reaches no hook, so it links nothing', async () => {
      const unverified = await googleToken('g-new-1', {
        claims: { email: 'demouser@example.com', email_verified: false },
      });
      const refused = await refusal(reg, unverified);
      assert.match(refused.error_description, /no account may sign in/);
      assert.equal(seen.at(-1)?.email, undefined);
      assert.equal(seen.at(-1)?.claims.email, undefined);
      // The control: the same email, verified, links (the hook's decision) and is reported.
      const verified = await googleToken('g-new-2', {
        claims: { email: 'demouser@example.com', email_verified: true },
      });
      assert.equal((await exchange(reg, verified)).scope, 'dcr');
      assert.deepEqual(
        events.slice(-2).map((e) => [e.name, e.event.accountId, e.event.subject]),
        [
          ['account.linked', 'demouser', 'g-new-2'],
          ['account.federated', 'demouser', 'g-new-2'],
        ],
      );
    });
  });

  it('a request without the id_token, or with another token type, is invalid_request', async () => {
    const token = await googleToken();
    const wrongType = await refusal(reg, token, {
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    });
    assert.equal(wrongType.error, 'invalid_request');
    const missing = await oidc
      .genericGrantRequest(reg, TOKEN_EXCHANGE, { subject_token_type: ID_TOKEN_TYPE })
      .then(
        () => assert.fail('accepted'),
        (error: oidc.ResponseBodyError) => error.error,
      );
    assert.equal(missing, 'invalid_request');
  });

  it('an upstream that cannot be reached: 503 temporarily_unavailable, nothing issued', async () => {
    const down = await startUpstreamIdp();
    const other = await startExample((o) => ({
      ...o,
      accounts: { ...o.accounts, federated: async () => 'demouser' },
      federation: {
        providers: [{ name: 'down', issuer: down.issuer, audiences: [GOOGLE_CLIENT_ID] }],
      },
    }));
    try {
      const nonceRes = await fetch(new URL('/federation/nonce', other.issuer), { method: 'POST' });
      const { nonce } = await json(nonceRes);
      const token = await down.mintIdToken({
        sub: 'x',
        aud: GOOGLE_CLIENT_ID,
        nonce: nonce as string,
      });
      await down.close();
      const res = await fetch(new URL('/token', other.issuer), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: TOKEN_EXCHANGE,
          client_id: reg.clientMetadata().client_id,
          subject_token: token,
          subject_token_type: ID_TOKEN_TYPE,
        }),
      });
      assert.equal(res.status, 503);
      const body = await json(res);
      assert.equal(body.error, 'temporarily_unavailable');
      assert.match(body.error_description as string, /could not be reached/);
    } finally {
      await other.close();
    }
  });

  it('DCR tokens stay bearer tokens: a DPoP proof is refused at the registration client', async () => {
    const dpop = oidc.getDPoPHandle(reg, await oidc.randomDPoPKeyPair());
    const token = await googleToken();
    const refused = await oidc
      .genericGrantRequest(
        reg,
        TOKEN_EXCHANGE,
        { subject_token: token, subject_token_type: ID_TOKEN_TYPE },
        { DPoP: dpop },
      )
      .then(
        () => assert.fail('accepted'),
        (error: oidc.ResponseBodyError) => [error.error, error.error_description],
      );
    assert.equal(refused[0], 'invalid_request');
    assert.match(String(refused[1]), /DPoP/);
  });

  it("an install's tokens are bound to its DPoP key when it sends a proof (RFC 9449)", async () => {
    const instance = await demoInstall();
    const dpop = oidc.getDPoPHandle(instance, await oidc.randomDPoPKeyPair());
    const tokens = await oidc.genericGrantRequest(
      instance,
      TOKEN_EXCHANGE,
      { subject_token: await googleToken(), subject_token_type: ID_TOKEN_TYPE, scope: 'openid' },
      { DPoP: dpop },
    );
    assert.equal(tokens.token_type.toLowerCase(), 'dpop');
    const introspected = await oidc.tokenIntrospection(instance, tokens.access_token);
    assert.ok((introspected.cnf as { jkt?: string } | undefined)?.jkt);
  });

  it('the registration client and the instance are the only clients that may exchange', async () => {
    const res = await fetch(new URL('/token', server.issuer), {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from('example-api:resource-server-secret-for-tests-only-0123456789').toString('base64')}`,
      },
      body: new URLSearchParams({
        grant_type: TOKEN_EXCHANGE,
        subject_token: await googleToken(),
        subject_token_type: ID_TOKEN_TYPE,
      }),
    });
    assert.equal(res.status, 400);
    assert.ok(
      ['invalid_request', 'unauthorized_client'].includes((await json(res)).error as string),
    );
  });
});
