// Readiness on a real Redis (issue #28), one this test starts and stops, with a password: ready
// while it answers; stopped or frozen, `/readyz` answers 503 within the timeout while `/healthz`
// stays 200; back, ready again. Neither the probes nor the start-up log show the password.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type AuthServer, createAuthServer, generateKeys, type Logger } from 'mobile-oidc-provider';
import { RedisStore } from 'mobile-oidc-provider/adapters/redis';
import { testServerOptions } from '../helpers/fixture.js';
import { json } from '../helpers/json.js';
import { type Listening, listen } from '../helpers/listen.js';
import { type OwnRedis, startOwnRedis } from '../helpers/redis-server.js';

const PASSWORD = 'redis-pass-Zq8vK2';
const STORE_REASONS = ['the store did not answer within 1000 ms', 'the store failed to answer'];

/** Every entry logged, at every level, as JSON text. */
function recordingLogger(): Logger & { text(): string } {
  const lines: string[] = [];
  const at = (level: string) => (fields: Record<string, unknown>, message: string) => {
    lines.push(JSON.stringify({ level, message, fields }));
  };
  return {
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    text: () => lines.join('\n'),
  };
}

describe('health on a real Redis with a password', () => {
  let redis: OwnRedis;
  let listening: Listening;
  let server: AuthServer;
  let store: RedisStore;
  const logger = recordingLogger();

  /** `/readyz` as status and body text; a generous abort so a hang fails the test, not the run. */
  const readyz = async () => {
    const res = await fetch(`${listening.url}/readyz`, { signal: AbortSignal.timeout(15_000) });
    return { status: res.status, body: await res.text() };
  };

  /** Polls `/readyz` until it answers `status` (ioredis reconnects with a backoff). */
  async function eventually(status: number) {
    let last = await readyz();
    for (let i = 0; i < 60 && last.status !== status; i += 1) {
      await sleep(250);
      last = await readyz();
    }
    return last;
  }

  before(async () => {
    redis = await startOwnRedis({ password: PASSWORD });
    assert.ok(redis.url.includes(PASSWORD), 'the store connects with the password');
    listening = await listen();
    store = new RedisStore({ client: redis.url, logger, keyPrefix: 'health:' });
    server = await createAuthServer({
      ...testServerOptions({ issuer: listening.url }),
      ...(await generateKeys()),
      store,
      logger,
    });
    const probes = server.healthCallback();
    const issuer = server.callback();
    listening.handle((req, res) => probes(req, res, () => issuer(req, res)));
  });

  after(async () => {
    redis.resume();
    await listening.close();
    await server.close();
    await store.close();
    await redis.destroy();
  });

  it('logs the store in use at start-up as "store: Redis 127.0.0.1:<port>", without the password', () => {
    const text = logger.text();
    assert.match(text, new RegExp(`"message":"store: Redis 127\\.0\\.0\\.1:${redis.port}"`));
    assert.ok(!text.includes(PASSWORD), 'no password in any log entry');
  });

  it('ready: /readyz 200 while Redis answers', async () => {
    const ready = await readyz();
    assert.equal(ready.status, 200, ready.body);
    assert.equal(JSON.parse(ready.body).checks.store.status, 'ok');
  });

  it('Redis stopped: /healthz 200, /readyz 503 with a fixed reason and no password; Redis back: 200', async () => {
    await redis.stop();
    const live = await fetch(`${listening.url}/healthz`);
    assert.equal(live.status, 200);
    assert.deepEqual(await json(live), { status: 'ok' });

    const down = await eventually(503);
    assert.equal(down.status, 503, down.body);
    const report = JSON.parse(down.body);
    assert.equal(report.status, 'unavailable');
    assert.ok(STORE_REASONS.includes(report.checks.store.reason), report.checks.store.reason);
    assert.deepEqual(report.checks.keys, { status: 'ok' });
    assert.ok(!down.body.includes(PASSWORD), 'attack: no password in /readyz');
    assert.ok(!down.body.includes(String(redis.port)), 'no address in /readyz');

    await redis.start();
    const up = await eventually(200);
    assert.equal(up.status, 200, up.body);
  });

  it('Redis frozen (connections open, nothing answers): /readyz 503 "did not answer within 1000 ms"; unfrozen: 200', async () => {
    assert.equal((await eventually(200)).status, 200);
    redis.pause();
    try {
      const hung = await readyz();
      assert.equal(hung.status, 503, hung.body);
      assert.equal(
        JSON.parse(hung.body).checks.store.reason,
        'the store did not answer within 1000 ms',
      );
      assert.equal((await fetch(`${listening.url}/healthz`)).status, 200);
    } finally {
      redis.resume();
    }
    assert.equal((await eventually(200)).status, 200);
  });

  it('no log entry of the outage and recovery carries the password', () => {
    assert.ok(!logger.text().includes(PASSWORD));
  });
});
