// The reuse grace window of rotated refresh tokens (ttl.refreshTokenReuseGrace). RFC 9700
// §4.14.2 asks that reuse of a rotated refresh token revoke the grant; mobile networks lose
// responses, so within a short window a retry with the token the app still holds gets a working
// pair instead, and each retry retires the successor issued before it (issue #25: one live
// successor; two different successors presented revoke the grant). Reuse after the window, or
// after a successor was used, still revokes the grant. test/tokens/refresh-reuse.test.ts has
// the attacks on the window.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import {
  type AuthServerOptions,
  MemoryStore,
  type RefreshTokenReuseEvent,
  type Store,
} from 'mobile-oidc-provider';
import { RedisStore } from 'mobile-oidc-provider/adapters/redis';
import * as oidc from 'openid-client';
import { dateNow, stopDate } from '../helpers/clock.js';
import { type RunningServer, registrationClient, startExample } from '../helpers/example.js';
import { type OwnRedis, startOwnRedis } from '../helpers/redis-server.js';
import { isOAuthError, rawRefresh } from '../helpers/registration.js';
import {
  codeForInstance,
  obtainDcrToken,
  registerInstance,
  SignInBrowser,
  sameClientAt,
} from '../helpers/sign-in.js';

const withGrace =
  (seconds: number, store?: Store) =>
  (o: AuthServerOptions): AuthServerOptions => ({
    ...o,
    ...(store ? { store } : {}),
    ttl: { ...o.ttl, refreshTokenReuseGrace: seconds },
  });

/** A registered install signed in with offline_access: its openid-client view and first tokens. */
async function signedInInstall(server: RunningServer) {
  const browser = new SignInBrowser();
  const { tokens } = await obtainDcrToken(await registrationClient(server.issuer), browser);
  const instance = await registerInstance(server.issuer, tokens.access_token);
  const { callback, checks } = await codeForInstance(browser, instance);
  const issued = await oidc.authorizationCodeGrant(instance, callback, checks);
  return { instance, refreshToken: issued.refresh_token as string };
}

const refresh = async (instance: oidc.Configuration, token: string) =>
  (await oidc.refreshTokenGrant(instance, token)).refresh_token as string;

const refused = (instance: oidc.Configuration, token: string) =>
  assert.rejects(oidc.refreshTokenGrant(instance, token), isOAuthError('invalid_grant'));

describe('rotated refresh tokens: the reuse grace window (RFC 9700 §4.14.2)', () => {
  let server: RunningServer;
  before(async () => {
    server = await startExample(withGrace(30));
  });
  after(() => server.close());

  it('a retry within the window gets a working pair; the lost successor, presented after all, revokes the grant', async () => {
    const { instance, refreshToken: t0 } = await signedInInstall(server);
    const lost = await refresh(instance, t0); // the response the app never saw
    const retried = await refresh(instance, t0);
    assert.notEqual(retried, lost);
    const next = await refresh(instance, retried);
    // The retry retired the lost successor: the app never saw it, so whoever presents it holds
    // a stolen copy, and two successors of one rotation were used (issue #25).
    await refused(instance, lost);
    await refused(instance, next);
  });

  it('reuse after a successor was used is a replay: the grant is revoked', async () => {
    const { instance, refreshToken: t0 } = await signedInInstall(server);
    const t1 = await refresh(instance, t0);
    const t2 = await refresh(instance, t1);
    await refused(instance, t0);
    // The whole grant went with it.
    await refused(instance, t2);
  });

  it('independent chains of one grant (two sign-ins in the same second) do not retire each other', async () => {
    const browser = new SignInBrowser();
    const { tokens } = await obtainDcrToken(await registrationClient(server.issuer), browser);
    const instance = await registerInstance(server.issuer, tokens.access_token);
    // SSO: both codes come from one grant, usually issued within the same second (which the
    // chains' initial issue time cannot tell apart).
    const chains: string[] = [];
    for (const _ of [0, 1]) {
      const { callback, checks } = await codeForInstance(browser, instance);
      chains.push(
        (await oidc.authorizationCodeGrant(instance, callback, checks)).refresh_token as string,
      );
    }
    const next = await Promise.all(chains.map((token) => refresh(instance, token)));
    await Promise.all(next.map((token) => refresh(instance, token)));
  });

  it('of two successors used at once, the retired one is refused and the grant is revoked', async () => {
    const { instance, refreshToken: t0 } = await signedInInstall(server);
    const [a, b] = [await refresh(instance, t0), await refresh(instance, t0)];
    const [usedA, usedB] = await Promise.allSettled([refresh(instance, a), refresh(instance, b)]);
    assert.equal(usedA.status, 'rejected');
    // b may have been answered before the revocation; nothing it got works now.
    if (usedB.status === 'fulfilled') await refused(instance, usedB.value);
  });
});

describe('rotated refresh tokens after the window, and with the window off', () => {
  it('reuse after the window revokes the grant, and refresh_token.reuse_detected says so', async (t) => {
    const store = new MemoryStore({ now: dateNow });
    const server = await startExample(withGrace(1, store));
    const events: RefreshTokenReuseEvent[] = [];
    server.auth.on('refresh_token.reuse_detected', (event) => events.push(event));
    try {
      const { instance, refreshToken: t0 } = await signedInInstall(server);
      const t1 = await refresh(instance, t0);
      stopDate(t)(2100);
      await refused(instance, t0);
      await refused(instance, t1);
      assert.deepEqual(
        events.map((e) => e.reason),
        ['outside_grace_window'],
      );
    } finally {
      await server.close();
      await store.close();
    }
  });

  it('with refreshTokenReuseGrace 0 any reuse revokes the grant at once', async () => {
    const server = await startExample(withGrace(0));
    try {
      const { instance, refreshToken: t0 } = await signedInInstall(server);
      const t1 = await refresh(instance, t0);
      await refused(instance, t0);
      await refused(instance, t1);
    } finally {
      await server.close();
    }
  });
});

describe('a refresh response lost to a Redis write stall does not log the device out', () => {
  let redis: OwnRedis;
  let store: RedisStore;
  let server: RunningServer;
  let admin: Redis;

  before(async () => {
    redis = await startOwnRedis();
    // Commands time out quickly, as a production deployment's would under a stall.
    store = new RedisStore({ client: redis.url, commandTimeoutMs: 300, keyPrefix: 'grace:' });
    server = await startExample(withGrace(30, store));
    admin = new Redis(redis.url);
  });
  after(async () => {
    await server.close();
    await store.close();
    admin.disconnect();
    await redis.destroy();
  });

  it('the consume lands after the app got 503; its retry with the same token gets a working pair', async () => {
    const { instance, refreshToken: t0 } = await signedInInstall(server);
    // Writes stall for longer than the command timeout (CLIENT PAUSE … WRITE, Redis 6.2+).
    await admin.call('CLIENT', 'PAUSE', '1000', 'WRITE');
    // The app sees the refresh fail: 503, a storage outage, and never gets the new pair.
    const lostResponse = await rawRefresh(instance, t0);
    assert.equal(lostResponse.status, 503);
    assert.equal(
      ((await lostResponse.json()) as { error?: string }).error,
      'temporarily_unavailable',
    );
    // The stall ends and the consume lands, late. An opaque refresh token's value is its id.
    const marker = `grace:RefreshToken:consumed:{${t0}}`;
    let consumed = await admin.get(marker);
    for (let i = 0; i < 60 && !consumed; i += 1) {
      await sleep(50);
      consumed = await admin.get(marker);
    }
    assert.ok(consumed, 'the first attempt consumed the token after all');

    const retried = await refresh(instance, t0);
    const after = await refresh(instance, retried);
    assert.ok(after);
  });

  it('across two servers sharing one Redis, a retry at one retires the successor issued by the other, and its use revokes the grant at both', async () => {
    // Its own connection and clock, as a second process would have.
    const otherStore = new RedisStore({ client: redis.url, keyPrefix: 'grace:' });
    const other = await startExample(withGrace(30, otherStore));
    try {
      const { instance, refreshToken: t0 } = await signedInInstall(server);
      const elsewhere = await sameClientAt(instance, other.issuer);
      const a = await oidc.refreshTokenGrant(instance, t0);
      const b = await oidc.refreshTokenGrant(elsewhere, t0);
      // One live successor, whichever server asks.
      for (const at of [server, other]) {
        assert.equal((await at.auth.introspect(a.access_token)).active, false);
        assert.equal((await at.auth.introspect(b.access_token)).active, true);
      }
      await refused(instance, a.refresh_token as string);
      await refused(elsewhere, b.refresh_token as string);
      assert.equal((await other.auth.introspect(b.access_token)).active, false);
    } finally {
      await other.close();
      await otherStore.close();
    }
  });

  it('across two servers sharing one Redis, a burst of 20 parallel refreshes split between them gets exactly 1 + the reuse limit pairs, one of them live', async () => {
    // Its own connection and clock, as a second process would have.
    const otherStore = new RedisStore({ client: redis.url, keyPrefix: 'grace:' });
    const other = await startExample(withGrace(30, otherStore));
    try {
      const { instance, refreshToken: t0 } = await signedInInstall(server);
      const elsewhere = await sameClientAt(instance, other.issuer);
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          oidc.refreshTokenGrant(i % 2 ? elsewhere : instance, t0),
        ),
      );
      const pairs = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      assert.equal(pairs.length, 1 + 3);
      const live = [];
      for (const pair of pairs) {
        if ((await other.auth.introspect(pair.access_token)).active) live.push(pair);
      }
      assert.equal(live.length, 1);
      await refresh(elsewhere, live[0]?.refresh_token as string);
    } finally {
      await other.close();
      await otherStore.close();
    }
  });
});
