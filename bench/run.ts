// `npm run bench`: the server's throughput and cost per operation, measured from outside. Three
// targets run as processes of their own: bare oidc-provider configured as the library configures
// it (bench/bare.ts), the library on its in-memory store, and the library on Redis. A separate
// load generator (bench/load.ts) sends the traffic; single-use tokens are minted in the servers
// beforehand (bench/control.ts), so only the operation itself is timed. Rounds interleave the
// targets in a rotating order; ratios are taken round by round. Writes bench/RESULTS.md.
//   BENCH_ROUNDS (3), BENCH_REQUESTS (per row and round), BENCH_INSTALLS (10000), REDIS_URL
//   BENCH_SMOKE=1: one round of 100 requests, 200 installs, no checks or verifiers, the report
//   written to BENCH_RESULTS only.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { generateKeys } from 'mobile-oidc-provider';
import { RedisStore } from 'mobile-oidc-provider/adapters/redis';
import { startUpstreamIdp } from '../test/helpers/upstream-idp.js';
import { type CheckCost, type Ratio, refreshGraceCost, signInThrottleCost } from './checks.js';
import {
  MANY_INSTALLS,
  nativeExchange,
  OPERATIONS,
  type Operation,
  prepare,
  TARGETS,
  type Target,
  type TargetName,
} from './operations.js';
import { buildLibrary, LoadGenerator, ServerProcess } from './processes.js';
import type { ServerStats } from './protocol.js';
import {
  mainTable,
  manyInstallsTable,
  nativeTable,
  type Row,
  type Sample,
  table,
} from './report.js';
import { benchResourceServer } from './resource-server.js';
import { benchVerifiers } from './verifiers.js';

const env = process.env;
const SMOKE = env.BENCH_SMOKE === '1';
const ROUNDS = SMOKE ? 1 : Number(env.BENCH_ROUNDS ?? 3);
const REQUESTS = SMOKE ? 100 : Number(env.BENCH_REQUESTS ?? 2000);
const INSTALLS = SMOKE ? 200 : Number(env.BENCH_INSTALLS ?? 10_000);
const CONNECTIONS = 16;
/** Requests per target and row before the first round: JIT, caches, Redis script loading. */
const WARM_UP = Math.min(200, REQUESTS);
/** Operations sent one at a time to count Redis round trips. */
const ROUND_TRIP_OPS = SMOKE ? 20 : 50;
const REDIS_URL = env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** The docs page whose bench markers get the latest tables (it was the README's until #26). */
const PERFORMANCE_PAGE = 'docs/performance.md';
const BENCH_MARKER_START = '<!-- bench results: written by npm run bench -->';
const BENCH_MARKER_END = '<!-- /bench results -->';
const RESULTS_PATH =
  env.BENCH_RESULTS ?? (SMOKE ? undefined : new URL('./RESULTS.md', import.meta.url));
// The hostile-traffic checks and verifiers, as before (in process).
const CHECK_OPS = Number(env.BENCH_OPS ?? 400);
const CHECK_CONCURRENCY = Number(env.BENCH_CONCURRENCY ?? 8);

/** Redis's own counters: commands executed (INFO itself left out) and CPU. */
async function redisCounters(redis: Redis): Promise<{ commands: number; cpuUs: number }> {
  const [commandstats, cpu] = await Promise.all([redis.info('commandstats'), redis.info('cpu')]);
  let commands = 0;
  for (const [, name, calls] of commandstats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (name !== 'info') commands += Number(calls);
  }
  const seconds = (field: string) =>
    Number(new RegExp(`^${field}:([\\d.]+)`, 'm').exec(cpu)?.[1] ?? 0);
  return { commands, cpuUs: (seconds('used_cpu_sys') + seconds('used_cpu_user')) * 1e6 };
}

/** Deletes every key under `prefix`, and nothing else. */
async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/**
 * One run of `op` on `target` with `load`: its throughput and what the server (and Redis, read
 * through `redis`) spent on it; `writes` are the server's Redis socket writes during the run.
 */
async function measure(
  tools: { load: LoadGenerator; redis: Redis },
  op: Operation,
  target: Target,
  amount: number,
  connections: number,
): Promise<{ sample: Sample; writes: number }> {
  const job = await op.job(target, amount, connections);
  const onRedis = target.name === 'library-redis';
  const before = await target.server.stats();
  const redisBefore = onRedis ? await redisCounters(tools.redis) : undefined;
  const result = await tools.load.run(job);
  const redisAfter = onRedis ? await redisCounters(tools.redis) : undefined;
  const after = await target.server.stats();
  console.error(
    `  ${op.name} on ${target.name}: ${Math.round(result.opsPerSecond)} ops/s, p50 ${result.p50} ms, p99 ${result.p99} ms`,
  );
  if (result.failures > 0) {
    throw new Error(
      `${op.name} on ${target.name}: ${result.failures} of ${amount} requests failed; the first: ${result.firstFailure}`,
    );
  }
  op.after?.(target, result);
  const cpuUs = (stats: ServerStats) => stats.cpuUserUs + stats.cpuSystemUs;
  const sample: Sample = {
    opsPerSecond: result.opsPerSecond,
    cpuUsPerOp: (cpuUs(after) - cpuUs(before)) / amount,
  };
  if (redisBefore && redisAfter) {
    sample.redisCommandsPerOp = (redisAfter.commands - redisBefore.commands) / amount;
    sample.redisCpuUsPerOp = (redisAfter.cpuUs - redisBefore.cpuUs) / amount;
  }
  return { sample, writes: (after.redisWrites ?? 0) - (before.redisWrites ?? 0) };
}

/** Starts and prepares the targets, warms them up, and measures every row over the rounds. */
async function main(
  redis: Redis,
  keysFile: string,
  prefix: string,
  children: Set<{ stop(): Promise<void> }>,
) {
  const track = <T extends { stop(): Promise<void> }>(child: T) => {
    children.add(child);
    return child;
  };
  const load = track(LoadGenerator.start());
  // Native sign-in's upstream provider: the library targets fetch its keys once, then it idles.
  const upstream = await startUpstreamIdp();
  track({ stop: () => upstream.close() });
  const native = nativeExchange(upstream);
  const envs: Record<TargetName, Record<string, string>> = {
    bare: { BENCH_TARGET: 'bare', BENCH_KEYS_FILE: keysFile },
    'library-memory': {
      BENCH_TARGET: 'library',
      BENCH_STORE: 'memory',
      BENCH_KEYS_FILE: keysFile,
      BENCH_UPSTREAM_ISSUER: upstream.issuer,
    },
    'library-redis': {
      BENCH_TARGET: 'library',
      BENCH_STORE: 'redis',
      BENCH_KEYS_FILE: keysFile,
      BENCH_UPSTREAM_ISSUER: upstream.issuer,
      REDIS_URL,
      BENCH_KEY_PREFIX: prefix,
    },
  };
  const targets: Target[] = [];
  for (const name of TARGETS) {
    const server = track(await ServerProcess.start(envs[name]));
    console.error(`preparing ${name}: ${INSTALLS} installs`);
    targets.push(await prepare(name, server, { connections: CONNECTIONS, installs: INSTALLS }));
  }

  const tools = { load, redis };
  const operations = [...OPERATIONS, MANY_INSTALLS, native];
  // Bare oidc-provider has no native sign-in to compare with.
  const runsOn = (op: Operation, target: Target) => op !== native || target.name !== 'bare';
  console.error('warming up');
  for (const op of operations) {
    for (const target of targets) {
      if (runsOn(op, target)) await measure(tools, op, target, WARM_UP, CONNECTIONS);
    }
  }
  const rows = new Map<Operation, Row>(
    operations.map((op) => [
      op,
      { name: op.name, samples: { bare: [], 'library-memory': [], 'library-redis': [] } },
    ]),
  );
  const onRedis = targets.find((t) => t.name === 'library-redis') as Target;
  for (const op of [...OPERATIONS, native]) {
    const { writes } = await measure(tools, op, onRedis, ROUND_TRIP_OPS, 1);
    (rows.get(op) as Row).redisRoundTrips = writes / ROUND_TRIP_OPS;
  }
  for (let round = 0; round < ROUNDS; round += 1) {
    console.error(`round ${round + 1} of ${ROUNDS}`);
    const order = targets.map((_, i) => targets[(round + i) % targets.length] as Target);
    for (const op of operations) {
      for (const target of order.filter((t) => runsOn(op, t))) {
        const { sample } = await measure(tools, op, target, REQUESTS, CONNECTIONS);
        (rows.get(op) as Row).samples[target.name].push(sample);
      }
    }
  }
  return {
    main: OPERATIONS.map((op) => rows.get(op) as Row),
    many: rows.get(MANY_INSTALLS) as Row,
    native: rows.get(native) as Row,
    redisVersion: /^redis_version:(.+)$/m.exec(await redis.info('server'))?.[1]?.trim() ?? '?',
  };
}

/** The hostile-traffic checks and the built-in verifiers, in process as before. */
async function checksAndVerifiers(prefix: string): Promise<string> {
  const warn = console.warn;
  console.warn = () => {}; // development-key warnings of the in-process servers
  try {
    const verifierRows = await benchVerifiers(CHECK_OPS);
    const resourceServerRows = await benchResourceServer(CHECK_OPS * 5);
    const onRedis = (name: string) => async () =>
      new RedisStore({ client: REDIS_URL, keyPrefix: `${prefix}${name}:` });
    const grace = {
      memory: await refreshGraceCost(async () => undefined, CHECK_OPS / 4, CHECK_CONCURRENCY),
      redis: await refreshGraceCost(onRedis('grace'), CHECK_OPS / 4, CHECK_CONCURRENCY),
    };
    const throttle = {
      memory: await signInThrottleCost(async () => undefined, CHECK_OPS / 8, CHECK_CONCURRENCY),
      redis: await signInThrottleCost(onRedis('throttle'), CHECK_OPS / 8, CHECK_CONCURRENCY),
    };
    const range = (r: Ratio) => `${r.median.toFixed(2)} (${r.min.toFixed(2)}–${r.max.toFixed(2)})`;
    const checkRow = (name: string, c: { memory: CheckCost; redis: CheckCost }) => [
      name,
      range(c.memory.cost),
      range(c.memory.noise),
      range(c.redis.cost),
      range(c.redis.noise),
    ];
    const checks = table(
      ['check', 'on ÷ off, memory', 'noise floor, memory', 'on ÷ off, Redis', 'noise floor, Redis'],
      [
        checkRow('refresh with rotation: reuse grace window (30 s)', grace),
        checkRow('sign-in (authorization request, login page, password): throttling', throttle),
      ],
    );
    const verifiers = table(
      ['verification (in process, one at a time)', 'ops/s', 'cost in baseline verifications'],
      verifierRows,
    );
    const resourceServer = table(
      ['resource-server verification (in process, 8 in flight)', 'ops/s', '÷ jose.jwtVerify'],
      resourceServerRows,
    );
    return `## Hostile-traffic checks\n\nThroughput with the check on ÷ off, measured in process: three servers on one store (check on, check off, and a second with it off as the noise floor: what "no difference" reads on this machine), ${CHECK_OPS / 4} refreshes or ${CHECK_OPS / 8} sign-ins per round, ${CHECK_CONCURRENCY} at a time, the order of the three rotating each round: median (range of 8 rounds). A cost is measurable only where on ÷ off falls outside the noise floor's range.\n\n${checks}\n\n## Built-in verifiers\n\n${verifiers}\n\n## Resource server\n\n\`mobile-oidc-provider/resource-server\` against a loopback issuer served in the bench's process (discovery, keys, introspection), ${CHECK_OPS * 5} verifications per row, 8 in flight (signature checks run on libuv's thread pool), 5 interleaved rounds (median and range), against a bare \`jose.jwtVerify\` of the same ES256 token with the same key in the same run.\n\n${resourceServer}\n`;
  } finally {
    console.warn = warn;
  }
}

const started = Date.now();
buildLibrary();
const work = mkdtempSync(join(tmpdir(), 'bench-'));
const keysFile = join(work, 'keys.json');
writeFileSync(keysFile, JSON.stringify(await generateKeys()));
/** Every key the bench writes to Redis starts with this, and is deleted at the end. */
const prefix = `bench:${process.pid}-${Date.now()}:`;
// Fails fast when Redis is down, instead of retrying forever.
const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
const children = new Set<{ stop(): Promise<void> }>();
const stopChildren = () => Promise.all([...children].map((child) => child.stop()));
const cleanUp = async () => {
  await stopChildren();
  rmSync(work, { recursive: true, force: true });
  await deleteKeys(redis, prefix).catch((error: unknown) => {
    console.error(`could not delete the bench's Redis keys (${prefix}*): ${error}`);
  });
  redis.disconnect();
};
// Interrupted or ended from outside: no server process outlives the bench.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    cleanUp().finally(() => process.exit(1));
  });
}
let measured: Awaited<ReturnType<typeof main>>;
let extra = '';
try {
  try {
    measured = await main(redis, keysFile, prefix, children);
  } finally {
    await stopChildren();
  }
  if (!SMOKE) extra = `\n${await checksAndVerifiers(prefix)}`;
} finally {
  await cleanUp();
}

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, Redis ${measured.redisVersion}`;
const report = `# Benchmark results

Machine: ${machine}. Generated ${new Date().toISOString()} by \`npm run bench\` in ${Math.round((Date.now() - started) / 1000)} s.

${mainTable(measured.main)}

${manyInstallsTable(measured.many, measured.main[0] as Row, INSTALLS)}

${nativeTable(measured.native, measured.main[0] as Row)}

How this is measured: three server processes on 127.0.0.1, signing with the same generated keys — bare oidc-provider with the configuration the library gives it (bench/bare.ts) and its own in-memory adapter, the library on its in-memory store, and the library on Redis — each given the fixture's options (test/helpers/fixture.ts) with one DCR token for all registrations and \`registration.instances.unusedTtl: 0\` (instances are in steady use, so no token meets an install's one-time first-use promotion). A separate load generator process (autocannon) keeps ${CONNECTIONS} keep-alive connections busy, ${REQUESTS} requests per row, target and round; any answer other than 2xx stops the bench. Codes, refresh tokens and access tokens are minted inside each server with its own oidc-provider models before a run (on the library only for instances registered over HTTP, for the user they are bound to), so a run times the operation alone; a refresh chain carries each rotated token into its next refresh. The refresh rows: with rotation, of grants with \`openid offline_access\` (each refresh signs an ID token, RS256), and the same without an ID token (grants of \`offline_access\` alone), whose cost no signature hides. ${ROUNDS} round(s), the order of the targets rotating each round: ops/s are the median (range) over rounds, ratios are taken within each round, then the median (range). Server CPU: the server process's user + system time per operation. On Redis: commands executed per operation (INFO commandstats, the commands Lua scripts call included), Redis CPU per operation (INFO cpu), and round trips per operation, counted as writes on the server's Redis socket while ${ROUND_TRIP_OPS} operations are sent one at a time. A registration row registers a new instance per request (bare: with a plain initial access token, sending the metadata the library's instance rules fill in). The many-installs row refreshes the chains of ${INSTALLS} installs in turn, each with its own client credentials, against the single-install refresh of the same target and round. The native sign-in row (the library only) exchanges id_tokens of an upstream oidc-provider started by the bench, each carrying a nonce fetched from the server before the run, for the install's access and refresh tokens, against the refresh of the same target and round.
${extra}`;

console.log(report);
if (RESULTS_PATH) writeFileSync(RESULTS_PATH, report);
if (!SMOKE) {
  // The performance page shows the latest tables (between its bench markers).
  const pagePath = new URL(`../${PERFORMANCE_PAGE}`, import.meta.url);
  const page = readFileSync(pagePath, 'utf8');
  const section = `${BENCH_MARKER_START}\nMeasured by \`npm run bench\` on ${machine}, ${new Date().toISOString().slice(0, 10)} (method and more rows: [\`bench/RESULTS.md\`](../bench/RESULTS.md)):\n\n${mainTable(measured.main)}\n\n${manyInstallsTable(measured.many, measured.main[0] as Row, INSTALLS)}\n\n${nativeTable(measured.native, measured.main[0] as Row)}\n${BENCH_MARKER_END}`;
  const start = page.indexOf(BENCH_MARKER_START);
  const end = page.indexOf(BENCH_MARKER_END);
  if (start < 0 || end < start) throw new Error(`${PERFORMANCE_PAGE} has no bench section markers`);
  writeFileSync(
    pagePath,
    page.slice(0, start) + section + page.slice(end + BENCH_MARKER_END.length),
  );
  // Laid out as the linter wants it: CI checks the page's tables too.
  execFileSync(
    process.execPath,
    ['node_modules/@biomejs/biome/bin/biome', 'format', '--write', PERFORMANCE_PAGE],
    { cwd: new URL('..', import.meta.url), stdio: 'inherit' },
  );
}
