// The example server serves the probes (issue #28) on the issuer's port: with REDIS_URL naming a
// Redis nobody listens on, `/healthz` answers 200 and `/readyz` 503, and neither the body nor any
// log line shows the password in REDIS_URL. Its start-up log names the store, the registration
// client and the demo users.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { json } from '../helpers/json.js';
import { freePort } from '../helpers/listen.js';
import { spawnExample } from '../helpers/spawn.js';

const PASSWORD = 'example-redis-pass-4Tg9';

describe('the example server: probes and start-up log', { concurrency: true }, () => {
  it('REDIS_URL unreachable: /healthz 200, /readyz 503; attack: the password is in no body and no log line', async () => {
    const redisPort = await freePort();
    const example = await spawnExample('examples/server/main.ts', {
      REDIS_URL: `redis://:${PASSWORD}@127.0.0.1:${redisPort}`,
      LOG_LEVEL: 'info',
    });
    try {
      const base = `http://127.0.0.1:${example.port}`;
      const live = await fetch(`${base}/healthz`);
      assert.equal(live.status, 200);
      assert.deepEqual(await json(live), { status: 'ok' });

      const ready = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(15_000) });
      assert.equal(ready.status, 503);
      const body = await ready.text();
      assert.ok(!body.includes(PASSWORD), 'no password in /readyz');
      const report = JSON.parse(body);
      assert.equal(report.status, 'unavailable');
      assert.equal(report.checks.store.status, 'unavailable');

      const output = example.output();
      assert.match(output, new RegExp(`"msg":"store: Redis 127\\.0\\.0\\.1:${redisPort}"`));
      assert.ok(!output.includes(PASSWORD), 'no password in any log line');
    } finally {
      await example.stop();
    }
  });

  it('control: in memory, /readyz 200; the log names the store, the registration client and the demo users', async () => {
    const example = await spawnExample('examples/server/main.ts', { LOG_LEVEL: 'info' });
    try {
      const ready = await fetch(`http://127.0.0.1:${example.port}/readyz`);
      assert.equal(ready.status, 200);
      assert.equal((await json(ready)).status, 'ok');
      const discovery = await fetch(
        `http://127.0.0.1:${example.port}/.well-known/openid-configuration`,
      );
      assert.equal(discovery.status, 200, 'the issuer still serves beside the probes');
      const output = example.output();
      assert.match(output, /"msg":"store: memory"/);
      assert.match(output, /"msg":"registration client: mobile-dcr-client /);
      assert.match(output, /"msg":"demo users: demouser \/ Password1, otheruser \/ Password2"/);
    } finally {
      await example.stop();
    }
  });
});
