// `npm test`: every test file under test/<feature>/. In-process suites run in parallel, one file
// per core; system tests (`*.system.test.ts`: spawned processes, Redis Cluster, storage fault
// injection, the packed tarball) then run one at a time, so their timing and ports are their own.
// `npm test -- <files>` runs just those files, in parallel. TEST_CONCURRENCY overrides the
// number of in-process files at once.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

const SYSTEM = /\.system\.test\.ts$/;

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

/** Runs `files` with node's test runner, `concurrency` files at a time; resolves its exit code. */
function run(files: string[], concurrency: number): number {
  if (files.length === 0) return 0;
  const { status } = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...files],
    { stdio: 'inherit' },
  );
  return status ?? 1;
}

const concurrency = Number(process.env.TEST_CONCURRENCY ?? Math.max(1, availableParallelism()));
const chosen = process.argv.slice(2);
if (chosen.length > 0) {
  process.exitCode = run(chosen, concurrency);
} else {
  const files = testFiles();
  const inProcess = run(
    files.filter((file) => !SYSTEM.test(file)),
    concurrency,
  );
  const system = run(
    files.filter((file) => SYSTEM.test(file)),
    1,
  );
  process.exitCode = inProcess || system;
}
