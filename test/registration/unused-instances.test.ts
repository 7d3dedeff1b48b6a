// Abandoned installs: an instance that never obtains a token (the app crashed mid-registration,
// or was uninstalled before first use) is removed after registration.instances.unusedTtl; its
// first token makes it permanent. Unused instances are listed as such and do not count toward
// maxInstancesPerAccount, which is applied, atomically across processes, when an instance is
// first used (RFC 7591 §3 registration, RFC 6749 §4.1.3 first token).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import type { AuthServerOptions, Store } from 'mobile-oidc-provider';
import { MemoryStore } from 'mobile-oidc-provider';
import { RedisStore } from 'mobile-oidc-provider/adapters/redis';
import * as oidc from 'openid-client';
import { dateNow, stopDate } from '../helpers/clock.js';
import {
  APP_REDIRECT_URI,
  type RunningServer,
  registrationClient,
  startExample,
} from '../helpers/example.js';
import type { JsonBody } from '../helpers/json.js';
import { TEST_REDIS_URL } from '../helpers/redis-url.js';
import { instanceConfiguration, isOAuthError, postRegistration } from '../helpers/registration.js';
import { codeForInstance, obtainDcrToken, SignInBrowser } from '../helpers/sign-in.js';

const withInstances =
  (registration: AuthServerOptions['registration'], store?: Store) =>
  (o: AuthServerOptions): AuthServerOptions => ({
    ...o,
    ...(store ? { store } : {}),
    registration: { ...o.registration, ...registration },
  });

async function register(server: RunningServer): Promise<JsonBody> {
  const { tokens } = await obtainDcrToken(
    await registrationClient(server.issuer),
    new SignInBrowser(),
  );
  const res = await postRegistration(
    server.issuer,
    { redirect_uris: [APP_REDIRECT_URI] },
    tokens.access_token,
  );
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

/** A code for the instance, ready to exchange: its first token is one request away. */
async function codeFor(server: RunningServer, registered: JsonBody) {
  const instance = await instanceConfiguration(server.issuer, registered);
  const code = await codeForInstance(new SignInBrowser(), instance);
  return () => oidc.authorizationCodeGrant(instance, code.callback, code.checks);
}

const readRegistration = (registered: JsonBody) =>
  fetch(registered.registration_client_uri, {
    headers: { authorization: `Bearer ${registered.registration_access_token}` },
  });

describe('an instance never used expires; its first token makes it permanent', () => {
  it('unused: listed with unusedUntil, then gone after unusedTtl (RFC 7592 read refused)', async (t) => {
    const store = new MemoryStore({ now: dateNow });
    const server = await startExample(withInstances({ instances: { unusedTtl: 1 } }, store));
    try {
      const registered = await register(server);
      const device = await server.auth.devices.get(registered.client_id);
      assert.equal(typeof device?.unusedUntil, 'number');
      assert.equal((await readRegistration(registered)).status, 200);
      stopDate(t)(2100);
      assert.equal(await server.auth.devices.get(registered.client_id), undefined);
      assert.deepEqual(
        (await server.auth.devices.list('demouser')).map((d) => d.clientId),
        [],
      );
      assert.equal((await readRegistration(registered)).status, 401);
    } finally {
      await server.close();
      await store.close();
    }
  });

  it('used: its first token makes it permanent and it is listed as in use', async (t) => {
    const store = new MemoryStore({ now: dateNow });
    const server = await startExample(withInstances({ instances: { unusedTtl: 4 } }, store));
    try {
      const registered = await register(server);
      const tokens = await (await codeFor(server, registered))();
      assert.equal((await server.auth.devices.get(registered.client_id))?.unusedUntil, undefined);
      stopDate(t)(4500);
      const instance = await instanceConfiguration(server.issuer, registered);
      const refreshed = await oidc.refreshTokenGrant(instance, tokens.refresh_token as string);
      assert.ok(refreshed.access_token);
      assert.equal((await readRegistration(registered)).status, 200);
    } finally {
      await server.close();
      await store.close();
    }
  });
});

const stores: Array<[string, () => Store | undefined]> = [
  ['the in-memory store', () => undefined],
  ['Redis', () => new RedisStore({ client: TEST_REDIS_URL, keyPrefix: `unused:${randomUUID()}:` })],
];

for (const [storeName, makeStore] of stores) {
  describe(`the per-account limit counts instances in use, on ${storeName}`, () => {
    it('reject: unused instances do not count at registration; the first use over the limit is refused', async () => {
      const store = makeStore();
      const server = await startExample(
        withInstances({ maxInstancesPerAccount: { max: 1 } }, store),
      );
      try {
        const a = await register(server);
        const b = await register(server); // a is unused: it does not count
        await (await codeFor(server, a))();
        await assert.rejects((await codeFor(server, b))(), isOAuthError('invalid_grant'));
        const listed = await server.auth.devices.list('demouser');
        assert.equal(listed.find((d) => d.clientId === a.client_id)?.unusedUntil, undefined);
        assert.equal(typeof listed.find((d) => d.clientId === b.client_id)?.unusedUntil, 'number');
        // With one instance in use, a new registration is refused at once.
        const { tokens } = await obtainDcrToken(
          await registrationClient(server.issuer),
          new SignInBrowser(),
        );
        const c = await postRegistration(
          server.issuer,
          { redirect_uris: [APP_REDIRECT_URI] },
          tokens.access_token,
        );
        assert.equal(c.status, 400);
        assert.match(c.body.error_description, /at most 1/);
      } finally {
        await server.close();
        await store?.close();
      }
    });

    it('two first uses at the same moment, one slot left: exactly one gets tokens (two servers, one store)', async () => {
      const store = makeStore();
      const server = await startExample(
        withInstances({ maxInstancesPerAccount: { max: 1 } }, store),
      );
      // Memory stores are per process: the second server shares only a Redis store.
      const other = store
        ? await startExample(withInstances({ maxInstancesPerAccount: { max: 1 } }, store))
        : server;
      try {
        const a = await register(server);
        const b = await register(server);
        const exchanges = [await codeFor(server, a), await codeFor(other, b)];
        const results = await Promise.allSettled(exchanges.map((exchange) => exchange()));
        assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
        const inUse = (await server.auth.devices.list('demouser')).filter(
          (d) => d.unusedUntil === undefined,
        );
        assert.equal(inUse.length, 1);
      } finally {
        if (other !== server) await other.close();
        await server.close();
        await store?.close();
      }
    });

    it('revoke-oldest: a new instance revokes the oldest one in use when it is first used, not before', async () => {
      const store = makeStore();
      const server = await startExample(
        withInstances({ maxInstancesPerAccount: { max: 1, onLimit: 'revoke-oldest' } }, store),
      );
      try {
        const a = await register(server);
        await (await codeFor(server, a))();
        const b = await register(server);
        // Registered but unused: it evicts nothing (an abandoned registration must not).
        assert.equal((await server.auth.devices.get(a.client_id))?.status, 'active');
        await (await codeFor(server, b))();
        assert.equal((await server.auth.devices.get(a.client_id))?.status, 'revoked');
        assert.equal((await server.auth.devices.get(b.client_id))?.status, 'active');
      } finally {
        await server.close();
        await store?.close();
      }
    });
  });
}
