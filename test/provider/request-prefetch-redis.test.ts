// On Redis, introspection (RFC 7662) and userinfo (OpenID Connect Core §5.3) cost two round
// trips: the token, then its grant and client together, read ahead within the request. Reading
// ahead caches nothing across requests: a grant or an install revoked between two requests, by
// another process on its own connection, is refused at once, and concurrent requests for
// different tokens each get their own token's grant and client.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { RedisStore } from 'mobile-oidc-provider/adapters/redis';
import * as oidc from 'openid-client';
import { INSTANCE_FIELD } from '../../lib/core/instance-record.js';
import {
  RESOURCE_SERVER_SECRET,
  type RunningServer,
  registrationClient,
  startExample,
} from '../helpers/example.js';
import { RESOURCE_SERVER_ID } from '../helpers/fixture.js';
import { TEST_REDIS_URL } from '../helpers/redis-url.js';
import { countSocketWrites } from '../helpers/redis-writes.js';
import {
  codeForInstance,
  obtainDcrToken,
  registerInstance,
  SignInBrowser,
} from '../helpers/sign-in.js';

/** An install signed in on `server`, and its access token (scope `openid offline_access`). */
interface Install {
  clientId: string;
  accessToken: string;
  grantId: string;
}

describe('introspection and userinfo on Redis: two round trips, nothing kept between requests', () => {
  const prefix = `request-prefetch:${randomUUID()}:`;
  // Process A's connection, its socket writes counted: at one request at a time, one write is one
  // round trip. Process B (another server, its own connection) revokes.
  const redisA = new Redis(TEST_REDIS_URL, { enableAutoPipelining: true });
  const writes = countSocketWrites(redisA);
  const storeA = new RedisStore({ client: redisA, keyPrefix: prefix });
  const storeB = new RedisStore({ client: TEST_REDIS_URL, keyPrefix: prefix });
  let a: RunningServer;
  let b: RunningServer;
  const browser = new SignInBrowser();

  before(async () => {
    a = await startExample((o) => ({ ...o, store: storeA }));
    b = await startExample((o) => ({ ...o, store: storeB }));
  });
  after(async () => {
    await a.close();
    await b.close();
    await storeA.close();
    await storeB.close();
    redisA.disconnect();
  });

  async function signedIn(): Promise<Install> {
    const dcr = await obtainDcrToken(await registrationClient(a.issuer), browser);
    const instance = await registerInstance(a.issuer, dcr.tokens.access_token);
    const { callback, checks } = await codeForInstance(browser, instance);
    const tokens = await oidc.authorizationCodeGrant(instance, callback, checks);
    const stored = await storeB.adapter('AccessToken').find(tokens.access_token);
    assert.equal(typeof stored?.grantId, 'string');
    return {
      clientId: instance.clientMetadata().client_id,
      accessToken: tokens.access_token,
      grantId: stored?.grantId as string,
    };
  }

  /** RFC 7662 at server A, as the resource server: the response's status and body. */
  async function introspection(token: string) {
    const res = await fetch(`${a.issuer}/token/introspection`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${RESOURCE_SERVER_ID}:${RESOURCE_SERVER_SECRET}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token }).toString(),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  /** RFC 7662 at server A, as the resource server: the body of its 200 response. */
  async function introspect(token: string): Promise<Record<string, unknown>> {
    const { status, body } = await introspection(token);
    assert.equal(status, 200);
    return body;
  }

  /** Userinfo at server A with `token` as a Bearer token: status and body. */
  async function userinfo(token: string): Promise<{ status: number; sub?: unknown }> {
    const res = await fetch(`${a.issuer}/me`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await res.json()) as { sub?: unknown };
    return { status: res.status, sub: body.sub };
  }

  /** Round trips per request of `request`, over `rounds` requests one at a time. */
  async function roundTrips(rounds: number, request: () => Promise<unknown>): Promise<number> {
    const before = writes();
    for (let i = 0; i < rounds; i += 1) await request();
    return (writes() - before) / rounds;
  }

  it('introspection costs at most 2 round trips, userinfo too', async () => {
    const install = await signedIn();
    // Control: both answer for the token (the counter counts real requests).
    assert.equal((await introspect(install.accessToken)).active, true);
    assert.equal((await userinfo(install.accessToken)).status, 200);
    const introspection = await roundTrips(5, () => introspect(install.accessToken));
    const user = await roundTrips(5, () => userinfo(install.accessToken));
    assert.ok(introspection <= 2 && introspection >= 1, `introspection: ${introspection}`);
    assert.ok(user <= 2 && user >= 1, `userinfo: ${user}`);
  });

  it('a grant revoked by another process between two requests is refused at once', async () => {
    const install = await signedIn();
    assert.equal((await introspect(install.accessToken)).active, true);
    assert.equal((await userinfo(install.accessToken)).status, 200);
    await storeB.adapter('Grant').destroy(install.grantId);
    // The token itself is still stored: only the grant check can refuse it.
    assert.ok(await storeB.adapter('AccessToken').find(install.accessToken));
    assert.deepEqual(await introspect(install.accessToken), { active: false });
    assert.equal((await userinfo(install.accessToken)).status, 401);
  });

  it('an install marked revoked by another process between two requests is refused at once', async () => {
    const install = await signedIn();
    assert.equal((await userinfo(install.accessToken)).status, 200);
    assert.equal((await introspect(install.accessToken)).active, true);
    // The first step of a revocation, alone: the record says revoked, grant and tokens remain.
    const clients = storeB.adapter('Client');
    const record = (await clients.find(install.clientId)) as Record<string, unknown>;
    const instance = record[INSTANCE_FIELD] as Record<string, unknown>;
    await clients.upsert(install.clientId, {
      ...record,
      [INSTANCE_FIELD]: { ...instance, status: 'revoked' },
    });
    assert.ok(await storeB.adapter('Grant').find(install.grantId));
    assert.equal((await userinfo(install.accessToken)).status, 401);
    // RFC 7662 §2.2: inactive, not a server error (oidc-provider alone would read the missing
    // client's subject type and fail).
    const answer = await introspection(install.accessToken);
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, { active: false });
  });

  it('an install revoked through another process is refused at once', async () => {
    const install = await signedIn();
    assert.equal((await userinfo(install.accessToken)).status, 200);
    assert.equal((await introspect(install.accessToken)).active, true);
    assert.equal((await b.auth.devices.revoke(install.clientId))?.status, 'revoked');
    assert.deepEqual(await introspect(install.accessToken), { active: false });
    assert.equal((await userinfo(install.accessToken)).status, 401);
  });

  it('concurrent requests for different tokens each get their own grant and client', async () => {
    const [first, second, revoked] = [await signedIn(), await signedIn(), await signedIn()];
    await storeB.adapter('Grant').destroy(revoked.grantId);
    const installs = Array.from({ length: 30 }, (_, i) => [first, second, revoked][i % 3]);
    const [introspected, users] = await Promise.all([
      Promise.all(installs.map((install) => introspect(install?.accessToken as string))),
      Promise.all(installs.map((install) => userinfo(install?.accessToken as string))),
    ]);
    installs.forEach((install, i) => {
      if (install === revoked) {
        assert.deepEqual(introspected[i], { active: false });
        assert.equal(users[i]?.status, 401);
        return;
      }
      assert.equal(introspected[i]?.active, true);
      assert.equal(introspected[i]?.client_id, install?.clientId);
      assert.equal(users[i]?.status, 200);
      assert.equal(users[i]?.sub, 'demouser');
    });
  });
});
