// `npm test`: every test file under test/<feature>/, compiled first into the tree test/compile.ts
// writes. In-process files run in shards: each shard is one process that runs its files one
// after another, each file as a suite named by its path, so a process starts (and loads the
// library) a few times rather than once per file; the shards run one per core. System tests
// (`*.system.test.ts`: spawned processes, Redis Cluster, storage fault injection, the packed
// tarball) then run in processes of their own, two at a time, each on its own ports and Redis.
// `npm test -- <files>` runs just those files (their .ts paths from the checkout's root), each in
// its own process.
// TEST_CONCURRENCY overrides the number of processes at once.
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { compileTestTree } from './compile.js';

const SYSTEM = /\.system\.test\.ts$/;
// The longest system tests (each builds the library with tsc) start first, one per lane, so the
// run does not end waiting on one of them alone.
const LONGEST_FIRST = ['test/bench/bench.system.test.ts', 'test/package/pack.system.test.ts'];
const compiled = (file: string) => file.replace(/\.ts$/, '.js');

function testFiles(): string[] {
  return readdirSync('test', { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((dir) =>
      readdirSync(join('test', dir.name))
        .filter((name) => name.endsWith('.test.ts'))
        .map((name) => join('test', dir.name, name)),
    )
    .sort();
}

/**
 * Writes `count` shard files into `tree` and returns their paths: shard i imports every
 * count-th file from the i-th, each inside a suite named by the file's path, which keeps the
 * file's hooks to its own tests. Neighbours in name order (a feature's files) land in different
 * shards, so heavy features spread across the cores.
 */
function writeShards(tree: string, files: string[], count: number): string[] {
  return Array.from({ length: Math.min(count, files.length) }, (_, shard) => {
    const suites = files
      .filter((_, index) => index % count === shard)
      .map((file) => {
        const from = `./${compiled(file).replace(/^test\//, '')}`;
        return `describe(${JSON.stringify(file)}, () => import(${JSON.stringify(from)}));`;
      });
    const path = join('test', `shard-${shard}.js`);
    writeFileSync(
      join(tree, path),
      [`import { describe } from 'node:test';`, ...suites, ''].join('\n'),
    );
    return path;
  });
}

/** Runs `files` (compiled, in `tree`) with node's test runner, `concurrency` at a time. */
function run(tree: string, files: string[], concurrency: number): number {
  if (files.length === 0) return 0;
  const { status } = spawnSync(
    process.execPath,
    ['--enable-source-maps', '--test', `--test-concurrency=${concurrency}`, ...files],
    { cwd: tree, stdio: 'inherit' },
  );
  return status ?? 1;
}

const concurrency = Number(process.env.TEST_CONCURRENCY ?? Math.max(1, availableParallelism()));
// esbuild has printed what failed to compile, with its file and line; its stack adds nothing.
const tree = await compileTestTree(process.cwd()).catch(() => process.exit(1));
const chosen = process.argv.slice(2);
if (chosen.length > 0) {
  process.exitCode = run(tree, chosen.map(compiled), concurrency);
} else {
  const files = testFiles();
  const inProcess = files.filter((file) => !SYSTEM.test(file));
  // Twice as many shards as processes at once: a shard that draws heavy files does not hold
  // up the end of the run alone.
  const shards = writeShards(tree, inProcess, 2 * concurrency);
  const inProcessStatus = run(tree, shards, concurrency);
  const system = files.filter((file) => SYSTEM.test(file));
  const systemStatus = run(
    tree,
    [
      ...LONGEST_FIRST.filter((file) => system.includes(file)),
      ...system.filter((file) => !LONGEST_FIRST.includes(file)),
    ].map(compiled),
    Math.min(2, concurrency),
  );
  process.exitCode = inProcessStatus || systemStatus;
}
