// Attestation-based client authentication (draft-ietf-oauth-attestation-based-client-auth-12 on
// oidc-provider's attestClientAuth), end to end over HTTP: instances registered with honestly
// generated App Attest, Android key attestation and Play Integrity evidence obtain Client
// Attestations from the server's Client Attester with fresh evidence, then exchange codes and
// refresh with OAuth-Client-Attestation + OAuth-Client-Attestation-PoP (or DPoP-combined); an
// external attester is trusted per template by its key. openid-client is the app.
import assert from 'node:assert/strict';
import { createHash, randomUUID, type webcrypto } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  calculateJwkThumbprint,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  type JWK,
  jwtVerify,
  SignJWT,
} from 'jose';
import type { ServerEvents, Template } from 'mobile-oidc-provider';
import { attestationBinding } from 'mobile-oidc-provider/attestation';
import * as oidc from 'openid-client';
import { ATTEST_CLIENT_AUTH_DRAFT } from '../../lib/client-attestation/attest-client-auth.js';
import type { AuthServerOptions, ConfigurationError } from '../../lib/index.js';
import { resolveOptions } from '../../lib/options/validate.js';
import {
  createAndroidRoot,
  TEST_PACKAGE,
  TEST_SIGNING_DIGEST,
} from '../helpers/android-attestation.js';
import { appAttestAssertion, createAppAttestCa, TEST_APP_ID } from '../helpers/app-attest.js';
import {
  type AttestationState,
  attestationClientAuth,
  attestationPop,
  challengeKeepingFetch,
  clientAssertion,
  type InstanceKey,
  requestAttestation,
} from '../helpers/client-attestation.js';
import {
  APP_REDIRECT_URI,
  insecure,
  type RunningServer,
  resourceServer,
  startExample,
} from '../helpers/example.js';
import {
  FALLBACK_CLIENT_ID,
  FALLBACK_CLIENT_SECRET,
  FALLBACK_SOFTWARE_ID,
} from '../helpers/fixture.js';
import { type JsonBody, json } from '../helpers/json.js';
import {
  createPlayKeys,
  integrityPayload,
  PACKAGE_NAME,
  type PlayKeys,
  SIGNING_DIGEST,
} from '../helpers/play-integrity.js';
import {
  fetchChallenge,
  instanceConfiguration,
  isOAuthError,
  postRegistration,
} from '../helpers/registration.js';
import { codeForInstance, SignInBrowser } from '../helpers/sign-in.js';
import { createDeviceKey } from '../helpers/test-attestation.js';

type CryptoKey = webcrypto.CryptoKey;

const ATTESTED_ID = 'io.example.attest-client-auth';
const FALLBACK_ID = 'io.example.attest-client-auth.fallback';
const KEY_ONLY_ID = 'io.example.attest-client-auth.off';
const EXTERNAL_ATTESTER = 'https://attester.example.net';

const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');

/** An instance as the app keeps it. */
interface Install {
  clientId: string;
  registered: JsonBody;
  key: InstanceKey & { publicKey: CryptoKey };
  /** The App Attest key and its counter, for apple-appattest installs. */
  appAttest?: { privateKey: CryptoKey; counter: number };
}

describe('attestation-based client authentication (draft-12)', () => {
  let server: RunningServer;
  let attesterUrl: string;
  let ca: Awaited<ReturnType<typeof createAppAttestCa>>;
  let androidRoot: Awaited<ReturnType<typeof createAndroidRoot>>;
  let play: PlayKeys;
  let attesterKey: JWK;
  let external: { privateKey: CryptoKey; jwk: JWK };
  let allowFallback = true;
  const policyInputs: unknown[] = [];
  const events: Array<{ name: string; payload: unknown }> = [];

  before(async () => {
    ca = await createAppAttestCa();
    androidRoot = await createAndroidRoot();
    play = await createPlayKeys();
    const attester = await generateKeyPair('ES256', { extractable: true });
    attesterKey = {
      ...(await exportJWK(attester.privateKey)),
      kid: 'test-attester-1',
      alg: 'ES256',
    };
    const other = await generateKeyPair('ES256', { extractable: true });
    external = {
      privateKey: other.privateKey,
      jwk: { ...(await exportJWK(other.publicKey)), kid: 'external-1', alg: 'ES256' },
    };
    const attested: Template = {
      software_id: ATTESTED_ID,
      client: {
        redirect_uris: [APP_REDIRECT_URI],
        grant_types: ['authorization_code', 'refresh_token'],
        token_endpoint_auth_method: 'private_key_jwt',
        scope: 'openid offline_access payments',
      },
      instanceFields: ['jwks', 'software_version'],
      attestation: {
        formats: ['apple-appattest', 'android-key', 'play-integrity'],
        appleAppAttest: { appId: TEST_APP_ID },
        androidKey: {
          packageNames: [TEST_PACKAGE],
          signingCertDigests: [Buffer.from(TEST_SIGNING_DIGEST).toString('hex')],
        },
        playIntegrity: {
          packageName: PACKAGE_NAME,
          certificateSha256Digests: [SIGNING_DIGEST],
          decryptionKey: play.decryptionKey,
          verificationKey: play.verificationKey,
        },
      },
      attestClientAuth: true,
      trustedAttesters: [{ issuer: EXTERNAL_ATTESTER, jwks: { keys: [external.jwk] } }],
    };
    const fallback: Template = {
      software_id: FALLBACK_ID,
      client: {
        redirect_uris: [APP_REDIRECT_URI],
        grant_types: ['authorization_code', 'refresh_token'],
        token_endpoint_auth_method: 'private_key_jwt',
        scope: 'openid offline_access',
      },
      instanceFields: ['jwks'],
      fallbackClients: [FALLBACK_CLIENT_ID],
      attestClientAuth: true,
    };
    // The same app with attestation-based client authentication off.
    const keyOnly: Template = { ...fallback, software_id: KEY_ONLY_ID, attestClientAuth: false };
    server = await startExample((o) => ({
      ...o,
      registration: {
        ...o.registration,
        templates: [...(o.registration?.templates ?? []), attested, fallback, keyOnly],
      },
      attestation: {
        appleRoots: [ca.rootPem],
        androidRoots: [androidRoot.pem],
        attester: {
          keys: [attesterKey],
          allowWithoutEvidence: async (input) => {
            policyInputs.push(input);
            return allowFallback && input.method === 'fallback-client';
          },
        },
      },
    }));
    attesterUrl = `${server.issuer}/attestation/client-attestation`;
    for (const name of ['attestation.issued', 'attestation.refused'] as const) {
      server.auth.on(name, (payload: ServerEvents[typeof name]) => events.push({ name, payload }));
    }
  });
  after(async () => {
    await server.close();
  });

  /** Registers an install with App Attest evidence bound to its key. */
  async function registerAppAttest(method = 'attest_jwt_client_auth'): Promise<Install> {
    const key = await createDeviceKey();
    const challenge = await fetchChallenge(server.issuer);
    const binding = await attestationBinding(challenge, key.jwk);
    const evidence = await ca.attest(Buffer.from(binding.clientData));
    const res = await postRegistration(server.issuer, {
      software_id: ATTESTED_ID,
      jwks: { keys: [key.jwk] },
      token_endpoint_auth_method: method,
      attestation: {
        format: 'apple-appattest',
        challenge,
        evidence: { attestation: evidence.attestation, keyId: evidence.keyId },
      },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return {
      clientId: res.body.client_id,
      registered: res.body,
      key,
      appAttest: { privateKey: evidence.privateKey, counter: 0 },
    };
  }

  /** Asks the attester for an App Attest install's attestation, with a fresh assertion. */
  async function attestAppAttest(install: Install, claims: Record<string, unknown> = {}) {
    const challenge = await fetchChallenge(server.issuer);
    const assertion = await clientAssertion(install.key, install.clientId, attesterUrl, {
      challenge,
      ...claims,
    });
    const appAttest = install.appAttest as NonNullable<Install['appAttest']>;
    appAttest.counter += 1;
    const header = await appAttestAssertion(
      appAttest.privateKey,
      Buffer.from(assertion),
      appAttest.counter,
    );
    return requestAttestation(attesterUrl, assertion, {
      headers: { 'App-Attest-Assertion': header },
    });
  }

  /** openid-client's view of an install that authenticates with `state`. */
  async function attestingClient(install: Install, state: AttestationState) {
    const instance = await instanceConfiguration(
      server.issuer,
      install.registered,
      attestationClientAuth(state),
    );
    instance[oidc.customFetch] = challengeKeepingFetch(state) as never;
    return instance;
  }

  /** An install with its attestation, signed in: tokens from a code exchange. */
  async function signedIn(install: Install, state: AttestationState, scope?: string) {
    const instance = await attestingClient(install, state);
    const { callback, checks } = await codeForInstance(new SignInBrowser(), instance, scope);
    const tokens = await oidc.authorizationCodeGrant(instance, callback, checks);
    return { instance, tokens };
  }

  /** A Client Attestation signed by the external attester (or `signer`), attesting `jwk`. */
  async function externalAttestation(
    clientId: string,
    jwk: JWK,
    {
      issuer = EXTERNAL_ATTESTER,
      signer = external.privateKey,
      kid = 'external-1',
      cal = 'by-provisioned-key',
    } = {},
  ) {
    return new SignJWT({ cnf: { jwk }, cal })
      .setProtectedHeader({ alg: 'ES256', typ: 'oauth-client-attestation+jwt', kid })
      .setIssuer(issuer)
      .setSubject(clientId)
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(signer);
  }

  /** A token request sent by hand with attestation headers (openid-client hides some answers). */
  async function rawToken(
    headers: Record<string, string>,
    parameters: Record<string, string>,
  ): Promise<{ status: number; body: JsonBody; headers: Headers }> {
    const res = await fetch(`${server.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(parameters).toString(),
    });
    return { status: res.status, body: await json(res), headers: res.headers };
  }

  it(`pins oidc-provider's attestClientAuth draft version (${ATTEST_CLIENT_AUTH_DRAFT}): an upgrade that implements another fails here`, async () => {
    const features = 'oidc-provider/lib/helpers/features.js';
    const { EXPERIMENTS } = (await import(features)) as {
      EXPERIMENTS: Map<string, { name: string; version: string | string[] }>;
    };
    const experiment = EXPERIMENTS.get('attestClientAuth');
    assert.equal(experiment?.name, 'OAuth 2.0 Attestation-Based Client Authentication');
    assert.equal(experiment?.version, ATTEST_CLIENT_AUTH_DRAFT);
    assert.equal(ATTEST_CLIENT_AUTH_DRAFT, 'draft-12');
  });

  it('discovery advertises the challenge endpoints, the attester, its keys, the algorithms and both auth methods', async () => {
    const metadata = await json(await fetch(`${server.issuer}/.well-known/openid-configuration`));
    assert.equal(metadata.challenge_endpoint, `${server.issuer}/challenge`);
    assert.equal(metadata.attestation_challenge_endpoint, `${server.issuer}/attestation/challenge`);
    assert.equal(metadata.client_attestation_endpoint, attesterUrl);
    assert.equal(metadata.client_attester_jwks_uri, `${server.issuer}/attestation/jwks`);
    assert.ok(metadata.client_attestation_signing_alg_values_supported.includes('ES256'));
    assert.ok(metadata.client_attestation_pop_signing_alg_values_supported.includes('ES256'));
    for (const method of [
      'attest_jwt_client_auth',
      'attest_jwt_client_auth_dpop',
      'private_key_jwt',
    ]) {
      assert.ok(metadata.token_endpoint_auth_methods_supported.includes(method), method);
    }
    // The PoP challenge endpoint answers in the body and in the draft's header.
    const res = await fetch(metadata.challenge_endpoint, { method: 'POST' });
    const body = await json(res);
    assert.equal(res.status, 200);
    assert.equal(typeof body.attestation_challenge, 'string');
    assert.equal(res.headers.get('OAuth-Client-Attestation-Challenge'), body.attestation_challenge);
    // The attester's JWKS holds its public key only.
    const jwks = await json(await fetch(metadata.client_attester_jwks_uri));
    assert.deepEqual(
      jwks.keys.map((k: JWK) => [k.kid, k.kty, k.crv, 'd' in k]),
      [['test-attester-1', 'EC', 'P-256', false]],
    );
  });

  it('an App Attest install registers with attest_jwt_client_auth and obtains a Client Attestation of its registered key', async () => {
    const install = await registerAppAttest();
    assert.equal(install.registered.token_endpoint_auth_method, 'attest_jwt_client_auth');
    assert.equal(install.registered.cal, 'by-policy');
    assert.equal(install.registered.client_secret, undefined);
    const res = await attestAppAttest(install);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.expires_in, 3600);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.ok(res.headers.get('OAuth-Client-Attestation-Challenge'));
    const attestation = res.body.client_attestation as string;
    const header = decodeProtectedHeader(attestation);
    assert.deepEqual(header, {
      alg: 'ES256',
      typ: 'oauth-client-attestation+jwt',
      kid: 'test-attester-1',
    });
    // Verifiable with the published keys alone.
    const { payload } = await jwtVerify(
      attestation,
      createRemoteJWKSet(new URL(`${server.issuer}/attestation/jwks`), {
        [Symbol.for('openid-client.allowInsecureRequests')]: true,
      } as never),
      { issuer: server.issuer, subject: install.clientId, typ: 'oauth-client-attestation+jwt' },
    );
    assert.equal(payload.cal, 'by-policy');
    assert.equal(Number(payload.exp) - Number(payload.iat), 3600);
    const cnf = payload.cnf as { jwk: JWK };
    assert.equal(
      await calculateJwkThumbprint(cnf.jwk),
      await calculateJwkThumbprint(install.key.jwk),
    );
    assert.equal('d' in cnf.jwk, false);
    const issued = events.find((e) => e.name === 'attestation.issued');
    assert.deepEqual(
      { ...(issued?.payload as object), expiresAt: undefined },
      {
        clientId: install.clientId,
        softwareId: ATTESTED_ID,
        cal: 'by-policy',
        evidence: 'apple-appattest',
        expiresAt: undefined,
      },
    );
  });

  it('the attester refuses a missing or replayed App Attest assertion, a used or missing challenge, a replayed or foreign client assertion', async () => {
    const install = await registerAppAttest();
    const challenge = await fetchChallenge(server.issuer);
    const assertion = await clientAssertion(install.key, install.clientId, attesterUrl, {
      challenge,
    });
    const noEvidence = await requestAttestation(attesterUrl, assertion);
    assert.equal(noEvidence.status, 403);
    assert.equal(noEvidence.body.error, 'invalid_client_attestation');
    assert.match(noEvidence.body.error_description, /App-Attest-Assertion/);
    // The challenge went with that attempt; the client assertion's jti too.
    const replayed = await requestAttestation(attesterUrl, assertion);
    assert.equal(replayed.status, 401);
    assert.equal(replayed.body.error, 'invalid_client');
    const reused = await clientAssertion(install.key, install.clientId, attesterUrl, { challenge });
    const reusedAnswer = await requestAttestation(attesterUrl, reused);
    assert.equal(reusedAnswer.status, 403);
    assert.match(reusedAnswer.body.error_description, /already used/);
    const withoutChallenge = await requestAttestation(
      attesterUrl,
      await clientAssertion(install.key, install.clientId, attesterUrl),
    );
    assert.equal(withoutChallenge.status, 400);
    assert.equal(withoutChallenge.body.error, 'invalid_request');

    // An App Attest assertion whose counter does not rise, or over another request.
    assert.equal((await attestAppAttest(install)).status, 200);
    (install.appAttest as { counter: number }).counter -= 1;
    const stale = await attestAppAttest(install);
    assert.equal(stale.status, 403);
    assert.match(stale.body.error_description, /counter/);
    const fresh = await fetchChallenge(server.issuer);
    const signed = await clientAssertion(install.key, install.clientId, attesterUrl, {
      challenge: fresh,
    });
    const otherRequest = await requestAttestation(attesterUrl, signed, {
      headers: {
        'App-Attest-Assertion': await appAttestAssertion(
          (install.appAttest as { privateKey: CryptoKey }).privateKey,
          Buffer.from('another request'),
          99,
        ),
      },
    });
    assert.equal(otherRequest.status, 403);

    // Signed by a key the install never registered, or for another audience.
    const stranger = await createDeviceKey();
    const foreign = await requestAttestation(
      attesterUrl,
      await clientAssertion(stranger, install.clientId, attesterUrl, {
        challenge: await fetchChallenge(server.issuer),
      }),
    );
    assert.equal(foreign.status, 401);
    assert.equal(foreign.body.error, 'invalid_client');
    const wrongAudience = await requestAttestation(
      attesterUrl,
      await clientAssertion(install.key, install.clientId, server.issuer, {
        challenge: await fetchChallenge(server.issuer),
      }),
    );
    assert.equal(wrongAudience.status, 401);
    // Only POST.
    assert.equal((await fetch(attesterUrl)).status, 405);
    const refusals = events.filter((e) => e.name === 'attestation.refused').map((e) => e.payload);
    assert.ok(
      refusals.some(
        (r) =>
          (r as { reason: string }).reason === 'challenge_used' &&
          (r as { clientId: string }).clientId === install.clientId,
      ),
    );
  });

  it('code exchange and refresh with OAuth-Client-Attestation + PoP; introspection shows the cal; the refresh token needs the attestation', async () => {
    const install = await registerAppAttest();
    const answer = await attestAppAttest(install);
    const state: AttestationState = {
      attestation: answer.body.client_attestation,
      key: install.key,
      // The attester handed out the first PoP challenge: no extra round trip.
      challenge: answer.headers.get('OAuth-Client-Attestation-Challenge') ?? undefined,
    };
    const { instance, tokens } = await signedIn(install, state);
    assert.ok(tokens.refresh_token);
    const rs = await resourceServer(server.issuer);
    const introspected = await oidc.tokenIntrospection(rs, tokens.access_token);
    assert.equal(introspected.active, true);
    assert.equal(introspected.cal, 'by-policy');
    assert.equal(introspected.client_id, install.clientId);
    const refreshed = await oidc.refreshTokenGrant(instance, tokens.refresh_token as string);
    assert.equal((await oidc.tokenIntrospection(rs, refreshed.access_token)).cal, 'by-policy');
    // private_key_jwt is no longer this install's method.
    const keyJwt = await instanceConfiguration(
      server.issuer,
      install.registered,
      oidc.PrivateKeyJwt(install.key.privateKey),
    );
    await assert.rejects(
      oidc.refreshTokenGrant(keyJwt, refreshed.refresh_token as string),
      isOAuthError('invalid_client'),
    );
  });

  it('a PoP without a challenge is use_attestation_challenge with the challenge header; a replayed PoP jti, a wrong typ, an expired attestation are invalid_client', async () => {
    const install = await registerAppAttest();
    const attestation = (await attestAppAttest(install)).body.client_attestation as string;
    const refresh = {
      grant_type: 'refresh_token',
      refresh_token: 'unknown',
      client_id: install.clientId,
    };
    const missing = await rawToken(
      {
        'OAuth-Client-Attestation': attestation,
        'OAuth-Client-Attestation-PoP': await attestationPop(install.key, server.issuer),
      },
      refresh,
    );
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error, 'use_attestation_challenge');
    const challenge = missing.headers.get('OAuth-Client-Attestation-Challenge');
    assert.ok(challenge);
    // With that challenge the client is authenticated; only the grant fails.
    const pop = await attestationPop(install.key, server.issuer, { challenge });
    const headers = {
      'OAuth-Client-Attestation': attestation,
      'OAuth-Client-Attestation-PoP': pop,
    };
    const authenticated = await rawToken(headers, refresh);
    assert.equal(authenticated.status, 400);
    assert.equal(authenticated.body.error, 'invalid_grant');
    const replayed = await rawToken(headers, refresh);
    assert.equal(replayed.status, 401);
    assert.equal(replayed.body.error, 'invalid_client');
    const wrongTyp = await rawToken(
      {
        'OAuth-Client-Attestation': attestation,
        'OAuth-Client-Attestation-PoP': await attestationPop(install.key, server.issuer, {
          challenge,
          typ: 'JWT',
        }),
      },
      refresh,
    );
    assert.equal(wrongTyp.status, 401);
    // An attestation of this attester that expired an hour ago: oidc-provider answers
    // invalid_client (it does not use the draft's use_fresh_attestation).
    const now = Math.floor(Date.now() / 1000);
    const { importJWK } = await import('jose');
    const expired = await new SignJWT({ cnf: { jwk: install.key.jwk }, cal: 'by-policy' })
      .setProtectedHeader({
        alg: 'ES256',
        typ: 'oauth-client-attestation+jwt',
        kid: 'test-attester-1',
      })
      .setIssuer(server.issuer)
      .setSubject(install.clientId)
      .setIssuedAt(now - 7200)
      .setExpirationTime(now - 3600)
      .sign(await importJWK(attesterKey, 'ES256'));
    const stale = await rawToken(
      {
        'OAuth-Client-Attestation': expired,
        'OAuth-Client-Attestation-PoP': await attestationPop(install.key, server.issuer, {
          challenge,
        }),
      },
      refresh,
    );
    assert.equal(stale.status, 401);
    assert.equal(stale.body.error, 'invalid_client');
  });

  it('one PoP sent 10 times in parallel authenticates exactly one request', async () => {
    const install = await registerAppAttest();
    const attestation = (await attestAppAttest(install)).body.client_attestation as string;
    const challenge = (await json(await fetch(`${server.issuer}/challenge`, { method: 'POST' })))
      .attestation_challenge as string;
    const headers = {
      'OAuth-Client-Attestation': attestation,
      'OAuth-Client-Attestation-PoP': await attestationPop(install.key, server.issuer, {
        challenge,
      }),
    };
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        rawToken(headers, { grant_type: 'refresh_token', refresh_token: 'unknown' }),
      ),
    );
    assert.deepEqual(
      answers.map((a) => a.body.error).sort(),
      ['invalid_grant', ...Array(9).fill('invalid_client')].sort(),
    );
  });

  it("another client's attestation is refused: client_id mismatch, or a PoP its key did not sign", async () => {
    const a = await registerAppAttest();
    const b = await registerAppAttest();
    const bAttestation = (await attestAppAttest(b)).body.client_attestation as string;
    const challenge = (await json(await fetch(`${server.issuer}/challenge`, { method: 'POST' })))
      .attestation_challenge as string;
    const mismatch = await rawToken(
      {
        'OAuth-Client-Attestation': bAttestation,
        'OAuth-Client-Attestation-PoP': await attestationPop(a.key, server.issuer, { challenge }),
      },
      { grant_type: 'refresh_token', refresh_token: 'x', client_id: a.clientId },
    );
    assert.equal(mismatch.status, 400);
    assert.equal(mismatch.body.error, 'invalid_request');
    const wrongKey = await rawToken(
      {
        'OAuth-Client-Attestation': bAttestation,
        'OAuth-Client-Attestation-PoP': await attestationPop(a.key, server.issuer, { challenge }),
      },
      { grant_type: 'refresh_token', refresh_token: 'x' },
    );
    assert.equal(wrongKey.status, 401);
    assert.equal(wrongKey.body.error, 'invalid_client');
    // Nor does the attester attest A's key as B.
    const asB = await requestAttestation(
      attesterUrl,
      await clientAssertion(a.key, b.clientId, attesterUrl, {
        challenge: await fetchChallenge(server.issuer),
      }),
    );
    assert.equal(asB.status, 401);
  });

  it('an external attester trusted by the template is accepted (its cal lowers the token level); an untrusted one, or an attestation of an unregistered key, is not', async () => {
    const install = await registerAppAttest();
    const state: AttestationState = {
      attestation: await externalAttestation(install.clientId, install.key.jwk),
      key: install.key,
    };
    const instance = await attestingClient(install, state);
    state.challenge = (
      await json(await fetch(`${server.issuer}/challenge`, { method: 'POST' }))
    ).attestation_challenge;
    const { callback, checks } = await codeForInstance(new SignInBrowser(), instance);
    const tokens = await oidc.authorizationCodeGrant(instance, callback, checks);
    const rs = await resourceServer(server.issuer);
    assert.equal(
      (await oidc.tokenIntrospection(rs, tokens.access_token)).cal,
      'by-provisioned-key',
    );

    const refreshWith = async (attestation: string, key: InstanceKey = install.key) =>
      rawToken(
        {
          'OAuth-Client-Attestation': attestation,
          'OAuth-Client-Attestation-PoP': await attestationPop(key, server.issuer, {
            challenge: state.challenge,
          }),
        },
        { grant_type: 'refresh_token', refresh_token: 'x', client_id: install.clientId },
      );
    const impostor = await generateKeyPair('ES256');
    for (const untrusted of [
      await externalAttestation(install.clientId, install.key.jwk, { signer: impostor.privateKey }),
      await externalAttestation(install.clientId, install.key.jwk, {
        issuer: 'https://untrusted.example.net',
        signer: impostor.privateKey,
      }),
    ]) {
      const res = await refreshWith(untrusted);
      assert.equal(res.status, 401, JSON.stringify(res.body));
      assert.equal(res.body.error, 'invalid_client');
    }
    const unregistered = await createDeviceKey();
    const res = await refreshWith(
      await externalAttestation(install.clientId, unregistered.jwk),
      unregistered,
    );
    assert.equal(res.status, 401);
    // The trusted attestation itself only gets as far as the (unknown) grant.
    assert.equal((await refreshWith(state.attestation)).body.error, 'invalid_grant');
  });

  it("an attestation whose cal is below a scope's minimum level refreshes nothing with that scope; the refresh token survives", async () => {
    const install = await registerAppAttest();
    const answer = await attestAppAttest(install);
    const state: AttestationState = {
      attestation: answer.body.client_attestation,
      key: install.key,
      challenge: answer.headers.get('OAuth-Client-Attestation-Challenge') ?? undefined,
    };
    // payments needs by-provisioned-key (the fixture's assurance.minimumLevels).
    const { instance, tokens } = await signedIn(install, state, 'openid offline_access payments');
    assert.match(String(tokens.scope), /payments/);
    state.attestation = await externalAttestation(install.clientId, install.key.jwk, {
      cal: 'none',
    });
    await assert.rejects(
      oidc.refreshTokenGrant(instance, tokens.refresh_token as string),
      isOAuthError('invalid_scope'),
    );
    state.attestation = answer.body.client_attestation;
    const refreshed = await oidc.refreshTokenGrant(instance, tokens.refresh_token as string);
    const rs = await resourceServer(server.issuer);
    assert.equal((await oidc.tokenIntrospection(rs, refreshed.access_token)).cal, 'by-policy');
  });

  it('DPoP-combined (attest_jwt_client_auth_dpop): the DPoP proof of the attested key is the PoP; tokens are DPoP-bound', async () => {
    const install = await registerAppAttest('attest_jwt_client_auth_dpop');
    assert.equal(install.registered.token_endpoint_auth_method, 'attest_jwt_client_auth_dpop');
    const state: AttestationState = {
      attestation: (await attestAppAttest(install)).body.client_attestation,
      key: install.key,
      mode: 'dpop',
    };
    const instance = await attestingClient(install, state);
    const DPoP = oidc.getDPoPHandle(instance, {
      privateKey: install.key.privateKey,
      publicKey: install.key.publicKey,
    });
    const { callback, checks } = await codeForInstance(new SignInBrowser(), instance);
    const tokens = await oidc.authorizationCodeGrant(instance, callback, checks, undefined, {
      DPoP,
    });
    assert.equal(tokens.token_type.toLowerCase(), 'dpop');
    const rs = await resourceServer(server.issuer);
    const introspected = await oidc.tokenIntrospection(rs, tokens.access_token);
    assert.equal(introspected.cal, 'by-policy');
    assert.equal(
      (introspected.cnf as { jkt: string }).jkt,
      await calculateJwkThumbprint(install.key.jwk),
    );
    const refreshed = await oidc.refreshTokenGrant(
      instance,
      tokens.refresh_token as string,
      undefined,
      {
        DPoP,
      },
    );
    assert.equal(refreshed.token_type.toLowerCase(), 'dpop');
    // A DPoP proof by another key than the attested one is refused.
    const other = await createDeviceKey();
    const otherDPoP = oidc.getDPoPHandle(instance, {
      privateKey: other.privateKey,
      publicKey: other.publicKey,
    });
    await assert.rejects(
      oidc.refreshTokenGrant(instance, refreshed.refresh_token as string, undefined, {
        DPoP: otherDPoP,
      }),
      isOAuthError('invalid_client'),
    );
  });

  it('a fallback install gets attestations only as allowWithoutEvidence allows, with its own cal; its refresh token is bound to the attested key', async () => {
    const fallbackClient = await oidc.discovery(
      new URL(server.issuer),
      FALLBACK_CLIENT_ID,
      undefined,
      oidc.ClientSecretBasic(FALLBACK_CLIENT_SECRET),
      insecure,
    );
    const dcrToken = (await oidc.clientCredentialsGrant(fallbackClient, { scope: 'dcr' }))
      .access_token;
    const first = await createDeviceKey();
    const second = await createDeviceKey();
    const registered = await postRegistration(
      server.issuer,
      {
        software_id: FALLBACK_ID,
        jwks: { keys: [first.jwk, second.jwk] },
        token_endpoint_auth_method: 'attest_jwt_client_auth',
      },
      dcrToken,
    );
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    assert.equal(registered.body.cal, 'none');
    const install: Install = {
      clientId: registered.body.client_id,
      registered: registered.body,
      key: first,
    };
    const attestationOf = async (key: InstanceKey) =>
      requestAttestation(
        attesterUrl,
        await clientAssertion(key, install.clientId, attesterUrl, {
          challenge: await fetchChallenge(server.issuer),
        }),
      );
    const forFirst = await attestationOf(first);
    assert.equal(forFirst.status, 200, JSON.stringify(forFirst.body));
    assert.equal(decodeJwt(forFirst.body.client_attestation).cal, 'none');
    assert.deepEqual(policyInputs.at(-1), {
      clientId: install.clientId,
      softwareId: FALLBACK_ID,
      cal: 'none',
      method: 'fallback-client',
      fallbackClientId: FALLBACK_CLIENT_ID,
      ip: (policyInputs.at(-1) as { ip: string }).ip,
    });
    const forSecond = (await attestationOf(second)).body.client_attestation as string;
    assert.equal(
      await calculateJwkThumbprint((decodeJwt(forSecond).cnf as { jwk: JWK }).jwk),
      await calculateJwkThumbprint(second.jwk),
    );

    const state: AttestationState = {
      attestation: forFirst.body.client_attestation,
      key: first,
      challenge: forFirst.headers.get('OAuth-Client-Attestation-Challenge') ?? undefined,
    };
    const { instance, tokens } = await signedIn(install, state);
    const rs = await resourceServer(server.issuer);
    assert.equal((await oidc.tokenIntrospection(rs, tokens.access_token)).cal, 'none');
    // oidc-provider binds the refresh token to the attested key: the other registered key's
    // attestation authenticates the client, but may not refresh it.
    const switched: AttestationState = { ...state, attestation: forSecond, key: second };
    const withSecond = await attestingClient(install, switched);
    await assert.rejects(
      oidc.refreshTokenGrant(withSecond, tokens.refresh_token as string),
      isOAuthError('invalid_grant'),
    );
    const refreshed = await oidc.refreshTokenGrant(instance, tokens.refresh_token as string);
    assert.ok(refreshed.access_token);

    allowFallback = false;
    try {
      const refused = await attestationOf(first);
      assert.equal(refused.status, 403);
      assert.equal(refused.body.error, 'access_denied');
    } finally {
      allowFallback = true;
    }
  });

  it('Android key attestation and Play Integrity installs: the attested key signs, or a fresh integrity token answers the client assertion', async () => {
    // android-key: the registered key is the attested one; its signature is the fresh proof.
    const android = await createDeviceKey();
    let challenge = await fetchChallenge(server.issuer);
    const androidBinding = await attestationBinding(challenge, android.jwk);
    const chain = await androidRoot.attest(android.publicKey, {
      challenge: androidBinding.clientDataHash,
    });
    const androidInstall = await postRegistration(server.issuer, {
      software_id: ATTESTED_ID,
      jwks: { keys: [android.jwk] },
      token_endpoint_auth_method: 'attest_jwt_client_auth',
      attestation: { format: 'android-key', challenge, evidence: chain },
    });
    assert.equal(androidInstall.status, 201, JSON.stringify(androidInstall.body));
    const androidAnswer = await requestAttestation(
      attesterUrl,
      await clientAssertion(android, androidInstall.body.client_id, attesterUrl, {
        challenge: await fetchChallenge(server.issuer),
      }),
    );
    assert.equal(androidAnswer.status, 200, JSON.stringify(androidAnswer.body));
    assert.equal(decodeJwt(androidAnswer.body.client_attestation).cal, 'by-policy');

    // play-integrity: a fresh token whose nonce is base64url(SHA-256(client_assertion)).
    const device = await createDeviceKey();
    challenge = await fetchChallenge(server.issuer);
    const binding = await attestationBinding(challenge, device.jwk);
    const registered = await postRegistration(server.issuer, {
      software_id: ATTESTED_ID,
      jwks: { keys: [device.jwk] },
      token_endpoint_auth_method: 'attest_jwt_client_auth',
      attestation: {
        format: 'play-integrity',
        challenge,
        evidence: await play.sign(integrityPayload(binding.nonce)),
      },
    });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    const clientId = registered.body.client_id as string;
    const assertion = await clientAssertion(device, clientId, attesterUrl, {
      challenge: await fetchChallenge(server.issuer),
    });
    const ok = await requestAttestation(attesterUrl, assertion, {
      form: { integrity_token: await play.sign(integrityPayload(sha256(assertion))) },
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const again = await clientAssertion(device, clientId, attesterUrl, {
      challenge: await fetchChallenge(server.issuer),
    });
    const wrongNonce = await requestAttestation(attesterUrl, again, {
      form: { integrity_token: await play.sign(integrityPayload(sha256('another request'))) },
    });
    assert.equal(wrongNonce.status, 403);
    assert.equal(wrongNonce.body.error, 'invalid_client_attestation');
    const issued = events
      .filter((e) => e.name === 'attestation.issued')
      .map((e) => (e.payload as { evidence: string }).evidence);
    assert.ok(issued.includes('android-key') && issued.includes('play-integrity'));
  });

  it('an install switches between private_key_jwt and attest_jwt_client_auth by RFC 7592 update, keeping its key; never to a secret', async () => {
    const install = await registerAppAttest('private_key_jwt');
    assert.equal(install.registered.token_endpoint_auth_method, 'private_key_jwt');
    const { registration_client_uri: uri } = install.registered;
    let rat = install.registered.registration_access_token as string;
    const put = async (body: JsonBody) => {
      const res = await fetch(uri, {
        method: 'PUT',
        headers: { authorization: `Bearer ${rat}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const answer = { status: res.status, body: await json(res) };
      // The registration access token rotates with every update.
      if (res.status === 200) rat = answer.body.registration_access_token;
      return answer;
    };
    const current = await json(await fetch(uri, { headers: { authorization: `Bearer ${rat}` } }));
    const {
      registration_access_token: _token,
      registration_client_uri: _uri,
      client_secret_expires_at: _expires,
      client_id_issued_at: _issued,
      ...metadata
    } = current;
    const switched = await put({
      ...metadata,
      token_endpoint_auth_method: 'attest_jwt_client_auth',
    });
    assert.equal(switched.status, 200, JSON.stringify(switched.body));
    assert.equal(switched.body.token_endpoint_auth_method, 'attest_jwt_client_auth');
    assert.equal(switched.body.cal, 'by-policy');
    const secret = await put({ ...metadata, token_endpoint_auth_method: 'client_secret_basic' });
    assert.equal(secret.status, 400);
    // The attester attests it now.
    assert.equal((await attestAppAttest(install)).status, 200);
  });

  it('options: the passthrough refuses features.attestClientAuth; trusted attesters, attester keys and the switch are checked', async () => {
    const base = {
      issuer: 'https://login.example.com',
      development: true,
      accounts: { authenticate: async () => undefined, findAccount: async () => undefined },
    };
    const problemsOf = (options: Record<string, unknown>) => {
      try {
        resolveOptions({ ...base, ...options } as AuthServerOptions);
      } catch (error) {
        return (error as ConfigurationError).problems;
      }
      return [];
    };
    assert.deepEqual(
      problemsOf({ oidcProvider: { features: { attestClientAuth: { enabled: true } } } }),
      [
        "options.oidcProvider.features.attestClientAuth is not an allowed passthrough setting: attestation-based client authentication follows the templates' attestClientAuth and options.attestation.attester",
      ],
    );
    const otherD = (
      await exportJWK((await generateKeyPair('ES256', { extractable: true })).privateKey)
    ).d as string;
    const template = (extra: Partial<Template>): Template => ({
      software_id: 'io.example.app',
      client: { redirect_uris: [APP_REDIRECT_URI], token_endpoint_auth_method: 'private_key_jwt' },
      instanceFields: ['jwks'],
      attestClientAuth: true,
      ...extra,
    });
    const at = 'options.registration.templates[0]';
    assert.deepEqual(
      problemsOf({
        registration: {
          templates: [
            template({
              trustedAttesters: [
                { issuer: 'https://login.example.com', jwks: { keys: [external.jwk] } },
                { issuer: 'ftp://attester.example', jwks: { keys: [attesterKey] } },
              ],
            }),
          ],
        },
        attestation: {
          attester: {
            enabled: false,
            keys: [
              { ...attesterKey, kid: undefined },
              { ...attesterKey, kid: 'mixed', d: otherD },
            ],
          },
        },
      }),
      [
        'options.attestation.attester.keys[0] needs a kid',
        'options.attestation.attester.keys[1]: its d does not belong to its x and y',
        `${at}.trustedAttesters[0].issuer is this server, whose attester every such template trusts`,
        `${at}.trustedAttesters[1].issuer must be an https URL (http only with options.development)`,
        `${at}.trustedAttesters[1].jwks.keys[0] must be a public key`,
        `${at}.attestClientAuth needs options.attestation.attester.enabled`,
      ],
    );
    assert.deepEqual(
      problemsOf({
        registration: {
          templates: [
            template({
              client: {
                redirect_uris: [APP_REDIRECT_URI],
                token_endpoint_auth_method: 'client_secret_basic',
              },
              instanceFields: [],
            }),
          ],
        },
      }),
      [
        `${at}.attestClientAuth needs client.token_endpoint_auth_method 'private_key_jwt': an attestation attests the key each instance registers`,
      ],
    );
  });

  it('an install of a template without attestClientAuth neither registers an attestation method nor gets attestations', async () => {
    const fallbackClient = await oidc.discovery(
      new URL(server.issuer),
      FALLBACK_CLIENT_ID,
      undefined,
      oidc.ClientSecretBasic(FALLBACK_CLIENT_SECRET),
      insecure,
    );
    const token = async () =>
      (await oidc.clientCredentialsGrant(fallbackClient, { scope: 'dcr' })).access_token;
    const key = await createDeviceKey();
    const refused = await postRegistration(
      server.issuer,
      {
        software_id: KEY_ONLY_ID,
        jwks: { keys: [key.jwk] },
        token_endpoint_auth_method: 'attest_jwt_client_auth',
      },
      await token(),
    );
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, 'invalid_client_metadata');
    const registered = await postRegistration(
      server.issuer,
      { software_id: KEY_ONLY_ID, jwks: { keys: [key.jwk] } },
      await token(),
    );
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    assert.equal(registered.body.token_endpoint_auth_method, 'private_key_jwt');
    const res = await requestAttestation(
      attesterUrl,
      await clientAssertion(key, registered.body.client_id, attesterUrl, {
        challenge: await fetchChallenge(server.issuer),
      }),
    );
    assert.equal(res.status, 403);
    assert.equal(res.body.error, 'unauthorized_client');
    // Who cannot sign as the install learns nothing about its template.
    const secretInstall = await postRegistration(
      server.issuer,
      { software_id: FALLBACK_SOFTWARE_ID },
      await token(),
    );
    const stranger = await requestAttestation(
      attesterUrl,
      await clientAssertion(key, secretInstall.body.client_id, attesterUrl, {
        challenge: randomUUID(),
      }),
    );
    assert.equal(stranger.status, 401);
    assert.equal(stranger.body.error, 'invalid_client');
  });
});
