// `npm run bench:profile -- <row> [target]`: one bench row on one target with the server's CPU
// profiler on for the timed run only (after a warm-up run; start-up and token minting left out),
// then the functions with the most self time per operation, and the library's own functions by
// inclusive time. For finding what a row of bench/RESULTS.md spends; the full profile is left in
// a temporary directory (open it in Chrome DevTools).
//   row: a substring of a row's name (e.g. introspection); target: bare, library-memory
//   (default) or library-redis. BENCH_REQUESTS (default 4000), REDIS_URL.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeys } from 'mobile-oidc-provider';
import { OPERATIONS, prepare, type TargetName } from './operations.js';
import { buildLibrary, LoadGenerator, ServerProcess } from './processes.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [rowName = 'refresh', targetName = 'library-memory'] = process.argv.slice(2);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 4000);
const op = OPERATIONS.find((o) => o.name.includes(rowName));
if (!op) throw new Error(`no row matches ${rowName}: ${OPERATIONS.map((o) => o.name).join(', ')}`);
buildLibrary();
const work = mkdtempSync(join(tmpdir(), 'bench-profile-'));
const keysFile = join(work, 'keys.json');
writeFileSync(keysFile, JSON.stringify(await generateKeys()));
const env: Record<string, string> = {
  BENCH_KEYS_FILE: keysFile,
  BENCH_TARGET: targetName.startsWith('bare') ? targetName : 'library',
  BENCH_STORE: targetName === 'library-redis' ? 'redis' : 'memory',
  BENCH_KEY_PREFIX: `bench-profile:${process.pid}:`,
};
const server = await ServerProcess.start(env);
const load = LoadGenerator.start();
let profile: Profile;
try {
  const target = await prepare(targetName as TargetName, server, { connections: 16, installs: 0 });
  // The job (and the tokens it mints) is made before `started`, which starts the measuring.
  const run = async (started: () => Promise<unknown> = async () => {}) => {
    const job = await op.job(target, REQUESTS, 16);
    await started();
    const result = await load.run(job);
    if (result.failures > 0) throw new Error(`failed: ${result.firstFailure}`);
    op.after?.(target, result);
    return result;
  };
  await run(); // warm-up: JIT, caches
  // Server CPU per operation without the profiler: the figure to compare between changes.
  const cpu = async () => {
    const { cpuUserUs, cpuSystemUs } = await server.stats();
    return cpuUserUs + cpuSystemUs;
  };
  const perOp: number[] = [];
  for (let i = 0; i < 3; i += 1) {
    let before = 0;
    await run(async () => {
      before = await cpu();
    });
    perOp.push(((await cpu()) - before) / REQUESTS);
  }
  const runs = perOp.map((us) => us.toFixed(0)).join(', ');
  console.log(`server CPU, profiler off: min ${Math.min(...perOp).toFixed(0)} µs/op (${runs})`);
  const result = await run(() => fetch(`${server.url}/__bench/profile/start`, { method: 'POST' }));
  profile = (await (
    await fetch(`${server.url}/__bench/profile/stop`, { method: 'POST' })
  ).json()) as Profile;
  console.log(`${op.name} on ${targetName}: ${Math.round(result.opsPerSecond)} ops/s`);
} finally {
  await load.stop();
  await server.stop();
}
const file = join(work, 'timed-run.cpuprofile');
writeFileSync(file, JSON.stringify(profile));

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const node of profile.nodes)
  for (const child of node.children ?? []) parent.set(child, node.id);
const label = (node: ProfileNode) => {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url
    .replace(/^.*node_modules\//, '')
    .replace(/^file:\/\/.*?\/(lib|adapters|bench)\//, '$1/');
  return `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
};
const perOp = (us: number) => `${(us / REQUESTS).toFixed(1).padStart(8)} µs/op`;
const top = (totals: Map<string, number>, count: number) =>
  [...totals].sort((a, b) => b[1] - a[1]).slice(0, count);

// Self time per function; inclusive time per library function (each sample counted once each).
const self = new Map<string, number>();
const inclusive = new Map<string, number>();
const add = (totals: Map<string, number>, key: string, us: number) =>
  totals.set(key, (totals.get(key) ?? 0) + us);
profile.samples.forEach((id, i) => {
  const us = profile.timeDeltas[i] ?? 0;
  const node = byId.get(id);
  if (!node) return;
  add(self, label(node), us);
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const frame = byId.get(at) as ProfileNode;
    const key = label(frame);
    if (
      /^file:(?!.*node_modules).*\/(lib|adapters)\//.test(frame.callFrame.url) &&
      !seen.has(key)
    ) {
      seen.add(key);
      add(inclusive, key, us);
    }
  }
});
console.log('self time:');
for (const [key, us] of top(self, 30)) console.log(`${perOp(us)}  ${key}`);
console.log('library functions, inclusive time:');
for (const [key, us] of top(inclusive, 30)) console.log(`${perOp(us)}  ${key}`);
console.log(`full profile: ${file}`);
