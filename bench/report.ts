// The bench's tables: medians over rounds with their ranges, and ratios taken round by round (the
// targets of one round ran back to back, so drift on this shared machine falls on both sides).
import type { TargetName } from './operations.js';

/** What one run of one operation on one target measured. */
export interface Sample {
  opsPerSecond: number;
  /** Server process CPU (user + system) per operation. */
  cpuUsPerOp: number;
  /** Commands Redis executed per operation, those Lua scripts call included (Redis target). */
  redisCommandsPerOp?: number;
  /** Redis CPU (user + system) per operation (Redis target). */
  redisCpuUsPerOp?: number;
}

/** One row: the samples of each target, one per round, and the Redis round trips per op. */
export interface Row {
  name: string;
  samples: Record<TargetName, Sample[]>;
  redisRoundTrips?: number;
}

interface Spread {
  median: number;
  min: number;
  max: number;
}

function spread(values: number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = (sorted.length - 1) / 2;
  const median = ((sorted[Math.floor(mid)] ?? 0) + (sorted[Math.ceil(mid)] ?? 0)) / 2;
  return { median, min: sorted[0] ?? 0, max: sorted.at(-1) ?? 0 };
}

const fixed = (n: number, digits: number) => n.toFixed(digits);
const withRange = (s: Spread, digits: number) =>
  `${fixed(s.median, digits)} (${fixed(s.min, digits)}–${fixed(s.max, digits)})`;
const median = (values: (number | undefined)[]) =>
  spread(values.filter((v): v is number => v !== undefined)).median;

/** `a ÷ b` round by round, for `of` of each sample. */
const ratios = (a: Sample[], b: Sample[], of: (s: Sample) => number = (s) => s.opsPerSecond) =>
  spread(a.map((s, i) => of(s) / of(b[i] as Sample)));

/** The main table. */
export function mainTable(rows: Row[]): string {
  const lines = rows.map((row) => {
    const { bare, 'library-memory': memory, 'library-redis': redis } = row.samples;
    const ops = (samples: Sample[]) => withRange(spread(samples.map((s) => s.opsPerSecond)), 0);
    const cpu = [bare, memory, redis].map((s) => fixed(median(s.map((x) => x.cpuUsPerOp)), 0));
    return [
      row.name,
      ops(bare),
      ops(memory),
      ops(redis),
      withRange(ratios(memory, bare), 2),
      withRange(ratios(redis, memory), 2),
      cpu.join(' / '),
      fixed(median(redis.map((s) => s.redisCommandsPerOp)), 1),
      row.redisRoundTrips === undefined ? '–' : fixed(row.redisRoundTrips, 1),
      fixed(median(redis.map((s) => s.redisCpuUsPerOp)), 0),
    ];
  });
  return table(
    [
      'operation',
      'bare ops/s',
      'library memory ops/s',
      'library Redis ops/s',
      'memory ÷ bare',
      'Redis ÷ memory',
      'server CPU µs/op bare / memory / Redis',
      'Redis commands/op',
      'Redis round trips/op',
      'Redis CPU µs/op',
    ],
    lines,
  );
}

/** The many-installs table: its throughput, and its ratio to the single-install `reference`. */
export function manyInstallsTable(row: Row, reference: Row, installs: number): string {
  const cells = (target: TargetName) => {
    const samples = row.samples[target];
    return [
      withRange(spread(samples.map((s) => s.opsPerSecond)), 0),
      withRange(ratios(samples, reference.samples[target]), 2),
    ];
  };
  return table(
    [
      'operation',
      'bare ops/s',
      'bare ÷ one install',
      'library memory ops/s',
      'memory ÷ one install',
      'library Redis ops/s',
      'Redis ÷ one install',
    ],
    [
      [
        `${row.name} (${installs} installs)`,
        ...cells('bare'),
        ...cells('library-memory'),
        ...cells('library-redis'),
      ],
    ],
  );
}

/** The native sign-in table (the library only): throughput, and its ratio to a refresh. */
export function nativeTable(row: Row, refresh: Row): string {
  const cells = (target: 'library-memory' | 'library-redis') => {
    const samples = row.samples[target];
    return [
      withRange(spread(samples.map((s) => s.opsPerSecond)), 0),
      withRange(ratios(samples, refresh.samples[target]), 2),
      fixed(median(samples.map((s) => s.cpuUsPerOp)), 0),
    ];
  };
  const redis = row.samples['library-redis'];
  return table(
    [
      'operation',
      'library memory ops/s',
      'memory ÷ refresh',
      'server CPU µs/op, memory',
      'library Redis ops/s',
      'Redis ÷ refresh',
      'server CPU µs/op, Redis',
      'Redis commands/op',
      'Redis round trips/op',
    ],
    [
      [
        row.name,
        ...cells('library-memory'),
        ...cells('library-redis'),
        fixed(median(redis.map((s) => s.redisCommandsPerOp)), 1),
        row.redisRoundTrips === undefined ? '–' : fixed(row.redisRoundTrips, 1),
      ],
    ],
  );
}

/** A Markdown table, numbers right-aligned. */
export function table(header: string[], rows: string[][]): string {
  return [
    `| ${header.join(' | ')} |`,
    `| --- |${' ---: |'.repeat(header.length - 1)}`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}
