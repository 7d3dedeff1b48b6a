// `npm run bench` end to end, in its smoke mode (one short round, 200 installs, no checks or
// verifiers): the target processes start, every operation answers 2xx on each (the bench stops on
// any other answer), and the report has every row measured on every target (native sign-in, the
// first token and the sign-ins on the library's two), the targets' verdicts, the browserless
// sign-in against the browser code flow, its Method and Machine sections.
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

/** The cells of every table row named `name` (or `name (…)`), in the report's order. */
function rows(report: string, name: string): string[][] {
  const lines = report
    .split('\n')
    .filter((l) => l.startsWith(`| ${name} |`) || l.startsWith(`| ${name} (`));
  assert.ok(lines.length > 0, `no row '${name}' in the report:\n${report}`);
  return lines.map((line) =>
    line
      .split('|')
      .slice(1, -1)
      .map((cell) => cell.trim()),
  );
}

/** The cells of the report's first table row named `name`. */
const row = (report: string, name: string) => rows(report, name)[0] as string[];

/** The numbers of a cell of values joined by ' / ' ("812 / 790" → [812, 790]). */
const numbers = (cell: string | undefined) => (cell ?? '').split(' / ').map(number);

/** The leading number of a cell ("812 (790–830)" → 812). */
const number = (cell: string | undefined) => Number.parseFloat(cell ?? '');

// The sign-in rows' whole sign-ins (and their installs' sign-ins for DCR tokens) made a smoke
// run on a loaded 2-core machine take up to 5 minutes.
describe('npm run bench (BENCH_SMOKE=1)', { timeout: 420_000 }, () => {
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

  it('measures server CPU of every row on bare (static and dynamic), the library in memory and on Redis', () => {
    for (const name of ROWS) {
      const cells = row(report, name);
      assert.equal(cells.length, 11, `${name}: ${cells.join(' | ')}`);
      const [, ...measured] = cells;
      const [bareStatic, bare, memory, redis, overStatic, overDynamic, redisOverMemory] = measured;
      for (const cell of [bareStatic, bare, memory, redis]) {
        assert.match(cell ?? '', /^\d+ \(\d+–\d+\)$/, `${name}: server CPU '${cell}'`);
        assert.ok(number(cell) > 0, `${name}: server CPU '${cell}'`);
      }
      for (const cell of [overStatic, overDynamic, redisOverMemory]) {
        assert.ok(number(cell) > 0, `${name}: ratio '${cell}'`);
      }
      const [, , , , , , , ops, redisCommands, redisCpu] = measured;
      const opsPerTarget = numbers(ops);
      assert.equal(opsPerTarget.length, 4, `${name}: ops/s '${ops}'`);
      for (const value of opsPerTarget) assert.ok(value > 0, `${name}: ops/s '${ops}'`);
      const [sent, executed, roundTrips] = numbers(redisCommands);
      for (const value of [sent, executed, roundTrips]) {
        assert.ok(
          (value ?? 0) > 0,
          `${name}: Redis sent / executed / round trips '${redisCommands}'`,
        );
      }
      assert.ok(
        (executed ?? 0) >= (sent ?? 0) - 0.5,
        `${name}: executed < sent: '${redisCommands}'`,
      );
      assert.ok(number(redisCpu) > 0, `${name}: Redis CPU '${redisCpu}'`);
    }
  });

  it("marks each of the issue's targets met or not met", () => {
    for (const name of ROWS) {
      const verdicts = rows(report, name)[1];
      assert.ok(verdicts, `no targets row for '${name}'`);
      const [, memory, redis, roundTrips] = verdicts;
      // The verdict by the median ratio, then the ratio of the targets' fastest rounds.
      for (const cell of [memory, redis]) {
        assert.match(cell ?? '', /: (met|\*\*not met\*\*); fastest ÷ fastest \d+\.\d\d$/);
      }
      if (/^(introspection|userinfo)/.test(name)) {
        assert.match(roundTrips ?? '', /: (met|\*\*not met\*\*)$/, `${name}: '${roundTrips}'`);
      } else assert.equal(roundTrips, '–');
    }
  });

  it("measures an install's first token against a later refresh, in memory and on Redis", () => {
    const cells = row(report, "install's first token (refresh, no ID token)");
    assert.equal(cells.length, 8);
    const [, memoryCpu, memoryRatio, redisCpu, redisRatio, first, later, ops] = cells;
    for (const cell of [memoryCpu, redisCpu]) {
      const [firstCpu, laterCpu] = numbers(cell);
      assert.ok((firstCpu ?? 0) > 0 && (laterCpu ?? 0) > 0, `server CPU '${cell}'`);
    }
    for (const cell of [memoryRatio, redisRatio]) {
      assert.ok(number(cell) > 0, `'${cell}'`);
      assert.match(cell ?? '', /: (met|\*\*not met\*\*)$/);
    }
    // The first token promotes the install (its client record rewritten under a lock): more
    // commands than the later refresh of the same install.
    const [firstSent] = numbers(first);
    const [laterSent] = numbers(later);
    assert.ok((firstSent ?? 0) > (laterSent ?? 0), `first '${first}', later '${later}'`);
    for (const value of numbers(ops)) assert.ok(value > 0, `ops/s '${ops}'`);
  });

  it('measures refresh spread over many installs on bare (dynamic) and the library', () => {
    const cells = row(report, 'refresh with rotation, many installs');
    assert.equal(cells.length, 8);
    for (const cell of cells.slice(1)) assert.ok(number(cell) > 0, `'${cell}'`);
  });

  it('measures native sign-in against a refresh on the library in memory and on Redis', () => {
    const cells = row(report, 'native sign-in: id_token exchange (RFC 8693)');
    assert.equal(cells.length, 7);
    for (const cell of cells.slice(1)) assert.ok(number(cell) > 0, `'${cell}'`);
  });

  it('measures the browserless sign-in against the browser code flow on the library in memory and on Redis', () => {
    const browser = row(
      report,
      'browser sign-in: code flow (login page, password) + code exchange',
    );
    const challenge = row(
      report,
      'browserless sign-in: authorization challenge (password) + code exchange',
    );
    for (const cells of [browser, challenge]) {
      assert.equal(cells.length, 9, cells.join(' | '));
      const [name, memoryCpu, redisCpu, ops] = cells;
      for (const cell of [memoryCpu, redisCpu]) {
        assert.match(cell ?? '', /^\d+ \(\d+–\d+\)$/, `${name}: server CPU '${cell}'`);
        assert.ok(number(cell) > 0, `${name}: server CPU '${cell}'`);
      }
      const opsPerTarget = numbers(ops);
      assert.equal(opsPerTarget.length, 2, `${name}: ops/s '${ops}'`);
      for (const value of opsPerTarget) assert.ok(value > 0, `${name}: ops/s '${ops}'`);
    }
    // The browser row is the reference; the browserless one ÷ it, server CPU and ops/s, per target.
    assert.deepEqual(browser.slice(4, 8), ['–', '–', '–', '–']);
    for (const cell of challenge.slice(4, 8)) {
      assert.match(cell ?? '', /^\d+\.\d\d \(\d+\.\d\d–\d+\.\d\d\)$/, `ratio '${cell}'`);
      assert.ok(number(cell) > 0, `ratio '${cell}'`);
    }
    // One request to the challenge endpoint instead of the pages and their redirects: fewer
    // Redis commands and round trips than the browser's sign-in, which also keeps a session.
    const [browserSent, , browserTrips] = numbers(browser[8]);
    const [challengeSent, , challengeTrips] = numbers(challenge[8]);
    assert.ok((challengeSent ?? 0) > 0 && (challengeTrips ?? 0) > 0, `'${challenge[8]}'`);
    assert.ok((challengeSent ?? 0) < (browserSent ?? 0), `'${challenge[8]}' vs '${browser[8]}'`);
    assert.ok((challengeTrips ?? 0) < (browserTrips ?? 0), `'${challenge[8]}' vs '${browser[8]}'`);
  });

  it('says how it was measured and what the machine was doing', () => {
    assert.match(report, /^## Method$/m);
    assert.match(report, /^## Machine$/m);
    assert.match(report, /Load average \(1 min\): \d+\.\d+ at the start, \d+\.\d+ at the end/);
    assert.match(report, /\*\*other processes \d+\.\d+ cores \(\d+ %\)\*\*/);
  });
});
