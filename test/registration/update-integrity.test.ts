// RFC 7592 §2.2 updates cannot undo what registration established: the assurance level (`cal`)
// never rises through an update, an attested install keeps the key its evidence is bound to
// (RFC 7638 thumbprint) unless the update brings fresh evidence for the new key, an install not
// registered from a template cannot pose as one (RFC 7591 §2 software_id, software_version), and
// a client that sends back exactly what the RFC 7592 §2.1 read returned still updates. Each
// attack is performed over HTTP, with a control that must succeed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { AuthServerOptions, Store } from 'mobile-oidc-provider';
import * as oidc from 'openid-client';
import { ClientCountingStore } from '../helpers/client-counter.js';
import {
  APP_REDIRECT_URI,
  type RunningServer,
  registrationClient,
  startExample,
} from '../helpers/example.js';
import { APP_SOFTWARE_ID } from '../helpers/fixture.js';
import { type JsonBody, json } from '../helpers/json.js';
import {
  fetchChallenge,
  instanceConfiguration,
  isOAuthError,
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

type DeviceKey = Awaited<ReturnType<typeof createDeviceKey>>;

/** The example server with an attested template, as the attestation pipeline tests run it. */
function startAttested(ca: TestCa, store: Store) {
  return startExample(
    (o): AuthServerOptions => ({
      ...o,
      store,
      registration: {
        ...o.registration,
        templates: [...(o.registration?.templates ?? []), attestedTemplate(ATTESTED, 'optional')],
      },
      attestation: { verifiers: { [TEST_FORMAT]: testCaVerifier(ca.root) } },
      assurance: {
        ...o.assurance,
        resolve: (input) => (input.method === 'attestation' ? 'by-policy' : 'none'),
      },
    }),
  );
}

/**
 * An instance's RFC 7592 management view: its configuration endpoint and its current
 * registration access token, which rotates on every successful update.
 */
class Managed {
  constructor(
    readonly clientId: string,
    readonly uri: string,
    public token: string,
  ) {}

  static of(registered: JsonBody) {
    return new Managed(
      registered.client_id,
      registered.registration_client_uri,
      registered.registration_access_token,
    );
  }

  /** RFC 7592 §2.1 read. */
  async read(): Promise<JsonBody> {
    const res = await fetch(this.uri, { headers: { authorization: `Bearer ${this.token}` } });
    assert.equal(res.status, 200);
    return json(res);
  }

  /** RFC 7592 §2.2 update; keeps the rotated token of a successful one. */
  async update(body: Record<string, unknown>): Promise<{ status: number; body: JsonBody }> {
    const res = await fetch(this.uri, {
      method: 'PUT',
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = { status: res.status, body: await json(res) };
    if (res.status === 200) {
      assert.ok(answer.body.registration_access_token);
      assert.notEqual(answer.body.registration_access_token, this.token, 'the token rotates');
      this.token = answer.body.registration_access_token;
    }
    return answer;
  }

  /** What an RFC 7592 client sends back: the read, minus the fields §2.2 forbids. */
  async echo(): Promise<Record<string, unknown>> {
    const {
      registration_access_token: _token,
      registration_client_uri: _uri,
      client_secret_expires_at: _expires,
      client_id_issued_at: _issued,
      ...current
    } = await this.read();
    return current;
  }
}

const thumbprint = (jwk: JWK) => calculateJwkThumbprint(jwk, 'sha256');

/** The thumbprints of the keys a read or response shows. */
async function keysOf(body: JsonBody): Promise<string[]> {
  return Promise.all(((body.jwks?.keys ?? []) as JWK[]).map(thumbprint));
}

function assertRefused(
  res: { status: number; body: JsonBody },
  status: number,
  error: string,
  description?: RegExp,
) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.error, error);
  if (description) assert.match(res.body.error_description, description);
}

describe('RFC 7592 §2.2 update integrity', () => {
  let ca: TestCa;
  let store: ClientCountingStore;
  let server: RunningServer;

  before(async () => {
    ca = await createTestCa();
    store = new ClientCountingStore();
    server = await startAttested(ca, store);
  });
  after(async () => {
    await server.close();
    await store.close();
  });

  /** A device registers from the attested template with evidence alone (cal by-policy). */
  async function attestedInstall(kid?: string) {
    const device = await createDeviceKey();
    const challenge = await fetchChallenge(server.issuer);
    const res = await postRegistration(server.issuer, {
      software_id: ATTESTED,
      software_version: '1.0.0',
      jwks: { keys: [kid ? { ...device.jwk, kid } : device.jwk] },
      attestation: {
        format: TEST_FORMAT,
        challenge,
        evidence: await evidenceFor(ca, challenge, device),
      },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.cal, 'by-policy');
    return { registered: res.body, device, challenge, managed: Managed.of(res.body) };
  }

  /** openid-client's view of the instance, authenticating with `device`'s key (RFC 7523). */
  const withKey = (registered: JsonBody, device: DeviceKey) =>
    instanceConfiguration(server.issuer, registered, oidc.PrivateKeyJwt(device.privateKey));

  /** The user signs in through the instance, which redeems the code with `device`'s key. */
  async function signedIn(registered: JsonBody, device: DeviceKey) {
    const instance = await withKey(registered, device);
    const { callback, checks } = await codeForInstance(new SignInBrowser(), instance);
    return oidc.authorizationCodeGrant(instance, callback, checks);
  }

  async function dcrToken(): Promise<string> {
    return (await obtainDcrToken(await registrationClient(server.issuer), new SignInBrowser()))
      .tokens.access_token;
  }

  /** An install registered with a user's DCR token and no template (cal none). */
  async function plainInstall(fields: Record<string, unknown> = {}) {
    const res = await postRegistration(
      server.issuer,
      {
        redirect_uris: [APP_REDIRECT_URI],
        client_name: 'Plain phone',
        scope: 'openid offline_access',
        ...fields,
      },
      await dcrToken(),
    );
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.cal, 'none');
    assert.equal(res.body.software_id, undefined);
    return { registered: res.body, managed: Managed.of(res.body) };
  }

  /** An install of the example app's template (io.example.app), with a user's DCR token. */
  async function templateInstall() {
    const res = await postRegistration(
      server.issuer,
      { software_id: APP_SOFTWARE_ID, software_version: '1.2.0' },
      await dcrToken(),
    );
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.cal, 'none');
    return { registered: res.body, managed: Managed.of(res.body) };
  }

  describe('an attested install keeps the key its evidence is bound to', () => {
    it('RFC 7592 §2.2 (a): a different key in jwks with only the registration access token is refused (400); the new key cannot authenticate, the original still can', async () => {
      const { registered, device, managed } = await attestedInstall('device-key');
      const original = await thumbprint(device.jwk);
      // Control: the attested key signs the user in and redeems the code.
      const tokens = await signedIn(registered, device);
      assert.ok(tokens.refresh_token);

      const attacker = await createDeviceKey();
      const writes = store.clientWrites;
      const rebound =
        /^jwks and token_endpoint_auth_method cannot change: this install's assurance level \(by-policy\) rests on attestation evidence bound to its key; send fresh evidence bound to the new key in 'attestation', with a new challenge$/;
      const attacks: Array<[string, unknown, RegExp]> = [
        ['another key', { keys: [attacker.jwk] }, rebound],
        [
          'another key under the same kid',
          { keys: [{ ...attacker.jwk, kid: 'device-key' }] },
          rebound,
        ],
        ['another key beside the attested one', { keys: [device.jwk, attacker.jwk] }, rebound],
        // Refused earlier, by the instance rules: a private_key_jwt instance needs its key.
        ['no key at all', undefined, /^jwks must hold the public key/],
      ];
      for (const [label, jwks, reason] of attacks) {
        const res = await managed.update({
          client_id: registered.client_id,
          software_id: ATTESTED,
          software_version: '1.0.0',
          ...(jwks === undefined ? {} : { jwks }),
        });
        assert.equal(res.status, 400, `${label}: ${JSON.stringify(res.body)}`);
        assertRefused(res, 400, 'invalid_client_metadata', reason);
      }
      assert.equal(store.clientWrites, writes, 'no refused update wrote the client');

      const read = await managed.read();
      assert.deepEqual(await keysOf(read), [original]);
      assert.equal(read.cal, 'by-policy');
      assert.equal(read.token_endpoint_auth_method, 'private_key_jwt');
      assert.equal((await server.auth.devices.get(registered.client_id))?.cal, 'by-policy');

      // The attack key cannot authenticate: neither a refresh nor a code exchange (RFC 7523 §3).
      const forged = await withKey(registered, attacker);
      await assert.rejects(
        oidc.refreshTokenGrant(forged, tokens.refresh_token as string),
        isOAuthError('invalid_client'),
      );
      const { callback, checks } = await codeForInstance(new SignInBrowser(), forged);
      await assert.rejects(
        oidc.authorizationCodeGrant(forged, callback, checks),
        isOAuthError('invalid_client'),
      );
      // Control: the same code, redeemed with the attested key, and the refresh token still work.
      const genuine = await withKey(registered, device);
      const redeemed = await oidc.authorizationCodeGrant(genuine, callback, checks);
      assert.ok(redeemed.access_token);
      const refreshed = await oidc.refreshTokenGrant(genuine, tokens.refresh_token as string);
      assert.ok(refreshed.access_token);
    });

    it('RFC 7592 §2.2 (b): switching token_endpoint_auth_method to client_secret_basic is refused (400), nothing changes', async () => {
      const { registered, device, managed } = await attestedInstall();
      const writes = store.clientWrites;
      for (const body of [
        { token_endpoint_auth_method: 'client_secret_basic' },
        { token_endpoint_auth_method: 'client_secret_basic', jwks: { keys: [device.jwk] } },
        { token_endpoint_auth_method: 'none', jwks: { keys: [device.jwk] } },
      ]) {
        const res = await managed.update({
          client_id: registered.client_id,
          software_id: ATTESTED,
          ...body,
        });
        assertRefused(res, 400, 'invalid_client_metadata', /token_endpoint_auth_method/);
      }
      assert.equal(store.clientWrites, writes);
      const read = await managed.read();
      assert.equal(read.token_endpoint_auth_method, 'private_key_jwt');
      assert.equal(read.client_secret, undefined, 'no secret was issued');
      assert.equal(read.cal, 'by-policy');
      // Control: the key still authenticates.
      assert.ok((await signedIn(registered, device)).access_token);
    });

    it('RFC 7592 §2.2 (c) control: the §2.1 read sent back with a new software_version, then the same key under another kid, updates (200) and keeps cal by-policy', async () => {
      const { registered, device, managed } = await attestedInstall();
      const tokens = await signedIn(registered, device);

      const current = await managed.echo();
      const versioned = await managed.update({ ...current, software_version: '1.1.0' });
      assert.equal(versioned.status, 200, JSON.stringify(versioned.body));
      assert.equal(versioned.body.software_version, '1.1.0');
      assert.equal(versioned.body.cal, 'by-policy');

      const renamed = await managed.update({
        client_id: registered.client_id,
        software_id: ATTESTED,
        software_version: '1.1.0',
        jwks: { keys: [{ ...device.jwk, kid: 'renamed-kid' }] },
      });
      assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
      assert.equal(renamed.body.cal, 'by-policy');
      assert.equal(renamed.body.jwks.keys[0].kid, 'renamed-kid');
      assert.deepEqual(await keysOf(renamed.body), [await thumbprint(device.jwk)]);

      const read = await managed.read();
      assert.equal(read.cal, 'by-policy');
      assert.equal(read.software_version, '1.1.0');
      const info = await server.auth.devices.get(registered.client_id);
      assert.equal(info?.cal, 'by-policy');
      assert.equal(info?.registeredBy.method, 'attestation');
      // The key still authenticates.
      const refreshed = await oidc.refreshTokenGrant(
        await withKey(registered, device),
        tokens.refresh_token as string,
      );
      assert.ok(refreshed.access_token);
    });

    it('RFC 7592 §2.2 (d): a new key with fresh evidence bound to it (new challenge) updates (200); evidence for the old key or a used challenge is refused (403)', async () => {
      const {
        registered,
        device,
        managed,
        challenge: registrationChallenge,
      } = await attestedInstall();
      const tokens = await signedIn(registered, device);
      const before = await server.auth.devices.get(registered.client_id);
      const next = await createDeviceKey();
      const rekey = (attestation: Record<string, unknown>) =>
        managed.update({
          client_id: registered.client_id,
          software_id: ATTESTED,
          software_version: '1.0.0',
          jwks: { keys: [next.jwk] },
          attestation,
        });
      const writes = store.clientWrites;

      // Evidence for the old key, bound to its own thumbprint: it does not answer for the new key.
      const first = await fetchChallenge(server.issuer);
      assertRefused(
        await rekey({
          format: TEST_FORMAT,
          challenge: first,
          evidence: await evidenceFor(ca, first, device),
        }),
        403,
        'invalid_client_attestation',
        /does not answer this challenge/,
      );
      // The old key's certificate with a binding computed for the new key: the attested key is
      // not the one registered.
      const second = await fetchChallenge(server.issuer);
      assertRefused(
        await rekey({
          format: TEST_FORMAT,
          challenge: second,
          evidence: await evidenceFor(ca, second, device, { registers: next.jwk }),
        }),
        403,
        'invalid_client_attestation',
        /not the key registered in jwks/,
      );
      // Good evidence for the new key, on challenges already used (the registration's, and one a
      // refused update consumed).
      for (const used of [registrationChallenge, first]) {
        assertRefused(
          await rekey({
            format: TEST_FORMAT,
            challenge: used,
            evidence: await evidenceFor(ca, used, next),
          }),
          403,
          'invalid_client_attestation',
          /already used/,
        );
      }
      assert.equal(store.clientWrites, writes, 'no refused update wrote the client');
      const unchanged = await managed.read();
      assert.deepEqual(await keysOf(unchanged), [await thumbprint(device.jwk)]);
      assert.equal(unchanged.cal, 'by-policy');
      assert.deepEqual(await server.auth.devices.get(registered.client_id), before);

      // Fresh evidence for the new key on a new challenge: the update succeeds.
      const fresh = await fetchChallenge(server.issuer);
      const res = await rekey({
        format: TEST_FORMAT,
        challenge: fresh,
        evidence: await evidenceFor(ca, fresh, next),
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.cal, 'by-policy');
      assert.equal(res.body.attestation, undefined, 'the evidence is not stored as metadata');
      assert.deepEqual(await keysOf(res.body), [await thumbprint(next.jwk)]);
      const after = await server.auth.devices.get(registered.client_id);
      assert.equal(after?.cal, 'by-policy');
      assert.equal(after?.registeredBy.method, 'attestation');
      assert.notEqual(
        after?.registeredBy.evidence?.key_id,
        before?.registeredBy.evidence?.key_id,
        'the record names the new evidence',
      );
      assert.equal(after?.accountId, 'demouser', 'still bound to its user');

      // The new key authenticates; the old one no longer does.
      const old = await withKey(registered, device);
      await assert.rejects(
        oidc.refreshTokenGrant(old, tokens.refresh_token as string),
        isOAuthError('invalid_client'),
      );
      const refreshed = await oidc.refreshTokenGrant(
        await withKey(registered, next),
        tokens.refresh_token as string,
      );
      assert.ok(refreshed.access_token);
      assert.ok((await signedIn(registered, next)).access_token);

      // The challenge that just re-keyed it cannot re-key it again.
      const third = await createDeviceKey();
      const replay = await managed.update({
        client_id: registered.client_id,
        software_id: ATTESTED,
        jwks: { keys: [third.jwk] },
        attestation: {
          format: TEST_FORMAT,
          challenge: fresh,
          evidence: await evidenceFor(ca, fresh, third),
        },
      });
      assertRefused(replay, 403, 'invalid_client_attestation', /already used/);
      assert.deepEqual(await keysOf(await managed.read()), [await thumbprint(next.jwk)]);
    });
  });

  describe('the assurance level never rises through an update', () => {
    it('RFC 7592 §2.2 (e): a cal=none install sending cal "by-policy" stays at none', async () => {
      for (const { registered, managed } of [await plainInstall(), await templateInstall()]) {
        const current = await managed.echo();
        assert.equal(current.cal, 'none');
        const res = await managed.update({ ...current, cal: 'by-policy' });
        assert.ok([200, 400].includes(res.status), JSON.stringify(res.body));
        if (res.status === 200) assert.equal(res.body.cal, 'none');
        const alone = await managed.update({
          client_id: registered.client_id,
          ...(current.software_id ? { software_id: current.software_id } : {}),
          ...(current.software_version ? { software_version: current.software_version } : {}),
          ...(current.software_id ? {} : { redirect_uris: current.redirect_uris }),
          cal: 'by-policy',
        });
        assert.ok([200, 400].includes(alone.status), JSON.stringify(alone.body));
        if (alone.status === 200) assert.equal(alone.body.cal, 'none');
        assert.equal((await managed.read()).cal, 'none');
        assert.equal((await server.auth.devices.get(registered.client_id))?.cal, 'none');
      }
    });

    it('RFC 7592 §2.2 (e): evidence sent by an install whose app accepts none is refused (403); cal stays none', async () => {
      for (const [{ registered, managed }, app] of [
        [await plainInstall(), 'an app without a template'],
        [await templateInstall(), `'${APP_SOFTWARE_ID}'`],
      ] as const) {
        const device = await createDeviceKey();
        const challenge = await fetchChallenge(server.issuer);
        const res = await managed.update({
          ...(await managed.echo()),
          attestation: {
            format: TEST_FORMAT,
            challenge,
            evidence: await evidenceFor(ca, challenge, device),
          },
        });
        assertRefused(
          res,
          403,
          'invalid_client_attestation',
          new RegExp(`^${app} does not accept attestation evidence$`),
        );
        assert.equal((await managed.read()).cal, 'none');
        assert.equal((await server.auth.devices.get(registered.client_id))?.cal, 'none');
      }
    });
  });

  describe('an install not registered from a template cannot pose as one', () => {
    it("RFC 7592 §2.2 (f): setting software_id 'io.example.app' or software_version is refused (400); echoing the unchanged body updates (200)", async () => {
      const { registered, managed } = await plainInstall();
      const current = await managed.echo();
      const writes = store.clientWrites;
      for (const [field, value] of [
        ['software_id', APP_SOFTWARE_ID],
        ['software_version', '0.0.1'],
      ] as const) {
        assertRefused(
          await managed.update({ ...current, [field]: value }),
          400,
          'invalid_client_metadata',
          new RegExp(`^${field} cannot be set by an update`),
        );
      }
      assertRefused(
        await managed.update({
          ...current,
          software_id: APP_SOFTWARE_ID,
          software_version: '1.2.0',
        }),
        400,
        'invalid_client_metadata',
      );
      assert.equal(store.clientWrites, writes);
      const info = await server.auth.devices.get(registered.client_id);
      assert.equal(info?.softwareId, undefined);
      assert.equal(info?.softwareVersion, undefined);
      const read = await managed.read();
      assert.equal(read.software_id, undefined);
      assert.equal(read.software_version, undefined);

      // Control: the unchanged body goes through.
      const echoed = await managed.update(current);
      assert.equal(echoed.status, 200, JSON.stringify(echoed.body));
      assert.equal(echoed.body.software_id, undefined);
      assert.equal(echoed.body.client_name, 'Plain phone');
    });

    it('RFC 7592 §2.2 (f): a software_version given at registration may be echoed, not changed', async () => {
      const { managed } = await plainInstall({ software_version: '3.0.0' });
      const current = await managed.echo();
      assert.equal(current.software_version, '3.0.0');
      assertRefused(
        await managed.update({ ...current, software_version: '3.1.0' }),
        400,
        'invalid_client_metadata',
        /^software_version cannot be set by an update/,
      );
      const echoed = await managed.update({ ...current, client_name: 'Renamed plain phone' });
      assert.equal(echoed.status, 200, JSON.stringify(echoed.body));
      assert.equal(echoed.body.software_version, '3.0.0');
    });
  });

  describe('RFC 7592 §2.2 round trip: the §2.1 read sent back with one field changed', () => {
    it('RFC 7592 §2.2 (g): an install without a template: 200 with the change (server defaults echoed); subject_type "pairwise" is refused (400)', async () => {
      const { managed } = await plainInstall();
      const current = await managed.echo();
      assert.equal(current.subject_type, 'public', 'the read carries the server default');
      assert.equal(current.require_pushed_authorization_requests, false);
      const res = await managed.update({ ...current, client_name: 'Renamed phone' });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.client_name, 'Renamed phone');
      assert.equal(res.body.subject_type, 'public');
      assert.equal(res.body.cal, 'none');

      const again = await managed.echo();
      assert.equal(again.client_name, 'Renamed phone');
      assertRefused(
        await managed.update({ ...again, subject_type: 'pairwise' }),
        400,
        'invalid_client_metadata',
        /subject_type/,
      );
      assertRefused(
        await managed.update({ ...again, require_pushed_authorization_requests: true }),
        400,
        'invalid_client_metadata',
        /require_pushed_authorization_requests/,
      );
      assert.equal((await managed.read()).subject_type, 'public');
    });

    it(`RFC 7592 §2.2 (g): an install of the '${APP_SOFTWARE_ID}' template: 200 with the change; subject_type "pairwise" is refused (400)`, async () => {
      const { managed } = await templateInstall();
      const current = await managed.echo();
      assert.equal(current.software_id, APP_SOFTWARE_ID);
      const res = await managed.update({ ...current, client_name: "Alice's phone" });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.client_name, "Alice's phone");
      assert.equal(res.body.software_version, '1.2.0');
      assert.equal(res.body.cal, 'none');

      const again = await managed.echo();
      assertRefused(
        await managed.update({ ...again, subject_type: 'pairwise' }),
        400,
        'invalid_client_metadata',
        /subject_type/,
      );
      assert.equal((await managed.read()).client_name, "Alice's phone");
    });
  });
});
