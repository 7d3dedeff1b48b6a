import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describeStoreContract } from 'mobile-oidc-provider/testing';
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
