import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { AdapterPayload } from 'oidc-provider';
import { AlreadyConsumedError, type Store } from '../storage/store.js';

/**
 * How the contract suite gets a store and moves its time.
 *
 * @group Testing
 */
export interface StoreContractHooks {
  /** A fresh store (or a new connection to a shared one); the suite closes it after each test. */
  create(): Promise<Store>;
  /**
   * Lets `seconds` pass for `store`: moves an injected clock, or really waits for a store that
   * keeps real time. Every step the suite takes is at most a couple of seconds.
   */
  advanceTime(store: Store, seconds: number): Promise<void>;
}

/**
 * Describes, with `node:test`, the behaviour every {@link Store} must have: run it against your
 * own store (`node --test`) before handing it to `createAuthServer`. Ids, keys and index names are
 * random per test so the suite can run against a shared server without cleaning up.
 *
 * @example
 * ```ts
 * import { describeStoreContract } from 'mobile-oidc-provider/testing';
 * describeStoreContract('MyStore', {
 *   create: async () => new MyStore(),
 *   advanceTime: (_store, seconds) => new Promise((r) => setTimeout(r, seconds * 1000)),
 * });
 * ```
 * @group Testing
 */
export function describeStoreContract(name: string, hooks: StoreContractHooks): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    const later = (seconds: number) => hooks.advanceTime(store, seconds);
    const uid = () => randomUUID();

    beforeEach(async () => {
      store = await hooks.create();
    });
    afterEach(async () => {
      await store.close();
    });

    describe('adapter: upsert and find', () => {
      it('returns what was written', async () => {
        const adapter = store.adapter('AccessToken');
        const id = uid();
        const payload: AdapterPayload = {
          jti: id,
          accountId: 'alice',
          scope: 'openid offline_access',
          extra: { nested: { deep: [1, 2, 3] } },
        };
        await adapter.upsert(id, payload, 60);
        assert.deepEqual(await adapter.find(id), payload);
      });

      it('returns undefined for an unknown id', async () => {
        assert.equal(await store.adapter('AccessToken').find(uid()), undefined);
      });

      it('keeps a `__proto__` member (from a parsed request body) as data, never as a prototype', async () => {
        const adapter = store.adapter('Client');
        const id = uid();
        const payload = JSON.parse(
          `{"client_id":"${id}","__proto__":{"polluted":true},"nested":{"__proto__":{"admin":true}}}`,
        ) as AdapterPayload;
        await adapter.upsert(id, payload);
        const found = (await adapter.find(id)) as Record<string, unknown> & {
          nested: Record<string, unknown>;
        };
        assert.equal(Object.getPrototypeOf(found), Object.prototype);
        assert.equal(found.polluted, undefined);
        assert.equal(found.nested.admin, undefined);
        assert.ok(Object.hasOwn(found, '__proto__'));
        assert.deepEqual(JSON.parse(JSON.stringify(found)), JSON.parse(JSON.stringify(payload)));
      });

      it('keeps its own copy: mutating the written payload or a found one changes nothing', async () => {
        const adapter = store.adapter('Session');
        const id = uid();
        const payload: AdapterPayload = { jti: id, accountId: 'alice', amr: ['pwd'] };
        await adapter.upsert(id, payload);
        payload.amr?.push('changed after write');
        payload.accountId = 'changed after write';

        const found = await adapter.find(id);
        assert.deepEqual(found, { jti: id, accountId: 'alice', amr: ['pwd'] });
        assert.ok(found);
        found.amr?.push('changed after read');
        found.accountId = 'changed after read';
        assert.deepEqual(await adapter.find(id), { jti: id, accountId: 'alice', amr: ['pwd'] });
      });

      it('overwrites on a second upsert', async () => {
        const adapter = store.adapter('Grant');
        const id = uid();
        await adapter.upsert(id, { jti: id, accountId: 'alice' }, 60);
        await adapter.upsert(id, { jti: id, accountId: 'bob' }, 60);
        assert.deepEqual(await adapter.find(id), { jti: id, accountId: 'bob' });
      });

      it('keeps models apart: the same id in two models is two records', async () => {
        const id = uid();
        await store.adapter('AccessToken').upsert(id, { jti: id, kind: 'AccessToken' }, 60);
        await store.adapter('RefreshToken').upsert(id, { jti: id, kind: 'RefreshToken' }, 60);
        assert.equal((await store.adapter('AccessToken').find(id))?.kind, 'AccessToken');
        assert.equal((await store.adapter('RefreshToken').find(id))?.kind, 'RefreshToken');

        await store.adapter('AccessToken').destroy(id);
        assert.equal(await store.adapter('AccessToken').find(id), undefined);
        assert.equal((await store.adapter('RefreshToken').find(id))?.kind, 'RefreshToken');
      });
    });

    describe('adapter: expiry', () => {
      it('keeps a record until expiresIn has passed, then drops it; no expiresIn never expires', async () => {
        const adapter = store.adapter('AuthorizationCode');
        const expiring = uid();
        const lasting = uid();
        await adapter.upsert(expiring, { jti: expiring }, 1);
        await adapter.upsert(lasting, { jti: lasting });

        await later(0.5);
        assert.deepEqual(await adapter.find(expiring), { jti: expiring });

        await later(1);
        assert.equal(await adapter.find(expiring), undefined);
        assert.deepEqual(await adapter.find(lasting), { jti: lasting });
      });

      it('honours each record its own expiresIn', async () => {
        const adapter = store.adapter('AccessToken');
        const short = uid();
        const long = uid();
        await adapter.upsert(short, { jti: short }, 1);
        await adapter.upsert(long, { jti: long }, 3);

        await later(1.5);
        assert.equal(await adapter.find(short), undefined);
        assert.deepEqual(await adapter.find(long), { jti: long });
      });

      it('restarts the lifetime on overwrite', async () => {
        const adapter = store.adapter('Session');
        const id = uid();
        await adapter.upsert(id, { jti: id, uid: uid() }, 1);
        await adapter.upsert(id, { jti: id, uid: uid() }, 3);
        await later(1.5);
        assert.ok(await adapter.find(id));
      });

      it('hides expired records from findByUid and findByUserCode', async () => {
        const sessionUid = uid();
        const userCode = uid();
        await store.adapter('Session').upsert(uid(), { uid: sessionUid }, 1);
        await store.adapter('DeviceCode').upsert(uid(), { userCode }, 1);
        await later(1.5);
        assert.equal(await store.adapter('Session').findByUid(sessionUid), undefined);
        assert.equal(await store.adapter('DeviceCode').findByUserCode(userCode), undefined);
      });

      it('does not let the uid of an expired record reach its id rewritten later', async () => {
        const adapter = store.adapter('Session');
        const id = uid();
        const oldUid = uid();
        await adapter.upsert(id, { jti: id, uid: oldUid }, 1);
        await later(1.5);
        await adapter.upsert(id, { jti: id, uid: uid() });
        assert.equal(await adapter.findByUid(oldUid), undefined);
      });
    });

    describe('adapter: findByUid and findByUserCode', () => {
      it('finds a Session by its uid', async () => {
        const adapter = store.adapter('Session');
        const id = uid();
        const sessionUid = uid();
        await adapter.upsert(id, { jti: id, uid: sessionUid, accountId: 'alice' }, 60);
        assert.deepEqual(await adapter.findByUid(sessionUid), {
          jti: id,
          uid: sessionUid,
          accountId: 'alice',
        });
        assert.equal(await adapter.findByUid(uid()), undefined);
      });

      it('finds a DeviceCode by its user code', async () => {
        const adapter = store.adapter('DeviceCode');
        const id = uid();
        const userCode = uid();
        await adapter.upsert(id, { jti: id, userCode, clientId: 'app' }, 60);
        assert.deepEqual(await adapter.findByUserCode(userCode), {
          jti: id,
          userCode,
          clientId: 'app',
        });
        assert.equal(await adapter.findByUserCode(uid()), undefined);
      });

      it('returns copies from findByUid', async () => {
        const adapter = store.adapter('Session');
        const sessionUid = uid();
        await adapter.upsert(uid(), { uid: sessionUid, accountId: 'alice' }, 60);
        const found = await adapter.findByUid(sessionUid);
        assert.ok(found);
        found.accountId = 'mallory';
        assert.equal((await adapter.findByUid(sessionUid))?.accountId, 'alice');
      });

      it('drops the old uid and user code when an upsert changes them', async () => {
        const sessions = store.adapter('Session');
        const id = uid();
        const oldUid = uid();
        const newUid = uid();
        await sessions.upsert(id, { jti: id, uid: oldUid }, 60);
        await sessions.upsert(id, { jti: id, uid: newUid }, 60);
        assert.equal(await sessions.findByUid(oldUid), undefined);
        assert.equal((await sessions.findByUid(newUid))?.uid, newUid);

        const codes = store.adapter('DeviceCode');
        const codeId = uid();
        const oldCode = uid();
        const newCode = uid();
        await codes.upsert(codeId, { jti: codeId, userCode: oldCode }, 60);
        await codes.upsert(codeId, { jti: codeId, userCode: newCode }, 60);
        assert.equal(await codes.findByUserCode(oldCode), undefined);
        assert.equal((await codes.findByUserCode(newCode))?.userCode, newCode);
      });
    });

    describe('adapter: consume', () => {
      it('marks the record consumed and keeps the rest of it', async () => {
        const adapter = store.adapter('AuthorizationCode');
        const id = uid();
        await adapter.upsert(id, { jti: id, accountId: 'alice' }, 60);
        assert.ok(!(await adapter.find(id))?.consumed);

        await adapter.consume(id);
        const found = await adapter.find(id);
        assert.ok(found?.consumed, 'consumed must be truthy');
        assert.equal(typeof found.consumed, 'number');
        assert.equal(found.accountId, 'alice');
      });

      it('is seen through findByUserCode too', async () => {
        const adapter = store.adapter('DeviceCode');
        const id = uid();
        const userCode = uid();
        await adapter.upsert(id, { jti: id, userCode }, 60);
        await adapter.consume(id);
        assert.ok((await adapter.findByUserCode(userCode))?.consumed);
      });

      it('keeps the record expiring when it was written to', async () => {
        const adapter = store.adapter('RefreshToken');
        const id = uid();
        await adapter.upsert(id, { jti: id }, 1);
        await adapter.consume(id);
        await later(1.5);
        assert.equal(await adapter.find(id), undefined);
      });

      it('is atomic: of 20 concurrent consumes exactly one wins, the others reject', async () => {
        const adapter = store.adapter('RefreshToken');
        const id = uid();
        await adapter.upsert(id, { jti: id }, 60);
        const results = await Promise.allSettled(
          Array.from({ length: 20 }, () => adapter.consume(id)),
        );
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
        for (const r of results) {
          if (r.status === 'rejected') assert.ok(r.reason instanceof AlreadyConsumedError);
        }
      });

      it('is one-way: rewriting a consumed record without consumed leaves it consumed', async () => {
        const adapter = store.adapter('AuthorizationCode');
        const id = uid();
        await adapter.upsert(id, { jti: id, accountId: 'alice' }, 60);
        const copy = await adapter.find(id);
        await adapter.consume(id);
        // A copy read before the consume, written back: the replay of a stale writer.
        await adapter.upsert(id, { ...copy, accountId: 'alice' }, 60);
        assert.ok((await adapter.find(id))?.consumed);
        await assert.rejects(adapter.consume(id), AlreadyConsumedError);
      });

      it('does not create a record that does not exist', async () => {
        const adapter = store.adapter('AuthorizationCode');
        const id = uid();
        await adapter.consume(id);
        assert.equal(await adapter.find(id), undefined);
      });
    });

    describe('adapter: destroy', () => {
      it('removes the record and leaves others', async () => {
        const adapter = store.adapter('AccessToken');
        const gone = uid();
        const kept = uid();
        await adapter.upsert(gone, { jti: gone }, 60);
        await adapter.upsert(kept, { jti: kept }, 60);
        await adapter.destroy(gone);
        assert.equal(await adapter.find(gone), undefined);
        assert.deepEqual(await adapter.find(kept), { jti: kept });
      });

      it('is harmless for an unknown id', async () => {
        await store.adapter('AccessToken').destroy(uid());
      });

      it('cleans the uid index: the uid no longer reaches the id, even once it is rewritten', async () => {
        const adapter = store.adapter('Session');
        const id = uid();
        const sessionUid = uid();
        await adapter.upsert(id, { jti: id, uid: sessionUid }, 60);
        await adapter.destroy(id);
        assert.equal(await adapter.findByUid(sessionUid), undefined);

        await adapter.upsert(id, { jti: id, uid: uid() }, 60);
        assert.equal(await adapter.findByUid(sessionUid), undefined);
      });

      it('cleans the user code index: the code no longer reaches the id, even once it is rewritten', async () => {
        const adapter = store.adapter('DeviceCode');
        const id = uid();
        const userCode = uid();
        await adapter.upsert(id, { jti: id, userCode }, 60);
        await adapter.destroy(id);
        assert.equal(await adapter.findByUserCode(userCode), undefined);

        await adapter.upsert(id, { jti: id, userCode: uid() }, 60);
        assert.equal(await adapter.findByUserCode(userCode), undefined);
      });

      it('leaves a uid alone that another record has taken over', async () => {
        const adapter = store.adapter('Session');
        const first = uid();
        const second = uid();
        const sessionUid = uid();
        await adapter.upsert(first, { jti: first, uid: sessionUid }, 60);
        await adapter.upsert(second, { jti: second, uid: sessionUid }, 60);
        await adapter.destroy(first);
        assert.equal((await adapter.findByUid(sessionUid))?.jti, second);
      });
    });

    describe('adapter: revokeByGrantId', () => {
      it("removes every record of the grant in that model, and nothing of other grants' or models'", async () => {
        const grant = uid();
        const otherGrant = uid();
        const accessTokens = store.adapter('AccessToken');
        const refreshTokens = store.adapter('RefreshToken');
        const [a1, a2, a3, noGrant, r1] = [uid(), uid(), uid(), uid(), uid()];
        await accessTokens.upsert(a1, { jti: a1, grantId: grant }, 60);
        await accessTokens.upsert(a2, { jti: a2, grantId: grant });
        await accessTokens.upsert(a3, { jti: a3, grantId: otherGrant }, 60);
        await accessTokens.upsert(noGrant, { jti: noGrant }, 60);
        await refreshTokens.upsert(r1, { jti: r1, grantId: grant }, 60);

        await accessTokens.revokeByGrantId(grant);

        assert.equal(await accessTokens.find(a1), undefined);
        assert.equal(await accessTokens.find(a2), undefined);
        assert.deepEqual(await accessTokens.find(a3), { jti: a3, grantId: otherGrant });
        assert.deepEqual(await accessTokens.find(noGrant), { jti: noGrant });
        assert.deepEqual(await refreshTokens.find(r1), { jti: r1, grantId: grant });

        await refreshTokens.revokeByGrantId(grant);
        assert.equal(await refreshTokens.find(r1), undefined);
      });

      it('follows a record that an upsert moved to another grant', async () => {
        const adapter = store.adapter('AccessToken');
        const id = uid();
        const from = uid();
        const to = uid();
        await adapter.upsert(id, { jti: id, grantId: from }, 60);
        await adapter.upsert(id, { jti: id, grantId: to }, 60);

        await adapter.revokeByGrantId(from);
        assert.deepEqual(await adapter.find(id), { jti: id, grantId: to });
        await adapter.revokeByGrantId(to);
        assert.equal(await adapter.find(id), undefined);
      });

      it('does not revoke a record destroyed and rewritten without the grant', async () => {
        const adapter = store.adapter('AccessToken');
        const id = uid();
        const grant = uid();
        await adapter.upsert(id, { jti: id, grantId: grant }, 60);
        await adapter.destroy(id);
        await adapter.upsert(id, { jti: id }, 60);
        await adapter.revokeByGrantId(grant);
        assert.deepEqual(await adapter.find(id), { jti: id });
      });

      it("cleans the revoked records' user code index", async () => {
        const adapter = store.adapter('DeviceCode');
        const id = uid();
        const userCode = uid();
        const grant = uid();
        await adapter.upsert(id, { jti: id, userCode, grantId: grant }, 60);
        await adapter.revokeByGrantId(grant);
        assert.equal(await adapter.findByUserCode(userCode), undefined);

        await adapter.upsert(id, { jti: id, userCode: uid() }, 60);
        assert.equal(await adapter.findByUserCode(userCode), undefined);
      });

      it('works again for records of the grant written after a revocation', async () => {
        const adapter = store.adapter('RefreshToken');
        const grant = uid();
        const before = uid();
        const after = uid();
        await adapter.upsert(before, { jti: before, grantId: grant }, 60);
        await adapter.revokeByGrantId(grant);
        await adapter.upsert(after, { jti: after, grantId: grant }, 60);
        assert.ok(await adapter.find(after));
        await adapter.revokeByGrantId(grant);
        assert.equal(await adapter.find(after), undefined);
      });

      it('is harmless for an unknown grant', async () => {
        await store.adapter('AccessToken').revokeByGrantId(uid());
      });
    });

    describe('adapter: consume after a removal (tombstones)', () => {
      // The refresh reuse race made deterministic: request A reads a refresh token, another
      // request finds it reused and revokes its grant, then A consumes. A must lose, or it
      // answers with new tokens of a revoked grant (RFC 9700 §4.14.2: one use, then revocation).
      it('rejects the consume of a record read before its grant was revoked', async () => {
        const adapter = store.adapter('RefreshToken');
        const id = uid();
        const grant = uid();
        await adapter.upsert(id, { jti: id, grantId: grant }, 60);
        assert.ok(!(await adapter.find(id))?.consumed, 'A reads it unconsumed');

        await adapter.revokeByGrantId(grant);

        await assert.rejects(adapter.consume(id), AlreadyConsumedError);
        assert.equal(await adapter.find(id), undefined, 'revoked records stay unreadable');
      });

      it('control: a live record of another grant is consumed once after the revocation', async () => {
        const adapter = store.adapter('RefreshToken');
        const [revoked, live] = [uid(), uid()];
        const [grant, otherGrant] = [uid(), uid()];
        await adapter.upsert(revoked, { jti: revoked, grantId: grant }, 60);
        await adapter.upsert(live, { jti: live, grantId: otherGrant }, 60);
        await adapter.find(live);

        await adapter.revokeByGrantId(grant);

        await adapter.consume(live);
        assert.ok((await adapter.find(live))?.consumed);
        await assert.rejects(adapter.consume(live), AlreadyConsumedError);
      });

      it('rejects the consume of a consumed record that oidc-provider destroys as reused while revoking its grant', async () => {
        const adapter = store.adapter('RefreshToken');
        for (const order of ['together', 'destroy first', 'revoke first'] as const) {
          const id = uid();
          const grant = uid();
          await adapter.upsert(id, { jti: id, grantId: grant }, 60);
          await adapter.find(id); // request A reads it, unconsumed
          await adapter.consume(id); // request C rotates it
          // Request B presents it again: oidc-provider destroys it and revokes the grant.
          if (order === 'together') {
            await Promise.all([adapter.destroy(id), adapter.revokeByGrantId(grant)]);
          } else if (order === 'destroy first') {
            await adapter.destroy(id);
            await adapter.revokeByGrantId(grant);
          } else {
            await adapter.revokeByGrantId(grant);
            await adapter.destroy(id);
          }
          await assert.rejects(adapter.consume(id), AlreadyConsumedError, order);
          assert.equal(await adapter.find(id), undefined, order);
        }
      });

      it('keeps a consumed record consumed once destroyed; control: an unconsumed one leaves nothing', async () => {
        const adapter = store.adapter('AuthorizationCode');
        const [consumed, unused] = [uid(), uid()];
        await adapter.upsert(consumed, { jti: consumed }, 60);
        await adapter.upsert(unused, { jti: unused }, 60);
        await adapter.consume(consumed);

        await adapter.destroy(consumed);
        await adapter.destroy(unused);

        await assert.rejects(adapter.consume(consumed), AlreadyConsumedError);
        await adapter.consume(unused); // a missing record: nothing happens
        assert.equal(await adapter.find(unused), undefined);
        await adapter.upsert(unused, { jti: unused }, 60);
        assert.deepEqual(await adapter.find(unused), { jti: unused }, 'written anew, unconsumed');
      });

      it('is one-way: a revoked record written back (a copy read before) stays consumed', async () => {
        const adapter = store.adapter('RefreshToken');
        const id = uid();
        const grant = uid();
        await adapter.upsert(id, { jti: id, grantId: grant }, 60);
        const copy = await adapter.find(id);
        await adapter.revokeByGrantId(grant);

        await adapter.upsert(id, { ...copy }, 60);

        assert.ok((await adapter.find(id))?.consumed);
        await assert.rejects(adapter.consume(id), AlreadyConsumedError);
      });
    });

    describe('raiseCounter', () => {
      it('raises only to a greater value; a missing counter starts below 0', async () => {
        const key = `counter:${uid()}`;
        assert.equal(await store.raiseCounter(key, 0, 60), true);
        assert.equal(await store.raiseCounter(key, 0, 60), false);
        assert.equal(await store.raiseCounter(key, 5, 60), true);
        assert.equal(await store.raiseCounter(key, 3, 60), false);
        assert.equal(await store.raiseCounter(key, 5, 60), false);
        assert.equal(await store.raiseCounter(key, 6, 60), true);
      });

      it('of 20 concurrent raises to one value, exactly one succeeds', async () => {
        const key = `counter:${uid()}`;
        const results = await Promise.all(
          Array.from({ length: 20 }, () => store.raiseCounter(key, 7, 60)),
        );
        assert.equal(results.filter(Boolean).length, 1);
      });

      it('counts each key on its own', async () => {
        const a = `counter:${uid()}`;
        const b = `counter:${uid()}`;
        assert.equal(await store.raiseCounter(a, 1, 60), true);
        assert.equal(await store.raiseCounter(b, 1, 60), true);
      });
    });

    describe('claim and claimHolder', () => {
      it('of 20 concurrent claimants exactly one wins, and every call names the winner', async () => {
        const key = `claim:${uid()}`;
        const claimants: string[] = Array.from({ length: 20 }, () => uid());
        const holders = await Promise.all(claimants.map((c) => store.claim(key, c, 60)));
        const winner = holders[0];
        assert.ok(winner && claimants.includes(winner));
        assert.deepEqual(new Set(holders), new Set([winner]));
        assert.equal(await store.claimHolder(key), winner);
      });

      it('keeps the claim for its holder: claiming again returns it', async () => {
        const key = `claim:${uid()}`;
        assert.equal(await store.claim(key, 'first', 60), 'first');
        assert.equal(await store.claim(key, 'first', 60), 'first');
        assert.equal(await store.claim(key, 'second', 60), 'first');
      });

      it('names nobody for an unclaimed key, and claims each key on its own', async () => {
        const a = `claim:${uid()}`;
        const b = `claim:${uid()}`;
        assert.equal(await store.claimHolder(a), undefined);
        assert.equal(await store.claim(a, 'x', 60), 'x');
        assert.equal(await store.claim(b, 'y', 60), 'y');
        assert.equal(await store.claimHolder(b), 'y');
      });

      it('frees the name after its TTL; claiming again does not extend it', async () => {
        const key = `claim:${uid()}`;
        assert.equal(await store.claim(key, 'first', 2), 'first');
        // Well within the first TTL (a real clock on a busy machine can stall a few hundred ms).
        await later(0.2);
        assert.equal(await store.claim(key, 'first', 60), 'first');
        await later(2);
        assert.equal(await store.claimHolder(key), undefined);
        assert.equal(await store.claim(key, 'second', 60), 'second');
      });
    });

    describe('replaceClaim', () => {
      it('makes the claimant the holder whoever held it, and returns who did', async () => {
        const key = `claim:${uid()}`;
        assert.equal(await store.replaceClaim(key, 'first', 60), undefined);
        assert.equal(await store.claimHolder(key), 'first');
        assert.equal(await store.replaceClaim(key, 'second', 60), 'first');
        assert.equal(await store.claimHolder(key), 'second');
        // A claim taken by `claim` is replaced alike, and `claim` then sees the new holder.
        assert.equal(await store.claim(key, 'third', 60), 'second');
      });

      it('of 20 concurrent replacements each displaces a different holder: one line, one last holder', async () => {
        const key = `claim:${uid()}`;
        assert.equal(await store.claim(key, 'start', 60), 'start');
        const claimants: string[] = Array.from({ length: 20 }, () => uid());
        const previous = await Promise.all(claimants.map((c) => store.replaceClaim(key, c, 60)));
        // Every holder but the last was displaced exactly once, and nobody twice.
        const last = await store.claimHolder(key);
        assert.ok(last && claimants.includes(last));
        assert.equal(new Set(previous).size, 20);
        assert.deepEqual(
          new Set(previous),
          new Set(['start', ...claimants.filter((c) => c !== last)]),
        );
      });

      it('keeps the claim its TTL from the replacement, then frees the name', async () => {
        const key = `claim:${uid()}`;
        assert.equal(await store.claim(key, 'first', 1), 'first');
        assert.equal(await store.replaceClaim(key, 'second', 2), 'first');
        // Past the first claim's TTL, within the replacement's.
        await later(1.1);
        assert.equal(await store.claimHolder(key), 'second');
        await later(1);
        assert.equal(await store.claimHolder(key), undefined);
        assert.equal(await store.replaceClaim(key, 'third', 60), undefined);
      });
    });

    describe('takeUse and returnUse', () => {
      it('gives exactly one of 20 concurrent takes when maxUses is 1', async () => {
        const key = `use:${uid()}`;
        const results = await Promise.all(
          Array.from({ length: 20 }, () => store.takeUse(key, 1, 60)),
        );
        assert.equal(results.filter(Boolean).length, 1);
      });

      it('gives exactly three of 20 concurrent takes when maxUses is 3', async () => {
        const key = `use:${uid()}`;
        const results = await Promise.all(
          Array.from({ length: 20 }, () => store.takeUse(key, 3, 60)),
        );
        assert.equal(results.filter(Boolean).length, 3);
        assert.equal(await store.takeUse(key, 3, 60), false);
      });

      it('counts each key on its own', async () => {
        const a = `use:${uid()}`;
        const b = `use:${uid()}`;
        assert.equal(await store.takeUse(a, 1, 60), true);
        assert.equal(await store.takeUse(b, 1, 60), true);
        assert.equal(await store.takeUse(a, 1, 60), false);
      });

      it('lets a returned use be taken again, once', async () => {
        const key = `use:${uid()}`;
        assert.equal(await store.takeUse(key, 1, 60), true);
        assert.equal(await store.takeUse(key, 1, 60), false);
        await store.returnUse(key);
        assert.equal(await store.takeUse(key, 1, 60), true);
        assert.equal(await store.takeUse(key, 1, 60), false);
      });

      it('never raises the available uses above maxUses', async () => {
        const key = `use:${uid()}`;
        await store.returnUse(key);
        assert.equal(await store.takeUse(key, 1, 60), true);
        await store.returnUse(key);
        await store.returnUse(key);
        await store.returnUse(key);
        assert.equal(await store.takeUse(key, 1, 60), true);
        assert.equal(await store.takeUse(key, 1, 60), false);
      });

      it('forgets the count once its TTL has passed, not before', async () => {
        const key = `use:${uid()}`;
        // A 2 s count checked at 0.2 s: room for a clock stalled by a loaded machine.
        assert.equal(await store.takeUse(key, 1, 2), true);
        await later(0.2);
        assert.equal(await store.takeUse(key, 1, 2), false);
        await later(2.1);
        assert.equal(await store.takeUse(key, 1, 2), true);
      });
    });

    describe('indexes', () => {
      it('adds, reads and deletes members', async () => {
        const index = `index:${uid()}`;
        await store.addToIndex(index, 'a', 60);
        await store.addToIndex(index, 'b', undefined);
        await store.addToIndex(index, 'a', 60);
        assert.deepEqual((await store.readIndex(index)).sort(), ['a', 'b']);

        await store.deleteIndex(index);
        assert.deepEqual(await store.readIndex(index), []);
      });

      it('reads an unknown index as empty, and deletes it harmlessly', async () => {
        const index = `index:${uid()}`;
        assert.deepEqual(await store.readIndex(index), []);
        await store.deleteIndex(index);
      });

      it('keeps indexes apart', async () => {
        const one = `index:${uid()}`;
        const two = `index:${uid()}`;
        await store.addToIndex(one, 'a', 60);
        await store.addToIndex(two, 'b', 60);
        await store.deleteIndex(one);
        assert.deepEqual(await store.readIndex(two), ['b']);
      });

      it('stops returning a member once its TTL has passed, not before', async () => {
        const index = `index:${uid()}`;
        await store.addToIndex(index, 'short', 1);
        await store.addToIndex(index, 'long', 3);
        await store.addToIndex(index, 'forever', undefined);

        await later(0.5);
        assert.deepEqual((await store.readIndex(index)).sort(), ['forever', 'long', 'short']);
        await later(1);
        assert.deepEqual((await store.readIndex(index)).sort(), ['forever', 'long']);
      });

      it('never shortens: a shorter-lived member added later does not cut the set short', async () => {
        const index = `index:${uid()}`;
        await store.addToIndex(index, 'long', 3);
        await store.addToIndex(index, 'short', 1);
        await later(1.5);
        assert.deepEqual(await store.readIndex(index), ['long']);
      });

      it('never shortens: re-adding a member with a shorter TTL keeps the longer one', async () => {
        const index = `index:${uid()}`;
        await store.addToIndex(index, 'a', 3);
        await store.addToIndex(index, 'a', 1);
        await store.addToIndex(index, 'b', undefined);
        await store.addToIndex(index, 'b', 1);
        await later(1.5);
        assert.deepEqual((await store.readIndex(index)).sort(), ['a', 'b']);
      });

      it('extends: re-adding a member with a longer TTL keeps it longer', async () => {
        const index = `index:${uid()}`;
        await store.addToIndex(index, 'a', 1);
        await store.addToIndex(index, 'a', 3);
        await later(1.5);
        assert.deepEqual(await store.readIndex(index), ['a']);
      });

      it('takes members again after a delete', async () => {
        const index = `index:${uid()}`;
        await store.addToIndex(index, 'old', undefined);
        await store.deleteIndex(index);
        await store.addToIndex(index, 'new', 60);
        assert.deepEqual(await store.readIndex(index), ['new']);
      });
    });

    describe('removeFromIndex', () => {
      it('removes only that member', async () => {
        const index = `index:${uid()}`;
        const other = `index:${uid()}`;
        await store.addToIndex(index, 'a', 60);
        await store.addToIndex(index, 'b', undefined);
        await store.addToIndex(index, 'c', 60);
        await store.addToIndex(other, 'b', 60);
        await store.removeFromIndex(index, 'b');
        assert.deepEqual((await store.readIndex(index)).sort(), ['a', 'c']);
        assert.deepEqual(await store.readIndex(other), ['b'], 'another index keeps its member');
      });

      it('is a no-op for a member or an index that does not exist', async () => {
        const index = `index:${uid()}`;
        await store.addToIndex(index, 'a', 60);
        await store.removeFromIndex(index, 'missing');
        assert.deepEqual(await store.readIndex(index), ['a']);

        const unknown = `index:${uid()}`;
        await store.removeFromIndex(unknown, 'a');
        assert.deepEqual(await store.readIndex(unknown), []);
      });

      it('leaves an empty index once its last member is removed, which takes members again', async () => {
        const index = `index:${uid()}`;
        await store.addToIndex(index, 'a', 60);
        await store.addToIndex(index, 'b', undefined);
        await store.removeFromIndex(index, 'a');
        await store.removeFromIndex(index, 'b');
        assert.deepEqual(await store.readIndex(index), []);
        await store.removeFromIndex(index, 'b');
        await store.deleteIndex(index);

        await store.addToIndex(index, 'c', 60);
        assert.deepEqual(await store.readIndex(index), ['c']);
      });
    });

    // Rate limits keep real time in every store (rate-limiter-flexible's own clock), so the one
    // window test really waits.
    describe('consumeRate', () => {
      it('allows exactly `points` attempts per window, then refuses with a Retry-After', async () => {
        const key = `rate:${uid()}`;
        const limit = { points: 3, duration: 60 };
        for (let i = 0; i < 3; i += 1) {
          assert.equal((await store.consumeRate(key, limit)).allowed, true, `attempt ${i + 1}`);
        }
        for (let i = 0; i < 2; i += 1) {
          const refused = await store.consumeRate(key, limit);
          assert.equal(refused.allowed, false);
          assert.ok(Number.isInteger(refused.retryAfterSeconds), String(refused.retryAfterSeconds));
          assert.ok(
            refused.retryAfterSeconds >= 1 && refused.retryAfterSeconds <= 60,
            `retryAfterSeconds ${refused.retryAfterSeconds}`,
          );
        }
      });

      it('counts each key on its own', async () => {
        const a = `rate:${uid()}`;
        const b = `rate:${uid()}`;
        const limit = { points: 1, duration: 60 };
        assert.equal((await store.consumeRate(a, limit)).allowed, true);
        assert.equal((await store.consumeRate(a, limit)).allowed, false);
        assert.equal((await store.consumeRate(b, limit)).allowed, true);
        assert.equal((await store.consumeRate(b, limit)).allowed, false);
      });

      it('allows again in a new window', async () => {
        const key = `rate:${uid()}`;
        const limit = { points: 2, duration: 1 };
        assert.equal((await store.consumeRate(key, limit)).allowed, true);
        assert.equal((await store.consumeRate(key, limit)).allowed, true);
        const refused = await store.consumeRate(key, limit);
        assert.equal(refused.allowed, false);
        assert.equal(refused.retryAfterSeconds, 1);

        await later(1.1);
        assert.equal((await store.consumeRate(key, limit)).allowed, true);
        assert.equal((await store.consumeRate(key, limit)).allowed, true);
        assert.equal((await store.consumeRate(key, limit)).allowed, false);
      });

      it('is atomic: of 20 concurrent attempts with 5 points exactly 5 are allowed', async () => {
        const key = `rate:${uid()}`;
        const limit = { points: 5, duration: 60 };
        const decisions = await Promise.all(
          Array.from({ length: 20 }, () => store.consumeRate(key, limit)),
        );
        assert.equal(decisions.filter((d) => d.allowed).length, 5);
        for (const d of decisions.filter((d) => !d.allowed)) {
          assert.ok(
            d.retryAfterSeconds >= 1 && d.retryAfterSeconds <= 60,
            String(d.retryAfterSeconds),
          );
        }
        assert.equal((await store.consumeRate(key, limit)).allowed, false);
      });

      it('reads without counting with points 0: a peek never uses up the limit', async () => {
        const key = `rate:${uid()}`;
        const limit = { points: 2, duration: 60 };
        // An unknown key: allowed, nothing to wait for, and nothing is created by reading.
        for (let i = 0; i < 5; i += 1) {
          assert.deepEqual(await store.consumeRate(key, limit, 0), {
            allowed: true,
            retryAfterSeconds: 0,
          });
        }
        assert.equal((await store.consumeRate(key, limit)).allowed, true);
        for (let i = 0; i < 5; i += 1) {
          const peek = await store.consumeRate(key, limit, 0);
          assert.equal(peek.allowed, true, `peek ${i + 1} after one attempt`);
          assert.ok(peek.retryAfterSeconds >= 1 && peek.retryAfterSeconds <= 60);
        }
        // Peeks counted nothing: the second real attempt is still within the limit.
        assert.equal((await store.consumeRate(key, limit)).allowed, true);
      });

      it('says limited on a peek once `points` attempts were counted, with a Retry-After', async () => {
        const key = `rate:${uid()}`;
        const limit = { points: 3, duration: 60 };
        for (let i = 0; i < 3; i += 1) {
          assert.equal((await store.consumeRate(key, limit, 0)).allowed, true, `before ${i + 1}`);
          assert.equal((await store.consumeRate(key, limit)).allowed, true, `attempt ${i + 1}`);
        }
        const peek = await store.consumeRate(key, limit, 0);
        assert.equal(peek.allowed, false);
        assert.ok(Number.isInteger(peek.retryAfterSeconds), String(peek.retryAfterSeconds));
        assert.ok(peek.retryAfterSeconds >= 1 && peek.retryAfterSeconds <= 60);
        // Other keys are untouched.
        assert.equal((await store.consumeRate(`rate:${uid()}`, limit, 0)).allowed, true);
      });

      it('allows again on a peek in a new window', async () => {
        const key = `rate:${uid()}`;
        const limit = { points: 1, duration: 1 };
        assert.equal((await store.consumeRate(key, limit)).allowed, true);
        assert.equal((await store.consumeRate(key, limit, 0)).allowed, false);
        await later(1.1);
        assert.equal((await store.consumeRate(key, limit, 0)).allowed, true);
      });
    });

    describe('ping and describe (optional)', () => {
      it('ping, when the store has it, resolves while the store is up', async () => {
        if (typeof store.ping !== 'function') return;
        await store.ping();
      });

      it('describe, when the store has it, names the store in a non-empty string', () => {
        if (typeof store.describe !== 'function') return;
        const described = store.describe();
        assert.equal(typeof described, 'string');
        assert.notEqual(described, '');
      });
    });
  });
}
