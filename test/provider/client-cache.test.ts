// Every request reads its instance client from the store; a process keeps the clients it built
// (parsed, validated, keys imported) for `registration.instances.cacheSize` installs, found by a
// hash of the record read. So with more active installs than oidc-provider's own 100 a client is
// not rebuilt on every request, and an update (RFC 7592 §2.2) or a deletion (§2.3) is still seen
// at once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuthServerOptions } from 'mobile-oidc-provider';
import type * as oidc from 'openid-client';
import { instanceRecord } from '../../lib/core/instance-record.js';
import { clientCacheOf } from '../../lib/provider/client-cache.js';
import { instanceRecordOf } from '../../lib/provider/loaded-client.js';
import { type RunningServer, registrationClient, startExample } from '../helpers/example.js';
import { obtainDcrToken, registerInstance, SignInBrowser } from '../helpers/sign-in.js';

// oidc-provider's LRU of 100 keeps up to twice that across its two generations.
const INSTANCES = 210;

/** A server with room for `cacheSize` instance clients, and `INSTANCES` instances on it. */
async function serverWithInstances(cacheSize?: number) {
  const server = await startExample(
    (o): AuthServerOptions => ({
      ...o,
      registration: {
        ...o.registration,
        dcrToken: { maxUses: INSTANCES + 1 },
        instances: { ...o.registration?.instances, ...(cacheSize ? { cacheSize } : {}) },
      },
    }),
  );
  const { tokens } = await obtainDcrToken(
    await registrationClient(server.issuer),
    new SignInBrowser(),
  );
  const instances: oidc.Configuration[] = [];
  while (instances.length < INSTANCES) {
    const batch = Math.min(10, INSTANCES - instances.length);
    instances.push(
      ...(await Promise.all(
        Array.from({ length: batch }, () => registerInstance(server.issuer, tokens.access_token)),
      )),
    );
  }
  return { server, instances };
}

/** Whether loading `clientId` again, after every instance was loaded once, gives the same client. */
async function keptAfterLoadingAll(server: RunningServer, instances: oidc.Configuration[]) {
  const { Client } = server.auth.provider;
  const [first] = instances;
  assert.ok(first);
  const clientId = first.clientMetadata().client_id;
  const before = await Client.find(clientId);
  for (const instance of instances) await Client.find(instance.clientMetadata().client_id);
  const afterwards = await Client.find(clientId);
  assert.ok(before && afterwards);
  return before === afterwards;
}

describe('the instance client cache', () => {
  let server: RunningServer;
  let instances: oidc.Configuration[];

  before(async () => {
    ({ server, instances } = await serverWithInstances());
  });
  after(() => server.close());

  it('keeps more built clients than oidc-provider alone does (10000 by default)', async () => {
    assert.equal(await keptAfterLoadingAll(server, instances), true);
  });

  it('control: sized to 100 (oidc-provider alone), the first client is rebuilt', async () => {
    const small = await serverWithInstances(100);
    try {
      assert.equal(await keptAfterLoadingAll(small.server, small.instances), false);
    } finally {
      await small.server.close();
    }
  });

  it('serves an updated client at once, never the cached one (RFC 7592 §2.2)', async () => {
    const instance = instances[1] as oidc.Configuration;
    const metadata = instance.clientMetadata();
    const { Client } = server.auth.provider;
    const cached = await Client.find(metadata.client_id);
    const res = await fetch(metadata.registration_client_uri as string, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${metadata.registration_access_token}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        client_id: metadata.client_id,
        client_secret: metadata.client_secret,
        redirect_uris: metadata.redirect_uris,
        client_name: 'Renamed install',
      }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const updated = await Client.find(metadata.client_id);
    assert.notEqual(updated, cached);
    assert.equal(updated?.clientName, 'Renamed install');
  });

  it('finds no client once it is deleted, though it was cached (RFC 7592 §2.3)', async () => {
    const metadata = (instances[2] as oidc.Configuration).clientMetadata();
    const { Client } = server.auth.provider;
    assert.ok(await Client.find(metadata.client_id));
    const res = await fetch(metadata.registration_client_uri as string, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${metadata.registration_access_token}` },
    });
    assert.equal(res.status, 204);
    assert.equal(await Client.find(metadata.client_id), undefined);
  });

  it("reads an instance's record from oidc-provider's client object as metadata() would give it", async () => {
    const client = await server.auth.provider.Client.find(
      (instances[3] as oidc.Configuration).clientMetadata().client_id,
    );
    assert.ok(client);
    const viaMetadata = instanceRecord(client.metadata());
    assert.ok(viaMetadata?.account_id, 'an instance has a record');
    assert.deepEqual(instanceRecordOf(client), viaMetadata);
  });

  it("is oidc-provider's own cache, resized (an upgrade that moves it fails here)", () => {
    const cache = clientCacheOf(server.auth.provider);
    assert.equal(typeof (cache as { get?: unknown }).get, 'function');
    assert.equal(typeof (cache as { set?: unknown }).set, 'function');
  });
});
