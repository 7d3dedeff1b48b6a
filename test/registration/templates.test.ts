// Templatized registration (Curity's "templatized DCR"): an install registers with nothing but a
// software_id and inherits the template's settings live. RFC 7591 §2 (software_id), §3.2.2
// (errors; invalid_software_id is this library's extension code), RFC 7592 (read and update).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair } from 'jose';
import type { AuthServerOptions, Store, Template } from 'mobile-oidc-provider';
import { RedisStore } from 'mobile-oidc-provider/adapters/redis';
import type { Adapter } from 'oidc-provider';
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
import { TEST_REDIS_URL } from '../helpers/redis-url.js';
import { codeForInstance, obtainDcrToken, SignInBrowser } from '../helpers/sign-in.js';

const SOFTWARE_ID = 'com.example.notes';

/** A template as a database would hold it: tests change it between requests. */
function notesTemplate(): Template {
  return {
    software_id: SOFTWARE_ID,
    client: {
      client_name: 'Notes',
      redirect_uris: [APP_REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      scope: 'openid offline_access',
    },
    instanceFields: ['client_name', 'software_version'],
    minimumSoftwareVersion: '2.0',
  };
}

function describeTemplates(storeName: string, makeStore?: () => Store) {
  describe(`templatized registration on ${storeName}`, () => {
    const database = new Map<string, Template>();
    let server: RunningServer;
    let store: Store | undefined;

    const withTemplates = (o: AuthServerOptions): AuthServerOptions => ({
      ...o,
      ...(store ? { store } : {}),
      registration: {
        ...o.registration,
        templateResolver: (softwareId) => database.get(softwareId),
      },
    });

    before(async () => {
      store = makeStore?.();
      server = await startExample(withTemplates);
    });
    after(async () => {
      await server.close();
      await store?.close();
    });

    async function dcrToken(): Promise<string> {
      const browser = new SignInBrowser();
      return (await obtainDcrToken(await registrationClient(server.issuer), browser)).tokens
        .access_token;
    }

    async function register(body: Record<string, unknown>, token?: string) {
      return fetch(`${server.issuer}/reg`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token ?? (await dcrToken())}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify(body),
      });
    }

    /** Registers from the template and signs in: an installed, working app. */
    async function installedApp(fields: Record<string, unknown> = {}) {
      const res = await register({
        software_id: SOFTWARE_ID,
        software_version: '2.1.0',
        ...fields,
      });
      assert.equal(res.status, 201);
      const registered = await json(res);
      const instance = new oidc.Configuration(
        await oidc
          .discovery(new URL(server.issuer), 'x', undefined, undefined, insecure)
          .then((c) => c.serverMetadata()),
        registered.client_id,
        registered.client_secret,
      );
      oidc.allowInsecureRequests(instance);
      const browser = new SignInBrowser();
      const { callback, checks } = await codeForInstance(browser, instance);
      const tokens = await oidc.authorizationCodeGrant(instance, callback, checks);
      return { registered, instance, tokens };
    }

    before(() => database.set(SOFTWARE_ID, notesTemplate()));

    it('RFC 7591 §3.2.1: {software_id} alone registers, with the template settings echoed', async () => {
      const res = await register({ software_id: SOFTWARE_ID, software_version: '2.0.0' });
      assert.equal(res.status, 201);
      const body = await json(res);
      assert.equal(body.software_id, SOFTWARE_ID);
      assert.equal(body.software_version, '2.0.0');
      assert.deepEqual(body.redirect_uris, [APP_REDIRECT_URI]);
      assert.deepEqual(body.grant_types, ['authorization_code', 'refresh_token']);
      assert.equal(body.scope, 'openid offline_access');
      assert.equal(body.client_name, 'Notes');
      assert.equal(body.token_endpoint_auth_method, 'client_secret_basic');
      assert.ok(body.client_id && body.client_secret && body.registration_access_token);
      assert.equal(body.mobile_oidc_instance, undefined, 'the private record is never shown');
    });

    it('an instance field the template allows is taken from the request', async () => {
      const { registered } = await installedApp({ client_name: "Alice's phone" });
      assert.equal(registered.client_name, "Alice's phone");
    });

    it('the registered instance completes the code flow and refreshes (openid-client)', async () => {
      const { instance, tokens } = await installedApp();
      assert.ok(tokens.refresh_token);
      const refreshed = await oidc.refreshTokenGrant(instance, tokens.refresh_token as string);
      assert.ok(refreshed.access_token);
    });

    it('RFC 7591 §3.2.2: fields the template does not allow are refused by name, and no client is created', async () => {
      const before = await server.auth.devices.list('demouser');
      const res = await register({
        software_id: SOFTWARE_ID,
        software_version: '2.0.0',
        redirect_uris: ['com.attacker.app:/cb'],
        scope: 'openid profile',
      });
      assert.equal(res.status, 400);
      const body = await json(res);
      assert.equal(body.error, 'invalid_client_metadata');
      assert.match(body.error_description, /redirect_uris, scope cannot be set/);
      assert.equal((await server.auth.devices.list('demouser')).length, before.length);
    });

    it('an unknown software_id is refused with invalid_software_id', async () => {
      const res = await register({ software_id: 'com.example.unknown' });
      assert.equal(res.status, 400);
      const body = await json(res);
      assert.equal(body.error, 'invalid_software_id');
      assert.match(body.error_description, /unknown/);
    });

    it('a software_version below the template floor is refused with a clear message', async () => {
      for (const [version, reason] of [
        ['1.9.9', /'1.9.9' is too old: update the app to version 2.0 or later/],
        [undefined, /is missing/],
      ] as const) {
        const res = await register({
          software_id: SOFTWARE_ID,
          ...(version ? { software_version: version } : {}),
        });
        assert.equal(res.status, 400);
        const body = await json(res);
        assert.equal(body.error, 'invalid_client_metadata');
        assert.match(body.error_description, reason);
      }
    });

    it('RFC 7592 §2.1: reading an instance returns the effective (merged) metadata', async () => {
      const { registered } = await installedApp();
      const res = await fetch(registered.registration_client_uri, {
        headers: { authorization: `Bearer ${registered.registration_access_token}` },
      });
      assert.equal(res.status, 200);
      const body = await json(res);
      assert.equal(body.scope, 'openid offline_access');
      assert.deepEqual(body.redirect_uris, [APP_REDIRECT_URI]);
      assert.equal(body.software_id, SOFTWARE_ID);
    });

    it('RFC 7592 §2.2: an update may change allowed fields, send others back unchanged, and nothing else', async () => {
      const { registered } = await installedApp();
      const read = await json(
        await fetch(registered.registration_client_uri, {
          headers: { authorization: `Bearer ${registered.registration_access_token}` },
        }),
      );
      const put = (body: Record<string, unknown>, token: string) =>
        fetch(registered.registration_client_uri, {
          method: 'PUT',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      const {
        registration_access_token: token,
        registration_client_uri: _uri,
        client_secret_expires_at: _e,
        client_id_issued_at: _i,
        ...current
      } = read;
      const refused = await put({ ...current, scope: 'openid profile email' }, token);
      assert.equal(refused.status, 400);
      assert.match((await json(refused)).error_description, /^scope cannot be set/);

      const updated = await put({ ...current, client_name: 'Renamed' }, token);
      assert.equal(updated.status, 200);
      const body = await json(updated);
      assert.equal(body.client_name, 'Renamed');
      assert.equal(body.scope, 'openid offline_access');
    });

    it('templates are live: a template change reaches existing instances on their next request', async () => {
      const { registered, instance, tokens } = await installedApp();
      const changed = notesTemplate();
      changed.client.client_name = 'Notes Pro';
      changed.ttl = { accessToken: 120 };
      database.set(SOFTWARE_ID, changed);
      try {
        const refreshed = await oidc.refreshTokenGrant(instance, tokens.refresh_token as string);
        assert.equal(refreshed.expires_in, 120, 'the template TTL applies to the next token');
        const read = await json(
          await fetch(registered.registration_client_uri, {
            headers: { authorization: `Bearer ${registered.registration_access_token}` },
          }),
        );
        assert.equal(read.client_name, 'Notes Pro');
      } finally {
        database.set(SOFTWARE_ID, notesTemplate());
      }
    });

    it('each load is its own copy: a change to one loaded client reaches neither the template nor the next load', async () => {
      const res = await register({ software_id: SOFTWARE_ID, software_version: '2.0.0' });
      assert.equal(res.status, 201);
      const { client_id: clientId } = await json(res);
      // oidc-provider's Client model reads through its adapter (a static getter its types leave out).
      const clients = (server.auth.provider.Client as unknown as { adapter: Adapter }).adapter;
      const first = (await clients.find(clientId)) as Record<string, string[]>;
      // What oidc-provider could do to metadata it was handed: change nested arrays in place.
      first.grant_types?.push('client_credentials');
      first.redirect_uris?.splice(0, 1, 'https://attacker.example/callback');
      const next = (await clients.find(clientId)) as Record<string, string[]>;
      assert.deepEqual(next.grant_types, ['authorization_code', 'refresh_token']);
      assert.deepEqual(next.redirect_uris, [APP_REDIRECT_URI]);
      assert.notEqual(next.grant_types, first.grant_types, 'control: two loads, two arrays');
    });

    it('the kill switch: disabling a template fails all its instances (invalid_client) and registrations, until re-enabled', async () => {
      const { instance, tokens } = await installedApp();
      const api = await resourceServer(server.issuer);
      database.set(SOFTWARE_ID, { ...notesTemplate(), disabled: true });
      try {
        await assert.rejects(
          oidc.refreshTokenGrant(instance, tokens.refresh_token as string),
          (error: oidc.ResponseBodyError) => error.error === 'invalid_client',
        );
        const res = await register({ software_id: SOFTWARE_ID, software_version: '2.0.0' });
        assert.equal(res.status, 400);
        assert.equal((await json(res)).error, 'invalid_software_id');
      } finally {
        database.set(SOFTWARE_ID, notesTemplate());
      }
      // The kill switch suspends; it does not revoke: the tokens work again once re-enabled.
      const refreshed = await oidc.refreshTokenGrant(instance, tokens.refresh_token as string);
      assert.equal((await oidc.tokenIntrospection(api, refreshed.access_token)).active, true);
    });

    it('non-templatized registration (full metadata) keeps working alongside templates', async () => {
      const res = await register({ redirect_uris: [APP_REDIRECT_URI], client_name: 'Full' });
      assert.equal(res.status, 201);
      assert.equal((await json(res)).software_id, undefined);
    });
  });
}

describeTemplates('the in-memory store');
describeTemplates(
  'Redis',
  () =>
    new RedisStore({
      client: TEST_REDIS_URL,
      keyPrefix: `mop-test-templates-${process.pid}-${Date.now()}:`,
    }),
);

describe('templates only', () => {
  let server: RunningServer;
  before(async () => {
    server = await startExample((o) => ({
      ...o,
      registration: { ...o.registration, templatesOnly: true },
    }));
  });
  after(() => server.close());

  it('a registration without software_id is refused when the deployment registers from templates only', async () => {
    const browser = new SignInBrowser();
    const { tokens } = await obtainDcrToken(await registrationClient(server.issuer), browser);
    const res = await fetch(`${server.issuer}/reg`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${tokens.access_token}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ redirect_uris: [APP_REDIRECT_URI] }),
    });
    assert.equal(res.status, 400);
    const body = await json(res);
    assert.equal(body.error, 'invalid_client_metadata');
    assert.match(body.error_description, /software_id is required/);
    assert.deepEqual(await server.auth.devices.list('demouser'), []);
  });
});

describe('a private_key_jwt template', () => {
  let server: RunningServer;
  before(async () => {
    server = await startExample((o) => ({
      ...o,
      registration: {
        ...o.registration,
        templates: [
          {
            software_id: 'com.example.keyed',
            client: {
              redirect_uris: [APP_REDIRECT_URI],
              token_endpoint_auth_method: 'private_key_jwt',
            },
            instanceFields: ['jwks', 'software_version'],
          },
        ],
      },
    }));
  });
  after(() => server.close());

  it('each instance brings its own public key and gets no secret (RFC 7523 §2.2)', async () => {
    const { publicKey } = await generateKeyPair('ES256');
    const jwk = await exportJWK(publicKey);
    const browser = new SignInBrowser();
    const { tokens } = await obtainDcrToken(await registrationClient(server.issuer), browser);
    const res = await fetch(`${server.issuer}/reg`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${tokens.access_token}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ software_id: 'com.example.keyed', jwks: { keys: [jwk] } }),
    });
    assert.equal(res.status, 201);
    const body = await json(res);
    assert.equal(body.token_endpoint_auth_method, 'private_key_jwt');
    assert.equal(body.client_secret, undefined);
    assert.deepEqual(body.jwks.keys[0].x, jwk.x);
  });
});
