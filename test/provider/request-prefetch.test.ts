// Introspection (RFC 7662) and userinfo read a found token's grant and client ahead, within the
// request: a read ahead serves one find of its record in the same request and nothing else. No
// other request, no later find in the request, and no find after a write ever gets it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { RequestPrefetch } from '../../lib/provider/request-prefetch.js';
import { inRequestContext } from '../../lib/provider/token-endpoint-steps.js';

/** A request of oidc-provider's on `route`, its authenticated client `clientId`. */
const inRequest = <T>(route: string, run: () => Promise<T>, clientId?: string) =>
  inRequestContext({ oidc: { route, entities: clientId ? { Client: { clientId } } : {} } }, run);

/** An adapter over `records` counting its finds, one answer object per find (as a store's). */
function countingAdapter(records: Record<string, AdapterPayload>) {
  const finds: string[] = [];
  const adapter: Adapter = {
    async find(id) {
      finds.push(id);
      const record = records[id];
      return record && { ...record };
    },
    async upsert(id, payload) {
      records[id] = payload;
    },
    async destroy(id) {
      delete records[id];
    },
    async consume() {},
    async findByUid() {
      return undefined;
    },
    async findByUserCode() {
      return undefined;
    },
    async revokeByGrantId() {},
  };
  return { adapter, finds };
}

/** The three models a read ahead involves, wired as the engine wires them. */
function wired(staticClientIds: string[] = []) {
  const tokens = countingAdapter({
    at1: { grantId: 'g1', clientId: 'c1', accountId: 'alice' },
    at2: { grantId: 'g2', clientId: 'c2', accountId: 'bob' },
    static: { grantId: 'g1', clientId: 'rs', accountId: 'alice' },
    // A client credentials token: no account, so introspection never loads its client.
    cc: { clientId: 'c1' },
  });
  const grants = countingAdapter({
    g1: { clientId: 'c1', accountId: 'alice' },
    g2: { clientId: 'c2', accountId: 'bob' },
  });
  const clients = countingAdapter({ c1: { client_id: 'c1' }, c2: { client_id: 'c2' } });
  const prefetch = new RequestPrefetch(
    { Grant: grants.adapter, Client: clients.adapter },
    new Set(staticClientIds),
  );
  return {
    AccessToken: prefetch.adapter('AccessToken', tokens.adapter),
    Grant: prefetch.adapter('Grant', grants.adapter),
    Client: prefetch.adapter('Client', clients.adapter),
    grantFinds: grants.finds,
    clientFinds: clients.finds,
  };
}

describe('reading a token’s grant and client ahead', () => {
  it('at userinfo, the finds that follow the token’s take the reads started with it', async () => {
    const m = wired();
    await inRequest('userinfo', async () => {
      const token = await m.AccessToken.find('at1');
      // Started in the tick the token was found, before anyone asked.
      assert.deepEqual([m.grantFinds, m.clientFinds], [['g1'], ['c1']]);
      assert.deepEqual(await m.Client.find(token?.clientId as string), { client_id: 'c1' });
      assert.deepEqual(await m.Grant.find('g1'), { clientId: 'c1', accountId: 'alice' });
      assert.deepEqual([m.grantFinds, m.clientFinds], [['g1'], ['c1']]);
    });
  });

  it('serves one find only: the next find of the record in the request reads the store', async () => {
    const m = wired();
    await inRequest('introspection', async () => {
      await m.AccessToken.find('at1');
      await m.Grant.find('g1');
      await m.Grant.find('g1');
      assert.deepEqual(m.grantFinds, ['g1', 'g1']);
    });
  });

  it('a write of a grant or a client in the request drops every read ahead', async () => {
    type Wired = ReturnType<typeof wired>;
    const writes: Array<[(m: Wired) => Promise<void>, string | undefined]> = [
      [(m) => m.Grant.upsert('g1', { clientId: 'c1', accountId: 'eve' }), 'eve'],
      [(m) => m.Grant.destroy('g1'), undefined],
      [(m) => m.Client.destroy('c1'), 'alice'],
    ];
    for (const [write, accountAfter] of writes) {
      const m = wired();
      await inRequest('userinfo', async () => {
        await m.AccessToken.find('at1');
        await write(m);
        const grant = await m.Grant.find('g1');
        await m.Client.find('c1');
        // Read again after the write: what the store holds now, not what was read ahead.
        assert.deepEqual(m.grantFinds, ['g1', 'g1']);
        assert.deepEqual(m.clientFinds, ['c1', 'c1']);
        assert.equal(grant?.accountId, accountAfter);
      });
    }
  });

  it('never serves another request, even one running at the same time', async () => {
    const m = wired();
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    // Request A finds its token (reads ahead g1, c1) and waits; request B then finds g1 itself.
    const a = inRequest('userinfo', async () => {
      await m.AccessToken.find('at1');
      await held;
      return m.Grant.find('g1');
    });
    const b = inRequest('userinfo', async () => {
      await new Promise((resolve) => setImmediate(resolve));
      const grant = await m.Grant.find('g1');
      release();
      return grant;
    });
    await Promise.all([a, b]);
    // B read g1 from the store; A took its own read ahead.
    assert.deepEqual(m.grantFinds, ['g1', 'g1']);
  });

  it('reads nothing ahead elsewhere: other routes, no request, or a client not read from the store', async () => {
    const m = wired(['rs']);
    await inRequest('token', () => m.AccessToken.find('at1'));
    await m.AccessToken.find('at1');
    assert.deepEqual([m.grantFinds, m.clientFinds], [[], []]);
    // A static client is built from the configuration; the authenticated one is already loaded.
    await inRequest('introspection', () => m.AccessToken.find('static'));
    await inRequest('introspection', () => m.AccessToken.find('at2'), 'c2');
    await inRequest('introspection', () => m.AccessToken.find('cc'));
    assert.deepEqual(m.clientFinds, []);
    assert.deepEqual(m.grantFinds, ['g1', 'g2']);
  });

  it('a read ahead that fails fails the find it stands in for, and only that', async () => {
    const failing = new RequestPrefetch(
      {
        Grant: { ...brokenAdapter(), find: () => Promise.reject(new Error('down')) },
        Client: brokenAdapter(),
      },
      new Set(),
    );
    const tokens = failing.adapter('AccessToken', {
      ...brokenAdapter(),
      find: async () => ({ grantId: 'g1', clientId: 'c1' }),
    });
    const grants = failing.adapter('Grant', brokenAdapter());
    await inRequest('userinfo', async () => {
      await tokens.find('at1');
      await assert.rejects(grants.find('g1'), /down/);
    });
    // A read ahead nobody takes is no unhandled rejection (the test runner would fail on one).
    await inRequest('userinfo', () => tokens.find('at1'));
  });
});

/** An adapter whose every method fails: nothing else must be called. */
function brokenAdapter(): Adapter {
  const fail = () => Promise.reject(new Error('down'));
  return {
    find: fail,
    upsert: fail,
    destroy: fail,
    consume: fail,
    findByUid: fail,
    findByUserCode: fail,
    revokeByGrantId: fail,
  };
}
