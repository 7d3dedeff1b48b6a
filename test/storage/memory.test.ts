import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describeStoreContract } from 'mobile-oidc-provider/testing';
import Provider, { type AdapterPayload } from 'oidc-provider';
import { MemoryStore } from '../../adapters/memory.js';
import { AlreadyConsumedError } from '../../lib/storage/store.js';
import { dateNow, passDate, restoreDate } from '../helpers/clock.js';

/** A clock the test moves by hand; it starts at the real time so epoch seconds look real. */
function fakeClock() {
  let now = Date.now();
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

// Time passes at once for the store's clock and for what reads Date.now() (its rate limiter).
afterEach(restoreDate);
describeStoreContract('MemoryStore', {
  create: async () => new MemoryStore({ now: dateNow }),
  advanceTime: async (_store, seconds) => {
    passDate(seconds * 1000);
  },
});

describe('MemoryStore', () => {
  it("keeps a revoked record's tombstone as long as the record would have lived, then forgets it", async () => {
    const clock = fakeClock();
    const store = new MemoryStore({ now: clock.now });
    const tokens = store.adapter('RefreshToken');
    await tokens.upsert('rt', { jti: 'rt', grantId: 'g' }, 30);
    await tokens.revokeByGrantId('g');

    clock.advance(29_000);
    await assert.rejects(tokens.consume('rt'), AlreadyConsumedError);

    clock.advance(1_000);
    await tokens.consume('rt'); // gone for good: a missing record, nothing happens
    await tokens.upsert('rt', { jti: 'rt' }, 30);
    assert.deepEqual(await tokens.find('rt'), { jti: 'rt' });
    await store.close();
  });

  it('returns the same adapter object for the same model name', async () => {
    const store = new MemoryStore();
    try {
      assert.equal(store.adapter('AccessToken'), store.adapter('AccessToken'));
      assert.notEqual(store.adapter('AccessToken'), store.adapter('RefreshToken'));
    } finally {
      await store.close();
    }
  });

  it('keeps every record: 5000 records, no LRU eviction', async () => {
    const store = new MemoryStore();
    try {
      const adapter = store.adapter('AccessToken');
      for (let i = 0; i < 5000; i++) await adapter.upsert(`t${i}`, { jti: `t${i}` }, 3600);
      assert.equal(store.size, 5000);
      for (let i = 0; i < 5000; i++) {
        assert.deepEqual(await adapter.find(`t${i}`), { jti: `t${i}` }, `t${i} was evicted`);
      }
    } finally {
      await store.close();
    }
  });

  it('expires a record exactly at expiresIn', async () => {
    const clock = fakeClock();
    const store = new MemoryStore({ now: clock.now });
    try {
      const adapter = store.adapter('AccessToken');
      await adapter.upsert('t', { jti: 't' }, 10);
      clock.advance(9_999);
      assert.ok(await adapter.find('t'));
      clock.advance(1);
      assert.equal(await adapter.find('t'), undefined);
    } finally {
      await store.close();
    }
  });

  it('stamps consumed with the clock in epoch seconds', async () => {
    const clock = fakeClock();
    const store = new MemoryStore({ now: clock.now });
    try {
      const adapter = store.adapter('AuthorizationCode');
      await adapter.upsert('c', { jti: 'c' }, 60);
      clock.advance(5_000);
      await adapter.consume('c');
      assert.equal((await adapter.find('c'))?.consumed, Math.floor(clock.now() / 1000));
    } finally {
      await store.close();
    }
  });

  it('sweeps expired records out of memory without anyone reading them', async () => {
    const clock = fakeClock();
    const store = new MemoryStore({ now: clock.now, sweepIntervalMs: 5 });
    try {
      const adapter = store.adapter('AccessToken');
      await adapter.upsert('expiring', { jti: 'expiring', grantId: 'g' }, 1);
      await adapter.upsert('lasting', { jti: 'lasting' });
      await store.takeUse('use', 1, 1);
      await store.addToIndex('index', 'member', 1);
      assert.equal(store.size, 2);

      clock.advance(1_500);
      await sleep(50);
      assert.equal(store.size, 1);
      assert.deepEqual(await adapter.find('lasting'), { jti: 'lasting' });
      // The swept use count is gone too: the key can be taken afresh.
      assert.equal(await store.takeUse('use', 1, 1), true);
    } finally {
      await store.close();
    }
  });

  it('stops sweeping on close()', async () => {
    const clock = fakeClock();
    const store = new MemoryStore({ now: clock.now, sweepIntervalMs: 5 });
    await store.adapter('AccessToken').upsert('t', { jti: 't' }, 1);
    await store.close();
    clock.advance(1_500);
    await sleep(50);
    assert.equal(store.size, 1, 'the sweep still ran after close()');
    await store.close(); // a second close is harmless
  });

  it('does not keep the process alive, even when never closed', async () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const script = [
      "import { MemoryStore } from './adapters/memory.ts';",
      'new MemoryStore({ sweepIntervalMs: 10 });',
    ].join('\n');
    await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '--eval', script],
      { cwd: root, timeout: 20_000 },
    );
  });

  it('refuses a sweep interval that is not a positive number', () => {
    for (const sweepIntervalMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => new MemoryStore({ sweepIntervalMs }), RangeError);
    }
  });
});

/** What Redis would give back for `payload`: the JSON round trip the store must match. */
const throughJson = (payload: unknown): unknown => JSON.parse(JSON.stringify(payload));

describe('MemoryStore: what a write keeps', () => {
  /** Payloads whose JSON form is not themselves, each under its own record id. */
  function trickyPayloads(): Record<string, AdapterPayload> {
    class Token {
      own = 'kept';
      get derived() {
        return 'a getter on the prototype: not an own key, dropped';
      }
    }
    const nullPrototype = Object.assign(Object.create(null) as object, { kept: 1 });
    const getters = Object.defineProperty({ plain: 1 }, 'computed', {
      get: () => ({ at: new Date(0) }),
      enumerable: true,
    });
    Object.defineProperty(getters, 'hidden', { value: 'not enumerable', enumerable: false });
    const holey: unknown[] = [1];
    holey[2] = 3; // index 1 is a hole, which JSON turns into null
    const withNamedMember = Object.assign([1, 2], { named: 'dropped' });
    return {
      dropped: {
        gone: undefined,
        fn: () => 1,
        sym: Symbol('s'),
        [Symbol('key')]: 'symbol keys are dropped',
        kept: 'x',
      },
      numbers: {
        nan: Number.NaN,
        inf: Number.POSITIVE_INFINITY,
        ninf: -Infinity,
        negZero: -0,
        n: 1.5,
      },
      arrays: {
        arr: [undefined, () => 1, Symbol('s'), Number.NaN, -0, 'x'],
        holey,
        withNamedMember,
      },
      nested: { a: [[{ b: [undefined] }]], empty: {}, emptyArray: [] },
      toJSON: {
        date: new Date(1_700_000_000_000),
        dates: [new Date(0)],
        keyed: { toJSON: (key: string) => `under ${key}` },
        inArray: [{ toJSON: (key: string) => `at ${key}` }],
        toNothing: { toJSON: () => undefined },
        toObject: { toJSON: () => ({ when: new Date(5), gone: undefined }) },
        notAFunction: { toJSON: 'a string, kept as data' },
        fnWithToJSON: Object.assign(() => 1, { toJSON: () => 'a function that says what it is' }),
        buffer: Buffer.from('hi'),
      },
      objects: {
        instance: new Token(),
        nullPrototype,
        getters,
        map: new Map([['a', 1]]),
        set: new Set([1]),
        typed: new Uint8Array([1, 2]),
        regexp: /x/g,
        error: new Error('message is not enumerable'),
      },
      boxed: {
        n: Object(3),
        s: Object('s'),
        b: Object(false),
        swapped: Object.setPrototypeOf(Object(7), Object.prototype),
      },
      prototypeKeys: JSON.parse(
        '{"__proto__":{"polluted":true},"nested":{"__proto__":{"admin":true}},"list":[{"__proto__":{"x":1}}]}',
      ),
      numericKeys: { b: 1, 2: 'two', a: 2, 1: 'one', '-1': 'minus one' },
    } as unknown as Record<string, AdapterPayload>;
  }

  it('stores exactly what a JSON round trip gives, as Redis would, on tricky values', async () => {
    const store = new MemoryStore();
    try {
      const adapter = store.adapter('Client');
      for (const [id, payload] of Object.entries(trickyPayloads())) {
        await adapter.upsert(id, payload);
        const found = await adapter.find(id);
        // Strict: prototypes, -0 against 0 and holes count; the text compares key order too.
        assert.deepStrictEqual(found, throughJson(payload), id);
        assert.equal(JSON.stringify(found), JSON.stringify(payload), id);
      }
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    } finally {
      await store.close();
    }
  });

  it('refuses what JSON refuses (a cycle, a BigInt) and leaves the record it would replace', async () => {
    const store = new MemoryStore();
    try {
      const adapter = store.adapter('Grant');
      await adapter.upsert('g', { jti: 'g', accountId: 'alice' }, 60);
      const cyclic: Record<string, unknown> = { jti: 'g', openid: {} };
      (cyclic.openid as Record<string, unknown>).back = cyclic;
      await assert.rejects(adapter.upsert('g', cyclic as AdapterPayload, 60), TypeError);
      await assert.rejects(
        adapter.upsert('g', { jti: 'g', big: 1n } as unknown as AdapterPayload, 60),
        TypeError,
      );
      assert.deepEqual(await adapter.find('g'), { jti: 'g', accountId: 'alice' });
      // The same object twice, side by side, is no cycle.
      const shared = { scope: 'openid' };
      await adapter.upsert('g', { jti: 'g', openid: shared, rejected: { openid: shared } }, 60);
      assert.deepEqual(
        await adapter.find('g'),
        throughJson({ jti: 'g', openid: shared, rejected: { openid: shared } }),
      );
    } finally {
      await store.close();
    }
  });

  it('keeps a revoked record spent when its write-back is refused', async () => {
    const store = new MemoryStore();
    try {
      const adapter = store.adapter('RefreshToken');
      await adapter.upsert('rt', { jti: 'rt', grantId: 'g' }, 60);
      await adapter.revokeByGrantId('g');
      const cyclic: Record<string, unknown> = { jti: 'rt' };
      cyclic.self = cyclic;
      await assert.rejects(adapter.upsert('rt', cyclic as AdapterPayload, 60), TypeError);
      await assert.rejects(adapter.consume('rt'), AlreadyConsumedError);
    } finally {
      await store.close();
    }
  });
});

describe('MemoryStore: no mutation leaks between requests', () => {
  /** Grant-like: oidc-provider adds to `openid`, `resources` and `rejected` of a loaded grant. */
  const grant = (): AdapterPayload => ({
    jti: 'grant',
    kind: 'Grant',
    accountId: 'alice',
    clientId: 'app',
    openid: { scope: 'openid offline_access', claims: ['email'] },
    resources: { 'https://api.example.com': 'read' },
    rejected: { openid: { scope: 'profile' } },
  });
  /** Session-like: oidc-provider writes into `authorizations[clientId]` of a loaded session. */
  const session = (): AdapterPayload => ({
    jti: 'session',
    kind: 'Session',
    uid: 'session-uid',
    accountId: 'alice',
    amr: ['pwd'],
    authorizations: { app: { sid: 'sid-1', grantId: 'grant', persistsLogout: false } },
  });

  /** The parts of both shapes that {@link mutateDeeply} reaches into. */
  interface ReachablePayload {
    accountId: string;
    openid?: { scope: string; claims: string[] };
    resources: Record<string, string>;
    rejected: { openid?: { scope: string } };
    authorizations?: Record<string, Record<string, unknown>>;
    amr: string[];
  }

  /** Changes every nested object and array of a Grant- or Session-like payload, and its top. */
  function mutateDeeply(payload: AdapterPayload): void {
    const p = payload as unknown as ReachablePayload;
    p.accountId = 'mallory';
    if (p.openid) {
      p.openid.scope += ' admin';
      p.openid.claims.push('phone');
      p.resources['https://api.example.com'] = 'read write';
      p.resources['https://other.example.com'] = 'all';
      if (p.rejected.openid) p.rejected.openid.scope = '';
      delete p.rejected.openid;
    }
    if (p.authorizations) {
      const app = p.authorizations.app as Record<string, unknown>;
      app.grantId = 'stolen';
      app.persistsLogout = true;
      p.authorizations.other = { sid: 'sid-2' };
      p.amr.push('changed');
    }
  }

  for (const [name, shape] of [
    ['Grant', grant],
    ['Session', session],
  ] as const) {
    it(`a ${name}: mutating the written payload changes nothing stored`, async () => {
      const store = new MemoryStore();
      try {
        const adapter = store.adapter(name);
        const payload = shape();
        await adapter.upsert(String(payload.jti), payload, 60);
        mutateDeeply(payload);
        assert.deepEqual(await adapter.find(String(payload.jti)), shape());
      } finally {
        await store.close();
      }
    });

    it(`a ${name}: mutating a found payload changes nothing for the next find, nor for another found one`, async () => {
      const store = new MemoryStore();
      try {
        const adapter = store.adapter(name);
        const id = String(shape().jti);
        await adapter.upsert(id, shape(), 60);
        const first = await adapter.find(id);
        const second = await adapter.find(id);
        assert.ok(first && second);
        mutateDeeply(first);
        assert.deepEqual(second, shape(), 'a copy found earlier saw a later change');
        assert.deepEqual(await adapter.find(id), shape(), 'the stored record changed');
        if (name === 'Session') {
          const byUid = await adapter.findByUid('session-uid');
          assert.ok(byUid);
          mutateDeeply(byUid);
          assert.deepEqual(await adapter.findByUid('session-uid'), shape());
        }
      } finally {
        await store.close();
      }
    });
  }

  it("through oidc-provider's own models: a grant or session changed after save or after find stays as saved", async () => {
    const store = new MemoryStore();
    const provider = new Provider('http://127.0.0.1', {
      adapter: (name: string) => store.adapter(name),
    });
    try {
      const saved = new provider.Grant({ accountId: 'alice', clientId: 'app' });
      saved.addOIDCScope('openid');
      saved.addResourceScope('https://api.example.com', 'read');
      const grantId = await saved.save();
      saved.addOIDCScope('admin'); // after the save: not written
      const found = await provider.Grant.find(grantId);
      assert.ok(found);
      found.addOIDCScope('offline_access'); // a legitimate change of a loaded grant: no throw
      found.addResourceScope('https://api.example.com', 'write');
      found.rejectOIDCScope('profile');
      const again = await provider.Grant.find(grantId);
      assert.equal(again?.getOIDCScope(), 'openid');
      assert.equal(again?.getResourceScope('https://api.example.com'), 'read');
      assert.equal(again?.rejected, undefined);

      const sessionRecord = new provider.Session();
      sessionRecord.accountId = 'alice';
      sessionRecord.grantIdFor('app', grantId);
      await sessionRecord.save(60);
      const loaded = await provider.Session.findByUid(sessionRecord.uid);
      assert.ok(loaded);
      loaded.grantIdFor('app', 'another grant');
      loaded.sidFor('other-app', 'sid');
      const reloaded = await provider.Session.findByUid(sessionRecord.uid);
      assert.equal(reloaded?.grantIdFor('app'), grantId);
      assert.deepEqual(Object.keys(reloaded?.authorizations ?? {}), ['app']);
    } finally {
      await store.close();
    }
  });
});
