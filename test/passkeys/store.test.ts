// Passkeys in the library's store, memory and Redis alike: a record per credential id with an
// index per account, counters raised atomically (of concurrent raises to one value exactly one
// wins), challenges whose single use is taken in the store (so two processes sharing it accept
// one assertion once), and the whole HTTP journey — add, sign in, remove — on a RedisStore.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { MemoryStore, type Store } from 'mobile-oidc-provider';
import { RedisStore } from 'mobile-oidc-provider/adapters/redis';
import { PasskeyChallenges } from '../../lib/passkeys/challenges.js';
import { PasskeyCredentials, type StoredPasskey } from '../../lib/passkeys/credentials.js';
import {
  followToApp,
  passkeyLogin,
  passkeyPage,
  postCredential,
  signedInAccount,
  signedInBrowser,
  startWithPasskeys,
} from '../helpers/passkeys.js';
import { TEST_REDIS_URL } from '../helpers/redis-url.js';
import { SoftwareAuthenticator } from '../helpers/software-authenticator.js';

const stores: Store[] = [];
after(() => Promise.all(stores.splice(0).map((s) => s.close())));

const passkey = (id: string, accountId: string, createdAt: number): StoredPasskey => ({
  id,
  accountId,
  createdAt,
  deviceType: 'multiDevice',
  backedUp: true,
  aaguid: '00000000-0000-0000-0000-000000000000',
  publicKey: 'pQECAyYgASFYIA',
  counter: 0,
  userHandle: 'aGFuZGxl',
});

for (const [name, makeStore] of [
  ['MemoryStore', () => new MemoryStore()],
  [
    'RedisStore',
    () => new RedisStore({ client: TEST_REDIS_URL, keyPrefix: `test:${randomUUID()}:` }),
  ],
] as const) {
  describe(`passkeys on a ${name}`, () => {
    const store: Store = makeStore();
    stores.push(store);
    const credentials = new PasskeyCredentials(store);

    it('keeps each passkey by credential id and lists an account’s own, oldest first', async () => {
      await credentials.save(passkey('b-newer', 'alice', 200));
      await credentials.save(passkey('a-older', 'alice', 100));
      await credentials.save(passkey('bobs', 'bob', 150));
      assert.deepEqual(
        (await credentials.list('alice')).map((p) => p.id),
        ['a-older', 'b-newer'],
      );
      assert.deepEqual(
        (await credentials.list('bob')).map((p) => p.id),
        ['bobs'],
      );
      assert.equal((await credentials.find('bobs'))?.accountId, 'bob');
      assert.equal(await credentials.find('nope'), undefined);
      assert.equal(await credentials.find('not/an id'), undefined, 'no store key from bad ids');
    });

    it('removes a passkey and its place in the account’s index', async () => {
      assert.equal((await credentials.remove('a-older'))?.id, 'a-older');
      assert.equal(await credentials.remove('a-older'), undefined);
      assert.equal(await credentials.find('a-older'), undefined);
      assert.deepEqual(
        (await credentials.list('alice')).map((p) => p.id),
        ['b-newer'],
      );
    });

    it('keeps uses apart: a sign-in recorded after a removal brings nothing back', async () => {
      await credentials.save(passkey('used', 'carol', 300));
      await credentials.recordUse('used', { counter: 9, lastUsedAt: 400, backedUp: false });
      const found = await credentials.find('used');
      assert.equal(found?.counter, 9);
      assert.equal(found?.lastUsedAt, 400);
      assert.equal(found?.backedUp, false);
      assert.ok(await credentials.remove('used'));
      // A sign-in that verified before the removal writes its use after it.
      await credentials.recordUse('used', { counter: 10, lastUsedAt: 401, backedUp: false });
      assert.equal(await credentials.find('used'), undefined);
      assert.deepEqual(await credentials.list('carol'), []);
    });

    it('raises a counter atomically: of 20 concurrent raises to one value exactly one wins', async () => {
      const id = randomUUID();
      assert.equal(await credentials.raiseCounter(id, 5), true);
      const raced = await Promise.all(
        Array.from({ length: 20 }, () => credentials.raiseCounter(id, 6)),
      );
      assert.equal(raced.filter(Boolean).length, 1);
      assert.equal(await credentials.raiseCounter(id, 4), false, 'never backwards');
      assert.equal(await credentials.raiseCounter(id, 7), true);
    });

    it('takes a challenge once, across two services sharing the store', async () => {
      const key = Buffer.alloc(32, 1);
      const a = new PasskeyChallenges(store, key, 300);
      const b = new PasskeyChallenges(store, key, 300);
      const challenge = a.issue('signin', 'interaction-1');
      assert.equal(await b.take('signin', 'interaction-2', challenge), 'foreign');
      assert.equal(await b.take('register', 'interaction-1', challenge), 'foreign');
      const raced = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 ? a : b).take('signin', 'interaction-1', challenge),
        ),
      );
      assert.deepEqual(raced.filter((r) => r === undefined).length, 1, 'exactly one take succeeds');
      assert.equal(await a.take('signin', 'interaction-1', challenge), 'used');
      const other = new PasskeyChallenges(store, Buffer.alloc(32, 2), 300);
      assert.equal(
        await other.take('signin', 'interaction-1', a.issue('signin', 'interaction-1')),
        'foreign',
      );
      assert.equal(await a.take('signin', 'interaction-1', `${challenge}A`), 'malformed');
      assert.equal(await a.take('signin', 'interaction-1', 'not base64url!'), 'malformed');
    });

    it('refuses an expired challenge without touching the store', async () => {
      let now = Date.now();
      const challenges = new PasskeyChallenges(store, Buffer.alloc(32, 3), 60, () => now);
      const challenge = challenges.issue('signin', 'x');
      now += 61_000;
      assert.equal(await challenges.take('signin', 'x', challenge), 'expired');
      now -= 2_000;
      assert.equal(await challenges.take('signin', 'x', challenge), undefined);
    });
  });
}

describe('the passkey journey on a RedisStore', () => {
  it('adds a passkey on the page, signs in with it and removes it', async () => {
    const store = new RedisStore({ client: TEST_REDIS_URL, keyPrefix: `test:${randomUUID()}:` });
    stores.push(store);
    const server = await startWithPasskeys((o) => ({ ...o, store }));
    try {
      const browser = await signedInBrowser(server.issuer, 'otheruser');
      const authenticator = new SoftwareAuthenticator(server.issuer, { counts: true });
      const { add } = await passkeyPage(browser, server.issuer);
      assert.equal(
        (await postCredential(browser, add, authenticator.create(add.options))).status,
        303,
      );
      const [id] = authenticator.credentials.keys();
      assert.equal((await server.auth.passkeys.get(id as string))?.accountId, 'otheruser');

      const login = await passkeyLogin(server.issuer);
      const assertion = authenticator.get(login.form.options);
      const res = await postCredential(login.browser, login.form, assertion);
      assert.equal(res.status, 303);
      const callback = await followToApp(login.browser, res, login.form.action);
      assert.equal(await signedInAccount(server, login, callback), 'otheruser');
      // The same assertion again (its challenge used, its counter not above the stored one).
      const again = await passkeyLogin(server.issuer);
      const replay = await postCredential(again.browser, again.form, assertion);
      assert.equal(replay.status, 401);
      await replay.body?.cancel();

      assert.ok(await server.auth.passkeys.remove(id as string));
      assert.deepEqual(await server.auth.passkeys.list('otheruser'), []);
      const after = await passkeyLogin(server.issuer);
      const refused = await postCredential(
        after.browser,
        after.form,
        authenticator.get(after.form.options),
      );
      assert.equal(refused.status, 401);
      await refused.body?.cancel();
    } finally {
      await server.close();
    }
  });
});
