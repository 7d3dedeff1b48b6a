// Single-use things stay single-use under concurrency: of many parallel uses of one
// authorization code or one refresh token, exactly one succeeds (RFC 6749 §4.1.2, §10.5;
// RFC 9700 §4.14.2), whatever the store. Within the refresh token reuse grace window, parallel
// refreshes may each be a retry, up to the reuse limit: then exactly one successor chain lives on.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { MemoryStore, type Store } from 'mobile-oidc-provider';
import { RedisStore } from 'mobile-oidc-provider/adapters/redis';
import * as oidc from 'openid-client';
import {
  APP_REDIRECT_URI,
  type RunningServer,
  registrationClient,
  startExample,
} from '../helpers/example.js';
import { TEST_REDIS_URL } from '../helpers/redis-url.js';
import {
  codeForInstance,
  obtainDcrToken,
  registerInstance,
  SignInBrowser,
} from '../helpers/sign-in.js';

/** A promise and the function that settles it. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/**
 * `store`, with the first consume of a refresh token held until `release()`: a request paused
 * after it read its token, before it consumed it. `paused` settles once it is held.
 */
function pausingFirstRefreshConsume(store: Store) {
  const paused = deferred();
  const released = deferred();
  let first = true;
  const forward = <T extends object>(target: T, prop: string | symbol) => {
    const value = Reflect.get(target, prop, target);
    return typeof value === 'function' ? value.bind(target) : value;
  };
  const wrapped = new Proxy(store, {
    get(target, prop) {
      if (prop !== 'adapter') return forward(target, prop);
      return (model: string) => {
        const adapter = target.adapter(model);
        if (model !== 'RefreshToken') return adapter;
        return new Proxy(adapter, {
          get(inner, innerProp) {
            if (innerProp !== 'consume') return forward(inner, innerProp);
            return async (id: string) => {
              if (first) {
                first = false;
                paused.resolve();
                await released.promise;
              }
              return inner.consume(id);
            };
          },
        });
      };
    },
  });
  return { store: wrapped, paused: paused.promise, release: released.resolve };
}
const stores: Array<[string, () => Store | undefined]> = [
  ['the in-memory store', () => undefined],
  ['Redis', () => new RedisStore({ client: TEST_REDIS_URL, keyPrefix: `races:${randomUUID()}:` })],
];

for (const [storeName, makeStore] of stores)
  describe(`races on single-use credentials, on ${storeName}`, () => {
    let server: RunningServer;
    let instance: oidc.Configuration;
    let browser: SignInBrowser;
    let store: Store | undefined;

    before(async () => {
      store = makeStore();
      server = await startExample((o) => (store ? { ...o, store } : o));
      browser = new SignInBrowser();
      const { tokens } = await obtainDcrToken(await registrationClient(server.issuer), browser);
      instance = await registerInstance(server.issuer, tokens.access_token);
    });
    after(async () => {
      await server.close();
      await store?.close();
    });

    it('20 parallel registrations with one single-use DCR token: exactly one client', async () => {
      const { tokens } = await obtainDcrToken(await registrationClient(server.issuer), browser);
      const results = await Promise.all(
        Array.from({ length: 20 }, () =>
          fetch(new URL('/reg', server.issuer), {
            method: 'POST',
            headers: {
              authorization: `Bearer ${tokens.access_token}`,
              'content-type': 'application/json',
            },
            body: JSON.stringify({ redirect_uris: [APP_REDIRECT_URI] }),
          }),
        ),
      );
      assert.equal(results.filter((r) => r.status === 201).length, 1);
      assert.equal(results.filter((r) => r.status === 401).length, 19);
    });

    it('20 parallel exchanges of one authorization code: exactly one gets tokens', async () => {
      const { callback, checks } = await codeForInstance(browser, instance);
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, () => oidc.authorizationCodeGrant(instance, callback, checks)),
      );
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    });

    it('20 parallel refreshes with one refresh token, reuse grace window off: exactly one gets new tokens', async () => {
      const strict = await startExample((o) => ({
        ...o,
        ...(store ? { store } : {}),
        ttl: { ...o.ttl, refreshTokenReuseGrace: 0 },
      }));
      try {
        const strictInstance = await registerInstance(
          strict.issuer,
          (await obtainDcrToken(await registrationClient(strict.issuer), browser)).tokens
            .access_token,
        );
        const { callback, checks } = await codeForInstance(browser, strictInstance);
        const tokens = await oidc.authorizationCodeGrant(strictInstance, callback, checks);
        const results = await Promise.allSettled(
          Array.from({ length: 20 }, () =>
            oidc.refreshTokenGrant(strictInstance, tokens.refresh_token as string),
          ),
        );
        const won = results.filter((r) => r.status === 'fulfilled');
        assert.equal(won.length, 1);
        for (const lost of results.filter((r) => r.status === 'rejected')) {
          assert.equal((lost.reason as { error?: string }).error, 'invalid_grant');
        }
      } finally {
        await strict.close();
      }
    });

    it('attack, step by step: a refresh that read its token before another request found the token reused and revoked the grant gets no tokens', async () => {
      // The race behind "exactly one gets new tokens" made deterministic. A reads the token and
      // is held before its consume; C rotates the token; B presents it again, so oidc-provider
      // destroys it and revokes the grant; then A consumes. A must not answer 200.
      const own = makeStore() ?? new MemoryStore();
      const pausing = pausingFirstRefreshConsume(own);
      const strict = await startExample((o) => ({
        ...o,
        store: pausing.store,
        ttl: { ...o.ttl, refreshTokenReuseGrace: 0 },
      }));
      try {
        const strictInstance = await registerInstance(
          strict.issuer,
          (await obtainDcrToken(await registrationClient(strict.issuer), browser)).tokens
            .access_token,
        );
        const { callback, checks } = await codeForInstance(browser, strictInstance);
        const tokens = await oidc.authorizationCodeGrant(strictInstance, callback, checks);
        const refresh = () =>
          oidc.refreshTokenGrant(strictInstance, tokens.refresh_token as string);

        const a = refresh().then(
          () => 'tokens',
          (error: { error?: string }) => error.error,
        );
        await pausing.paused;
        // Control: C, the first to consume, gets tokens.
        const c = await refresh();
        await assert.rejects(refresh(), { error: 'invalid_grant' }); // B: reuse, grant revoked
        pausing.release();

        assert.equal(await a, 'invalid_grant');
        assert.equal((await strict.auth.introspect(c.access_token)).active, false);
      } finally {
        await strict.close();
        await own.close();
      }
    });

    it('20 parallel refreshes with one refresh token, within the reuse grace window: 1 + the reuse limit get pairs, and exactly one chain lives on', async () => {
      const { callback, checks } = await codeForInstance(browser, instance);
      const tokens = await oidc.authorizationCodeGrant(instance, callback, checks);
      // Within the window each parallel refresh may be a retry of a lost response, up to the
      // reuse limit (3 by default); each retry retires the pair issued before it (issue #25).
      const first = await Promise.allSettled(
        Array.from({ length: 20 }, () =>
          oidc.refreshTokenGrant(instance, tokens.refresh_token as string),
        ),
      );
      const pairs = first.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      assert.equal(pairs.length, 1 + 3);
      for (const lost of first.filter((r) => r.status === 'rejected')) {
        assert.equal((lost.reason as { error?: string }).error, 'invalid_grant');
      }
      // Exactly one pair is live, and its chain goes on.
      const live = [];
      for (const pair of pairs) {
        if ((await server.auth.introspect(pair.access_token)).active) live.push(pair);
      }
      assert.equal(live.length, 1);
      await oidc.refreshTokenGrant(instance, live[0]?.refresh_token as string);
    });
  });
