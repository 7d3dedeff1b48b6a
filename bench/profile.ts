// `npm run bench:profile -- <row> [target]`: one bench row on one target with the server under
// Node's CPU profiler, then the functions with the most self time per operation. For finding
// what a row of bench/RESULTS.md spends; the full profile is left in a temporary directory
// (open it in Chrome DevTools).
//   row: a substring of a row's name (e.g. introspection); target: bare, library-memory
//   (default) or library-redis. BENCH_REQUESTS (default 4000).
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeys } from 'mobile-oidc-provider';
import { OPERATIONS, prepare, type TargetName } from './operations.js';
import { buildLibrary, LoadGenerator, ServerProcess } from './processes.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
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
  BENCH_TARGET: targetName === 'bare' ? 'bare' : 'library',
  BENCH_STORE: targetName === 'library-redis' ? 'redis' : 'memory',
  BENCH_KEY_PREFIX: `bench-profile:${process.pid}:`,
  BENCH_NODE_ARGS: `--cpu-prof --cpu-prof-dir=${work}`,
};
const server = await ServerProcess.start(env);
const load = LoadGenerator.start();
try {
  const target = await prepare(targetName as TargetName, server, { connections: 16, installs: 0 });
  const result = await load.run(await op.job(target, REQUESTS, 16));
  if (result.failures > 0) throw new Error(`failed: ${result.firstFailure}`);
  console.log(`${op.name} on ${targetName}: ${Math.round(result.opsPerSecond)} ops/s`);
} finally {
  await load.stop();
  await server.stop();
}

// Self time per function (name + file + line), per operation, the top 25.
const file = readdirSync(work).find((f) => f.endsWith('.cpuprofile'));
if (!file) throw new Error(`no profile written in ${work}`);
const profile = JSON.parse(readFileSync(join(work, file), 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<string, number>();
profile.samples.forEach((id, i) => {
  const frame = byId.get(id)?.callFrame;
  if (!frame) return;
  const where = frame.url
    .replace(/^.*node_modules\//, '')
    .replace(/^file:\/\/.*?\/(lib|adapters|bench)\//, '$1/');
  const key = `${frame.functionName || '(anonymous)'} ${where}:${frame.lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, 25);
for (const [key, us] of top) console.log(`${(us / REQUESTS).toFixed(1).padStart(8)} µs/op  ${key}`);
console.log(`full profile: ${join(work, file)}`);
