// `npm run bench:profile -- <row> [target[,against]]`: one bench row on one target with the
// server's CPU profiler on for the timed run only (after a warm-up run; start-up and token minting
// left out), then the functions with the most self time per operation, and the library's own
// functions by inclusive time. With a second target (`library-memory,bare-static`), both are
// profiled and the first one's extra CPU is split by where it is spent (the library, oidc-provider,
// the store, Node, the garbage collector): the bounds the README's performance section quotes.
// The full profiles are left in a temporary directory (open them in Chrome DevTools).
//   row: a substring of a row's name (e.g. introspection); targets: bare-static, bare,
//   library-memory (default) or library-redis. BENCH_REQUESTS (default 4000), REDIS_URL.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeys } from 'mobile-oidc-provider';
import { OPERATIONS, prepare, TARGETS, type TargetName } from './operations.js';
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

const [rowName = 'refresh', targetList = 'library-memory'] = process.argv.slice(2);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 4000);
const found = OPERATIONS.find((o) => o.name.includes(rowName));
if (!found)
  throw new Error(`no row matches ${rowName}: ${OPERATIONS.map((o) => o.name).join(', ')}`);
const op = found;
const targets = targetList.split(',') as TargetName[];
for (const name of targets) {
  if (!TARGETS.includes(name)) throw new Error(`no target ${name}: ${TARGETS.join(', ')}`);
}
buildLibrary();
const work = mkdtempSync(join(tmpdir(), 'bench-profile-'));
const keysFile = join(work, 'keys.json');
writeFileSync(keysFile, JSON.stringify(await generateKeys()));

/** Server CPU µs/op of three unprofiled runs, then one profiled run. */
async function profileTarget(targetName: TargetName): Promise<{ profile: Profile; cpu: number[] }> {
  const server = await ServerProcess.start({
    BENCH_KEYS_FILE: keysFile,
    BENCH_TARGET: targetName.startsWith('bare') ? targetName : 'library',
    BENCH_STORE: targetName === 'library-redis' ? 'redis' : 'memory',
    BENCH_KEY_PREFIX: `bench-profile:${process.pid}:${targetName}:`,
  });
  const load = LoadGenerator.start();
  try {
    const target = await prepare(targetName, server, { connections: 16, installs: 0 });
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
    const serverCpu = async () => {
      const { cpuUserUs, cpuSystemUs } = await server.stats();
      return cpuUserUs + cpuSystemUs;
    };
    const cpu: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      let before = 0;
      await run(async () => {
        before = await serverCpu();
      });
      cpu.push(((await serverCpu()) - before) / REQUESTS);
    }
    const result = await run(() =>
      fetch(`${server.url}/__bench/profile/start`, { method: 'POST' }),
    );
    const profile = (await (
      await fetch(`${server.url}/__bench/profile/stop`, { method: 'POST' })
    ).json()) as Profile;
    console.log(`${op.name} on ${targetName}: ${Math.round(result.opsPerSecond)} ops/s`);
    return { profile, cpu };
  } finally {
    await load.stop();
    await server.stop();
  }
}

const perOp = (us: number) => `${(us / REQUESTS).toFixed(1).padStart(8)} µs/op`;
const top = (totals: Map<string, number>, count: number) =>
  [...totals].sort((a, b) => b[1] - a[1]).slice(0, count);
const add = (totals: Map<string, number>, key: string, us: number) =>
  totals.set(key, (totals.get(key) ?? 0) + us);

const label = (node: ProfileNode) => {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url
    .replace(/^.*node_modules\//, '')
    .replace(/^file:\/\/.*?\/(lib|adapters|bench)\//, '$1/');
  return `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
};

/** Where a function's self time is spent, by who wrote it. */
function origin({ callFrame: { functionName, url } }: ProfileNode): string {
  if (url.includes('/node_modules/oidc-provider/')) return 'oidc-provider';
  if (url.includes('/node_modules/')) return 'other packages (Koa, ioredis, …)';
  if (/\/\.dist\/lib\//.test(url)) return 'the library (lib/)';
  if (/\/\.dist\/adapters\//.test(url) || /\/bench\//.test(url))
    return 'stores (adapters/, bench/)';
  if (url.startsWith('node:')) return 'Node (JavaScript: HTTP, streams, async hooks)';
  if (functionName === '(garbage collector)') return 'garbage collector';
  return 'Node (native: syscalls, crypto, microtasks)';
}

function summarise(targetName: TargetName, profile: Profile, cpu: number[]) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const origins = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    if (!node || node.callFrame.functionName === '(idle)') return;
    add(self, label(node), us);
    add(origins, origin(node), us);
    // Inclusive time per library function, each sample counted once per function.
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
  const runs = cpu.map((us) => us.toFixed(0)).join(', ');
  console.log(`\n## ${targetName}`);
  console.log(`server CPU, profiler off: min ${Math.min(...cpu).toFixed(0)} µs/op (${runs})`);
  console.log('self time:');
  for (const [key, us] of top(self, 30)) console.log(`${perOp(us)}  ${key}`);
  if (!targetName.startsWith('bare')) {
    console.log('library functions, inclusive time:');
    for (const [key, us] of top(inclusive, 30)) console.log(`${perOp(us)}  ${key}`);
  }
  return origins;
}

const results: { name: TargetName; origins: Map<string, number>; cpu: number[] }[] = [];
for (const name of targets) {
  const { profile, cpu } = await profileTarget(name);
  const file = join(work, `${name}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  results.push({ name, origins: summarise(name, profile, cpu), cpu });
  console.log(`full profile: ${file}`);
}

const [first, second] = results;
if (first && second) {
  // The profiler's busy time runs above the unprofiled CPU figure; the split is what to read.
  console.log(`\n## ${first.name} minus ${second.name}, self time by origin (profiled run)`);
  const keys = [...new Set([...first.origins.keys(), ...second.origins.keys()])];
  const rows = keys
    .map((key) => [key, first.origins.get(key) ?? 0, second.origins.get(key) ?? 0] as const)
    .sort((a, b) => b[1] - b[2] - (a[1] - a[2]));
  const total = (r: { origins: Map<string, number> }) =>
    [...r.origins.values()].reduce((a, b) => a + b, 0);
  console.log(`| origin | ${first.name} | ${second.name} | difference |`);
  console.log('| --- | ---: | ---: | ---: |');
  for (const [key, a, b] of [...rows, ['total', total(first), total(second)] as const]) {
    const cell = (us: number) => (us / REQUESTS).toFixed(1);
    console.log(`| ${key} | ${cell(a)} | ${cell(b)} | ${cell(a - b)} |`);
  }
  const ratio = Math.min(...first.cpu) / Math.min(...second.cpu);
  console.log(`server CPU, profiler off, min ÷ min: ${ratio.toFixed(2)}`);
}
