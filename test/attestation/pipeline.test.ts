// Registration with attestation evidence (DESIGN flow 5): a single-use challenge from the
// challenge endpoint, evidence bound to the challenge and to the registered key (RFC 7638
// thumbprint), a verifier per format, the attestation policy and the assurance level in tokens
// (RFC 7662 §2.2). Verified with the "test-ca" format on a generated test PKI.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  type AssuranceResolver,
  AttestationError,
  type AttestationPolicy,
  type AuthServerOptions,
  type ServerEvents,
  type Store,
} from 'mobile-oidc-provider';
import { RedisStore } from 'mobile-oidc-provider/adapters/redis';
import * as oidc from 'openid-client';
import { ClientCountingStore } from '../helpers/client-counter.js';
import { dateNow, stopDate } from '../helpers/clock.js';
import {
  type RunningServer,
  registrationClient,
  resourceServer,
  startExample,
} from '../helpers/example.js';
import { TEST_REDIS_URL } from '../helpers/redis-url.js';
import {
  fetchChallenge,
  instanceConfiguration,
  postRegistration,
} from '../helpers/registration.js';
import { codeForInstance, obtainDcrToken, SignInBrowser } from '../helpers/sign-in.js';
import {
  attestedTemplate,
  createDeviceKey,
  createTestCa,
  evidenceFor,
  TEST_FORMAT,
  type TestCa,
  testCaVerifier,
} from '../helpers/test-attestation.js';

const ATTESTED = 'com.example.attested';
const WITH_USER = 'com.example.attested-with-user';

interface Hooks {
  policy?: AttestationPolicy;
  resolve?: AssuranceResolver;
}

async function startAttested(ca: TestCa, store: Store, hooks: Hooks, challengeTtl = 300) {
  return startExample(
    (o): AuthServerOptions => ({
      ...o,
      store,
      registration: {
        ...o.registration,
        templates: [
          ...(o.registration?.templates ?? []),
          attestedTemplate(ATTESTED, 'optional'),
          attestedTemplate(WITH_USER, 'required'),
        ],
      },
      attestation: {
        verifiers: {
          [TEST_FORMAT]: testCaVerifier(ca.root),
          broken: async () => {
            throw new Error('verifier crashed');
          },
        },
        policy: (input) => hooks.policy?.(input),
        challenge: { ttl: challengeTtl, rateLimit: { points: 1000, duration: 60 } },
      },
      assurance: {
        ...o.assurance,
        resolve: (input) =>
          hooks.resolve?.(input) ?? (input.method === 'attestation' ? 'by-policy' : 'none'),
      },
    }),
  );
}

const challenge = (server: RunningServer) => fetchChallenge(server.issuer);

function describeAttestation(storeName: string, makeStore: () => Store) {
  describe(`attested registration on ${storeName}`, () => {
    let ca: TestCa;
    let store: Store;
    let server: RunningServer;
    const hooks: Hooks = {};
    const events: Array<[keyof ServerEvents, unknown]> = [];
    let clientIds: () => Promise<string[]>;

    before(async () => {
      ca = await createTestCa();
      store = makeStore();
      server = await startAttested(ca, store, hooks);
      for (const name of ['registration.attested', 'registration.rejected'] as const) {
        server.auth.on(name, (payload) => events.push([name, payload]));
      }
      // Every instance client any test created, found through the devices API and events.
      clientIds = async () =>
        events
          .filter(([n]) => n === 'registration.attested')
          .map(([, p]) => (p as { clientId: string }).clientId);
    });
    after(async () => {
      await server.close();
      await store.close();
    });
    beforeEach(() => {
      delete hooks.policy;
      delete hooks.resolve;
    });

    /** A device registers from `softwareId` with fresh evidence; returns the response. */
    async function attestedRegistration(
      options: { softwareId?: string; token?: string; appId?: string; format?: string } = {},
    ) {
      const device = await createDeviceKey();
      const value = await challenge(server);
      const evidence = await evidenceFor(
        ca,
        value,
        device,
        options.appId ? { appId: options.appId } : {},
      );
      const res = await postRegistration(
        server.issuer,
        {
          software_id: options.softwareId ?? ATTESTED,
          jwks: { keys: [device.jwk] },
          attestation: { format: options.format ?? TEST_FORMAT, challenge: value, evidence },
        },
        options.token,
      );
      return { res, device };
    }

    it('discovery advertises the challenge endpoint; a challenge is single-use, short-lived and never cached', async () => {
      const discovered = await oidc.discovery(new URL(server.issuer), 'x', undefined, undefined, {
        execute: [oidc.allowInsecureRequests],
      });
      assert.equal(
        discovered.serverMetadata().attestation_challenge_endpoint,
        `${server.issuer}/attestation/challenge`,
      );
      const res = await fetch(`${server.issuer}/attestation/challenge`, { method: 'POST' });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      const body = (await res.json()) as Record<string, unknown>;
      assert.match(String(body.attestation_challenge), /^[\w-]{43}$/);
      assert.equal(body.expires_in, 300);
      const get = await fetch(`${server.issuer}/attestation/challenge`);
      assert.equal(get.status, 405);
    });

    it('evidence alone registers a private_key_jwt instance with cal=by-policy; its tokens carry it', async () => {
      const { res, device } = await attestedRegistration();
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.cal, 'by-policy');
      assert.equal(res.body.token_endpoint_auth_method, 'private_key_jwt');
      assert.equal(res.body.client_secret, undefined);
      const instance = await instanceConfiguration(
        server.issuer,
        res.body,
        oidc.PrivateKeyJwt(device.privateKey),
      );
      const { callback, checks } = await codeForInstance(
        new SignInBrowser(),
        instance,
        'openid offline_access payments',
      );
      const tokens = await oidc.authorizationCodeGrant(instance, callback, checks);
      assert.ok(
        tokens.scope?.split(' ').includes('payments'),
        'by-policy meets by-provisioned-key',
      );
      const api = await resourceServer(server.issuer);
      assert.equal((await oidc.tokenIntrospection(api, tokens.access_token)).cal, 'by-policy');
      const refreshed = await oidc.refreshTokenGrant(instance, tokens.refresh_token as string);
      assert.equal((await oidc.tokenIntrospection(api, refreshed.access_token)).cal, 'by-policy');
      const device_ = await server.auth.devices.get(res.body.client_id);
      assert.equal(device_?.accountId, 'demouser', 'bound to the first user who signed in');
      assert.deepEqual(device_?.registeredBy, {
        method: 'attestation',
        evidence: {
          format: TEST_FORMAT,
          platform: 'test',
          app_id: 'com.example.attested',
          key_id: device_?.registeredBy.evidence?.key_id,
          verdicts: ['test-ca-trusted'],
        },
      });
    });

    it('one challenge, 20 parallel registrations: exactly one client (atomic consumption)', async () => {
      const device = await createDeviceKey();
      const value = await challenge(server);
      const evidence = await evidenceFor(ca, value, device);
      const body = {
        software_id: ATTESTED,
        jwks: { keys: [device.jwk] },
        attestation: { format: TEST_FORMAT, challenge: value, evidence },
      };
      const before = (await clientIds()).length;
      const results = await Promise.all(
        Array.from({ length: 20 }, () => postRegistration(server.issuer, body)),
      );
      assert.equal(results.filter((r) => r.status === 201).length, 1);
      for (const refused of results.filter((r) => r.status !== 201)) {
        assert.equal(refused.status, 403, JSON.stringify(refused.body));
        assert.equal(refused.body.error, 'invalid_client_attestation');
        assert.match(refused.body.error_description, /already used/);
      }
      assert.equal((await clientIds()).length, before + 1);
    });

    it('an unknown challenge is refused before any verifier runs', async () => {
      const device = await createDeviceKey();
      const made = 'A'.repeat(43);
      const res = await postRegistration(server.issuer, {
        software_id: ATTESTED,
        jwks: { keys: [device.jwk] },
        attestation: {
          format: TEST_FORMAT,
          challenge: made,
          evidence: await evidenceFor(ca, made, device),
        },
      });
      assert.equal(res.status, 403);
      assert.match(res.body.error_description, /unknown or expired/);
    });

    it('key binding: evidence for one key cannot register another (RFC 7638 thumbprint mismatch)', async () => {
      const attested = await createDeviceKey();
      const other = await createDeviceKey();
      const value = await challenge(server);
      // The attested key's certificate, with a binding hash computed for the other key.
      const evidence = await evidenceFor(ca, value, attested, { registers: other.jwk });
      const res = await postRegistration(server.issuer, {
        software_id: ATTESTED,
        jwks: { keys: [other.jwk] },
        attestation: { format: TEST_FORMAT, challenge: value, evidence },
      });
      assert.equal(res.status, 403);
      assert.equal(res.body.error, 'invalid_client_attestation');
      assert.match(res.body.error_description, /not the key registered/);
    });

    it('evidence answering another challenge is refused by the verifier', async () => {
      const device = await createDeviceKey();
      const value = await challenge(server);
      const evidence = await evidenceFor(ca, await challenge(server), device);
      const res = await postRegistration(server.issuer, {
        software_id: ATTESTED,
        jwks: { keys: [device.jwk] },
        attestation: { format: TEST_FORMAT, challenge: value, evidence },
      });
      assert.equal(res.status, 403);
      assert.match(res.body.error_description, /does not answer this challenge/);
    });

    it('evidence from an untrusted CA, an app not allowed, or a format not accepted: 403, no client', async () => {
      const before = (await clientIds()).length;
      const rogue = await createTestCa('Rogue Root');
      const device = await createDeviceKey();
      const value = await challenge(server);
      const untrusted = await postRegistration(server.issuer, {
        software_id: ATTESTED,
        jwks: { keys: [device.jwk] },
        attestation: {
          format: TEST_FORMAT,
          challenge: value,
          evidence: await evidenceFor(rogue, value, device),
        },
      });
      assert.equal(untrusted.status, 403);
      assert.match(untrusted.body.error_description, /trusted root/);
      const otherApp = await attestedRegistration({ appId: 'com.example.clone' });
      assert.equal(otherApp.res.status, 403);
      assert.match(
        otherApp.res.body.error_description,
        /an app 'com\.example\.attested' does not allow/,
      );
      const format = await attestedRegistration({ format: 'broken' });
      assert.equal(format.res.status, 403);
      assert.match(format.res.body.error_description, /does not accept broken evidence/);
      assert.equal((await clientIds()).length, before);
      const reasons = events
        .filter(([n]) => n === 'registration.rejected')
        .map(([, p]) => (p as { reason: string }).reason);
      for (const reason of ['chain_untrusted', 'app_not_allowed', 'format_not_accepted'])
        assert.ok(reasons.includes(reason), reason);
    });

    it("a template that requires a user: evidence alone is 401, with the user's DCR token it registers bound to that user", async () => {
      const alone = await attestedRegistration({ softwareId: WITH_USER });
      assert.equal(alone.res.status, 401);
      assert.equal(alone.res.body.error, 'invalid_token');
      const { tokens } = await obtainDcrToken(
        await registrationClient(server.issuer),
        new SignInBrowser(),
      );
      const withUser = await attestedRegistration({
        softwareId: WITH_USER,
        token: tokens.access_token,
      });
      assert.equal(withUser.res.status, 201);
      const device = await server.auth.devices.get(withUser.res.body.client_id);
      assert.equal(device?.accountId, 'demouser');
      assert.equal(device?.cal, 'by-policy');
    });

    it("a user's DCR token without evidence at an attestation template: 403", async () => {
      const { tokens } = await obtainDcrToken(
        await registrationClient(server.issuer),
        new SignInBrowser(),
      );
      const device = await createDeviceKey();
      const res = await postRegistration(
        server.issuer,
        { software_id: ATTESTED, jwks: { keys: [device.jwk] } },
        tokens.access_token,
      );
      assert.equal(res.status, 403);
      assert.equal(res.body.error, 'access_denied');
    });

    it('the attestation policy may refuse, with its reason in the event', async () => {
      hooks.policy = ({ evidence }) => {
        if (evidence?.platform === 'test')
          throw new AttestationError('platform_closed', 'test devices may not register');
      };
      const { res } = await attestedRegistration();
      assert.equal(res.status, 403);
      assert.equal(res.body.error_description, 'test devices may not register');
      assert.ok(
        events.some(
          ([n, p]) =>
            n === 'registration.rejected' && (p as { reason: string }).reason === 'platform_closed',
        ),
      );
    });

    it('the attestation policy may lower the level (never raise it); the lower level loses payments', async () => {
      hooks.policy = () => ({ cal: 'none' });
      const lowered = await attestedRegistration();
      assert.equal(lowered.res.body.cal, 'none');
      hooks.resolve = () => 'by-provisioned-key';
      hooks.policy = () => ({ cal: 'by-policy' });
      const notRaised = await attestedRegistration();
      assert.equal(
        notRaised.res.body.cal,
        'by-provisioned-key',
        'resolve set it; the policy cannot raise it',
      );
      const instance = await instanceConfiguration(
        server.issuer,
        lowered.res.body,
        oidc.PrivateKeyJwt(lowered.device.privateKey),
      );
      const read = await fetch(lowered.res.body.registration_client_uri, {
        headers: { authorization: `Bearer ${lowered.res.body.registration_access_token}` },
      });
      const scope = String(((await read.json()) as { scope: string }).scope).split(' ');
      assert.equal(
        scope.includes('payments'),
        false,
        'a scope above the level is left out of the client',
      );
      assert.ok(instance);
    });

    it('a verifier that crashes fails closed: a JSON server_error and no client', async () => {
      const server2 = await startExample((o) => ({
        ...o,
        registration: {
          ...o.registration,
          templates: [
            { ...attestedTemplate(ATTESTED, 'optional'), attestation: { formats: ['broken'] } },
          ],
        },
        attestation: {
          verifiers: {
            broken: async () => {
              throw new Error('verifier crashed');
            },
          },
        },
      }));
      try {
        const device = await createDeviceKey();
        const attestation_challenge = await fetchChallenge(server2.issuer);
        const reg = await postRegistration(server2.issuer, {
          software_id: ATTESTED,
          jwks: { keys: [device.jwk] },
          attestation: { format: 'broken', challenge: attestation_challenge, evidence: 'x' },
        });
        assert.equal(reg.status, 500);
        assert.equal(reg.body.error, 'server_error');
        assert.doesNotMatch(JSON.stringify(reg.body), /verifier crashed|at /);
      } finally {
        await server2.close();
      }
    });

    it('events carry the evidence summary, never the evidence', async () => {
      const { res } = await attestedRegistration();
      const attested = events.find(
        ([n, p]) =>
          n === 'registration.attested' &&
          (p as { clientId: string }).clientId === res.body.client_id,
      );
      const payload = attested?.[1] as { cal: string; proof: { evidence: { app_id: string } } };
      assert.equal(payload.cal, 'by-policy');
      assert.equal(payload.proof.evidence.app_id, 'com.example.attested');
      assert.doesNotMatch(JSON.stringify(events), /x5c|MII/);
    });
  });
}

describeAttestation('the in-memory store', () => new ClientCountingStore());
describeAttestation(
  'Redis',
  () => new RedisStore({ client: TEST_REDIS_URL, keyPrefix: `attest-${process.pid}:` }),
);

describe('challenge lifetime and rate limit', () => {
  it('an expired challenge is refused (default TTL 300 s; 1 s here)', async (t) => {
    const ca = await createTestCa();
    const store = new ClientCountingStore({ now: dateNow });
    const server = await startAttested(ca, store, {}, 1);
    try {
      const device = await createDeviceKey();
      const value = await challenge(server);
      const evidence = await evidenceFor(ca, value, device);
      stopDate(t)(1_200);
      const res = await postRegistration(server.issuer, {
        software_id: ATTESTED,
        jwks: { keys: [device.jwk] },
        attestation: { format: TEST_FORMAT, challenge: value, evidence },
      });
      assert.equal(res.status, 403);
      assert.match(res.body.error_description, /unknown or expired/);
      assert.equal(store.clientWrites, 0);
    } finally {
      await server.close();
      await store.close();
    }
  });

  it('challenges are rate-limited per client IP: 429 with Retry-After', async () => {
    const server = await startExample((o) => ({
      ...o,
      attestation: {
        verifiers: {
          x: async () => {
            throw new AttestationError('no', 'no');
          },
        },
        challenge: { rateLimit: { points: 3, duration: 60 } },
      },
    }));
    try {
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 4; i += 1) {
        const res = await fetch(`${server.issuer}/attestation/challenge`, { method: 'POST' });
        statuses.push(res.status);
        if (res.status === 429) {
          retryAfter = res.headers.get('retry-after');
          assert.equal(((await res.json()) as { error: string }).error, 'temporarily_unavailable');
        }
      }
      assert.deepEqual(statuses, [200, 200, 200, 429]);
      assert.ok(Number(retryAfter) > 0);
    } finally {
      await server.close();
    }
  });
});

describe('challenges across two servers sharing one Redis', () => {
  it('a challenge issued by A is taken once across 20 parallel registrations at A and B', async () => {
    const ca = await createTestCa();
    const keyPrefix = `attest-shared-${process.pid}:`;
    const stores = [
      new RedisStore({ client: TEST_REDIS_URL, keyPrefix }),
      new RedisStore({ client: TEST_REDIS_URL, keyPrefix }),
    ];
    const [a, b] = await Promise.all(stores.map((store) => startAttested(ca, store, {})));
    try {
      assert.ok(a && b);
      const device = await createDeviceKey();
      const value = await challenge(a);
      const body = {
        software_id: ATTESTED,
        jwks: { keys: [device.jwk] },
        attestation: {
          format: TEST_FORMAT,
          challenge: value,
          evidence: await evidenceFor(ca, value, device),
        },
      };
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => postRegistration((i % 2 ? a : b).issuer, body)),
      );
      assert.equal(results.filter((r) => r.status === 201).length, 1);
      assert.equal(results.filter((r) => r.status === 403).length, 19);
    } finally {
      await a?.close();
      await b?.close();
      for (const store of stores) await store.close();
    }
  });
});
