// Redis goes away mid-run: requests fail closed with 503 temporarily_unavailable within the
// command timeout (no hang, no token, no client); when Redis is back the same server serves again
// without a restart (ioredis reconnects).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { RedisStore } from 'mobile-oidc-provider/adapters/redis';
import type * as oidc from 'openid-client';
import {
  APP_REDIRECT_URI,
  type RunningServer,
  registrationClient,
  startExample,
} from '../helpers/example.js';
import { json } from '../helpers/json.js';
import { type OwnRedis, startOwnRedis } from '../helpers/redis-server.js';
import { obtainDcrToken, registerInstance, SignInBrowser } from '../helpers/sign-in.js';

describe('Redis faults', { timeout: 120_000 }, () => {
  let redis: OwnRedis;
  let client: Redis;
  let server: RunningServer;
  let instance: oidc.Configuration;
  let dcrToken: string;

  before(async () => {
    redis = await startOwnRedis();
    // Short timeouts so a dead Redis answers fast; offline queue off so nothing waits forever.
    client = new Redis(redis.port, '127.0.0.1', {
      commandTimeout: 500,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => 100,
    });
    const store = new RedisStore({ client, keyPrefix: 'faults:' });
    server = await startExample((o) => ({ ...o, store }));
    const browser = new SignInBrowser();
    const reg = await registrationClient(server.issuer);
    const { tokens } = await obtainDcrToken(reg, browser);
    instance = await registerInstance(server.issuer, tokens.access_token);
    dcrToken = (await obtainDcrToken(reg, browser)).tokens.access_token;
  });
  after(async () => {
    await server?.close();
    client?.disconnect();
    await redis?.destroy();
  });

  const register = () =>
    fetch(new URL('/reg', server.issuer), {
      method: 'POST',
      headers: { authorization: `Bearer ${dcrToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [APP_REDIRECT_URI] }),
    });

  it('with Redis hung (connected but silent): 503 within the command timeout, then recovery', async () => {
    redis.pause();
    try {
      const started = Date.now();
      const res = await register();
      assert.equal(res.status, 503);
      assert.equal((await json(res)).error, 'temporarily_unavailable');
      assert.ok(Date.now() - started < 5_000, 'the command timeout bounds the request');
    } finally {
      redis.resume();
    }
    const res = await register();
    assert.equal(
      res.status,
      201,
      'the same server serves again, and the failed attempt used nothing up',
    );
  });

  it('with Redis down: 503 temporarily_unavailable, quickly, from every endpoint tried', async () => {
    // Data is lost with this Redis (no persistence), so the check after restart uses fresh state.
    await redis.stop();
    const started = Date.now();
    const registration = await register();
    assert.equal(registration.status, 503);
    const body = await json(registration);
    assert.equal(body.error, 'temporarily_unavailable');
    assert.doesNotMatch(JSON.stringify(body), /ECONNREFUSED|Connection|at .*\.(ts|js)/);

    const { client_id, client_secret } = instance.clientMetadata();
    const token = await fetch(instance.serverMetadata().token_endpoint as string, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${btoa(`${client_id}:${client_secret}`)}`,
      },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'any' }).toString(),
    });
    assert.equal(token.status, 503, 'the instance client cannot even be looked up');
    assert.equal((await json(token)).error, 'temporarily_unavailable');
    assert.ok(Date.now() - started < 10_000, 'no request hangs on a dead Redis');
  });

  it('when Redis is back, the same server serves again without a restart', async () => {
    await redis.start();
    // ioredis reconnects on its own; give it a bounded moment.
    for (let i = 0; i < 50 && client.status !== 'ready'; i += 1)
      await new Promise((r) => setTimeout(r, 100));
    assert.equal(client.status, 'ready');
    const reg = await registrationClient(server.issuer);
    const { tokens } = await obtainDcrToken(reg, new SignInBrowser());
    dcrToken = tokens.access_token;
    const res = await register();
    assert.equal(res.status, 201);
  });
});
