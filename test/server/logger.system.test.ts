// Logs that operators can use (issue #13): every entry goes through options.logger, unexpected
// 500s are logged once with a request id the client also sees, storage outages are logged when
// they start and when they end (not per request), the Redis store logs its connection instead of
// ioredis's "Unhandled error event", and no entry ever carries a credential.
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import {
  type AuthServerOptions,
  ConfigurationError,
  consoleLogger,
  createAuthServer,
  type Logger,
  RegistrationPolicyError,
} from 'mobile-oidc-provider';
import { RedisStore } from 'mobile-oidc-provider/adapters/redis';
import * as oidc from 'openid-client';
// The last test checks the example's own JSON-lines logger, so it imports it from the example.
import { jsonLinesLogger } from '../../examples/server/logger.js';
import { errorFields, loggablePath, requestIdFrom } from '../../lib/core/logger.js';
import { StorageHealth } from '../../lib/storage/health.js';
import { ClientCountingStore } from '../helpers/client-counter.js';
import { passDate, restoreDate } from '../helpers/clock.js';
import {
  APP_REDIRECT_URI,
  RESOURCE_SERVER_SECRET,
  type RunningServer,
  registrationClient,
  resourceServer,
  startExample,
} from '../helpers/example.js';
import { testServerOptions } from '../helpers/fixture.js';
import { json } from '../helpers/json.js';
import { type OwnRedis, startOwnRedis } from '../helpers/redis-server.js';
import {
  codeForInstance,
  obtainDcrToken,
  registerInstance,
  SignInBrowser,
} from '../helpers/sign-in.js';

type Level = 'error' | 'warn' | 'info' | 'debug';
interface Entry {
  level: Level;
  message: string;
  fields: Record<string, unknown>;
}

/** A logger that keeps every entry, at every level. */
class CapturingLogger implements Logger {
  readonly entries: Entry[] = [];
  error(fields: Record<string, unknown>, message: string) {
    this.entries.push({ level: 'error', message, fields });
  }
  warn(fields: Record<string, unknown>, message: string) {
    this.entries.push({ level: 'warn', message, fields });
  }
  info(fields: Record<string, unknown>, message: string) {
    this.entries.push({ level: 'info', message, fields });
  }
  debug(fields: Record<string, unknown>, message: string) {
    this.entries.push({ level: 'debug', message, fields });
  }
  /** Everything logged, as text to search. */
  text(): string {
    return this.entries.map((entry) => JSON.stringify(entry)).join('\n');
  }
  at(level: Level, message?: string): Entry[] {
    return this.entries.filter((e) => e.level === level && (!message || e.message === message));
  }
}

const basic = (id: string, secret: string) => `Basic ${btoa(`${id}:${secret}`)}`;

describe('logging: a full journey logs no credential', () => {
  const logger = new CapturingLogger();
  let server: RunningServer;
  after(() => server?.close());

  it('DCR token → registration → instance sign-in → refresh → introspection: no secret in any entry', async () => {
    server = await startExample((o) => ({ ...o, logger }));
    const secrets = new Map<string, string>();
    const keep = (what: string, value: unknown) => {
      assert.equal(typeof value, 'string', what);
      assert.ok((value as string).length >= 8, what);
      secrets.set(what, value as string);
    };
    keep('the demo password', 'Password1');
    keep('the resource server secret', RESOURCE_SERVER_SECRET);

    const browser = new SignInBrowser();
    const reg = await registrationClient(server.issuer);
    const dcr = await obtainDcrToken(reg, browser);
    keep('the DCR code', dcr.result.callback.searchParams.get('code'));
    keep('the DCR token', dcr.tokens.access_token);

    const instance = await registerInstance(server.issuer, dcr.tokens.access_token);
    const metadata = instance.clientMetadata();
    keep('the client secret', metadata.client_secret);
    keep('the registration access token', metadata.registration_access_token);

    const code = await codeForInstance(browser, instance);
    keep('the authorization code', code.callback.searchParams.get('code'));
    keep('the PKCE verifier', code.checks.pkceCodeVerifier);
    const tokens = await oidc.authorizationCodeGrant(instance, code.callback, code.checks);
    keep('the access token', tokens.access_token);
    keep('the refresh token', tokens.refresh_token);
    keep('the ID token', tokens.id_token);

    const refreshed = await oidc.refreshTokenGrant(instance, tokens.refresh_token as string);
    keep('the rotated access token', refreshed.access_token);
    keep('the rotated refresh token', refreshed.refresh_token);

    const api = await resourceServer(server.issuer);
    assert.equal((await oidc.tokenIntrospection(api, refreshed.access_token)).active, true);
    assert.equal((await oidc.tokenIntrospection(instance, refreshed.access_token)).active, true);

    const read = await fetch(metadata.registration_client_uri as string, {
      headers: { authorization: `Bearer ${metadata.registration_access_token}` },
    });
    assert.equal(read.status, 200);

    // Refused requests that carry credentials: logged (at debug), their credentials not.
    const token = instance.serverMetadata().token_endpoint as string;
    const wrongSecret = await fetch(token, {
      method: 'POST',
      headers: {
        authorization: basic(metadata.client_id, `${metadata.client_secret}x`),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: refreshed.refresh_token as string,
      }),
    });
    assert.equal(wrongSecret.status, 401);
    const usedCode = await fetch(token, {
      method: 'POST',
      headers: {
        authorization: basic(metadata.client_id, metadata.client_secret as string),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: code.callback.searchParams.get('code') as string,
        redirect_uri: APP_REDIRECT_URI,
        code_verifier: code.checks.pkceCodeVerifier,
      }),
    });
    assert.equal(usedCode.status, 400);
    const reused = await fetch(new URL('/reg', server.issuer), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${dcr.tokens.access_token}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ redirect_uris: [APP_REDIRECT_URI] }),
    });
    assert.equal(reused.status, 401);

    const cookies = await browser.jar.getCookies(server.issuer);
    assert.ok(cookies.length > 0, 'the browser holds session cookies');
    for (const cookie of cookies) keep(`the cookie ${cookie.key}`, cookie.value);

    // The logger was used: development-key warnings, refused requests at debug.
    assert.ok(logger.at('warn').some((e) => /DEVELOPMENT ONLY/.test(e.message)));
    const refusals = logger.at('debug', 'request refused');
    assert.ok(refusals.some((e) => e.fields.route === 'token' && e.fields.status === 401));
    assert.ok(refusals.some((e) => e.fields.error === 'invalid_grant'));
    for (const entry of refusals) assert.equal(typeof entry.fields.requestId, 'string');
    assert.deepEqual(logger.at('error'), [], 'nothing failed');

    const text = logger.text();
    for (const [what, value] of secrets) {
      assert.ok(!text.includes(value), `${what} must not be logged`);
    }
    assert.doesNotMatch(text, /"(authorization|cookie|set-cookie)"|Basic |Bearer /i);
  });
});

describe('logging: an unexpected error', () => {
  const logger = new CapturingLogger();
  let server: RunningServer;
  let browser: SignInBrowser;
  before(async () => {
    server = await startExample((o) => ({
      ...o,
      logger,
      registration: {
        ...o.registration,
        policies: [
          async ({ metadata }) => {
            if (metadata.client_name === 'explode') throw new Error('the policy hook broke');
            if (metadata.client_name === 'refuse') {
              throw new RegistrationPolicyError('invalid_client_metadata', 'refused by policy');
            }
          },
        ],
      },
    }));
    browser = new SignInBrowser();
  });
  after(() => server.close());

  async function register(clientName: string, headers: Record<string, string> = {}) {
    const reg = await registrationClient(server.issuer);
    const { tokens } = await obtainDcrToken(reg, browser);
    const res = await fetch(new URL('/reg', server.issuer), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${tokens.access_token}`,
        'content-type': 'application/json',
        ...headers,
      },
      body: JSON.stringify({
        software_id: 'io.example.app',
        software_version: '1.2.0',
        client_name: clientName,
      }),
    });
    return { res, dcrToken: tokens.access_token };
  }

  it('answers 500 JSON without a stack, and logs ONE error entry with the response’s request id', async () => {
    logger.entries.length = 0;
    const { res, dcrToken } = await register('explode');
    assert.equal(res.status, 500);
    const body = await json(res);
    assert.equal(body.error, 'server_error');
    assert.doesNotMatch(JSON.stringify(body), /policy hook broke|at .*\.(ts|js)/);
    const requestId = res.headers.get('x-request-id');
    assert.match(requestId ?? '', /^[0-9a-f-]{36}$/, 'a generated UUID');

    const errors = logger.at('error');
    assert.equal(errors.length, 1, JSON.stringify(errors));
    const [entry] = errors as [Entry];
    assert.equal(entry.message, 'unexpected error');
    assert.equal(entry.fields.requestId, requestId);
    assert.equal(entry.fields.method, 'POST');
    assert.equal(entry.fields.path, '/reg');
    assert.equal(entry.fields.route, 'registration');
    const error = entry.fields.error as Record<string, unknown>;
    assert.equal(error.name, 'Error');
    assert.equal(error.message, 'the policy hook broke');
    assert.match(String(error.stack), /logger\.system\.test\.ts/);
    assert.ok(!logger.text().includes(dcrToken), 'the DCR token is not logged');
  });

  it('uses a short, safe incoming X-Request-Id, and replaces one that is not', async () => {
    logger.entries.length = 0;
    const given = await register('explode', { 'x-request-id': 'lb-7f3a:42' });
    assert.equal(given.res.headers.get('x-request-id'), 'lb-7f3a:42');
    assert.equal(logger.at('error')[0]?.fields.requestId, 'lb-7f3a:42');

    logger.entries.length = 0;
    const unsafe = await register('explode', { 'x-request-id': `a b"${'x'.repeat(200)}` });
    const replaced = unsafe.res.headers.get('x-request-id') ?? '';
    assert.match(replaced, /^[0-9a-f-]{36}$/);
    assert.equal(logger.at('error')[0]?.fields.requestId, replaced);
    assert.ok(!logger.text().includes('xxxxxxxx'));
  });

  it('a refusal (4xx) is logged at debug only', async () => {
    logger.entries.length = 0;
    const { res } = await register('refuse');
    assert.equal(res.status, 400);
    assert.deepEqual(logger.at('error'), []);
    assert.deepEqual(logger.at('warn'), []);
    const [refusal] = logger.at('debug', 'request refused');
    assert.equal(refusal?.fields.route, 'registration');
    assert.equal(refusal?.fields.status, 400);
    assert.equal(refusal?.fields.error, 'invalid_client_metadata');
    assert.equal(refusal?.fields.requestId, res.headers.get('x-request-id'));
  });
});

describe('logging: a storage outage', () => {
  const logger = new CapturingLogger();
  const store = new ClientCountingStore();
  let server: RunningServer;
  before(async () => {
    // Date stands still from before the server (its storage health keeps this clock) is built.
    passDate(0);
    server = await startExample((o) => ({ ...o, store, logger }));
  });
  after(async () => {
    await server.close();
    restoreDate();
  });

  const introspect = async () => {
    const api = await resourceServer(server.issuer);
    return fetch(api.serverMetadata().introspection_endpoint as string, {
      method: 'POST',
      headers: {
        authorization: basic('example-api', RESOURCE_SERVER_SECRET),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token: 'not-a-real-token-0123456789' }),
    });
  };

  it('logs "storage unavailable" once over several failing requests, and "available again" once after', async () => {
    store.failingModels.add('AccessToken');
    store.failingModels.add('RefreshToken');
    for (let i = 0; i < 4; i += 1) {
      const res = await introspect();
      assert.equal(res.status, 503);
      assert.equal((await json(res)).error, 'temporarily_unavailable');
    }
    const down = logger.at('error', 'storage unavailable');
    assert.equal(down.length, 1, JSON.stringify(logger.entries));
    assert.deepEqual(down[0]?.fields.cause, {
      name: 'Error',
      message: 'AccessToken storage unreachable (test)',
    });
    assert.deepEqual(
      logger.at('error').filter((e) => e.message !== 'storage unavailable'),
      [],
      'each failed request is not an error entry of its own',
    );
    assert.equal(
      logger.at('debug', 'request refused').filter((e) => e.fields.status === 503).length,
      4,
    );
    assert.deepEqual(logger.at('info', 'storage available again'), []);

    store.failingModels.clear();
    passDate(1100); // an outage ends with a success a quiet second after the last failure
    for (let i = 0; i < 3; i += 1) {
      const res = await introspect();
      assert.equal(res.status, 200);
      assert.equal((await json(res)).active, false);
    }
    const up = logger.at('info', 'storage available again');
    assert.equal(up.length, 1, JSON.stringify(logger.entries));
    assert.ok(Number(up[0]?.fields.downForMs) >= 1000);
    assert.ok(Number(up[0]?.fields.failedOperations) >= 4);
    assert.equal(logger.at('error', 'storage unavailable').length, 1);
  });

  it('a store that fails only some operations does not flap between outage and recovery', () => {
    const flapping = new CapturingLogger();
    let now = 0;
    const health = new StorageHealth(flapping, { now: () => now });
    for (let i = 0; i < 20; i += 1) {
      now += 300;
      health.succeeded(); // e.g. the client found…
      health.failed(new Error('one shard down')); // …its token not
    }
    assert.equal(flapping.entries.length, 1);
    now += 1000;
    health.succeeded();
    assert.deepEqual(
      flapping.entries.map((e) => [e.level, e.message]),
      [
        ['error', 'storage unavailable'],
        ['info', 'storage available again'],
      ],
    );
    assert.deepEqual(flapping.entries[1]?.fields, { downForMs: 6700, failedOperations: 20 });
  });
});

describe('logging: a RedisStore whose Redis goes away', () => {
  let redis: OwnRedis;
  before(async () => {
    redis = await startOwnRedis();
  });
  after(() => redis.destroy());

  /** Counts, until stopped, this process's connections to `port` that were refused. */
  function countRefusedConnections(port: number): { count: number; stop(): void } {
    const counter = { count: 0, stop: () => unsubscribe('net.client.socket', onSocket) };
    const onSocket = (message: unknown) => {
      (message as { socket: Socket }).socket.once('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'ECONNREFUSED' && (error as { port?: number }).port === port) {
          counter.count += 1;
        }
      });
    };
    subscribe('net.client.socket', onSocket);
    return counter;
  }

  /** Runs `during` with process.stderr writes captured. */
  async function capturingStderr(during: () => Promise<void>): Promise<string> {
    let captured = '';
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      captured += String(chunk);
      return (write as (...args: unknown[]) => boolean).call(process.stderr, chunk, ...rest);
    }) as typeof process.stderr.write;
    try {
      await during();
    } finally {
      process.stderr.write = write;
    }
    return captured;
  }

  it('logs the lost connection once, and its return, and ioredis prints nothing', async () => {
    const logger = new CapturingLogger();
    const store = new RedisStore({ client: redis.url, logger, commandTimeoutMs: 500 });
    try {
      assert.equal(await store.takeUse('logging-test', 5, 60), true);
      const stderr = await capturingStderr(async () => {
        const refused = countRefusedConnections(redis.port);
        try {
          await redis.stop();
          // ioredis retries several times meanwhile.
          for (let i = 0; i < 60 && refused.count < 3; i += 1) await sleep(50);
          assert.ok(refused.count >= 3, `${refused.count} reconnections refused`);
        } finally {
          refused.stop();
        }
        await assert.rejects(store.takeUse('logging-test', 5, 60));
      });
      assert.doesNotMatch(stderr, /Unhandled error event/);
      const lost = logger.at('warn', 'redis connection error');
      assert.equal(lost.length, 1, JSON.stringify(logger.entries));
      const error = lost[0]?.fields.error as Record<string, unknown>;
      assert.equal(typeof error.message, 'string');
      assert.equal(error.stack, undefined);

      await redis.start();
      for (let i = 0; i < 60 && logger.at('info').length === 0; i += 1) await sleep(100);
      const back = logger.at('info', 'redis connection ready again');
      assert.equal(back.length, 1);
      assert.ok(Number(back[0]?.fields.downForMs) > 0);
      assert.equal(await store.takeUse('logging-test', 5, 60), true);
    } finally {
      await store.close();
    }
  });

  it('a client passed in gets one error listener while the store uses it, and none after close', async () => {
    const client = new Redis(redis.url, { lazyConnect: true });
    try {
      assert.equal(client.listenerCount('error'), 0);
      const store = new RedisStore({ client, logger: new CapturingLogger() });
      assert.equal(client.listenerCount('error'), 1);
      await store.close();
      assert.equal(client.listenerCount('error'), 0);
    } finally {
      client.disconnect();
    }
  });
});

describe('logging: the logger option', () => {
  const base = async () => testServerOptions({ issuer: 'http://127.0.0.1:1' });
  const refusal = async (logger: unknown) => {
    const options = { ...(await base()), logger } as AuthServerOptions;
    const error = await createAuthServer(options).then(
      () => assert.fail('accepted'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ConfigurationError);
    return error.problems;
  };

  it('refuses a logger without a method, naming options.logger.<method>', async () => {
    const partial = { error() {}, warn() {}, info() {} };
    assert.deepEqual(await refusal(partial), ['options.logger.debug is required']);
    assert.deepEqual(await refusal({ ...partial, debug: 'loud' }), [
      'options.logger.debug must be a function',
    ]);
    assert.deepEqual(await refusal('console'), ['options.logger must be object']);
  });

  it('accepts a class-based logger (methods on the prototype, like pino) and console', async () => {
    const { log, warn } = console;
    Object.assign(console, { log: () => {}, warn: () => {} }); // development-key warnings
    try {
      for (const logger of [new CapturingLogger(), console, consoleLogger]) {
        const server = await createAuthServer({ ...(await base()), logger: logger as Logger });
        await server.close();
      }
    } finally {
      Object.assign(console, { log, warn });
    }
  });
});

describe('logging: helpers', () => {
  it('the default logger prints warn and error, one line each, and drops info and debug', () => {
    const printed: unknown[][] = [];
    const { warn, error } = console;
    console.warn = (...args: unknown[]) => printed.push(['warn', ...args]);
    console.error = (...args: unknown[]) => printed.push(['error', ...args]);
    try {
      consoleLogger.error({ requestId: 'r1' }, 'unexpected error');
      consoleLogger.warn({}, 'DEVELOPMENT ONLY — keys');
      consoleLogger.info({ downForMs: 1 }, 'storage available again');
      consoleLogger.debug({}, 'request refused');
    } finally {
      Object.assign(console, { warn, error });
    }
    assert.deepEqual(printed, [
      ['error', 'mobile-oidc-provider: unexpected error', '{"requestId":"r1"}'],
      ['warn', 'mobile-oidc-provider: DEVELOPMENT ONLY — keys'],
    ]);
  });

  it('an error is logged by name, message, code and stack only (never the command it carried)', () => {
    const error = Object.assign(new Error('Command timed out', { cause: new Error('socket') }), {
      code: 'ETIMEDOUT',
      command: { name: 'evalsha', args: ['AccessToken:{secret-token-value}'] },
    });
    const fields = errorFields(error);
    assert.deepEqual(Object.keys(fields).sort(), ['cause', 'code', 'message', 'name', 'stack']);
    assert.deepEqual(fields.cause, { name: 'Error', message: 'socket' });
    assert.doesNotMatch(JSON.stringify(fields), /secret-token-value/);
  });

  it('paths lose their identifiers; request ids are kept only when short and safe', () => {
    assert.equal(
      loggablePath('/interaction/Xy3kP9_qLmN2vB7tR4sWz/login'),
      '/interaction/:id/login',
    );
    assert.equal(
      loggablePath('/.well-known/openid-configuration'),
      '/.well-known/openid-configuration',
    );
    assert.equal(loggablePath('/reg/q1w2e3r4t5y6u7i8o9p0a'), '/reg/:id');
    assert.equal(requestIdFrom('abc-123'), 'abc-123');
    assert.match(requestIdFrom('has space'), /^[0-9a-f-]{36}$/);
    assert.match(requestIdFrom('x'.repeat(129)), /^[0-9a-f-]{36}$/);
    assert.match(requestIdFrom('line\nbreak'), /^[0-9a-f-]{36}$/);
    assert.match(requestIdFrom(undefined), /^[0-9a-f-]{36}$/);
  });

  it('the example’s JSON-lines logger writes one object per line, from its level up', () => {
    const lines: string[] = [];
    const logger = jsonLinesLogger('info', (line) => lines.push(line));
    logger.debug({}, 'hidden');
    logger.info({ port: 3000, level: 'forged' }, 'listening');
    logger.error({ requestId: 'r1' }, 'unexpected error');
    assert.equal(lines.length, 2);
    assert.ok(lines.every((line) => line.endsWith('\n') && !line.slice(0, -1).includes('\n')));
    const [first, second] = lines.map((line) => JSON.parse(line));
    assert.equal(first.level, 'info');
    assert.equal(first.msg, 'listening');
    assert.equal(first.port, 3000);
    assert.ok(!Number.isNaN(Date.parse(first.time)));
    assert.equal(second.level, 'error');
    assert.equal(second.requestId, 'r1');
  });
});
