// Attestation-based client authentication across two server processes sharing one Redis and one
// set of keys: a Client Attestation issued by A (its key derived from the shared cookie keys) and
// A's PoP challenge (stateless, from the same secret) authenticate at B; a challenge B issued
// opens A's attester; the refresh token bound to the attested key refreshes at A.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair } from 'jose';
import { attestationBinding } from 'mobile-oidc-provider/attestation';
import * as oidc from 'openid-client';
import { appAttestAssertion, createAppAttestCa } from '../helpers/app-attest.js';
import {
  ATTEST_CLIENT_AUTH_SOFTWARE_ID,
  type AttestationState,
  attestationClientAuth,
  attestationPop,
  challengeKeepingFetch,
  clientAssertion,
  requestAttestation,
} from '../helpers/client-attestation.js';
import { json } from '../helpers/json.js';
import { TEST_REDIS_URL } from '../helpers/redis-url.js';
import { fetchChallenge, postRegistration } from '../helpers/registration.js';
import { codeForInstance, SignInBrowser } from '../helpers/sign-in.js';
import { type SpawnedExample, spawnTwoServingOneIssuer } from '../helpers/spawn.js';
import { createDeviceKey } from '../helpers/test-attestation.js';

const RESOURCE_SERVER_SECRET = 'attest-processes-resource-server-secret-0123';

describe('attestation-based client authentication across two processes sharing one Redis', {
  timeout: 120_000,
}, () => {
  const processes: SpawnedExample[] = [];
  let issuer: string;
  let urls: [string, string];
  let ca: Awaited<ReturnType<typeof createAppAttestCa>>;

  before(async () => {
    ca = await createAppAttestCa();
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const jwk = { ...(await exportJWK(privateKey)), kid: 'shared', alg: 'RS256', use: 'sig' };
    const env = {
      NODE_ENV: 'test',
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: `attest-client-auth:${randomBytes(6).toString('hex')}:`,
      JWKS: JSON.stringify({ keys: [jwk] }),
      COOKIE_KEYS: randomBytes(32).toString('base64url'),
      RESOURCE_SERVER_SECRET,
      APP_ATTEST_ROOT: ca.rootPem,
    };
    const started = await spawnTwoServingOneIssuer('test/helpers/server-process.ts', env);
    issuer = started.issuer;
    const [a, b] = started.processes;
    processes.push(a, b);
    urls = [`http://127.0.0.1:${a.port}`, `http://127.0.0.1:${b.port}`];
  });
  after(async () => {
    await Promise.all(processes.map((process_) => process_.stop()));
  });

  /** openid-client pointed at one process, authenticating with `state`. */
  function through(base: string, clientId: string, state: AttestationState) {
    const config = new oidc.Configuration(
      {
        issuer,
        authorization_endpoint: `${base}/auth`,
        token_endpoint: `${base}/token`,
        jwks_uri: `${base}/jwks`,
      },
      clientId,
      undefined,
      attestationClientAuth(state),
    );
    oidc.allowInsecureRequests(config);
    config[oidc.customFetch] = challengeKeepingFetch(state) as never;
    return config;
  }

  it('both processes publish the same attester key, derived from the shared cookie keys', async () => {
    const [a, b] = await Promise.all(
      urls.map(async (url) => json(await fetch(`${url}/attestation/jwks`))),
    );
    assert.equal(a?.keys.length, 1);
    assert.deepEqual(a, b);
  });

  it("an attestation issued by A, with A's PoP challenge, exchanges a code at B; the refresh token refreshes at A", async () => {
    const [atA, atB] = urls;
    const key = await createDeviceKey();
    const registrationChallenge = await fetchChallenge(atA);
    const binding = await attestationBinding(registrationChallenge, key.jwk);
    const evidence = await ca.attest(Buffer.from(binding.clientData));
    const registered = await postRegistration(atA, {
      software_id: ATTEST_CLIENT_AUTH_SOFTWARE_ID,
      jwks: { keys: [key.jwk] },
      token_endpoint_auth_method: 'attest_jwt_client_auth',
      attestation: {
        format: 'apple-appattest',
        challenge: registrationChallenge,
        evidence: { attestation: evidence.attestation, keyId: evidence.keyId },
      },
    });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    const clientId = registered.body.client_id as string;

    // B's stored challenge opens A's attester; the attester's URL is the issuer's.
    const assertion = await clientAssertion(
      key,
      clientId,
      `${issuer}/attestation/client-attestation`,
      {
        challenge: await fetchChallenge(atB),
      },
    );
    const answer = await requestAttestation(`${atA}/attestation/client-attestation`, assertion, {
      headers: {
        'App-Attest-Assertion': await appAttestAssertion(
          evidence.privateKey,
          Buffer.from(assertion),
          1,
        ),
      },
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const state: AttestationState = {
      attestation: answer.body.client_attestation,
      key,
      challenge: answer.headers.get('OAuth-Client-Attestation-Challenge') ?? undefined,
    };

    const { callback, checks } = await codeForInstance(
      new SignInBrowser(),
      through(atA, clientId, state),
    );
    const tokens = await oidc.authorizationCodeGrant(
      through(atB, clientId, state),
      callback,
      checks,
    );
    assert.ok(tokens.refresh_token);
    const refreshed = await oidc.refreshTokenGrant(
      through(atA, clientId, state),
      tokens.refresh_token as string,
    );
    const introspection = await fetch(`${atB}/token/introspection`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`example-api:${RESOURCE_SERVER_SECRET}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token: refreshed.access_token }).toString(),
    });
    const introspected = await json(introspection);
    assert.equal(introspected.active, true);
    assert.equal(introspected.cal, 'by-policy');
    assert.equal(introspected.client_id, clientId);

    // One PoP, sent 20 times at once to A and B: exactly one request is authenticated.
    const challenge = (await json(await fetch(`${atB}/challenge`, { method: 'POST' })))
      .attestation_challenge as string;
    const headers = {
      'content-type': 'application/x-www-form-urlencoded',
      'OAuth-Client-Attestation': state.attestation,
      'OAuth-Client-Attestation-PoP': await attestationPop(key, issuer, { challenge }),
    };
    const answers = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const res = await fetch(`${urls[i % 2]}/token`, {
          method: 'POST',
          headers,
          body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'unknown' }),
        });
        return ((await res.json()) as { error: string }).error;
      }),
    );
    assert.deepEqual(answers.sort(), ['invalid_grant', ...Array(19).fill('invalid_client')].sort());
  });
});
