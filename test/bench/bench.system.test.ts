// `npm run bench` end to end, in its smoke mode (one short round, 200 installs, no checks or
// verifiers): the three target processes start, every operation answers 2xx on each (the bench
// stops on any other answer), and the report has every row measured on every target (native
// sign-in on the library's two).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { CHECKOUT } from '../helpers/checkout.js';
import { TEST_REDIS_URL } from '../helpers/redis-url.js';

const run = promisify(execFile);
const repo = CHECKOUT;

const ROWS = [
  'refresh with rotation',
  'refresh with rotation, no ID token',
  'authorization-code exchange (PKCE)',
  'client_credentials',
  'introspection (resource server)',
  'userinfo (Bearer access token)',
  'registration: DCR token (bare: initial access token)',
  'registration: templatized (bare: as above)',
];

/** The cells of the report's table row named `name`. */
function row(report: string, name: string): string[] {
  const line = report.split('\n').find((l) => l.startsWith(`| ${name}`));
  assert.ok(line, `no row '${name}' in the report:\n${report}`);
  return line
    .split('|')
    .slice(1, -1)
    .map((cell) => cell.trim());
}

/** The leading number of a cell ("812 (790–830)" → 812). */
const number = (cell: string | undefined) => Number.parseFloat(cell ?? '');

describe('npm run bench (BENCH_SMOKE=1)', { timeout: 120_000 }, () => {
  let work: string;
  let report: string;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'bench-smoke-'));
    const results = join(work, 'RESULTS.md');
    try {
      await run('npm', ['run', 'bench'], {
        cwd: repo,
        env: {
          ...process.env,
          BENCH_SMOKE: '1',
          BENCH_RESULTS: results,
          REDIS_URL: TEST_REDIS_URL,
        },
        maxBuffer: 16 * 1024 * 1024,
      });
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string; message: string };
      assert.fail(`npm run bench failed:\n${e.stdout ?? ''}\n${e.stderr ?? e.message}`);
    }
    report = await readFile(results, 'utf8');
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('measures every row on bare oidc-provider, the library in memory and on Redis', () => {
    for (const name of ROWS) {
      const [, bare, memory, redis, memoryRatio, redisRatio, cpu, commands, roundTrips, redisCpu] =
        row(report, name);
      for (const cell of [bare, memory, redis, memoryRatio, redisRatio]) {
        assert.ok(number(cell) > 0, `${name}: '${cell}'`);
      }
      const cpus = (cpu ?? '').split(' / ').map(number);
      assert.equal(cpus.length, 3, `${name}: server CPU '${cpu}'`);
      for (const value of cpus) assert.ok(value > 0, `${name}: server CPU '${cpu}'`);
      for (const cell of [commands, roundTrips, redisCpu]) {
        assert.ok(number(cell) > 0, `${name}: Redis '${cell}'`);
      }
    }
  });

  it('measures refresh spread over many installs on every target', () => {
    const cells = row(report, 'refresh with rotation, many installs');
    assert.equal(cells.length, 7);
    for (const cell of cells.slice(1)) assert.ok(number(cell) > 0, `'${cell}'`);
  });

  it('measures native sign-in against a refresh on the library in memory and on Redis', () => {
    const cells = row(report, 'native sign-in: id_token exchange (RFC 8693)');
    assert.equal(cells.length, 9);
    for (const cell of cells.slice(1)) assert.ok(number(cell) > 0, `'${cell}'`);
  });
});
