// Device management: "revoke access for a user whose device is stolen". A user's installs are
// listed and revoked through the library functions, the admin API (RFC 6750 bearer tokens from
// an admin client's client_credentials grant, or the admin secret) and the user's own
// self-service endpoint. Revoking one install kills its credentials and every grant and token it
// holds (RFC 7662 introspection turns inactive), and leaves the user's other installs alone.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type AuthServerOptions,
  ConfigurationError,
  type DeviceEvents,
  type Store,
} from 'mobile-oidc-provider';
import { RedisStore } from 'mobile-oidc-provider/adapters/redis';
import * as oidc from 'openid-client';
import {
  insecure,
  type RunningServer,
  registrationClient,
  resourceServer,
  startExample,
} from '../helpers/example.js';
import { json } from '../helpers/json.js';
import { type Listening, listen } from '../helpers/listen.js';
import { TEST_REDIS_URL } from '../helpers/redis-url.js';
import {
  codeForInstance,
  obtainDcrToken,
  registerInstance,
  SignInBrowser,
} from '../helpers/sign-in.js';

const ADMIN_SECRET = 'device-tests-admin-secret-0123456789abcdef';
const ADMIN_CLIENT = { id: 'admin-console', secret: 'admin-console-secret-0123456789abcdef' };
const OTHER_CLIENT = { id: 'reporting', secret: 'reporting-secret-0123456789abcdefghij' };
const BOB = { username: 'bob', password: 'Password2' };

/** The example server with a second user, an admin client, a non-admin confidential client. */
function withDeviceManagement(store?: Store) {
  return (o: AuthServerOptions): AuthServerOptions => {
    const accounts = o.accounts;
    return {
      ...o,
      ...(store ? { store } : {}),
      accounts: {
        authenticate: async (username, password) =>
          username === BOB.username && password === BOB.password
            ? 'bob'
            : accounts.authenticate(username, password),
        findAccount: async (id) =>
          id === 'bob' ? { claims: { email: 'bob@example.com' } } : accounts.findAccount(id),
      },
      clients: [
        ...(o.clients ?? []),
        {
          client_id: ADMIN_CLIENT.id,
          client_secret: ADMIN_CLIENT.secret,
          grant_types: ['client_credentials'],
          response_types: [],
          redirect_uris: [],
          scope: 'devices:admin',
        },
        {
          client_id: OTHER_CLIENT.id,
          client_secret: OTHER_CLIENT.secret,
          grant_types: ['client_credentials'],
          response_types: [],
          redirect_uris: [],
          scope: 'openid',
        },
      ],
      devices: { ...o.devices, adminClients: [ADMIN_CLIENT.id], adminSecret: ADMIN_SECRET },
    };
  };
}

interface Install {
  clientId: string;
  instance: oidc.Configuration;
  tokens: oidc.TokenEndpointResponse;
}

async function install(
  issuer: string,
  name: string,
  user?: typeof BOB,
  scope = 'openid offline_access devices',
): Promise<Install> {
  const browser = new SignInBrowser();
  const { tokens: dcr } = await obtainDcrToken(await registrationClient(issuer), browser, user);
  const instance = await registerInstance(issuer, dcr.access_token, { client_name: name });
  const { callback, checks } = await codeForInstance(browser, instance, scope);
  const tokens = await oidc.authorizationCodeGrant(instance, callback, checks);
  return { clientId: instance.clientMetadata().client_id, instance, tokens };
}

const isInvalidClient = (error: unknown) =>
  (error instanceof oidc.ResponseBodyError && error.error === 'invalid_client') ||
  (error instanceof oidc.WWWAuthenticateChallengeError &&
    error.cause.some((c) => c.parameters.error === 'invalid_client'));

function describeRevocation(storeName: string, makeStore?: () => Store) {
  describe(`device revocation on ${storeName}`, () => {
    let server: RunningServer;
    let store: Store | undefined;
    let api: oidc.Configuration;
    let phones: Install[];
    const events: Array<[keyof DeviceEvents, DeviceEvents[keyof DeviceEvents]]> = [];

    before(async () => {
      store = makeStore?.();
      server = await startExample(withDeviceManagement(store));
      for (const name of ['instance.registered', 'instance.revoked'] as const) {
        server.auth.on(name, (payload) => events.push([name, payload]));
      }
      api = await resourceServer(server.issuer);
      phones = [];
      for (const name of ['phone', 'tablet', 'watch']) {
        phones.push(await install(server.issuer, name));
      }
    });
    after(async () => {
      await server.close();
      await store?.close();
    });

    it('a user with three devices lists three, oldest first, with name, status and last use', async () => {
      const devices = await server.auth.devices.list('demouser');
      assert.deepEqual(
        devices.map((d) => [d.clientId, d.clientName, d.status, d.accountId]),
        phones.map((p, i) => [p.clientId, ['phone', 'tablet', 'watch'][i], 'active', 'demouser']),
      );
      for (const device of devices) {
        assert.equal(typeof device.createdAt, 'number');
        assert.equal(typeof device.lastUsedAt, 'number', 'the code exchange counts as a use');
      }
    });

    it('each registration is an instance.registered event with ids only, never secrets', () => {
      const registered = events.filter(([name]) => name === 'instance.registered');
      assert.deepEqual(
        registered.map(([, e]) => e.clientId),
        phones.map((p) => p.clientId),
      );
      for (const [, event] of registered) {
        assert.deepEqual(Object.keys(event).sort(), ['accountId', 'clientId']);
        assert.equal(event.accountId, 'demouser');
      }
    });

    it('revoking one device kills its refresh and access tokens; the other two keep working', async () => {
      const [stolen, ...others] = phones as [Install, Install, Install];
      const revoked = await server.auth.devices.revoke(stolen.clientId);
      assert.equal(revoked?.status, 'revoked');
      assert.equal(typeof revoked?.revokedAt, 'number');

      // RFC 7662 §2.2: the revoked install's access token is inactive at once.
      assert.equal((await oidc.tokenIntrospection(api, stolen.tokens.access_token)).active, false);
      // Its credentials no longer authenticate (RFC 6749 §5.2 invalid_client).
      await assert.rejects(
        oidc.refreshTokenGrant(stolen.instance, stolen.tokens.refresh_token as string),
        isInvalidClient,
      );
      for (const other of others) {
        assert.equal((await oidc.tokenIntrospection(api, other.tokens.access_token)).active, true);
        const refreshed = await oidc.refreshTokenGrant(
          other.instance,
          other.tokens.refresh_token as string,
        );
        other.tokens = refreshed;
      }
      const event = events.find(([name]) => name === 'instance.revoked')?.[1];
      assert.deepEqual(event, { clientId: stolen.clientId, accountId: 'demouser', by: 'api' });
      // The revoked device stays listed, as revoked, for the audit trail.
      const statuses = (await server.auth.devices.list('demouser')).map((d) => d.status);
      assert.deepEqual(statuses, ['revoked', 'active', 'active']);
    });

    it('revoking a revoked device changes nothing; an unknown id is undefined', async () => {
      const again = await server.auth.devices.revoke((phones[0] as Install).clientId);
      assert.equal(again?.status, 'revoked');
      assert.equal(events.filter(([name]) => name === 'instance.revoked').length, 1);
      assert.equal(await server.auth.devices.revoke('no-such-client'), undefined);
      assert.equal(await server.auth.devices.get('no-such-client'), undefined);
    });

    it('revokeAll revokes every active device of the user, and only those', async () => {
      const revoked = await server.auth.devices.revokeAll('demouser');
      assert.deepEqual(
        revoked.map((d) => d.clientId),
        phones.slice(1).map((p) => p.clientId),
      );
      for (const phone of phones) {
        assert.equal((await oidc.tokenIntrospection(api, phone.tokens.access_token)).active, false);
      }
    });
  });
}

describeRevocation('the in-memory store');
describeRevocation(
  'Redis',
  () =>
    new RedisStore({
      client: TEST_REDIS_URL,
      keyPrefix: `mop-test-devices-${process.pid}-${Date.now()}:`,
    }),
);

describe('the admin API', () => {
  let server: RunningServer;
  let admin: Listening;
  let alice: Install;

  before(async () => {
    server = await startExample(withDeviceManagement());
    admin = await listen();
    admin.handle(server.auth.adminCallback());
    alice = await install(server.issuer, 'alice phone');
  });
  after(async () => {
    await admin.close();
    await server.close();
  });

  const call = (path: string, authorization?: string, method = 'GET') =>
    fetch(`${admin.url}${path}`, {
      method,
      headers: authorization ? { authorization } : {},
    });

  async function clientCredentialsToken(client: typeof ADMIN_CLIENT, scope: string) {
    const config = await oidc.discovery(
      new URL(server.issuer),
      client.id,
      undefined,
      oidc.ClientSecretBasic(client.secret),
      insecure,
    );
    return (await oidc.clientCredentialsGrant(config, { scope })).access_token;
  }

  it('RFC 6750 §3.1: refuses a request without a token (401, bare Bearer challenge)', async () => {
    const res = await call('/accounts/demouser/devices');
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm="[^"]+ admin"$/);
    assert.equal((await json(res)).error, 'invalid_request');
  });

  it('RFC 6750 §3.1: refuses a wrong secret, an unknown token and a user token (401 invalid_token)', async () => {
    for (const authorization of [
      'Bearer wrong-secret',
      `Basic ${Buffer.from(`x:${ADMIN_SECRET}`).toString('base64')}`,
      `Bearer ${alice.tokens.access_token}`,
    ]) {
      const res = await call('/accounts/demouser/devices', authorization);
      assert.equal(res.status, 401, authorization);
      assert.equal((await json(res)).error, 'invalid_token');
      assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    }
  });

  it('refuses a client_credentials token of a client that is not an admin client', async () => {
    const token = await clientCredentialsToken(OTHER_CLIENT, 'openid');
    const res = await call('/accounts/demouser/devices', `Bearer ${token}`);
    assert.equal(res.status, 401);
    assert.match((await json(res)).error_description, /not issued to an admin client/);
  });

  it("RFC 6750 §3.1: an admin client's token without the admin scope is 403 insufficient_scope", async () => {
    const config = await oidc.discovery(
      new URL(server.issuer),
      ADMIN_CLIENT.id,
      undefined,
      oidc.ClientSecretBasic(ADMIN_CLIENT.secret),
      insecure,
    );
    const token = (await oidc.clientCredentialsGrant(config)).access_token;
    const res = await call('/accounts/demouser/devices', `Bearer ${token}`);
    assert.equal(res.status, 403);
    assert.equal((await json(res)).error, 'insufficient_scope');
  });

  it('lists and gets with an admin client token (client_credentials, scope devices:admin)', async () => {
    const token = await clientCredentialsToken(ADMIN_CLIENT, 'devices:admin');
    const listed = await call('/accounts/demouser/devices', `Bearer ${token}`);
    assert.equal(listed.status, 200);
    assert.equal(listed.headers.get('cache-control'), 'no-store');
    const { devices } = await json(listed);
    assert.ok(devices.some((d: { clientId: string }) => d.clientId === alice.clientId));
    const one = await call(`/devices/${alice.clientId}`, `Bearer ${token}`);
    assert.equal((await json(one)).clientName, 'alice phone');
  });

  it('an unknown device is 404 not_found', async () => {
    const res = await call('/devices/no-such-client', `Bearer ${ADMIN_SECRET}`);
    assert.equal(res.status, 404);
    assert.equal((await json(res)).error, 'not_found');
  });

  it("revokes one device with the admin secret, then all of a user's devices", async () => {
    const second = await install(server.issuer, 'alice tablet');
    const res = await call(`/devices/${alice.clientId}`, `Bearer ${ADMIN_SECRET}`, 'DELETE');
    assert.equal(res.status, 200);
    assert.equal((await json(res)).status, 'revoked');
    const all = await call('/accounts/demouser/devices', `Bearer ${ADMIN_SECRET}`, 'DELETE');
    const { revoked } = await json(all);
    assert.ok(revoked.some((d: { clientId: string }) => d.clientId === second.clientId));
    assert.equal((await server.auth.devices.get(second.clientId))?.status, 'revoked');
  });

  it('is not served without admin credentials configured (ConfigurationError)', async () => {
    const bare = await startExample();
    try {
      assert.throws(() => bare.auth.adminApi(), ConfigurationError);
    } finally {
      await bare.close();
    }
  });
});

describe('self-service (the user manages their own devices)', () => {
  let server: RunningServer;
  let alice: Install;
  let bob: Install;

  before(async () => {
    server = await startExample(withDeviceManagement());
    alice = await install(server.issuer, 'alice phone');
    bob = await install(server.issuer, 'bob phone', BOB);
  });
  after(() => server.close());

  const call = (path: string, token: string, method = 'GET') =>
    fetch(`${server.issuer}${path}`, { method, headers: { authorization: `Bearer ${token}` } });

  it("lists only the token owner's devices", async () => {
    const res = await call('/devices', alice.tokens.access_token);
    assert.equal(res.status, 200);
    const { devices } = await json(res);
    assert.deepEqual(
      devices.map((d: { clientId: string }) => d.clientId),
      [alice.clientId],
    );
  });

  it('RFC 6750 §3.1: a token without the self-service scope is 403 insufficient_scope', async () => {
    const narrow = await install(server.issuer, 'alice laptop', undefined, 'openid');
    const res = await call('/devices', narrow.tokens.access_token);
    assert.equal(res.status, 403);
    assert.equal((await json(res)).error, 'insufficient_scope');
  });

  it("another user's device is 404 and keeps working", async () => {
    const res = await call(`/devices/${bob.clientId}`, alice.tokens.access_token, 'DELETE');
    assert.equal(res.status, 404);
    assert.equal((await server.auth.devices.get(bob.clientId))?.status, 'active');
    await oidc.refreshTokenGrant(bob.instance, bob.tokens.refresh_token as string);
  });

  it('the user revokes their own device, and its token stops working', async () => {
    const res = await call(`/devices/${alice.clientId}`, alice.tokens.access_token, 'DELETE');
    assert.equal(res.status, 200);
    assert.equal((await json(res)).status, 'revoked');
    const after = await call('/devices', alice.tokens.access_token);
    assert.equal(after.status, 401);
    assert.equal((await json(after)).error, 'invalid_token');
  });
});
