// The whole mobile journey over real HTTP against the example server, driven by openid-client:
// DCR token (flow 1) → registration (flow 2) → instance sign-in, refresh rotation, reuse
// detection, introspection, revocation (flow 3) → RFC 7592 management and delete (flow 4).
// Run once per store (journey.test.ts: in memory; journey-redis.test.ts: Redis, Cluster).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair } from 'jose';
import type { Store } from 'mobile-oidc-provider';
import * as oidc from 'openid-client';
import {
  APP_REDIRECT_URI,
  insecure,
  type RunningServer,
  registrationClient,
  resourceServer,
  startExample,
} from '../helpers/example.js';
import { json } from '../helpers/json.js';
import { obtainDcrToken, SignInBrowser, signIn } from '../helpers/sign-in.js';

const INSTANCE_SCOPE = 'openid profile email offline_access';

/** Which store the journey runs on: a fresh one per suite, closed after it. */
export type StoreFactory = () => Promise<Store>;

/** Describes the whole journey against the example server on the store `makeStore` gives. */
export function describeJourney(storeName: string, makeStore?: StoreFactory): void {
  const start = async () => {
    const store = await makeStore?.();
    const server = await startExample((o) => (store ? { ...o, store } : o));
    return {
      ...server,
      async close() {
        await server.close();
        await store?.close();
      },
    };
  };

  describe(`the mobile journey (flows 1–4) on ${storeName}`, () => {
    let server: RunningServer;
    let browser: SignInBrowser;
    let instance: oidc.Configuration;
    let api: oidc.Configuration;

    before(async () => {
      server = await start();
      browser = new SignInBrowser();
      api = await resourceServer(server.issuer);
    });
    after(() => server.close());

    async function instanceSignIn() {
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const url = oidc.buildAuthorizationUrl(instance, {
        redirect_uri: APP_REDIRECT_URI,
        scope: INSTANCE_SCOPE,
        // OpenID Connect Core §11: offline_access (a refresh token) needs prompt=consent.
        prompt: 'consent',
        state,
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      });
      const result = await signIn(browser, url);
      const tokens = await oidc.authorizationCodeGrant(instance, result.callback, {
        pkceCodeVerifier: verifier,
        expectedState: state,
      });
      return { result, tokens };
    }

    let dcrToken: string;

    it('flow 1: the user signs in through the registration client and gets a DCR token', async () => {
      const reg = await registrationClient(server.issuer);
      const { tokens, result } = await obtainDcrToken(reg, browser);
      assert.deepEqual(result.pages, ['login', 'consent']);
      assert.equal(tokens.scope, 'dcr');
      assert.equal(tokens.token_type.toLowerCase(), 'bearer');
      assert.ok(
        tokens.expires_in !== undefined && tokens.expires_in <= 300 && tokens.expires_in > 290,
      );
      assert.equal(tokens.refresh_token, undefined, 'a DCR token comes without a refresh token');
      assert.equal(tokens.id_token, undefined);
      dcrToken = tokens.access_token;
    });

    it('the DCR token is audience-restricted to the registration endpoint (RFC 8707)', async () => {
      const introspection = await oidc.tokenIntrospection(api, dcrToken);
      assert.equal(introspection.aud, new URL('/reg', server.issuer).href);
      assert.equal(introspection.scope, 'dcr');
      const discovery = await registrationClient(server.issuer);
      const userinfo = discovery.serverMetadata().userinfo_endpoint as string;
      const res = await fetch(userinfo, { headers: { authorization: `Bearer ${dcrToken}` } });
      assert.equal(res.status, 403);
      assert.equal((await json(res)).error, 'insufficient_scope');
    });

    let registration: oidc.ClientMetadata;

    it('flow 2: the DCR token registers one instance client (RFC 7591 §3.2.1)', async () => {
      instance = await oidc.dynamicClientRegistration(
        new URL(server.issuer),
        { redirect_uris: [APP_REDIRECT_URI], client_name: 'Demo phone', scope: INSTANCE_SCOPE },
        oidc.ClientSecretBasic(),
        { ...insecure, initialAccessToken: dcrToken },
      );
      registration = instance.clientMetadata();
      assert.match(registration.client_id, /\S{16,}/);
      assert.equal(registration.token_endpoint_auth_method, 'client_secret_basic');
      assert.ok((registration.client_secret as string).length >= 43, 'secret carries ≥ 256 bits');
      assert.deepEqual(registration.grant_types, ['authorization_code', 'refresh_token']);
      assert.deepEqual(registration.response_types, ['code']);
      assert.equal(registration.application_type, 'native');
      assert.equal(typeof registration.registration_access_token, 'string');
      assert.equal(typeof registration.registration_client_uri, 'string');
      assert.equal(registration.mobile_oidc_instance, undefined, 'who registered it stays private');
    });

    it('the single-use DCR token cannot register a second client', async () => {
      const res = await fetch(new URL('/reg', server.issuer), {
        method: 'POST',
        headers: { authorization: `Bearer ${dcrToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ redirect_uris: [APP_REDIRECT_URI] }),
      });
      assert.equal(res.status, 401);
      assert.equal((await json(res)).error, 'invalid_token');
      assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    });

    let firstRefreshToken: string;

    it('flow 3: the instance signs in silently (SSO, its own user) with its own secret', async () => {
      const { result, tokens } = await instanceSignIn();
      assert.deepEqual(result.pages, [], 'no login page and no second consent');
      assert.equal(tokens.claims()?.sub, 'demouser');
      assert.equal(tokens.claims()?.aud, registration.client_id);
      assert.ok(tokens.refresh_token);
      firstRefreshToken = tokens.refresh_token;
      const userinfo = await oidc.fetchUserInfo(instance, tokens.access_token, 'demouser');
      assert.equal(userinfo.email, 'demouser@example.com');
    });

    it('refresh tokens rotate, and reuse of a rotated one revokes the whole grant (RFC 9700 §4.14.2)', async () => {
      const first = await oidc.refreshTokenGrant(instance, firstRefreshToken);
      assert.ok(first.refresh_token);
      assert.notEqual(first.refresh_token, firstRefreshToken);
      // The app moves on with its new token; a replay of the old one is then no lost-response
      // retry (see test/tokens/refresh-grace.system.test.ts) but reuse.
      const rotated = await oidc.refreshTokenGrant(instance, first.refresh_token as string);

      await assert.rejects(oidc.refreshTokenGrant(instance, firstRefreshToken), {
        error: 'invalid_grant',
      });
      // The grant is gone: the newer refresh token and its access token are dead too.
      await assert.rejects(oidc.refreshTokenGrant(instance, rotated.refresh_token as string), {
        error: 'invalid_grant',
      });
      const introspection = await oidc.tokenIntrospection(api, rotated.access_token);
      assert.equal(introspection.active, false);
    });

    it('introspection (RFC 7662): the instance sees its own token, a resource server sees any', async () => {
      const { tokens } = await instanceSignIn();
      const own = await oidc.tokenIntrospection(instance, tokens.access_token);
      assert.equal(own.active, true);
      assert.equal(own.client_id, registration.client_id);
      assert.equal(own.sub, 'demouser');
      const byApi = await oidc.tokenIntrospection(api, tokens.access_token);
      assert.equal(byApi.active, true);
      assert.equal(byApi.scope, INSTANCE_SCOPE);
    });

    it('a client cannot introspect another client’s token', async () => {
      const { tokens } = await instanceSignIn();
      const reg = await registrationClient(server.issuer);
      const { tokens: dcr } = await obtainDcrToken(reg, browser);
      const other = await oidc.dynamicClientRegistration(
        new URL(server.issuer),
        { redirect_uris: [APP_REDIRECT_URI] },
        oidc.ClientSecretBasic(),
        { ...insecure, initialAccessToken: dcr.access_token },
      );
      const seen = await oidc.tokenIntrospection(other, tokens.access_token);
      assert.equal(seen.active, false);
    });

    it('revocation (RFC 7009): a revoked access token introspects inactive', async () => {
      const { tokens } = await instanceSignIn();
      await oidc.tokenRevocation(instance, tokens.access_token);
      assert.equal((await oidc.tokenIntrospection(api, tokens.access_token)).active, false);
    });

    let registrationAccessToken: string;

    it('RFC 7592 §2.1: read returns the client configuration', async () => {
      registrationAccessToken = registration.registration_access_token as string;
      const res = await fetch(registration.registration_client_uri as string, {
        headers: { authorization: `Bearer ${registrationAccessToken}` },
      });
      assert.equal(res.status, 200);
      const body = await json(res);
      assert.equal(body.client_id, registration.client_id);
      assert.equal(body.client_name, 'Demo phone');
      assert.equal(body.mobile_oidc_instance, undefined);
    });

    it('RFC 7592 §2.2: update applies the rules again and rotates the registration access token', async () => {
      const uri = registration.registration_client_uri as string;
      const update = (body: object, token = registrationAccessToken) =>
        fetch(uri, {
          method: 'PUT',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            client_id: registration.client_id,
            redirect_uris: [APP_REDIRECT_URI],
            scope: INSTANCE_SCOPE,
            ...body,
          }),
        });

      const refused = await update({ grant_types: ['client_credentials'] });
      assert.equal(refused.status, 400);
      assert.equal((await json(refused)).error, 'invalid_client_metadata');

      const res = await update({ client_name: 'Renamed phone' });
      assert.equal(res.status, 200);
      const body = await json(res);
      assert.equal(body.client_name, 'Renamed phone');
      assert.notEqual(body.registration_access_token, registrationAccessToken);
      assert.equal(body.mobile_oidc_instance, undefined);

      const stale = await update({ client_name: 'Again' });
      assert.equal(stale.status, 401, 'the old registration access token is rotated out');
      registrationAccessToken = body.registration_access_token;

      // The instance still signs in, and still as its own user's device (no consent page).
      const { result } = await instanceSignIn();
      assert.deepEqual(result.pages, []);
    });

    it('RFC 7592 §2.3: delete removes the client and revokes every grant and token it holds', async () => {
      const { tokens } = await instanceSignIn();
      const refreshToken = tokens.refresh_token as string;
      assert.equal((await oidc.tokenIntrospection(api, tokens.access_token)).active, true);

      const res = await fetch(registration.registration_client_uri as string, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${registrationAccessToken}` },
      });
      assert.equal(res.status, 204);

      // A resource server asking about the deleted client's token gets a plain "inactive".
      assert.equal((await oidc.tokenIntrospection(api, tokens.access_token)).active, false);
      // The tokens are gone from storage, not merely unusable through this client.
      const { provider } = server.auth;
      assert.equal(await provider.RefreshToken.find(refreshToken), undefined);
      assert.equal(await provider.AccessToken.find(tokens.access_token), undefined);
      // The client itself is gone: its credentials no longer authenticate (RFC 6749 §5.2).
      await assert.rejects(oidc.refreshTokenGrant(instance, refreshToken), (error: Error) =>
        /invalid_client/.test(JSON.stringify((error as Error & { cause: unknown }).cause)),
      );

      const read = await fetch(registration.registration_client_uri as string, {
        headers: { authorization: `Bearer ${registrationAccessToken}` },
      });
      assert.equal(read.status, 401);
    });
  });

  describe(`an instance that authenticates with its own key (private_key_jwt, RFC 7523) on ${storeName}`, () => {
    let server: RunningServer;
    before(async () => {
      server = await start();
    });
    after(() => server.close());

    it('registers its public key, signs in with a client assertion, and refreshes', async () => {
      const browser = new SignInBrowser();
      const { tokens: dcr } = await obtainDcrToken(
        await registrationClient(server.issuer),
        browser,
      );
      const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
      const jwk = { ...(await exportJWK(publicKey)), alg: 'ES256', kid: 'device-key-1' };
      const instance = await oidc.dynamicClientRegistration(
        new URL(server.issuer),
        {
          redirect_uris: [APP_REDIRECT_URI],
          token_endpoint_auth_method: 'private_key_jwt',
          token_endpoint_auth_signing_alg: 'ES256',
          jwks: { keys: [jwk] },
        },
        oidc.PrivateKeyJwt({ key: privateKey, kid: 'device-key-1' }),
        { ...insecure, initialAccessToken: dcr.access_token },
      );
      assert.equal(instance.clientMetadata().client_secret, undefined);

      const verifier = oidc.randomPKCECodeVerifier();
      const { callback, pages } = await signIn(
        browser,
        oidc.buildAuthorizationUrl(instance, {
          redirect_uri: APP_REDIRECT_URI,
          scope: 'openid offline_access',
          prompt: 'consent',
          code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
          nonce: 'nonce-for-key-instance',
        }),
      );
      assert.deepEqual(pages, []);
      const tokens = await oidc.authorizationCodeGrant(instance, callback, {
        pkceCodeVerifier: verifier,
        expectedNonce: 'nonce-for-key-instance',
      });
      assert.equal(tokens.claims()?.sub, 'demouser');
      const refreshed = await oidc.refreshTokenGrant(instance, tokens.refresh_token as string);
      assert.ok(refreshed.access_token);

      // A client assertion signed by another key does not authenticate the instance.
      const { privateKey: otherKey } = await generateKeyPair('ES256');
      const impostor = new oidc.Configuration(
        instance.serverMetadata(),
        instance.clientMetadata().client_id,
        { token_endpoint_auth_signing_alg: 'ES256' },
        oidc.PrivateKeyJwt({ key: otherKey, kid: 'device-key-1' }),
      );
      oidc.allowInsecureRequests(impostor);
      await assert.rejects(
        oidc.refreshTokenGrant(impostor, refreshed.refresh_token as string),
        (error: Error) =>
          /invalid_client/.test(JSON.stringify((error as Error & { cause: unknown }).cause)),
      );
    });
  });
}
