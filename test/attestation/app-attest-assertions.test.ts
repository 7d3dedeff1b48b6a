// App Attest assertions on token requests (attestation.requireAppAttestAssertions): an iOS
// instance registered with apple-appattest evidence signs each token request's own client
// assertion with its App Attest key (header App-Attest-Assertion); the counter must rise,
// atomically in the store. Driven by openid-client, with the header added by a custom fetch.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { attestationBinding } from 'mobile-oidc-provider/attestation';
import * as oidc from 'openid-client';
import { appAttestAssertion, createAppAttestCa, TEST_APP_ID } from '../helpers/app-attest.js';
import {
  type RunningServer,
  resourceServer,
  startExampleWithTemplate,
} from '../helpers/example.js';
import {
  fetchChallenge,
  instanceConfiguration,
  isOAuthError,
  postRegistration,
} from '../helpers/registration.js';
import { codeForInstance, SignInBrowser } from '../helpers/sign-in.js';
import { attestedTemplate, createDeviceKey } from '../helpers/test-attestation.js';

describe('App Attest assertions on token requests', () => {
  let server: RunningServer;
  let instance: oidc.Configuration;
  let appAttestKey: Parameters<typeof appAttestAssertion>[0];
  /** What the next token request's assertion does: its counter, and what it signs. */
  const next: { counter: number | undefined; clientData?: string } = { counter: 1 };

  before(async () => {
    const ca = await createAppAttestCa();
    server = await startExampleWithTemplate(
      {
        ...attestedTemplate('io.example.ios', 'optional'),
        attestation: { formats: ['apple-appattest'], appleAppAttest: { appId: TEST_APP_ID } },
      },
      { appleRoots: [ca.rootPem], requireAppAttestAssertions: true },
    );
    const device = await createDeviceKey();
    const challenge = await fetchChallenge(server.issuer);
    const binding = await attestationBinding(challenge, device.jwk);
    const evidence = await ca.attest(Buffer.from(binding.clientData));
    appAttestKey = evidence.privateKey;
    const registered = await postRegistration(server.issuer, {
      software_id: 'io.example.ios',
      jwks: { keys: [device.jwk] },
      attestation: {
        format: 'apple-appattest',
        challenge,
        evidence: { attestation: evidence.attestation, keyId: evidence.keyId },
      },
    });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    instance = await instanceConfiguration(
      server.issuer,
      registered.body,
      oidc.PrivateKeyJwt(device.privateKey),
    );
    // The app: sign this request's client assertion with the App Attest key.
    instance[oidc.customFetch] = async (url, options) => {
      const headers = new Headers(options.headers);
      if (next.counter !== undefined) {
        const params = new URLSearchParams(String(options.body));
        const clientData = next.clientData ?? params.get('client_assertion') ?? '';
        headers.set(
          'App-Attest-Assertion',
          await appAttestAssertion(appAttestKey, Buffer.from(clientData), next.counter),
        );
      }
      return fetch(url, { ...options, headers } as RequestInit);
    };
  });
  after(async () => {
    await server.close();
  });

  it('a token request whose assertion signs its client assertion, counter rising, succeeds (code, then refresh)', async () => {
    const { callback, checks } = await codeForInstance(new SignInBrowser(), instance);
    next.counter = 1;
    const tokens = await oidc.authorizationCodeGrant(instance, callback, checks);
    next.counter = 2;
    const refreshed = await oidc.refreshTokenGrant(instance, tokens.refresh_token as string);
    // The instance authenticated with its bound key; its level is in introspection (RFC 7662).
    const introspection = await oidc.tokenIntrospection(
      await resourceServer(server.issuer),
      refreshed.access_token,
    );
    assert.equal(introspection.active, true);
    assert.equal(introspection.cal, 'by-policy');

    // Each refusal below happens at client authentication, before the refresh token is used.
    let refreshToken = refreshed.refresh_token as string;
    next.counter = undefined;
    await assert.rejects(
      oidc.refreshTokenGrant(instance, refreshToken),
      isOAuthError('invalid_client'),
    );
    next.counter = 2;
    await assert.rejects(
      oidc.refreshTokenGrant(instance, refreshToken),
      isOAuthError('invalid_client'),
      'a counter that does not rise is a replay or a cloned key',
    );
    next.counter = 3;
    next.clientData = 'some other request';
    await assert.rejects(
      oidc.refreshTokenGrant(instance, refreshToken),
      isOAuthError('invalid_client'),
    );
    delete next.clientData;
    next.counter = 4;
    refreshToken = (await oidc.refreshTokenGrant(instance, refreshToken)).refresh_token as string;
    assert.ok(refreshToken);
  });
});
