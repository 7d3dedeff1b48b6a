// Issue #26: the per-install client is an "instance" everywhere. The new names (the `instances`
// option, `server.instances`, the admin and self-service APIs' `instances` paths) work, and the
// former `devices` names stay aliases of the very same thing: same object, same answers.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair } from 'jose';
import {
  type AuthServerOptions,
  ConfigurationError,
  createAuthServer,
  type InstanceEvents,
  type InstanceInfo,
  type InstanceManagementOptions,
} from 'mobile-oidc-provider';
import type { JWK } from 'oidc-provider';
import * as oidc from 'openid-client';
import { type RunningServer, registrationClient, startExample } from '../helpers/example.js';
import { json } from '../helpers/json.js';
import { type Listening, listen } from '../helpers/listen.js';
import {
  codeForInstance,
  obtainDcrToken,
  registerInstance,
  SignInBrowser,
} from '../helpers/sign-in.js';

const ADMIN_SECRET = 'instance-names-admin-secret-0123456789ab';

/** The test server configured with `instances` only: its `devices` group moved over. */
function withInstancesOption(o: AuthServerOptions): AuthServerOptions {
  const { devices, ...rest } = o;
  const instances: InstanceManagementOptions = { ...devices, adminSecret: ADMIN_SECRET };
  return { ...rest, instances };
}

async function install(issuer: string, name: string) {
  const browser = new SignInBrowser();
  const { tokens: dcr } = await obtainDcrToken(await registrationClient(issuer), browser);
  const instance = await registerInstance(issuer, dcr.access_token, { client_name: name });
  const { callback, checks } = await codeForInstance(browser, instance, 'openid devices');
  const tokens = await oidc.authorizationCodeGrant(instance, callback, checks);
  return { clientId: instance.clientMetadata().client_id, tokens };
}

describe('the instance names (with their deprecated device aliases)', () => {
  let server: RunningServer;
  let admin: Listening;
  let phone: Awaited<ReturnType<typeof install>>;
  let tablet: Awaited<ReturnType<typeof install>>;
  const revoked: InstanceEvents['instance.revoked'][] = [];

  before(async () => {
    server = await startExample(withInstancesOption);
    server.auth.on('instance.revoked', (event) => revoked.push(event));
    admin = await listen();
    admin.handle(server.auth.adminCallback());
    phone = await install(server.issuer, 'phone');
    tablet = await install(server.issuer, 'tablet');
  });
  after(async () => {
    await admin.close();
    await server.close();
  });

  const adminCall = (path: string, method = 'GET') =>
    fetch(`${admin.url}${path}`, { method, headers: { authorization: `Bearer ${ADMIN_SECRET}` } });
  const selfCall = (path: string, token: string, method = 'GET') =>
    fetch(`${server.issuer}${path}`, { method, headers: { authorization: `Bearer ${token}` } });

  it('server.instances lists the installs, and server.devices is the same object', async () => {
    assert.equal(server.auth.devices, server.auth.instances);
    const listed: InstanceInfo[] = await server.auth.instances.list('demouser');
    assert.deepEqual(
      listed.map((i) => i.clientId),
      [phone.clientId, tablet.clientId],
    );
  });

  it('the admin API answers the same at the instances and the devices paths', async () => {
    const [byInstances, byDevices] = await Promise.all([
      adminCall('/accounts/demouser/instances'),
      adminCall('/accounts/demouser/devices'),
    ]);
    assert.equal(byInstances.status, 200);
    assert.deepEqual(await json(byInstances), await json(byDevices));
    const [one, same] = await Promise.all([
      adminCall(`/instances/${phone.clientId}`),
      adminCall(`/devices/${phone.clientId}`),
    ]);
    assert.equal(one.status, 200);
    assert.deepEqual(await json(one), await json(same));
    const [missing, missingToo] = await Promise.all([
      adminCall('/instances/no-such-client'),
      adminCall('/devices/no-such-client'),
    ]);
    assert.equal(missing.status, 404);
    assert.deepEqual(await json(missing), await json(missingToo));
  });

  it('self-service answers the same at /instances and /devices', async () => {
    const token = phone.tokens.access_token;
    const [byInstances, byDevices] = await Promise.all([
      selfCall('/instances', token),
      selfCall('/devices', token),
    ]);
    assert.equal(byInstances.status, 200);
    assert.deepEqual(await json(byInstances), await json(byDevices));
  });

  it('self-service revokes at DELETE /instances/:clientId', async () => {
    const res = await selfCall(
      `/instances/${tablet.clientId}`,
      tablet.tokens.access_token,
      'DELETE',
    );
    assert.equal(res.status, 200);
    assert.equal((await json(res)).status, 'revoked');
    assert.equal((await server.auth.instances.get(tablet.clientId))?.status, 'revoked');
    assert.deepEqual(
      revoked.map((e) => [e.clientId, e.by]),
      [[tablet.clientId, 'user']],
    );
  });

  it('the admin API revokes at DELETE /instances/:clientId and /accounts/:id/instances', async () => {
    const res = await adminCall(`/instances/${phone.clientId}`, 'DELETE');
    assert.equal(res.status, 200);
    assert.equal((await json(res)).status, 'revoked');
    const all = await adminCall('/accounts/demouser/instances', 'DELETE');
    assert.equal(all.status, 200);
    assert.deepEqual(await json(all), { revoked: [] });
  });
});

describe('the instances option and its deprecated alias devices', () => {
  let key: JWK;
  before(async () => {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    key = { ...(await exportJWK(privateKey)), kid: 'k1', alg: 'RS256' } as JWK;
  });
  const options = (more: Partial<AuthServerOptions>): AuthServerOptions => ({
    issuer: 'https://login.example.com',
    jwks: { keys: [key] },
    cookieKeys: ['c'.repeat(32)],
    accounts: { authenticate: async () => undefined, findAccount: async () => undefined },
    ...more,
  });
  const problemsOf = async (more: Partial<AuthServerOptions>) => {
    const error = await createAuthServer(options(more)).then(
      () => assert.fail('expected a ConfigurationError'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ConfigurationError);
    return error.problems;
  };

  it('giving both devices and instances is a ConfigurationError', async () => {
    assert.deepEqual(
      await problemsOf({
        instances: { adminSecret: ADMIN_SECRET },
        devices: { adminSecret: ADMIN_SECRET },
      }),
      [
        'options.devices and options.instances are both given: options.devices is the deprecated name of options.instances, give only options.instances',
      ],
    );
  });

  it('a problem in instances names options.instances, one in devices options.devices', async () => {
    assert.deepEqual(await problemsOf({ instances: { adminClients: ['ops'] } }), [
      "options.instances.adminClients[0] 'ops' is not in options.clients",
    ]);
    assert.deepEqual(await problemsOf({ devices: { adminClients: ['ops'] } }), [
      "options.devices.adminClients[0] 'ops' is not in options.clients",
    ]);
  });

  it('instances opens the admin API as devices did', async () => {
    const server = await createAuthServer(options({ instances: { adminSecret: ADMIN_SECRET } }));
    const http = await listen();
    try {
      http.handle(server.adminCallback());
      const res = await fetch(`${http.url}/accounts/alice/instances`, {
        headers: { authorization: `Bearer ${ADMIN_SECRET}` },
      });
      assert.equal(res.status, 200);
      assert.deepEqual(await json(res), { devices: [] });
    } finally {
      await http.close();
      await server.close();
    }
  });
});
