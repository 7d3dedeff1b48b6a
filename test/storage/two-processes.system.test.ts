// Scale-out: two example server processes behind one issuer share one Redis and one set of
// keys. What one process issues, the other honours; what one revokes, the other refuses.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair } from 'jose';
import * as oidc from 'openid-client';
import { APP_REDIRECT_URI, REGISTRATION_CLIENT_ID } from '../helpers/example.js';
import {
  FALLBACK_CLIENT_ID,
  FALLBACK_CLIENT_SECRET,
  FALLBACK_SOFTWARE_ID,
} from '../helpers/fixture.js';
import { TEST_REDIS_URL } from '../helpers/redis-url.js';
import { postRegistration } from '../helpers/registration.js';
import { obtainDcrToken, SignInBrowser, signIn } from '../helpers/sign-in.js';
import { type SpawnedExample, spawnTwoServingOneIssuer } from '../helpers/spawn.js';

const RESOURCE_SERVER_SECRET = 'two-process-resource-server-secret-0123456789';
const ADMIN_SECRET = 'two-process-admin-secret-0123456789abcdefgh';

/** Discovery as seen through one process, so every call of that configuration goes there. */
function through(
  port: number,
  issuer: string,
  clientId: string,
  auth: oidc.ClientAuth,
  metadata?: Partial<oidc.ClientMetadata>,
) {
  const base = `http://127.0.0.1:${port}`;
  const config = new oidc.Configuration(
    {
      issuer,
      authorization_endpoint: `${base}/auth`,
      token_endpoint: `${base}/token`,
      introspection_endpoint: `${base}/token/introspection`,
      revocation_endpoint: `${base}/token/revocation`,
      registration_endpoint: `${base}/reg`,
      jwks_uri: `${base}/jwks`,
    },
    clientId,
    metadata,
    auth,
  );
  oidc.allowInsecureRequests(config);
  return config;
}

describe('two server processes sharing one Redis', { timeout: 120_000 }, () => {
  const processes: SpawnedExample[] = [];
  let portA: number;
  let portB: number;
  let issuer: string;

  before(async () => {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const jwk = { ...(await exportJWK(privateKey)), kid: 'shared', alg: 'RS256', use: 'sig' };
    const env = {
      NODE_ENV: 'test',
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: `two-processes:${randomBytes(6).toString('hex')}:`,
      JWKS: JSON.stringify({ keys: [jwk] }),
      COOKIE_KEYS: randomBytes(32).toString('base64url'),
      RESOURCE_SERVER_SECRET,
      ADMIN_SECRET,
    };
    // A and B serve one issuer (A's address) on two ports.
    const started = await spawnTwoServingOneIssuer('test/helpers/server-process.ts', env);
    issuer = started.issuer;
    const [a, b] = started.processes;
    processes.push(a, b);
    portA = a.port;
    portB = b.port;
  });
  after(async () => {
    await Promise.all(processes.map((example) => example.stop()));
  });

  it('a token issued by A refreshes at B, is revoked at A and introspects inactive at B; a device deleted at B is dead at A', async () => {
    // The browser signs in at A; its SSO cookie (same host, any port) also works at B.
    const browser = new SignInBrowser();
    const regAtA = through(portA, issuer, REGISTRATION_CLIENT_ID, oidc.None());
    const { tokens: dcr } = await obtainDcrToken(regAtA, browser);

    // Register at B with the DCR token issued by A.
    const registered = await fetch(`http://127.0.0.1:${portB}/reg`, {
      method: 'POST',
      headers: { authorization: `Bearer ${dcr.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [APP_REDIRECT_URI] }),
    });
    assert.equal(registered.status, 201);
    const client = (await registered.json()) as Record<string, string>;
    const secret = oidc.ClientSecretBasic(client.client_secret);
    const atA = through(portA, issuer, client.client_id as string, secret);
    const atB = through(portB, issuer, client.client_id as string, secret);
    const apiAtB = through(
      portB,
      issuer,
      'example-api',
      oidc.ClientSecretBasic(RESOURCE_SERVER_SECRET),
    );

    const verifier = oidc.randomPKCECodeVerifier();
    const { callback } = await signIn(
      browser,
      oidc.buildAuthorizationUrl(atA, {
        redirect_uri: APP_REDIRECT_URI,
        scope: 'openid offline_access',
        prompt: 'consent',
        nonce: 'two-processes-nonce',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      }),
    );
    const issuedByA = await oidc.authorizationCodeGrant(atA, callback, {
      pkceCodeVerifier: verifier,
      expectedNonce: 'two-processes-nonce',
    });

    const refreshedAtB = await oidc.refreshTokenGrant(atB, issuedByA.refresh_token as string);
    assert.equal((await oidc.tokenIntrospection(apiAtB, refreshedAtB.access_token)).active, true);
    await oidc.tokenRevocation(atA, refreshedAtB.access_token);
    assert.equal((await oidc.tokenIntrospection(apiAtB, refreshedAtB.access_token)).active, false);

    // Delete the device at B: its refresh token is dead at A.
    const deleted = await fetch(
      client.registration_client_uri?.replace(`:${portA}`, `:${portB}`) as string,
      {
        method: 'DELETE',
        headers: { authorization: `Bearer ${client.registration_access_token}` },
      },
    );
    assert.equal(deleted.status, 204);
    await assert.rejects(oidc.refreshTokenGrant(atA, refreshedAtB.refresh_token as string));
    const apiAtA = through(
      portA,
      issuer,
      'example-api',
      oidc.ClientSecretBasic(RESOURCE_SERVER_SECRET),
    );
    assert.equal((await oidc.tokenIntrospection(apiAtA, refreshedAtB.access_token)).active, false);
  });

  it('an install registered from a template at A works at B; revoking the device at B kills it at A', async () => {
    const browser = new SignInBrowser();
    const { tokens: dcr } = await obtainDcrToken(
      through(portA, issuer, REGISTRATION_CLIENT_ID, oidc.None()),
      browser,
    );
    const registered = await fetch(`http://127.0.0.1:${portA}/reg`, {
      method: 'POST',
      headers: { authorization: `Bearer ${dcr.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ software_id: 'io.example.app', software_version: '1.2.0' }),
    });
    assert.equal(registered.status, 201);
    const client = (await registered.json()) as Record<string, string>;
    const secret = oidc.ClientSecretBasic(client.client_secret);
    const atA = through(portA, issuer, client.client_id as string, secret);
    const atB = through(portB, issuer, client.client_id as string, secret);

    const verifier = oidc.randomPKCECodeVerifier();
    const { callback } = await signIn(
      browser,
      oidc.buildAuthorizationUrl(atB, {
        redirect_uri: APP_REDIRECT_URI,
        scope: 'openid offline_access',
        prompt: 'consent',
        nonce: 'template-nonce',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      }),
    );
    const tokens = await oidc.authorizationCodeGrant(atB, callback, {
      pkceCodeVerifier: verifier,
      expectedNonce: 'template-nonce',
    });

    const revoked = await fetch(`http://127.0.0.1:${portB}/admin/devices/${client.client_id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${ADMIN_SECRET}` },
    });
    assert.equal(revoked.status, 200);
    assert.equal(((await revoked.json()) as Record<string, string>).status, 'revoked');
    await assert.rejects(
      oidc.refreshTokenGrant(atA, tokens.refresh_token as string),
      // RFC 6749 §5.2: 401 invalid_client, as a body error or a WWW-Authenticate challenge.
      (error: unknown) =>
        (error instanceof oidc.ResponseBodyError && error.error === 'invalid_client') ||
        (error instanceof oidc.WWWAuthenticateChallengeError &&
          error.cause.some((c) => c.parameters.error === 'invalid_client')),
    );
    const apiAtA = through(
      portA,
      issuer,
      'example-api',
      oidc.ClientSecretBasic(RESOURCE_SERVER_SECRET),
    );
    assert.equal((await oidc.tokenIntrospection(apiAtA, tokens.access_token)).active, false);
  });

  it("a fallback client's one-shot DCR token from A registers exactly once across A and B in parallel", async () => {
    const fallback = through(
      portA,
      issuer,
      FALLBACK_CLIENT_ID,
      oidc.ClientSecretBasic(FALLBACK_CLIENT_SECRET),
    );
    const { access_token } = await oidc.clientCredentialsGrant(fallback, { scope: 'dcr' });
    const attempts = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        postRegistration(
          `http://127.0.0.1:${i % 2 === 0 ? portA : portB}`,
          { software_id: FALLBACK_SOFTWARE_ID },
          access_token,
        ),
      ),
    );
    assert.deepEqual(
      attempts.map((a) => a.status).sort(),
      [201, 401, 401, 401, 401, 401, 401, 401, 401, 401],
    );
  });

  it('the refresh grace window across A and B: a replay at B retires the successor A issued, its use at A revokes the grant at both; a burst split between them gets exactly 1 + the reuse limit pairs', async () => {
    const browser = new SignInBrowser();
    const regAtA = through(portA, issuer, REGISTRATION_CLIENT_ID, oidc.None());
    const { tokens: dcr } = await obtainDcrToken(regAtA, browser);
    const registered = await postRegistration(
      issuer,
      { redirect_uris: [APP_REDIRECT_URI] },
      dcr.access_token,
    );
    assert.equal(registered.status, 201);
    const client = registered.body as Record<string, string>;
    const secret = oidc.ClientSecretBasic(client.client_secret);
    const atA = through(portA, issuer, client.client_id as string, secret);
    const atB = through(portB, issuer, client.client_id as string, secret);
    const api = (port: number) =>
      through(port, issuer, 'example-api', oidc.ClientSecretBasic(RESOURCE_SERVER_SECRET));
    const active = async (port: number, token: string) =>
      (await oidc.tokenIntrospection(api(port), token)).active;
    /** A fresh grant for the install, signed in at A: its first refresh token. */
    const signedIn = async () => {
      const verifier = oidc.randomPKCECodeVerifier();
      const { callback } = await signIn(
        browser,
        oidc.buildAuthorizationUrl(atA, {
          redirect_uri: APP_REDIRECT_URI,
          scope: 'openid offline_access',
          prompt: 'consent',
          code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
        }),
      );
      const tokens = await oidc.authorizationCodeGrant(atA, callback, {
        pkceCodeVerifier: verifier,
      });
      return tokens.refresh_token as string;
    };

    // Attack: the app rotates at A, a thief replays the old token at B within the window.
    const t0 = await signedIn();
    const app = await oidc.refreshTokenGrant(atA, t0);
    const thief = await oidc.refreshTokenGrant(atB, t0);
    assert.equal(await active(portA, app.access_token), false);
    assert.equal(await active(portA, thief.access_token), true);
    await assert.rejects(oidc.refreshTokenGrant(atA, app.refresh_token as string), {
      error: 'invalid_grant',
    });
    await assert.rejects(oidc.refreshTokenGrant(atB, thief.refresh_token as string), {
      error: 'invalid_grant',
    });
    assert.equal(await active(portB, thief.access_token), false);

    // A burst of 20 parallel refreshes with one token, half at A, half at B.
    const t1 = await signedIn();
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => oidc.refreshTokenGrant(i % 2 ? atB : atA, t1)),
    );
    const pairs = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    assert.equal(pairs.length, 1 + 3);
    const live = [];
    for (const pair of pairs) if (await active(portB, pair.access_token)) live.push(pair);
    assert.equal(live.length, 1);
    // Control: the one live pair's chain goes on, at either process.
    const next = await oidc.refreshTokenGrant(atA, live[0]?.refresh_token as string);
    await oidc.refreshTokenGrant(atB, next.refresh_token as string);
  });
});
