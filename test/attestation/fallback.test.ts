// Attestation fallback (Curity's `authenticate-client-by`, seed 003; DESIGN flow 6), over real
// HTTP against the example server: a static fallback client obtains a one-shot DCR token with
// client_credentials (RFC 6749 §4.4) and registers an instance from the fallback template
// (RFC 7591 §3). The credential it authenticated with sets the instance's assurance level.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, exportJWK, generateKeyPair, jwtVerify } from 'jose';
import type { ServerEvents } from 'mobile-oidc-provider';
import * as oidc from 'openid-client';
// The last test checks the example's own production guard, so it imports the example's options.
import { exampleOptions } from '../../examples/server/app.js';
import { ClientCountingStore } from '../helpers/client-counter.js';
import {
  APP_REDIRECT_URI,
  insecure,
  type RunningServer,
  registrationClient,
  resourceServer,
  startExample,
} from '../helpers/example.js';
import {
  APP_SOFTWARE_ID,
  FALLBACK_CLIENT_ID,
  FALLBACK_CLIENT_SECRET,
  FALLBACK_PKI_CLIENT_ID,
  FALLBACK_SOFTWARE_ID,
} from '../helpers/fixture.js';
import { instanceConfiguration, postRegistration } from '../helpers/registration.js';
import { codeForInstance, obtainDcrToken, SignInBrowser, signIn } from '../helpers/sign-in.js';

const API = 'https://api.example.com/';

describe('fallback registration through the example server', () => {
  let server: RunningServer;
  let store: ClientCountingStore;
  let pkiKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  const events: Array<[keyof ServerEvents, unknown]> = [];

  before(async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    pkiKey = privateKey;
    const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), alg: 'ES256' }] });
    store = new ClientCountingStore();
    server = await startExample(
      (o) => ({ ...o, store, apis: [{ resource: API, scope: 'payments' }] }),
      {
        FALLBACK_CLIENT_JWKS: jwks,
      },
    );
    for (const name of [
      'registration.fallback',
      'registration.rejected',
      'instance.bound',
    ] as const) {
      server.auth.on(name, (payload) => events.push([name, payload]));
    }
  });
  after(async () => {
    await server.close();
    await store.close();
  });

  /** The fallback client's view of the server, authenticated by its secret or its key. */
  function fallbackClient(kind: 'secret' | 'pki'): Promise<oidc.Configuration> {
    return kind === 'secret'
      ? oidc.discovery(
          new URL(server.issuer),
          FALLBACK_CLIENT_ID,
          undefined,
          oidc.ClientSecretBasic(FALLBACK_CLIENT_SECRET),
          insecure,
        )
      : oidc.discovery(
          new URL(server.issuer),
          FALLBACK_PKI_CLIENT_ID,
          undefined,
          oidc.PrivateKeyJwt(pkiKey),
          insecure,
        );
  }

  async function fallbackToken(kind: 'secret' | 'pki'): Promise<string> {
    const tokens = await oidc.clientCredentialsGrant(await fallbackClient(kind), { scope: 'dcr' });
    return tokens.access_token;
  }

  /** Registers from the fallback template, then the user signs in through the new instance. */
  async function fallbackInstall(kind: 'secret' | 'pki', scope = 'openid offline_access') {
    const registration = await postRegistration(
      server.issuer,
      { software_id: FALLBACK_SOFTWARE_ID },
      await fallbackToken(kind),
    );
    assert.equal(registration.status, 201, JSON.stringify(registration.body));
    const instance = await instanceConfiguration(server.issuer, registration.body);
    const { callback, checks } = await codeForInstance(new SignInBrowser(), instance, scope);
    const tokens = await oidc.authorizationCodeGrant(instance, callback, checks);
    return { registered: registration.body, instance, tokens };
  }

  const introspect = async (token: string) =>
    oidc.tokenIntrospection(await resourceServer(server.issuer), token);

  it('a shared-secret fallback client yields an instance with cal=none (RFC 7591 §3.2.1 response shows it)', async () => {
    const { registered, tokens } = await fallbackInstall('secret');
    assert.equal(registered.cal, 'none');
    assert.equal(registered.software_id, FALLBACK_SOFTWARE_ID);
    assert.equal(registered.token_endpoint_auth_method, 'client_secret_basic');
    assert.equal(registered.mobile_oidc_instance, undefined);
    // RFC 7662 §2.2: the level is a top-level member of the introspection response.
    const introspection = await introspect(tokens.access_token);
    assert.equal(introspection.active, true);
    assert.equal(introspection.cal, 'none');
    assert.equal(introspection.sub, 'demouser');
  });

  it('an instance without a user is bound to the first account that signs in through it', async () => {
    const { registered } = await fallbackInstall('secret');
    const device = await server.auth.devices.get(registered.client_id);
    assert.equal(device?.accountId, 'demouser');
    assert.equal(device?.cal, 'none');
    assert.deepEqual(device?.registeredBy, {
      method: 'fallback-client',
      fallback_client_id: FALLBACK_CLIENT_ID,
      fallback_auth_method: 'client_secret_basic',
    });
    const listed = await server.auth.devices.list('demouser');
    assert.ok(listed.some((d) => d.clientId === registered.client_id));
    assert.ok(
      events.some(
        ([name, p]) =>
          name === 'instance.bound' &&
          (p as { clientId: string }).clientId === registered.client_id,
      ),
    );
    // It revokes with the account.
    await server.auth.devices.revokeAll('demouser');
    assert.equal((await server.auth.devices.get(registered.client_id))?.status, 'revoked');
  });

  it('a cal=none instance cannot obtain payments: the authorization request ends in invalid_scope', async () => {
    const registration = await postRegistration(
      server.issuer,
      { software_id: FALLBACK_SOFTWARE_ID },
      await fallbackToken('secret'),
    );
    const instance = await instanceConfiguration(server.issuer, registration.body);
    const { callback } = await signIn(
      new SignInBrowser(),
      oidc.buildAuthorizationUrl(instance, {
        redirect_uri: APP_REDIRECT_URI,
        scope: 'openid payments',
        code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
      }),
    );
    assert.equal(callback.searchParams.get('error'), 'invalid_scope');
  });

  it('the minimum is read on every load: with the option lifted, the same cal=none instance obtains payments', async () => {
    const registration = await postRegistration(
      server.issuer,
      { software_id: FALLBACK_SOFTWARE_ID },
      await fallbackToken('secret'),
    );
    // A second server on the same store, configured without the minimum (a later deployment).
    const lifted = await startExample((o) => ({ ...o, store, assurance: {} }));
    try {
      const instance = await instanceConfiguration(lifted.issuer, registration.body);
      const { callback, checks } = await codeForInstance(
        new SignInBrowser(),
        instance,
        'openid payments',
      );
      const tokens = await oidc.authorizationCodeGrant(instance, callback, checks);
      assert.ok(tokens.scope?.split(' ').includes('payments'));
    } finally {
      await lifted.close();
    }
  });

  it('a provisioned-key fallback client (private_key_jwt) yields cal=by-provisioned-key, which may obtain payments, and refresh keeps it', async () => {
    const { registered, instance, tokens } = await fallbackInstall(
      'pki',
      'openid offline_access payments',
    );
    assert.equal(registered.cal, 'by-provisioned-key');
    assert.equal(tokens.scope?.split(' ').includes('payments'), true);
    assert.equal((await introspect(tokens.access_token)).cal, 'by-provisioned-key');
    const refreshed = await oidc.refreshTokenGrant(instance, tokens.refresh_token as string);
    const introspection = await introspect(refreshed.access_token);
    assert.equal(introspection.cal, 'by-provisioned-key');
    assert.equal(introspection.scope?.split(' ').includes('payments'), true);
  });

  it('RFC 9068: a JWT access token for an API (RFC 8707 resource) carries cal, also after refresh', async () => {
    const registration = await postRegistration(
      server.issuer,
      { software_id: FALLBACK_SOFTWARE_ID },
      await fallbackToken('pki'),
    );
    const instance = await instanceConfiguration(server.issuer, registration.body);
    const pkceCodeVerifier = oidc.randomPKCECodeVerifier();
    const { callback } = await signIn(
      new SignInBrowser(),
      oidc.buildAuthorizationUrl(instance, {
        redirect_uri: APP_REDIRECT_URI,
        scope: 'openid offline_access payments',
        resource: API,
        prompt: 'consent',
        code_challenge: await oidc.calculatePKCECodeChallenge(pkceCodeVerifier),
        code_challenge_method: 'S256',
      }),
    );
    const tokens = await oidc.authorizationCodeGrant(
      instance,
      callback,
      { pkceCodeVerifier },
      { resource: API },
    );
    const jwks = createRemoteJWKSet(new URL(`${server.issuer}/jwks`));
    const verify = (token: string) =>
      jwtVerify(token, jwks, { issuer: server.issuer, audience: API, typ: 'at+jwt' });
    const { payload } = await verify(tokens.access_token);
    assert.equal(payload.cal, 'by-provisioned-key');
    assert.equal(payload.client_id, registration.body.client_id);
    assert.equal(payload.scope, 'payments');
    const refreshed = await oidc.refreshTokenGrant(instance, tokens.refresh_token as string, {
      resource: API,
    });
    assert.equal((await verify(refreshed.access_token)).payload.cal, 'by-provisioned-key');
  });

  it('RFC 7592 §2.1: reading the registration shows the level', async () => {
    const registration = await postRegistration(
      server.issuer,
      { software_id: FALLBACK_SOFTWARE_ID },
      await fallbackToken('pki'),
    );
    const res = await fetch(registration.body.registration_client_uri, {
      headers: { authorization: `Bearer ${registration.body.registration_access_token}` },
    });
    assert.equal(res.status, 200);
    const read = (await res.json()) as Record<string, unknown>;
    assert.equal(read.cal, 'by-provisioned-key');
    assert.equal(read.mobile_oidc_instance, undefined);
  });

  describe('refusals leave no client behind', () => {
    let writesBefore: number;
    before(() => {
      writesBefore = store.clientWrites;
    });
    after(() => {
      assert.equal(store.clientWrites, writesBefore, 'no refused registration wrote a client');
    });

    it("a user's DCR token at the fallback-only template: 403 access_denied", async () => {
      const { tokens } = await obtainDcrToken(
        await registrationClient(server.issuer),
        new SignInBrowser(),
      );
      const res = await postRegistration(
        server.issuer,
        { software_id: FALLBACK_SOFTWARE_ID },
        tokens.access_token,
      );
      assert.equal(res.status, 403);
      assert.equal(res.body.error, 'access_denied');
      assert.match(res.body.error_description, /does not accept a user's DCR token/);
    });

    it('a fallback token at a template that does not list its client: 403 access_denied', async () => {
      const res = await postRegistration(
        server.issuer,
        { software_id: APP_SOFTWARE_ID, software_version: '1.2.0' },
        await fallbackToken('secret'),
      );
      assert.equal(res.status, 403);
      assert.equal(res.body.error, 'access_denied');
      assert.match(res.body.error_description, /may not register instances of 'io\.example\.app'/);
    });

    it('a fallback token is single-use like a DCR token: the second registration is 401', async () => {
      const token = await fallbackToken('secret');
      const first = await postRegistration(server.issuer, { software_id: 'nope' }, token);
      assert.equal(first.status, 400, 'a failed registration gives its use back');
      writesBefore += 1; // the one successful registration below
      const second = await postRegistration(
        server.issuer,
        { software_id: FALLBACK_SOFTWARE_ID },
        token,
      );
      assert.equal(second.status, 201);
      const third = await postRegistration(
        server.issuer,
        { software_id: FALLBACK_SOFTWARE_ID },
        token,
      );
      assert.equal(third.status, 401);
      assert.equal(third.body.error, 'invalid_token');
      assert.match(third.body.error_description, /used up/);
    });

    it('no token at all: 401 with a Bearer challenge (RFC 6750 §3.1)', async () => {
      const res = await postRegistration(server.issuer, { software_id: FALLBACK_SOFTWARE_ID });
      assert.equal(res.status, 401);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
    });

    it('evidence sent to a template that takes none: 403 invalid_client_attestation', async () => {
      const { tokens } = await obtainDcrToken(
        await registrationClient(server.issuer),
        new SignInBrowser(),
      );
      const res = await postRegistration(
        server.issuer,
        {
          software_id: APP_SOFTWARE_ID,
          software_version: '1.2.0',
          attestation: { format: 'test-ca', challenge: 'x'.repeat(43), evidence: 'e' },
        },
        tokens.access_token,
      );
      assert.equal(res.status, 403);
      assert.equal(res.body.error, 'invalid_client_attestation');
    });

    it('a fallback client cannot use its token at the token endpoint for other scopes', async () => {
      await assert.rejects(
        oidc.clientCredentialsGrant(await fallbackClient('secret'), { scope: 'openid payments' }),
        (error: unknown) =>
          error instanceof oidc.ResponseBodyError && error.error === 'invalid_scope',
      );
    });
  });

  it('events report each decision with ids and verdicts, never a secret or token', async () => {
    const token = await fallbackToken('secret');
    const res = await postRegistration(server.issuer, { software_id: FALLBACK_SOFTWARE_ID }, token);
    const fallback = events.find(
      ([name, p]) =>
        name === 'registration.fallback' &&
        (p as { clientId: string }).clientId === res.body.client_id,
    );
    assert.deepEqual(fallback?.[1], {
      clientId: res.body.client_id,
      softwareId: FALLBACK_SOFTWARE_ID,
      cal: 'none',
      proof: {
        method: 'fallback-client',
        fallback_client_id: FALLBACK_CLIENT_ID,
        fallback_auth_method: 'client_secret_basic',
      },
    });
    const rejected = events.filter(([name]) => name === 'registration.rejected').map(([, p]) => p);
    assert.ok(rejected.some((p) => (p as { reason: string }).reason === 'user_token_not_accepted'));
    assert.ok(
      rejected.some((p) => (p as { reason: string }).reason === 'fallback_client_not_listed'),
    );
    const logged = JSON.stringify(events);
    for (const secret of [FALLBACK_CLIENT_SECRET, token, res.body.client_secret]) {
      assert.equal(logged.includes(secret), false);
    }
  });
});

describe('the example refuses the development fallback secret in production', () => {
  it('NODE_ENV=production without FALLBACK_CLIENT_SECRET does not start', async () => {
    await assert.rejects(
      exampleOptions({ NODE_ENV: 'production', ISSUER: 'https://login.example.com' }),
      /FALLBACK_CLIENT_SECRET/,
    );
  });
});
