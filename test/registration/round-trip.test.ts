// RFC 7592 §2.2: a client may send back what the §2.1 read returned, and the update leaves its
// metadata as it was. Checked with every feature on at once (native federated sign-in, platform
// attestation, attestation-based client authentication, passkeys, mTLS, DPoP), for each kind of
// install: one registered without a template, one of a template, an attested one and a fallback
// one. The attack: an update adding a grant the install may not have is still refused.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MemoryStore, type Template } from 'mobile-oidc-provider';
import * as oidc from 'openid-client';
import {
  APP_REDIRECT_URI,
  insecure,
  type RunningServer,
  registrationClient,
  startExample,
} from '../helpers/example.js';
import {
  APP_SOFTWARE_ID,
  FALLBACK_CLIENT_ID,
  FALLBACK_CLIENT_SECRET,
  FALLBACK_SOFTWARE_ID,
} from '../helpers/fixture.js';
import { type JsonBody, json } from '../helpers/json.js';
import { fetchChallenge, postRegistration } from '../helpers/registration.js';
import { obtainDcrToken, SignInBrowser } from '../helpers/sign-in.js';
import {
  attestedTemplate,
  createDeviceKey,
  createTestCa,
  evidenceFor,
  TEST_FORMAT,
  type TestCa,
  testCaVerifier,
} from '../helpers/test-attestation.js';
import { startUpstreamIdp, type UpstreamIdp } from '../helpers/upstream-idp.js';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';
const GOOGLE_CLIENT_ID = 'android.apps.googleusercontent.example';
const ATTESTED = 'com.example.attested';
const DPOP_APP = 'com.example.dpop';

/** The read as an RFC 7592 client sends it back: without the fields §2.2 forbids. */
function echoOf(read: JsonBody): Record<string, unknown> {
  const {
    registration_access_token: _token,
    registration_client_uri: _uri,
    client_secret_expires_at: _expires,
    client_id_issued_at: _issued,
    ...metadata
  } = read;
  return metadata;
}

/** A read or response without the registration access token, which rotates on every update. */
function metadataOf(body: JsonBody): Record<string, unknown> {
  const { registration_access_token: _token, ...metadata } = body;
  return metadata;
}

/**
 * A registration response as the read shows it: like the RFC 7591 §3.2.1 response, an update's
 * shows the registered `scope`, the read the scopes the install may use at its level (the
 * fixture's `payments` needs `by-provisioned-key`).
 */
function effective(body: JsonBody, cal: string): Record<string, unknown> {
  const metadata = metadataOf(body);
  if (cal !== 'none') return metadata;
  const scope = String(metadata.scope).split(' ');
  return { ...metadata, scope: scope.filter((s) => s !== 'payments').join(' ') };
}

/** One install's RFC 7592 management view: its URI and current registration access token. */
class Managed {
  constructor(
    readonly registered: JsonBody,
    public token: string = registered.registration_access_token,
  ) {}

  get clientId(): string {
    return this.registered.client_id;
  }

  /** RFC 7592 §2.1 read. */
  async read(): Promise<JsonBody> {
    const res = await fetch(this.registered.registration_client_uri, {
      headers: { authorization: `Bearer ${this.token}` },
    });
    assert.equal(res.status, 200);
    return json(res);
  }

  /** RFC 7592 §2.2 update; keeps the rotated token of a successful one. */
  async update(body: Record<string, unknown>): Promise<{ status: number; body: JsonBody }> {
    const res = await fetch(this.registered.registration_client_uri, {
      method: 'PUT',
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = { status: res.status, body: await json(res) };
    if (res.status === 200) this.token = answer.body.registration_access_token;
    return answer;
  }
}

describe('RFC 7592 read → update round trip with every feature on', () => {
  let ca: TestCa;
  let google: UpstreamIdp;
  let store: MemoryStore;
  let server: RunningServer;

  before(async () => {
    ca = await createTestCa();
    google = await startUpstreamIdp({ quirks: 'google' });
    store = new MemoryStore();
    const attested: Template = {
      ...attestedTemplate(ATTESTED, 'optional'),
      attestClientAuth: true,
    };
    const dpop: Template = {
      software_id: DPOP_APP,
      client: {
        redirect_uris: [APP_REDIRECT_URI],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'openid offline_access',
        dpop_bound_access_tokens: true,
      },
      instanceFields: ['client_name'],
    };
    server = await startExample((o) => ({
      ...o,
      store,
      accounts: {
        ...o.accounts,
        federated: async (identity) => (identity.subject === 'g-demo' ? 'demouser' : undefined),
      },
      federation: {
        providers: [
          {
            name: 'google',
            issuer: google.issuer,
            quirks: 'google',
            audiences: [GOOGLE_CLIENT_ID],
          },
        ],
      },
      registration: {
        ...o.registration,
        templates: [...(o.registration?.templates ?? []), attested, dpop],
      },
      attestation: { verifiers: { [TEST_FORMAT]: testCaVerifier(ca.root) } },
      passkeys: { enabled: true },
      mtls: {},
    }));
  });
  after(async () => {
    await server.close();
    await google.close();
    await store.close();
  });

  async function dcrToken(): Promise<string> {
    return (await obtainDcrToken(await registrationClient(server.issuer), new SignInBrowser()))
      .tokens.access_token;
  }

  async function register(body: Record<string, unknown>, token?: string): Promise<Managed> {
    const res = await postRegistration(server.issuer, body, token);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return new Managed(res.body);
  }

  /** Each kind of install the server registers, by name. */
  async function installs(): Promise<Array<[string, Managed]>> {
    const device = await createDeviceKey();
    const challenge = await fetchChallenge(server.issuer);
    const fallbackClient = await oidc.discovery(
      new URL(server.issuer),
      FALLBACK_CLIENT_ID,
      undefined,
      oidc.ClientSecretBasic(FALLBACK_CLIENT_SECRET),
      insecure,
    );
    const fallbackToken = await oidc.clientCredentialsGrant(fallbackClient, { scope: 'dcr' });
    const keyed = await createDeviceKey();
    return [
      [
        'no template, client secret',
        await register(
          {
            redirect_uris: [APP_REDIRECT_URI],
            client_name: 'Plain phone',
            scope: 'openid offline_access',
          },
          await dcrToken(),
        ),
      ],
      [
        'no template, private_key_jwt and DPoP-bound',
        await register(
          {
            redirect_uris: [APP_REDIRECT_URI],
            token_endpoint_auth_method: 'private_key_jwt',
            jwks: { keys: [keyed.jwk] },
            dpop_bound_access_tokens: true,
            software_version: '2.0.0',
          },
          await dcrToken(),
        ),
      ],
      [
        `template '${APP_SOFTWARE_ID}'`,
        await register(
          { software_id: APP_SOFTWARE_ID, software_version: '1.2.0' },
          await dcrToken(),
        ),
      ],
      [
        `template '${DPOP_APP}' (DPoP-bound)`,
        await register({ software_id: DPOP_APP, client_name: 'DPoP phone' }, await dcrToken()),
      ],
      [
        `attested template '${ATTESTED}' (attest_jwt_client_auth)`,
        await register({
          software_id: ATTESTED,
          software_version: '1.0.0',
          jwks: { keys: [device.jwk] },
          token_endpoint_auth_method: 'attest_jwt_client_auth',
          attestation: {
            format: TEST_FORMAT,
            challenge,
            evidence: await evidenceFor(ca, challenge, device),
          },
        }),
      ],
      [
        `fallback template '${FALLBACK_SOFTWARE_ID}'`,
        await register({ software_id: FALLBACK_SOFTWARE_ID }, fallbackToken.access_token),
      ],
    ];
  }

  it("RFC 7592 §2.2: every kind of install sends back its §2.1 read (then the update's and the registration's response) and gets 200 with the same metadata; the stored record is unchanged", async () => {
    for (const [kind, managed] of await installs()) {
      const read = await managed.read();
      // The exchange is among its grants while native sign-in is on (added as it is loaded).
      assert.ok(read.grant_types.includes(TOKEN_EXCHANGE), `${kind}: ${read.grant_types}`);
      const stored = await store.adapter('Client').find(managed.clientId);
      const res = await managed.update(echoOf(read));
      assert.equal(res.status, 200, `${kind}: ${JSON.stringify(res.body)}`);
      assert.deepEqual(
        effective(res.body, read.cal),
        metadataOf(read),
        `${kind}: the update's response`,
      );
      assert.deepEqual(metadataOf(await managed.read()), metadataOf(read), `${kind}: a new read`);
      assert.deepEqual(
        await store.adapter('Client').find(managed.clientId),
        stored,
        `${kind}: the stored record`,
      );
      // Twice: what the update answered goes back as well.
      const again = await managed.update(echoOf(res.body));
      assert.equal(again.status, 200, `${kind}: ${JSON.stringify(again.body)}`);
      assert.deepEqual(effective(again.body, read.cal), metadataOf(read), kind);
      assert.deepEqual(await store.adapter('Client').find(managed.clientId), stored, kind);
      // And what the registration answered (RFC 7591 §3.2.1), as a client that kept it sends.
      const registered = await managed.update(echoOf(managed.registered));
      assert.equal(registered.status, 200, `${kind}: ${JSON.stringify(registered.body)}`);
      assert.deepEqual(metadataOf(await managed.read()), metadataOf(read), kind);
      assert.deepEqual(await store.adapter('Client').find(managed.clientId), stored, kind);
    }
  });

  it('RFC 8693: an install that went through the round trip still exchanges a Google id_token for its tokens', async () => {
    const [[, managed]] = (await installs()) as [[string, Managed]];
    const res = await managed.update(echoOf(await managed.read()));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const nonce = await json(
      await fetch(new URL('/federation/nonce', server.issuer), { method: 'POST' }),
    );
    const idToken = await google.mintIdToken({
      sub: 'g-demo',
      aud: GOOGLE_CLIENT_ID,
      nonce: nonce.nonce,
    });
    const instance = await oidc.discovery(
      new URL(server.issuer),
      managed.clientId,
      undefined,
      oidc.ClientSecretBasic(managed.registered.client_secret),
      insecure,
    );
    const tokens = await oidc.genericGrantRequest(instance, TOKEN_EXCHANGE, {
      subject_token: idToken,
      subject_token_type: ID_TOKEN_TYPE,
      scope: 'openid',
    });
    assert.ok(tokens.access_token);
  });

  it('attack: an update adding a grant the install may not have is refused (400), nothing stored; the plain round trip is the control', async () => {
    for (const [kind, managed] of await installs()) {
      const read = await managed.read();
      const stored = await store.adapter('Client').find(managed.clientId);
      for (const grant of ['client_credentials', 'implicit', 'urn:openid:params:grant-type:ciba']) {
        const res = await managed.update({
          ...echoOf(read),
          grant_types: [...read.grant_types, grant],
        });
        assert.equal(res.status, 400, `${kind}, ${grant}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error, 'invalid_client_metadata');
        assert.match(res.body.error_description, /grant_types/, `${kind}, ${grant}`);
      }
      assert.deepEqual(await store.adapter('Client').find(managed.clientId), stored, kind);
      assert.deepEqual(metadataOf(await managed.read()), metadataOf(read), kind);
      // Control: the read itself goes back.
      assert.equal((await managed.update(echoOf(read))).status, 200, kind);
    }
  });
});

describe('RFC 7592 update without native sign-in', () => {
  let server: RunningServer;
  before(async () => {
    server = await startExample();
  });
  after(async () => {
    await server.close();
  });

  it('attack: adding the token exchange grant is refused (400); the read sent back is the control', async () => {
    const token = (
      await obtainDcrToken(await registrationClient(server.issuer), new SignInBrowser())
    ).tokens.access_token;
    const managed = new Managed(
      (
        await postRegistration(
          server.issuer,
          { redirect_uris: [APP_REDIRECT_URI], scope: 'openid offline_access' },
          token,
        )
      ).body,
    );
    const read = await managed.read();
    assert.deepEqual(read.grant_types, ['authorization_code', 'refresh_token']);
    const res = await managed.update({
      ...echoOf(read),
      grant_types: [...read.grant_types, TOKEN_EXCHANGE],
    });
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal(res.body.error, 'invalid_client_metadata');
    assert.match(res.body.error_description, /token-exchange' is not allowed/);
    assert.deepEqual((await managed.read()).grant_types, read.grant_types);
    const echoed = await managed.update(echoOf(read));
    assert.equal(echoed.status, 200, JSON.stringify(echoed.body));
    assert.deepEqual(metadataOf(echoed.body), metadataOf(read));
  });
});
