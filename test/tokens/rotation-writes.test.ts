// A refresh with rotation (RFC 6749 §6, RFC 9700 §4.14.2) sends the consume of the old refresh
// token, its successor and the new access token to the store together. What one refresh issues is
// exactly what is stored, whether its access token is stored (opaque) or not (a JWT for an API,
// RFC 8707 / RFC 9068); a refresh that loses a race leaves nothing behind; and on Redis a refresh
// costs at most 4 round trips and 12 commands, scripts included.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type { Store } from 'mobile-oidc-provider';
import { RedisStore } from 'mobile-oidc-provider/adapters/redis';
import * as oidc from 'openid-client';
import {
  APP_REDIRECT_URI,
  type RunningServer,
  registrationClient,
  startExample,
} from '../helpers/example.js';
import { TEST_REDIS_URL } from '../helpers/redis-url.js';
import { countSocketWrites } from '../helpers/redis-writes.js';
import { rawTokenRequest } from '../helpers/registration.js';
import {
  codeForInstance,
  obtainDcrToken,
  registerInstance,
  SignInBrowser,
  sameClientAt,
  signIn,
} from '../helpers/sign-in.js';

const API = 'https://api.example.com/';

/** An install signed in through `browser`, with its first token response. */
async function signedIn(server: RunningServer, browser: SignInBrowser, resource?: string) {
  const dcr = await obtainDcrToken(await registrationClient(server.issuer), browser);
  const instance = await registerInstance(server.issuer, dcr.tokens.access_token);
  if (!resource) {
    const { callback, checks } = await codeForInstance(browser, instance);
    return { instance, tokens: await oidc.authorizationCodeGrant(instance, callback, checks) };
  }
  // RFC 8707: the API is named at authorization, so a refresh may ask for a token for it.
  const pkceCodeVerifier = oidc.randomPKCECodeVerifier();
  const { callback } = await signIn(
    browser,
    oidc.buildAuthorizationUrl(instance, {
      redirect_uri: APP_REDIRECT_URI,
      scope: 'openid offline_access email',
      prompt: 'consent',
      resource,
      code_challenge: await oidc.calculatePKCECodeChallenge(pkceCodeVerifier),
      code_challenge_method: 'S256',
    }),
  );
  const tokens = await oidc.authorizationCodeGrant(instance, callback, { pkceCodeVerifier });
  return { instance, tokens };
}

const refreshFor = (instance: oidc.Configuration, token: string, resource?: string) =>
  oidc.refreshTokenGrant(instance, token, resource ? { resource } : undefined);

const stores: Array<[string, () => Store | undefined]> = [
  ['the in-memory store', () => undefined],
  [
    'Redis',
    () => new RedisStore({ client: TEST_REDIS_URL, keyPrefix: `rotation:${randomUUID()}:` }),
  ],
];

for (const [storeName, makeStore] of stores)
  describe(`refresh with rotation for an API's JWT access token, on ${storeName}`, () => {
    let server: RunningServer;
    let store: Store | undefined;
    const browser = new SignInBrowser();

    before(async () => {
      store = makeStore();
      server = await startExample((o) => ({
        ...o,
        ...(store ? { store } : {}),
        apis: [{ resource: API, scope: 'email' }],
        // Without a window, a spent refresh token is plainly refused.
        ttl: { ...o.ttl, refreshTokenReuseGrace: 0 },
      }));
    });
    after(async () => {
      await server.close();
      await store?.close();
    });

    it('stores the successor and spends the old token, though no access token is stored', async () => {
      const { instance, tokens } = await signedIn(server, browser, API);
      const t0 = tokens.refresh_token as string;
      const first = await refreshFor(instance, t0, API);
      // A JWT (RFC 9068): the access token was signed, not stored.
      assert.equal(first.access_token.split('.').length, 3);
      const second = await refreshFor(instance, first.refresh_token as string, API);
      assert.ok(second.refresh_token, 'the successor was stored and works');
      await assert.rejects(refreshFor(instance, t0, API), { error: 'invalid_grant' });
    });

    it('control: the same install refreshing without an API gets an opaque token, and rotates', async () => {
      const { instance, tokens } = await signedIn(server, browser);
      const first = await refreshFor(instance, tokens.refresh_token as string);
      assert.equal(first.access_token.split('.').length, 1);
      assert.ok((await refreshFor(instance, first.refresh_token as string)).refresh_token);
    });
  });

describe('refresh and code exchange on Redis: a request that loses the race on its consume', () => {
  const prefix = `rotation-race:${randomUUID()}:`;
  // Two servers on one Redis, each with a connection of its own: while writes wait, each one's
  // reads go on, so both refreshes read the token unspent and race on the consume itself.
  const stores = [0, 1].map(
    () => new RedisStore({ client: TEST_REDIS_URL, keyPrefix: prefix, clockToleranceSeconds: 0 }),
  );
  const servers: RunningServer[] = [];
  const admin = new Redis(TEST_REDIS_URL);
  const browser = new SignInBrowser();

  before(async () => {
    for (const store of stores) {
      servers.push(
        await startExample((o) => ({ ...o, store, ttl: { ...o.ttl, refreshTokenReuseGrace: 0 } })),
      );
    }
  });
  after(async () => {
    for (const server of servers) await server.close();
    for (const store of stores) await store.close();
    admin.disconnect();
  });

  /** The ids of the stored records of `model`, read by key (no keyspace scan). */
  async function exists(model: string, ids: string[]): Promise<string[]> {
    const found = await Promise.all(ids.map((id) => admin.exists(`${prefix}${model}:{${id}}`)));
    return ids.filter((_, i) => found[i] === 1);
  }

  it('a code exchange that loses the race on its consume leaves no token behind', async () => {
    const [a, b] = servers as [RunningServer, RunningServer];
    const dcr = await obtainDcrToken(await registrationClient(a.issuer), browser);
    const instance = await registerInstance(a.issuer, dcr.tokens.access_token);
    const { callback, checks } = await codeForInstance(browser, instance);
    const atB = await sameClientAt(instance, b.issuer);
    await admin.call('CLIENT', 'PAUSE', '1000', 'WRITE');
    const answers = await Promise.all(
      // RFC 6749 §4.1.3 with RFC 7636's verifier, sent as-is to each server.
      [instance, atB].map((at) =>
        rawTokenRequest(at, {
          grant_type: 'authorization_code',
          code: callback.searchParams.get('code') ?? '',
          redirect_uri: APP_REDIRECT_URI,
          code_verifier: checks.pkceCodeVerifier,
        }),
      ),
    );
    const bodies = (await Promise.all(answers.map((r) => r.json()))) as Array<{
      access_token?: string;
      refresh_token?: string;
      error?: string;
    }>;
    assert.deepEqual(answers.map((r) => r.status).sort(), [200, 400]);
    const winner = bodies.find((body) => body.access_token) as {
      access_token: string;
      refresh_token: string;
    };
    assert.equal(bodies.find((body) => !body.access_token)?.error, 'invalid_grant');
    // Control: the winner's tokens are stored (the loser read the code unspent: no reuse, no
    // revocation); the grant's index names the code and the winner's tokens, nothing else.
    assert.deepEqual(await exists('AccessToken', [winner.access_token]), [winner.access_token]);
    assert.deepEqual(await exists('RefreshToken', [winner.refresh_token]), [winner.refresh_token]);
    const { grantId } = JSON.parse(
      (await admin.get(`${prefix}RefreshToken:{${winner.refresh_token}}`)) ?? '{}',
    );
    const members = await admin.zrange(`${prefix}grant:{${grantId}}`, 0, '-1');
    const stored = [];
    for (const member of members) {
      const [model, id] = member.split(':') as [string, string];
      if (model !== 'AuthorizationCode' && (await admin.exists(`${prefix}${model}:{${id}}`))) {
        stored.push(member);
      }
    }
    assert.deepEqual(stored.sort(), [
      `AccessToken:${winner.access_token}`,
      `RefreshToken:${winner.refresh_token}`,
    ]);
  });

  it('leaves none of its tokens behind, and the winner keeps its own', async () => {
    const [a, b] = servers as [RunningServer, RunningServer];
    const { instance, tokens } = await signedIn(a, browser);
    const atB = await sameClientAt(instance, b.issuer);
    const t0 = tokens.refresh_token as string;
    await admin.call('CLIENT', 'PAUSE', '1000', 'WRITE');
    const results = await Promise.allSettled([refreshFor(instance, t0), refreshFor(atB, t0)]);
    const won = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const lost = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    assert.equal(won.length, 1);
    assert.equal((lost[0] as { error?: string }).error, 'invalid_grant');
    const winner = won[0] as oidc.TokenEndpointResponse;
    // Control: the loser read the token unspent (no reuse detected, nothing revoked), so the
    // winner's pair is stored and works.
    assert.deepEqual(await exists('RefreshToken', [t0, winner.refresh_token as string]), [
      t0,
      winner.refresh_token,
    ]);
    assert.deepEqual(await exists('AccessToken', [winner.access_token]), [winner.access_token]);
    // The grant's index names every token of the grant: none but the winner's was added.
    const { grantId } = JSON.parse((await admin.get(`${prefix}RefreshToken:{${t0}}`)) ?? '{}');
    const members = await admin.zrange(`${prefix}grant:{${grantId}}`, 0, '-1');
    assert.ok(members.length > 0);
    const live = await Promise.all(
      members.map(async (m) => {
        const [model, id] = m.split(':') as [string, string];
        return (await admin.exists(`${prefix}${model}:{${id}}`)) ? m : undefined;
      }),
    );
    const allowed = new Set([
      `RefreshToken:${t0}`,
      `RefreshToken:${winner.refresh_token}`,
      `AccessToken:${tokens.access_token}`,
      `AccessToken:${winner.access_token}`,
    ]);
    for (const member of live) {
      // The code the install signed in with stays until it expires, spent.
      if (member && !member.startsWith('AuthorizationCode:')) {
        assert.ok(allowed.has(member), `left behind: ${member}`);
      }
    }
  });
});

describe('refresh with rotation on Redis: what it costs', () => {
  let server: RunningServer;
  let store: RedisStore;
  let redis: Redis;
  let admin: Redis;
  let writes: () => number;
  const prefix = `rotation-cost:${randomUUID()}:`;
  const browser = new SignInBrowser();

  before(async () => {
    // The store's own connection, as a URL would give it (auto-pipelining), with its socket
    // writes counted: at one request at a time, one write is one round trip.
    redis = new Redis(TEST_REDIS_URL, { enableAutoPipelining: true });
    writes = countSocketWrites(redis);
    admin = new Redis(TEST_REDIS_URL);
    store = new RedisStore({ client: redis, keyPrefix: prefix });
    // The default configuration: the reuse grace window on.
    server = await startExample((o) => ({ ...o, store }));
  });
  after(async () => {
    await server.close();
    await store.close();
    redis.disconnect();
    admin.disconnect();
  });

  it('costs at most 4 round trips and 12 Redis commands per refresh, scripts included', async () => {
    const { instance, tokens } = await signedIn(server, browser);
    let token = tokens.refresh_token as string;
    const monitor = await admin.monitor();
    let commands = 0;
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args.some((a) => a.includes(prefix))) commands += 1;
    });
    const rounds = 5;
    let roundTrips = 0;
    try {
      await sleep(50);
      commands = 0;
      const writesBefore = writes();
      for (let i = 0; i < rounds; i += 1) {
        token = (await refreshFor(instance, token)).refresh_token as string;
      }
      roundTrips = (writes() - writesBefore) / rounds;
      await sleep(100); // MONITOR lines arrive asynchronously
    } finally {
      monitor.disconnect();
    }
    assert.ok(roundTrips <= 4, `${roundTrips} round trips per refresh`);
    assert.ok(commands / rounds <= 12, `${commands / rounds} commands per refresh`);
    // Control: the counters do see the refreshes (a refresh needs at least its reads and writes).
    assert.ok(roundTrips >= 3 && commands / rounds >= 6, `${roundTrips} round trips, ${commands}`);
  });
});
