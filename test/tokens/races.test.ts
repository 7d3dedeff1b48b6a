// Single-use things stay single-use under concurrency: of many parallel uses of one
// authorization code or one refresh token, exactly one succeeds (RFC 6749 §4.1.2, §10.5;
// RFC 9700 §4.14.2), whatever the store. Within the refresh token reuse grace window, parallel
// refreshes may each be a retry, up to the reuse limit: then exactly one successor chain lives on.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Store } from 'mobile-oidc-provider';
import { RedisStore } from 'mobile-oidc-provider/adapters/redis';
import * as oidc from 'openid-client';
import {
  APP_REDIRECT_URI,
  type RunningServer,
  registrationClient,
  startExample,
} from '../helpers/example.js';
import {
  codeForInstance,
  obtainDcrToken,
  registerInstance,
  SignInBrowser,
} from '../helpers/sign-in.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const stores: Array<[string, () => Store | undefined]> = [
  ['the in-memory store', () => undefined],
  ['Redis', () => new RedisStore({ client: REDIS_URL, keyPrefix: `races:${randomUUID()}:` })],
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
