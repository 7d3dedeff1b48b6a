// `npm run bench`: throughput and latency of the hot operations on the in-memory store and on
// Redis, side by side in one process, as ratios (never as pass/fail wall-clock numbers), plus
// Redis round trips per operation from `INFO commandstats` deltas. Writes bench/RESULTS.md.
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import type { Store } from 'mobile-oidc-provider';
import { RedisStore } from 'mobile-oidc-provider/adapters/redis';
import * as oidc from 'openid-client';
import { APP_SOFTWARE_ID, FALLBACK_SOFTWARE_ID } from '../examples/server/app.js';
import { DEVELOPMENT_FALLBACK_SECRET, FALLBACK_CLIENT_ID } from '../examples/server/fallback.js';
import {
  APP_REDIRECT_URI,
  registrationClient,
  resourceServer,
  startExample,
} from '../test/helpers/example.js';
import {
  type CodeForInstance,
  codeForInstance,
  obtainDcrToken,
  registerInstance,
  SignInBrowser,
} from '../test/helpers/sign-in.js';
import {
  createDeviceKey,
  createTestCa,
  evidenceFor,
  TEST_FORMAT,
  testCaVerifier,
} from '../test/helpers/test-attestation.js';
import { type CheckCost, type Ratio, refreshGraceCost, signInThrottleCost } from './checks.js';
import { benchVerifiers } from './verifiers.js';

const ATTESTED_SOFTWARE_ID = 'io.example.attested';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const OPS = Number(process.env.BENCH_OPS ?? 400);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);

interface Measurement {
  opsPerSecond: number;
  p50: number;
  p99: number;
  redisCalls?: number;
  /** Commands Redis executed per operation, those inside Lua scripts included. */
  redisExecuted?: number;
}

/** Runs `count` operations, `CONCURRENCY` at a time, and measures each. */
async function measure(
  count: number,
  operation: (i: number, worker: number) => Promise<unknown>,
): Promise<Measurement> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, worker) => {
      while (next < count) {
        const i = next++;
        const t = performance.now();
        await operation(i, worker);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { opsPerSecond: count / elapsed, p50: at(0.5), p99: at(0.99) };
}

async function settle(count: () => number): Promise<number> {
  let last = -1;
  while (count() !== last) {
    last = count();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return last;
}

/**
 * Counts the commands clients send to Redis — network round trips at most, since pipelined
 * commands share one — through MONITOR, leaving out the commands Lua scripts run inside Redis;
 * and, from INFO commandstats, every command Redis executed, those inside scripts included.
 */
async function roundTripCounter(url: string) {
  const client = new Redis(url);
  const monitor = await client.monitor();
  let sent = 0;
  monitor.on('monitor', (_time: string, _args: string[], source: string) => {
    if (source !== 'lua') sent += 1;
  });
  /** Commands Redis has executed so far (INFO commandstats), not counting INFO itself. */
  const executed = async () => {
    let calls = 0;
    for (const line of (await client.info('commandstats')).split('\n')) {
      const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
      if (match && match[1] !== 'info') calls += Number(match[2]);
    }
    return calls;
  };
  return {
    count: () => sent,
    executed,
    close: () => {
      monitor.disconnect();
      client.disconnect();
    },
  };
}

async function benchStore(
  makeStore: () => Promise<Store | undefined>,
  redis?: Awaited<ReturnType<typeof roundTripCounter>>,
) {
  const store = await makeStore();
  const ca = await createTestCa();
  const server = await startExample((o) => ({
    ...o,
    ...(store ? { store } : {}),
    // One DCR token registers every client of the registration benchmark.
    registration: {
      ...o.registration,
      dcrToken: { maxUses: 1_000_000, ttl: 3600 },
      templates: [
        ...(o.registration?.templates ?? []),
        {
          software_id: ATTESTED_SOFTWARE_ID,
          client: {
            redirect_uris: [APP_REDIRECT_URI],
            token_endpoint_auth_method: 'private_key_jwt',
          },
          instanceFields: ['jwks'],
          attestation: { formats: [TEST_FORMAT] },
        },
      ],
    },
    attestation: {
      verifiers: { [TEST_FORMAT]: testCaVerifier(ca.root) },
      challenge: { rateLimit: { points: 1_000_000, duration: 60 } },
    },
  }));
  const results: Record<string, Measurement> = {};
  const counted = async (
    name: string,
    count: number,
    op: (i: number, worker: number) => Promise<unknown>,
  ) => {
    const before = redis?.count() ?? 0;
    const executedBefore = (await redis?.executed()) ?? 0;
    const m = await measure(count, op);
    // MONITOR lines arrive asynchronously; give the last ones a moment.
    if (redis) {
      m.redisCalls = ((await settle(redis.count)) - before) / count;
      m.redisExecuted = ((await redis.executed()) - executedBefore) / count;
    }
    results[name] = m;
  };
  try {
    const browser = new SignInBrowser();
    const reg = await registrationClient(server.issuer);
    const { tokens: dcr } = await obtainDcrToken(reg, browser);
    const instance = await registerInstance(server.issuer, dcr.access_token);
    const api = await resourceServer(server.issuer);

    await counted('templatized registration (software_id)', OPS, () =>
      fetch(new URL('/reg', server.issuer), {
        method: 'POST',
        headers: {
          authorization: `Bearer ${dcr.access_token}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ software_id: APP_SOFTWARE_ID, software_version: '1.0.0' }),
      }).then((r) => {
        if (r.status !== 201) throw new Error(`templatized registration ${r.status}`);
      }),
    );

    const fallback = await oidc.discovery(
      new URL(server.issuer),
      FALLBACK_CLIENT_ID,
      undefined,
      oidc.ClientSecretBasic(DEVELOPMENT_FALLBACK_SECRET),
      { execute: [oidc.allowInsecureRequests] },
    );
    const fallbackToken = (await oidc.clientCredentialsGrant(fallback, { scope: 'dcr' }))
      .access_token;
    await counted('templatized registration, fallback client', OPS, () =>
      fetch(new URL('/reg', server.issuer), {
        method: 'POST',
        headers: { authorization: `Bearer ${fallbackToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ software_id: FALLBACK_SOFTWARE_ID }),
      }).then((r) => {
        if (r.status !== 201) throw new Error(`fallback registration ${r.status}`);
      }),
    );

    // Challenges and evidence are made outside the timed part; the row prices the server's
    // challenge consumption, verifier (X.509 chain and extension) and key binding.
    const attested: string[] = [];
    for (let i = 0; i < OPS; i += 1) {
      const device = await createDeviceKey();
      const res = await fetch(new URL('/attestation/challenge', server.issuer), { method: 'POST' });
      const { attestation_challenge: challenge } = (await res.json()) as {
        attestation_challenge: string;
      };
      const evidence = await evidenceFor(ca, challenge, device);
      attested.push(
        JSON.stringify({
          software_id: ATTESTED_SOFTWARE_ID,
          jwks: { keys: [device.jwk] },
          attestation: { format: TEST_FORMAT, challenge, evidence },
        }),
      );
    }
    await counted('templatized registration, attestation evidence', OPS, (i) =>
      fetch(new URL('/reg', server.issuer), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: attested[i] as string,
      }).then((r) => {
        if (r.status !== 201) throw new Error(`attested registration ${r.status}`);
      }),
    );

    await counted('DCR-token registration', OPS, () =>
      fetch(new URL('/reg', server.issuer), {
        method: 'POST',
        headers: {
          authorization: `Bearer ${dcr.access_token}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ redirect_uris: [APP_REDIRECT_URI] }),
      }).then((r) => {
        if (r.status !== 201) throw new Error(`registration ${r.status}`);
      }),
    );

    // Codes are prepared (SSO sign-ins) outside the timed part; only the exchange is timed.
    const codes: CodeForInstance[] = [];
    for (let i = 0; i < OPS; i += 1) codes.push(await codeForInstance(browser, instance));
    const refreshTokens: string[] = [];
    let accessToken = '';
    await counted('authorization-code exchange', OPS, async (i) => {
      const code = codes[i];
      if (!code) throw new Error('no code');
      const tokens = await oidc.authorizationCodeGrant(instance, code.callback, code.checks);
      refreshTokens[i] = tokens.refresh_token as string;
      accessToken = tokens.access_token;
    });

    // Each worker refreshes its own chain: every refresh consumes the previous token.
    const chains = refreshTokens.slice(0, CONCURRENCY);
    await counted('refresh with rotation', OPS, async (_i, worker) => {
      const refreshed = await oidc.refreshTokenGrant(instance, chains[worker] as string);
      chains[worker] = refreshed.refresh_token as string;
    });

    // The same refresh on an instance registered from a template: its client is merged with
    // the template on every load, which this row prices against the row above.
    const templated = await oidc.dynamicClientRegistration(
      new URL(server.issuer),
      { software_id: APP_SOFTWARE_ID, software_version: '1.0.0' },
      oidc.ClientSecretBasic(),
      { execute: [oidc.allowInsecureRequests], initialAccessToken: dcr.access_token },
    );
    const templatedChains: string[] = [];
    for (let w = 0; w < CONCURRENCY; w += 1) {
      const code = await codeForInstance(browser, templated);
      const tokens = await oidc.authorizationCodeGrant(templated, code.callback, code.checks);
      templatedChains[w] = tokens.refresh_token as string;
    }
    await counted('refresh with rotation, templatized instance', OPS, async (_i, worker) => {
      const refreshed = await oidc.refreshTokenGrant(templated, templatedChains[worker] as string);
      templatedChains[worker] = refreshed.refresh_token as string;
    });

    await counted('introspection', OPS, async () => {
      const answer = await oidc.tokenIntrospection(api, accessToken);
      if (!answer.active) throw new Error('inactive');
    });
  } finally {
    await server.close();
    await store?.close();
  }
  return results;
}

const warn = console.warn;
console.warn = () => {};
const redis = await roundTripCounter(REDIS_URL);
try {
  const memory = await benchStore(async () => undefined);
  const onRedis = await benchStore(
    async () => new RedisStore({ client: REDIS_URL, keyPrefix: `bench:${Date.now()}:` }),
    redis,
  );
  const fmt = (n: number, digits = 1) => n.toFixed(digits);
  const rows = Object.keys(memory).map((name) => {
    const a = memory[name] as Measurement;
    const b = onRedis[name] as Measurement;
    return `| ${name} | ${fmt(a.opsPerSecond, 0)} | ${fmt(a.p50)} / ${fmt(a.p99)} | ${fmt(b.opsPerSecond, 0)} | ${fmt(b.p50)} / ${fmt(b.p99)} | ${fmt(b.opsPerSecond / a.opsPerSecond, 2)} | ${fmt(b.redisCalls ?? 0)} | ${fmt(b.redisExecuted ?? 0)} |`;
  });
  const table = [
    '| operation | memory ops/s | memory p50 / p99 ms | Redis ops/s | Redis p50 / p99 ms | Redis ÷ memory | Redis commands sent per op | Redis commands executed per op (scripts included) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
  ].join('\n');
  // The price of live templates: the template merge on every client load.
  const templateCost = (results: Record<string, Measurement>) =>
    fmt(
      (results['refresh with rotation, templatized instance'] as Measurement).opsPerSecond /
        (results['refresh with rotation'] as Measurement).opsPerSecond,
      2,
    );
  const attestationCost = (results: Record<string, Measurement>) =>
    fmt(
      (results['templatized registration, attestation evidence'] as Measurement).opsPerSecond /
        (results['templatized registration (software_id)'] as Measurement).opsPerSecond,
      2,
    );
  const attestationLine = `Registration throughput with attestation evidence ÷ with a user's DCR token: ${attestationCost(memory)} in memory, ${attestationCost(onRedis)} on Redis.`;
  const templateLine = `Refresh throughput of a templatized instance ÷ a full-metadata instance: ${templateCost(memory)} in memory, ${templateCost(onRedis)} on Redis.`;
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, Redis at ${REDIS_URL.replace(/\/\/.*@/, '//')}`;
  const verifierRows = await benchVerifiers(OPS);
  const verifierTable = [
    '| verification (in process, one at a time) | ops/s | cost in baseline verifications |',
    '| --- | ---: | ---: |',
    ...verifierRows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
  const grace = {
    memory: await refreshGraceCost(async () => undefined, OPS / 4, CONCURRENCY),
    redis: await refreshGraceCost(
      async () => new RedisStore({ client: REDIS_URL, keyPrefix: `bench-grace:${Date.now()}:` }),
      OPS / 4,
      CONCURRENCY,
    ),
  };
  const throttle = {
    memory: await signInThrottleCost(async () => undefined, OPS / 8, CONCURRENCY),
    redis: await signInThrottleCost(
      async () => new RedisStore({ client: REDIS_URL, keyPrefix: `bench-throttle:${Date.now()}:` }),
      OPS / 8,
      CONCURRENCY,
    ),
  };
  const range = (r: Ratio) => `${fmt(r.median, 2)} (${fmt(r.min, 2)}–${fmt(r.max, 2)})`;
  const checkRow = (name: string, c: { memory: CheckCost; redis: CheckCost }) =>
    `| ${name} | ${range(c.memory.cost)} | ${range(c.memory.noise)} | ${range(c.redis.cost)} | ${range(c.redis.noise)} |`;
  const checksTable = [
    '| check | on ÷ off, memory | noise floor, memory | on ÷ off, Redis | noise floor, Redis |',
    '| --- | ---: | ---: | ---: | ---: |',
    checkRow('refresh with rotation: reuse grace window (30 s)', grace),
    checkRow('sign-in (authorization request, login page, password): throttling', throttle),
  ].join('\n');
  const report = `# Benchmark results\n\n${OPS} operations per row, ${CONCURRENCY} at a time, over real HTTP on loopback; both stores measured in the same run. Commands sent (round trips at most) are counted with MONITOR, which itself slows Redis, so the ratios are conservative; commands executed come from INFO commandstats and include those Lua scripts run.\nMachine: ${machine}. Generated ${new Date().toISOString()} by \`npm run bench\`.\n\n${table}\n\n${templateLine}\n${attestationLine}\n\n## Hostile-traffic checks\n\nThroughput with the check on ÷ off: three servers on one store (check on, check off, and a second with it off as the noise floor: what "no difference" reads on this machine), ${OPS / 4} refreshes or ${OPS / 8} sign-ins per round, the order of the three rotating each round: median (range of 8 rounds). A cost is measurable only where on ÷ off falls outside the noise floor's range.\n\n${checksTable}\n\n## Built-in verifiers\n\n${verifierTable}\n`;
  console.log(report);
  writeFileSync(new URL('./RESULTS.md', import.meta.url), report);
} finally {
  console.warn = warn;
  redis.close();
}
