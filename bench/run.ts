// `npm run bench`: the server's CPU and throughput per operation, measured from outside. Four
// targets run as processes of their own: bare oidc-provider configured as the library configures
// it (bench/bare.ts) with its install as a static client and as a registered one, the library on
// its in-memory store, and the library on Redis; two more library servers (memory, Redis) keep
// the default unusedTtl for the first-token row. A separate load generator (bench/load.ts) sends
// the traffic; single-use tokens are minted in the servers beforehand (bench/control.ts), so only
// the operation itself is timed. Rounds interleave the targets in a rotating order; ratios are
// taken round by round. The sign-in rows (the library's only: bare has no challenge endpoint)
// compare the browserless sign-in with the browser code flow of the same target and round.
// Writes bench/RESULTS.md.
//   BENCH_ROUNDS (5), BENCH_REQUESTS (1000, per row, target and round; sign-in rows a quarter as
//   many sign-ins), BENCH_INSTALLS (10000), REDIS_URL. More rounds of fewer requests: medians
//   steadier on a shared machine, a run near 7 min.
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
import { cpuSnapshot, cpuUse, loadAverage, machineSection } from './machine.js';
import {
  BROWSER_SIGN_IN,
  CHALLENGE_SIGN_IN,
  FIRST_TOKEN,
  isBare,
  LATER_REFRESH,
  type LibraryTargetName,
  MANY_INSTALLS,
  nativeExchange,
  OPERATIONS,
  type Operation,
  prepare,
  prepareFirstUse,
  prepareSignIns,
  TARGETS,
  type Target,
  type TargetName,
} from './operations.js';
import { buildLibrary, LoadGenerator, ServerProcess } from './processes.js';
import type { ServerStats } from './protocol.js';
import {
  type FirstTokenRow,
  firstTokenTable,
  mainTable,
  manyInstallsTable,
  nativeTable,
  type Row,
  type Sample,
  signInTable,
  table,
  targetsTable,
} from './report.js';
import { benchResourceServer } from './resource-server.js';
import { benchVerifiers } from './verifiers.js';

const env = process.env;
const SMOKE = env.BENCH_SMOKE === '1';
const ROUNDS = SMOKE ? 1 : Number(env.BENCH_ROUNDS ?? 5);
const REQUESTS = SMOKE ? 100 : Number(env.BENCH_REQUESTS ?? 1000);
const INSTALLS = SMOKE ? 200 : Number(env.BENCH_INSTALLS ?? 10_000);
const CONNECTIONS = 16;
/**
 * Requests per target and row before the first round: JIT, caches, Redis script loading (with
 * 200, every target's first round still ran slower than the rest).
 */
const WARM_UP = Math.min(500, REQUESTS);
/**
 * Sign-ins per sign-in row, target and round (and warm-up): a sign-in is 2 (browserless) to 7
 * (browser) requests, so a quarter as many keeps their runs about as long as the other rows'.
 */
const SIGN_INS = Math.max(CONNECTIONS, Math.round(REQUESTS / 4));
const SIGN_IN_WARM_UP = Math.max(CONNECTIONS, Math.round(WARM_UP / 4));
/** Operations sent one at a time to count Redis round trips. */
const ROUND_TRIP_OPS = SMOKE ? 20 : 50;
/** First-token row: first uses before the rounds (each takes an unused install of INSTALLS). */
const FIRST_TOKEN_WARM_UP = Math.min(WARM_UP, Math.floor(INSTALLS / 10));
/** First-token row: first uses per round and target, as many as the unused installs allow. */
const FIRST_TOKENS_PER_ROUND = Math.min(
  REQUESTS,
  Math.floor((INSTALLS - FIRST_TOKEN_WARM_UP - ROUND_TRIP_OPS) / ROUNDS),
);
if (FIRST_TOKENS_PER_ROUND < CONNECTIONS) {
  throw new Error(`BENCH_INSTALLS ${INSTALLS}: too few unused installs for the first-token row`);
}
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
  const cpuUs = (stats: ServerStats) => stats.cpuUserUs + stats.cpuSystemUs;
  const cpuUsPerOp = (cpuUs(after) - cpuUs(before)) / amount;
  console.error(
    `  ${op.name} on ${target.name}: ${Math.round(cpuUsPerOp)} µs/op server CPU, ${Math.round(result.opsPerSecond)} ops/s, p50 ${result.p50} ms, p99 ${result.p99} ms`,
  );
  if (result.failures > 0) {
    throw new Error(
      `${op.name} on ${target.name}: ${result.failures} of ${amount} requests failed; the first: ${result.firstFailure}`,
    );
  }
  op.after?.(target, result);
  const sample: Sample = { opsPerSecond: result.opsPerSecond, cpuUsPerOp };
  if (redisBefore && redisAfter) {
    sample.redisCommandsSentPerOp =
      ((after.redisCommandsSent ?? 0) - (before.redisCommandsSent ?? 0)) / amount;
    sample.redisCommandsPerOp = (redisAfter.commands - redisBefore.commands) / amount;
    sample.redisCpuUsPerOp = (redisAfter.cpuUs - redisBefore.cpuUs) / amount;
  }
  return { sample, writes: (after.redisWrites ?? 0) - (before.redisWrites ?? 0) };
}

/** An empty row: no samples yet on any target. */
const emptyRow = (name: string): Row => ({
  name,
  samples: { 'bare-static': [], bare: [], 'library-memory': [], 'library-redis': [] },
});

/** `targets` in the order of `round`: each round starts with the next one. */
const rotated = <T>(targets: T[], round: number) =>
  targets.map((_, i) => targets[(round + i) % targets.length] as T);

/**
 * Starts and prepares the targets, warms them up, and measures every row over the rounds; also
 * what the machine spent meanwhile.
 */
async function main(
  redis: Redis,
  keysFile: string,
  prefix: string,
  children: Set<{ stop(): Promise<void> }>,
) {
  const pids = [process.pid];
  const track = <T extends { stop(): Promise<void>; process?: { pid?: number } }>(child: T) => {
    children.add(child);
    if (child.process?.pid) pids.push(child.process.pid);
    return child;
  };
  const load = track(LoadGenerator.start());
  // Native sign-in's upstream provider: the library targets fetch its keys once, then it idles.
  const upstream = await startUpstreamIdp();
  track({ stop: () => upstream.close() });
  const native = nativeExchange(upstream);
  const bare = (name: string) => ({ BENCH_TARGET: name, BENCH_KEYS_FILE: keysFile });
  const library = (store: 'memory' | 'redis', keyPrefix = prefix) => ({
    BENCH_TARGET: 'library',
    BENCH_STORE: store,
    BENCH_KEYS_FILE: keysFile,
    BENCH_UPSTREAM_ISSUER: upstream.issuer,
    ...(store === 'redis' ? { REDIS_URL, BENCH_KEY_PREFIX: keyPrefix } : {}),
  });
  const envs: Record<TargetName, Record<string, string>> = {
    'bare-static': bare('bare-static'),
    bare: bare('bare'),
    'library-memory': library('memory'),
    'library-redis': library('redis'),
  };
  const targets: Target[] = [];
  for (const name of TARGETS) {
    const server = track(await ServerProcess.start(envs[name]));
    // bare-static's install is its configured client: the many-installs row leaves it out.
    const installs = name === 'bare-static' ? 0 : INSTALLS;
    console.error(`preparing ${name}: ${installs} installs`);
    const target = await prepare(name, server, { connections: CONNECTIONS, installs });
    if (!isBare(name)) await prepareSignIns(target, CONNECTIONS);
    targets.push(target);
  }
  const firstUseTargets: Target[] = [];
  for (const name of ['library-memory', 'library-redis'] as LibraryTargetName[]) {
    const env = { ...library(name === 'library-redis' ? 'redis' : 'memory', `${prefix}first:`) };
    const server = track(await ServerProcess.start({ ...env, BENCH_FIRST_USE: '1' }));
    console.error(`preparing ${name} (default unusedTtl): ${INSTALLS} unused installs`);
    firstUseTargets.push(await prepareFirstUse(name, server, INSTALLS));
  }

  const tools = { load, redis };
  // The browserless sign-in right after its reference, the browser one, on each target.
  const signIns = [BROWSER_SIGN_IN, CHALLENGE_SIGN_IN];
  const operations = [...OPERATIONS, MANY_INSTALLS, native, ...signIns];
  // Bare oidc-provider has no native sign-in and no challenge endpoint (its sign-in rows are
  // compared with each other, not with bare); bare-static has one install, not many.
  const libraryOnly = new Set([native, ...signIns]);
  const runsOn = (op: Operation, target: Target) =>
    !(libraryOnly.has(op) && isBare(target.name)) &&
    !(op === MANY_INSTALLS && target.name === 'bare-static');
  const rows = new Map<Operation, Row>(operations.map((op) => [op, emptyRow(op.name)]));
  const firstToken: FirstTokenRow = {
    first: emptyRow(FIRST_TOKEN.name),
    later: emptyRow(LATER_REFRESH.name),
    installs: INSTALLS,
  };
  /** The first-token row on `target`: first uses, then the next refresh of the same installs. */
  const firstAndLater = async (target: Target, amount: number, connections: number) => {
    const first = await measure(tools, FIRST_TOKEN, target, amount, connections);
    const later = await measure(tools, LATER_REFRESH, target, amount, connections);
    return { first, later };
  };

  const start = cpuSnapshot(pids, (await redisCounters(redis)).cpuUs);
  console.error('warming up');
  for (const op of operations) {
    for (const target of targets) {
      const amount = signIns.includes(op) ? SIGN_IN_WARM_UP : WARM_UP;
      if (runsOn(op, target)) await measure(tools, op, target, amount, CONNECTIONS);
    }
  }
  for (const target of firstUseTargets) {
    await firstAndLater(target, FIRST_TOKEN_WARM_UP, CONNECTIONS);
  }
  const onRedis = targets.find((t) => t.name === 'library-redis') as Target;
  for (const op of [...OPERATIONS, native, ...signIns]) {
    const { writes } = await measure(tools, op, onRedis, ROUND_TRIP_OPS, 1);
    (rows.get(op) as Row).redisRoundTrips = writes / ROUND_TRIP_OPS;
  }
  const firstOnRedis = firstUseTargets.find((t) => t.name === 'library-redis') as Target;
  const { first, later } = await firstAndLater(firstOnRedis, ROUND_TRIP_OPS, 1);
  firstToken.first.redisRoundTrips = first.writes / ROUND_TRIP_OPS;
  firstToken.later.redisRoundTrips = later.writes / ROUND_TRIP_OPS;

  for (let round = 0; round < ROUNDS; round += 1) {
    console.error(`round ${round + 1} of ${ROUNDS}`);
    const order = rotated(targets, round);
    for (const op of operations) {
      for (const target of order.filter((t) => runsOn(op, t))) {
        const amount = signIns.includes(op) ? SIGN_INS : REQUESTS;
        const { sample } = await measure(tools, op, target, amount, CONNECTIONS);
        (rows.get(op) as Row).samples[target.name].push(sample);
      }
    }
    for (const target of rotated(firstUseTargets, round)) {
      const measured = await firstAndLater(target, FIRST_TOKENS_PER_ROUND, CONNECTIONS);
      firstToken.first.samples[target.name].push(measured.first.sample);
      firstToken.later.samples[target.name].push(measured.later.sample);
    }
  }
  const end = cpuSnapshot(pids, (await redisCounters(redis)).cpuUs);
  return {
    main: OPERATIONS.map((op) => rows.get(op) as Row),
    many: rows.get(MANY_INSTALLS) as Row,
    native: rows.get(native) as Row,
    signIn: {
      browser: rows.get(BROWSER_SIGN_IN) as Row,
      challenge: rows.get(CHALLENGE_SIGN_IN) as Row,
    },
    firstToken,
    cpuUse: cpuUse(start, end),
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
const loadAtStart = loadAverage();
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
const loadAtEnd = loadAverage();
const tables = `${mainTable(measured.main)}

Targets of #27, by the median of the round-by-round server CPU ratios (registration: against bare-static's \`/reg\`, which registers dynamically as bare does); beside each, the ratio of the two targets' least CPU over the rounds (noise on this machine only ever adds CPU, so the fastest round of each is its least disturbed):

${targetsTable(measured.main)}

${firstTokenTable(measured.firstToken)}

${manyInstallsTable(measured.many, measured.main[0] as Row, INSTALLS)}

${nativeTable(measured.native, measured.main[0] as Row)}

A user's sign-in by password, whole (every request of it through the code exchange), on the library only: the browserless sign-in (issue #29) against the browser code flow on the same target in the same round:

${signInTable(measured.signIn.browser, measured.signIn.challenge)}`;
const method = `## Method

- **Processes.** Each target is a server process of its own on 127.0.0.1 (bench/server.ts); a separate load generator process (autocannon, bench/load.ts) keeps ${CONNECTIONS} keep-alive connections busy (the sign-in rows: ${CONNECTIONS} sign-ins in flight, made with Node's fetch on keep-alive connections, bench/sign-ins.ts); the orchestrator (bench/run.ts) mints tokens and reads the counters between runs, never during one. All sign with the same generated keys.
- **Targets.** *bare-static*: bare oidc-provider with the configuration the library gives it (bench/bare.ts, each setting naming the library setting it mirrors), its install a configured client with the metadata the library's instance rules give a registered install (what a deployment without DCR has). *bare-dynamic*: the same, its install registered over \`/reg\` with a plain initial access token. Both store in memory with oidc-provider's adapter semantics on Maps (bench/bare.ts says why not its own adapter). *library memory* and *library Redis*: \`createAuthServer\` with the fixture's options (test/helpers/fixture.ts), one DCR token for all registrations and \`registration.instances.unusedTtl: 0\` (installs in steady use); on Redis with auto-pipelining. Registration rows register a new install per request on every target (bare ones with the initial access token, sending the metadata the library's instance rules fill in); the many-installs row leaves out bare-static (one configured install). The first-token row runs on two more library servers (memory, Redis) that keep the default \`unusedTtl\` (${measured.firstToken.installs} installs registered unused, spread over 32 accounts so concurrent first uses meet different account locks). The library's app template declares \`firstParty\` with \`minimumLevel: 'none'\`, so its installs registered with a user's DCR token (\`cal\` none) may use the Authorization Challenge Endpoint (the endpoint is on for every row, as in a deployment that offers it).
- **Operations.** Codes, refresh tokens and access tokens are minted inside each server with its own oidc-provider models before a run (the library only for installs registered over HTTP, for their own account), so a run times the operation alone; any answer other than 2xx stops the bench. Refresh with rotation: grants of \`openid offline_access\` (each refresh signs an RS256 ID token) and of \`offline_access\` alone (no ID token, no signature hiding the rest); a chain carries each rotated token into its next refresh. First token: the first refresh (no ID token) of an install's minted refresh token, which promotes the install from unused to in use (under its account's lock), against the next refresh of the same installs on the same server in the same round. Native sign-in (library only): id_tokens of an upstream oidc-provider started by the bench, each with a nonce fetched beforehand, exchanged for the install's tokens. Sign-in (library only): a user's whole sign-in by password, each request of it through the code exchange (PKCE S256, a fresh verifier each time; the answer must carry a refresh and an ID token): the browser code flow (the authorization request in a fresh cookie jar, so no SSO session: the login page, the password posted, the redirects to the app's redirect URI, no consent page as the install is the user's own) and the browserless sign-in (one POST to the Authorization Challenge Endpoint with the username, the password and the PKCE challenge, answered with the code). Both with the same accounts and password check, one install per connection each registered from the app template by its own account (its own user), so the sign-in throttle (on, with its defaults; only failures count) never queues one connection's sign-in behind another's; the browserless row ÷ the browser row is taken per target round by round.
- **Rounds.** A warm-up run per row and target (${WARM_UP} requests; sign-in rows: ${SIGN_IN_WARM_UP} sign-ins), then ${ROUNDS} round(s) of ${REQUESTS} requests per row and target (sign-in rows: ${SIGN_INS} sign-ins) (first token: ${FIRST_TOKENS_PER_ROUND} unused installs per round and target), the order of the targets rotating each round. Figures are the median (min–max) over rounds; ratios are taken within each round (the targets of one round ran back to back), then the median (min–max).
- **Server CPU** (the headline): the server process's user + system CPU time (\`process.cpuUsage()\`) over the run ÷ requests; it counts what the server spends whatever else the machine runs, so it is steadier than ops/s on a shared machine.
- **Redis.** *Sent*: commands the server's ioredis client issued (its \`sendCommand\` counted: a script's EVALSHA is one, a pipeline's commands each). *Executed*: the delta of INFO commandstats (INFO itself left out), the commands Lua scripts call included; it counts every client of that Redis, so the bench wants a Redis of its own. *Round trips*: writes on the server's Redis socket while ${ROUND_TRIP_OPS} operations are sent one at a time. *Redis CPU*: the delta of INFO cpu ÷ requests.`;
const report = `# Benchmark results

Generated ${new Date().toISOString()} by \`npm run bench\` in ${Math.round((Date.now() - started) / 1000)} s on ${machine} (see Machine).

${tables}

${method}

${machineSection({ redisVersion: measured.redisVersion, loadAtStart, loadAtEnd, use: measured.cpuUse })}
${extra}`;

console.log(report);
if (RESULTS_PATH) writeFileSync(RESULTS_PATH, report);
if (!SMOKE) {
  // The performance page shows the latest tables (between its bench markers).
  const pagePath = new URL(`../${PERFORMANCE_PAGE}`, import.meta.url);
  const page = readFileSync(pagePath, 'utf8');
  const section = `${BENCH_MARKER_START}\nMeasured by \`npm run bench\` on ${machine}, ${new Date().toISOString().slice(0, 10)} (method, machine load and more rows: [\`bench/RESULTS.md\`](../bench/RESULTS.md)):\n\n${tables}\n${BENCH_MARKER_END}`;
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
