// Liveness and readiness (issue #28): `/healthz` answers whenever the process serves; `/readyz`
// answers 200 only when the store answers within a second and the signing keys are loaded, never
// hangs, never piles up store calls, and never says more than a fixed reason. The start-up log
// names the store in use, without its password.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Cluster, Redis } from 'ioredis';
import Koa from 'koa';
import mount from 'koa-mount';
import {
  type AuthServer,
  createAuthServer,
  generateKeys,
  type Logger,
  MemoryStore,
  type ServerKeys,
  type Store,
} from 'mobile-oidc-provider';
import { describeRedis } from '../../adapters/redis-describe.js';
import { Readiness } from '../../lib/health/readiness.js';
import { testServerOptions } from '../helpers/fixture.js';
import { json } from '../helpers/json.js';
import { type Listening, listen } from '../helpers/listen.js';

const PASSWORD = 'hunter2-store-password';

/** A memory store whose ping the test steers: answers, fails with a revealing error, or hangs. */
class SteeredStore extends MemoryStore {
  pings = 0;
  mode: 'answer' | 'fail' | 'hang' = 'answer';
  #hung: (() => void)[] = [];

  override async ping(): Promise<void> {
    this.pings += 1;
    if (this.mode === 'fail') {
      throw new Error(`connect ECONNREFUSED redis://:${PASSWORD}@10.0.0.5:6379`);
    }
    if (this.mode === 'hang') await new Promise<void>((resolve) => this.#hung.push(resolve));
  }

  /** Lets every hung ping answer. */
  release(): void {
    for (const resolve of this.#hung.splice(0)) resolve();
  }
}

/** A logger that keeps the `info` entries. */
function infoLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    error() {},
    warn() {},
    info: (fields, message) => lines.push(`${message} ${JSON.stringify(fields)}`),
    debug() {},
  };
}

let keys: ServerKeys;
before(async () => {
  keys = await generateKeys();
});

async function serverWith(listening: Listening, store?: Store, logger?: Logger) {
  return createAuthServer({
    ...testServerOptions({ issuer: listening.url }),
    ...keys,
    ...(store ? { store } : {}),
    ...(logger ? { logger } : {}),
  });
}

/** A server on its own port, serving the probes through `healthCallback` and the rest as issuer. */
async function probed(
  store?: Store,
): Promise<{ server: AuthServer; url: string; close(): Promise<void> }> {
  const listening = await listen();
  const server = await serverWith(listening, store);
  const probes = server.healthCallback();
  const issuer = server.callback();
  listening.handle((req, res) => probes(req, res, () => issuer(req, res)));
  return {
    server,
    url: listening.url,
    async close() {
      await listening.close();
      await server.close();
    },
  };
}

describe('health: server.health() and the probes over node:http', () => {
  let running: Awaited<ReturnType<typeof probed>>;
  before(async () => {
    running = await probed();
  });
  after(() => running.close());

  it('server.health() is ok when the store answers and the keys are loaded', async () => {
    assert.deepEqual(await running.server.health(), {
      status: 'ok',
      checks: { store: { status: 'ok' }, keys: { status: 'ok' } },
    });
  });

  it('GET /healthz answers 200 {"status":"ok"}, JSON that no cache keeps', async () => {
    const res = await fetch(`${running.url}/healthz`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.deepEqual(await json(res), { status: 'ok' });
  });

  it('GET /readyz answers 200 with the status of each check', async () => {
    const res = await fetch(`${running.url}/readyz?probe=kubelet`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.deepEqual(await json(res), {
      status: 'ok',
      checks: { store: { status: 'ok' }, keys: { status: 'ok' } },
    });
  });

  it('HEAD answers with the status and no body; another method gets 405 with Allow', async () => {
    const head = await fetch(`${running.url}/readyz`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
    const post = await fetch(`${running.url}/healthz`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    assert.equal((await json(post)).error, 'invalid_request');
  });

  it('control: every other request goes on to the issuer (next)', async () => {
    const res = await fetch(`${running.url}/.well-known/openid-configuration`);
    assert.equal(res.status, 200);
    assert.equal((await json(res)).issuer, running.url);
  });

  it('without next, a request for another path gets a JSON 404', async () => {
    const listening = await listen();
    try {
      listening.handle(running.server.healthCallback());
      const res = await fetch(`${listening.url}/elsewhere`);
      assert.equal(res.status, 404);
      assert.equal((await json(res)).error, 'invalid_request');
    } finally {
      await listening.close();
    }
  });
});

describe('health: the probes as Koa middleware', () => {
  it('mounted under /ops, serves /ops/healthz and /ops/readyz; other requests fall through', async () => {
    const listening = await listen();
    const server = await serverWith(listening);
    const app = new Koa();
    app.use(mount('/ops', server.healthApi()));
    app.use((ctx) => {
      ctx.body = { fellThrough: ctx.path };
    });
    listening.handle(app.callback());
    try {
      const live = await fetch(`${listening.url}/ops/healthz`);
      assert.equal(live.status, 200);
      assert.deepEqual(await json(live), { status: 'ok' });
      const ready = await fetch(`${listening.url}/ops/readyz`);
      assert.equal(ready.status, 200);
      assert.equal(ready.headers.get('cache-control'), 'no-store');
      assert.equal((await json(ready)).status, 'ok');
      const other = await fetch(`${listening.url}/ops/metrics`);
      assert.deepEqual(await json(other), { fellThrough: '/ops/metrics' });
      const unmounted = await fetch(`${listening.url}/healthz`);
      assert.deepEqual(await json(unmounted), { fellThrough: '/healthz' });
    } finally {
      await listening.close();
      await server.close();
    }
  });
});

describe('health: a store that does not answer', () => {
  it('a hung store: /readyz answers 503 within the timeout, /healthz stays 200; answering again, 200', async () => {
    const store = new SteeredStore();
    const running = await probed(store);
    try {
      store.mode = 'hang';
      const ready = await fetch(`${running.url}/readyz`);
      assert.equal(ready.status, 503);
      assert.deepEqual(await json(ready), {
        status: 'unavailable',
        checks: {
          store: { status: 'unavailable', reason: 'the store did not answer within 1000 ms' },
          keys: { status: 'ok' },
        },
      });
      assert.equal((await fetch(`${running.url}/healthz`)).status, 200);
      store.mode = 'answer';
      store.release();
      assert.equal((await fetch(`${running.url}/readyz`)).status, 200);
    } finally {
      store.release();
      await running.close();
    }
  });

  it('attack: a store error naming a host and a password reaches neither /readyz nor health(); a fixed reason does', async () => {
    const store = new SteeredStore();
    const running = await probed(store);
    try {
      store.mode = 'fail';
      const res = await fetch(`${running.url}/readyz`);
      assert.equal(res.status, 503);
      const body = await res.text();
      assert.ok(!body.includes(PASSWORD), 'no password');
      assert.ok(!body.includes('10.0.0.5'), 'no host');
      assert.doesNotMatch(body, /ECONNREFUSED|stack|at .*\.js/);
      assert.deepEqual(JSON.parse(body).checks.store, {
        status: 'unavailable',
        reason: 'the store failed to answer',
      });
      assert.deepEqual((await running.server.health()).checks.store, JSON.parse(body).checks.store);
    } finally {
      await running.close();
    }
  });

  it('a custom store without ping is checked by reading a claim, and is ready when it answers', async () => {
    const reads: string[] = [];
    class NoPing extends MemoryStore {
      override claimHolder(key: string) {
        reads.push(key);
        return super.claimHolder(key);
      }
    }
    // A store written before ping existed: the method is simply not there.
    Object.defineProperty(NoPing.prototype, 'ping', { value: undefined });
    const running = await probed(new NoPing());
    try {
      assert.equal((await fetch(`${running.url}/readyz`)).status, 200);
      assert.equal(reads.length, 1);
    } finally {
      await running.close();
    }
  });
});

describe('health: readiness never piles up store calls', () => {
  const hungPing = () => {
    let calls = 0;
    let release: (() => void) | undefined;
    const ping = () => {
      calls += 1;
      return new Promise<void>((resolve) => {
        release = resolve;
      });
    };
    return { ping, calls: () => calls, release: () => release?.() };
  };

  it('concurrent checks share one store ping', async () => {
    const store = hungPing();
    const readiness = new Readiness({ ping: store.ping, keysLoaded: () => true, timeoutMs: 20 });
    const reports = await Promise.all(Array.from({ length: 20 }, () => readiness.check()));
    assert.equal(store.calls(), 1);
    for (const report of reports) assert.equal(report.status, 'unavailable');
    store.release();
  });

  it('a check after a timed-out one waits on the same ping; once it settles, the next check pings afresh', async () => {
    const store = hungPing();
    const readiness = new Readiness({ ping: store.ping, keysLoaded: () => true, timeoutMs: 20 });
    assert.equal((await readiness.check()).status, 'unavailable');
    assert.equal((await readiness.check()).status, 'unavailable');
    assert.equal(store.calls(), 1, 'no second ping while the first is pending');
    store.release();
    assert.equal((await readiness.check()).status, 'ok', 'the late answer counts');
    const fresh = readiness.check();
    store.release();
    assert.equal((await fresh).status, 'ok');
    assert.equal(store.calls(), 2, 'a settled ping is not reused');
  });

  it('a ping that never settles is given up after 30 s: a fresh one is sent', async () => {
    const store = hungPing();
    let now = 0;
    const readiness = new Readiness({
      ping: store.ping,
      keysLoaded: () => true,
      timeoutMs: 10,
      now: () => now,
    });
    await readiness.check();
    now = 29_999;
    await readiness.check();
    assert.equal(store.calls(), 1);
    now = 30_000;
    await readiness.check();
    assert.equal(store.calls(), 2);
    store.release();
  });

  it('a ping that throws instead of rejecting, and keys not loaded, each make it unavailable', async () => {
    const readiness = new Readiness({
      ping: () => {
        throw new Error('synchronous failure');
      },
      keysLoaded: () => false,
    });
    assert.deepEqual(await readiness.check(), {
      status: 'unavailable',
      checks: {
        store: { status: 'unavailable', reason: 'the store failed to answer' },
        keys: { status: 'unavailable', reason: 'no signing keys are loaded' },
      },
    });
  });
});

describe('health: the start-up log names the store in use', () => {
  it('"store: memory" at info for the default store', async () => {
    const logger = infoLog();
    const listening = await listen();
    const server = await serverWith(listening, undefined, logger);
    await Promise.all([server.close(), listening.close()]);
    assert.ok(
      logger.lines.some((line) => line.startsWith('store: memory ')),
      logger.lines.join('\n'),
    );
  });

  it('a custom store by its describe(), else by its class name', async () => {
    class DescribedStore extends MemoryStore {
      override describe() {
        return 'Postgres db.internal:5432';
      }
    }
    class PlainStore extends MemoryStore {}
    Object.defineProperty(PlainStore.prototype, 'describe', { value: undefined });
    const logged: string[] = [];
    for (const store of [new DescribedStore(), new PlainStore()]) {
      const logger = infoLog();
      const listening = await listen();
      const server = await serverWith(listening, store, logger);
      await Promise.all([server.close(), listening.close(), store.close()]);
      logged.push(...logger.lines.filter((line) => line.startsWith('store: ')));
    }
    assert.match(logged[0] as string, /^store: Postgres db\.internal:5432 /);
    assert.match(logged[1] as string, /^store: custom \(PlainStore\) /);
  });

  describe('a Redis store by host and port, never its password', () => {
    // lazyConnect: the clients are described, never connected.
    const clients: (Redis | Cluster)[] = [];
    const client = <C extends Redis | Cluster>(made: C): C => {
      clients.push(made);
      return made;
    };
    after(() => {
      for (const made of clients) made.disconnect();
    });

    it('attack: a URL with a user and password gives "Redis host:port" only', () => {
      const described = describeRedis(
        client(new Redis(`redis://admin:${PASSWORD}@10.1.2.3:6380/2`, { lazyConnect: true })),
      );
      assert.equal(described, 'Redis 10.1.2.3:6380');
    });

    it('TLS, a unix socket and an IPv6 host', () => {
      assert.equal(
        describeRedis(
          client(new Redis(`rediss://:${PASSWORD}@cache.example:6390`, { lazyConnect: true })),
        ),
        'Redis cache.example:6390 (TLS)',
      );
      assert.equal(
        describeRedis(
          client(new Redis({ path: '/run/redis.sock', password: PASSWORD, lazyConnect: true })),
        ),
        'Redis /run/redis.sock',
      );
      assert.equal(
        describeRedis(client(new Redis({ host: '::1', port: 6379, lazyConnect: true }))),
        'Redis [::1]:6379',
      );
    });

    it('attack: Sentinel with passwords names the master and the sentinels only', () => {
      const described = describeRedis(
        client(
          new Redis({
            sentinels: [
              { host: 's1.internal', port: 26379 },
              { host: 's2.internal', port: 26380 },
            ],
            name: 'auth-master',
            password: PASSWORD,
            sentinelPassword: PASSWORD,
            lazyConnect: true,
          }),
        ),
      );
      assert.equal(
        described,
        'Redis Sentinel auth-master via s1.internal:26379, s2.internal:26380',
      );
    });

    it('attack: a Cluster whose startup nodes are URLs with passwords lists the nodes only', () => {
      const described = describeRedis(
        client(
          new Cluster(
            [`redis://:${PASSWORD}@10.0.0.1:7000`, { host: '10.0.0.2', port: 7001 }, 7002],
            { lazyConnect: true, redisOptions: { password: PASSWORD } },
          ),
        ),
      );
      assert.equal(described, 'Redis Cluster 10.0.0.1:7000, 10.0.0.2:7001, localhost:7002');
      assert.ok(!described.includes(PASSWORD));
    });
  });
});
