// The bench's tables: medians over rounds with their ranges, and ratios taken round by round (the
// targets of one round ran back to back, so drift on this shared machine falls on both sides).
import type { TargetName } from './operations.js';

/** What one run of one operation on one target measured. */
export interface Sample {
  opsPerSecond: number;
  /** Server process CPU (user + system) per operation. */
  cpuUsPerOp: number;
  /** Commands the server's Redis client sent per operation (Redis target). */
  redisCommandsSentPerOp?: number;
  /** Commands Redis executed per operation, those Lua scripts call included (Redis target). */
  redisCommandsPerOp?: number;
  /** Redis CPU (user + system) per operation (Redis target). */
  redisCpuUsPerOp?: number;
}

/** One row: the samples of each target that runs it, one per round, and Redis round trips per op. */
export interface Row {
  name: string;
  samples: Record<TargetName, Sample[]>;
  redisRoundTrips?: number;
}

/** The first-token row: the first tokens and the later refreshes of the same installs. */
export interface FirstTokenRow {
  first: Row;
  later: Row;
  installs: number;
}

/** The targets (#27), by the median of the round-by-round CPU ratios. */
export const TARGET_LIMITS = {
  memoryOverBareStatic: 1.15,
  registrationOverBareStatic: 1.5,
  redisOverMemory: 1.1,
  roundTrips: 2,
  firstTokenOverLater: 1.3,
} as const;

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

const cpuOf = (s: Sample) => s.cpuUsPerOp;
const opsOf = (s: Sample) => s.opsPerSecond;

/** `a ÷ b` round by round, for `of` of each sample (server CPU unless told). */
const ratios = (a: Sample[], b: Sample[], of: (s: Sample) => number = cpuOf) =>
  spread(a.map((s, i) => of(s) / of(b[i] as Sample)));

/** `a ÷ b` of each target's least CPU over the rounds: the runs the machine disturbed least. */
const fastestRatio = (a: Sample[], b: Sample[]) =>
  Math.min(...a.map(cpuOf)) / Math.min(...b.map(cpuOf));

/** Server CPU µs/op: median (range) over rounds. */
const cpuCell = (samples: Sample[]) => withRange(spread(samples.map(cpuOf)), 0);
const opsMedian = (samples: Sample[]) => fixed(median(samples.map(opsOf)), 0);
const perOp = (samples: Sample[], of: (s: Sample) => number | undefined, digits = 1) =>
  fixed(median(samples.map(of)), digits);

/** Redis commands sent / executed / round trips per operation. */
function redisCommandsCell(samples: Sample[], roundTrips: number | undefined): string {
  const sent = perOp(samples, (s) => s.redisCommandsSentPerOp);
  const executed = perOp(samples, (s) => s.redisCommandsPerOp);
  return `${sent} / ${executed} / ${roundTrips === undefined ? '–' : fixed(roundTrips, 1)}`;
}

/** `value` against an upper `limit`: met or not, with a digit more where rounding would hide which. */
function verdict(value: number, limit: number, digits = 2): string {
  const shown = fixed(value, Number(fixed(value, digits)) === limit ? digits + 1 : digits);
  return value <= limit ? `${shown} ≤ ${limit}: met` : `${shown} > ${limit}: **not met**`;
}

const isRegistration = (row: Row) => row.name.startsWith('registration');
/** The rows whose Redis round trips have a target (introspection and userinfo). */
const hasRoundTripTarget = (row: Row) => /^(introspection|userinfo)/.test(row.name);

/** The main table: server CPU per operation on every target, the ratios, then ops/s and Redis. */
export function mainTable(rows: Row[]): string {
  const lines = rows.map((row) => {
    const {
      'bare-static': bareStatic,
      bare,
      'library-memory': memory,
      'library-redis': redis,
    } = row.samples;
    return [
      row.name,
      cpuCell(bareStatic),
      cpuCell(bare),
      cpuCell(memory),
      cpuCell(redis),
      withRange(ratios(memory, bareStatic), 2),
      withRange(ratios(memory, bare), 2),
      withRange(ratios(redis, memory), 2),
      [bareStatic, bare, memory, redis].map(opsMedian).join(' / '),
      redisCommandsCell(redis, row.redisRoundTrips),
      perOp(redis, (s) => s.redisCpuUsPerOp, 0),
    ];
  });
  return table(
    [
      'operation',
      'server CPU µs/op: bare, static client',
      'bare, dynamic client',
      'library memory',
      'library Redis',
      'memory ÷ bare-static',
      'memory ÷ bare-dynamic',
      'Redis ÷ memory',
      'ops/s bare-static / bare-dynamic / memory / Redis',
      'Redis commands sent / executed / round trips per op',
      'Redis CPU µs/op',
    ],
    lines,
  );
}

/** The targets, met or not, for each row of the main table (medians of CPU ratios). */
export function targetsTable(rows: Row[]): string {
  const lines = rows.map((row) => {
    const {
      'bare-static': bareStatic,
      'library-memory': memory,
      'library-redis': redis,
    } = row.samples;
    const limit = isRegistration(row)
      ? TARGET_LIMITS.registrationOverBareStatic
      : TARGET_LIMITS.memoryOverBareStatic;
    return [
      row.name,
      `${verdict(ratios(memory, bareStatic).median, limit)}; fastest ÷ fastest ${fixed(fastestRatio(memory, bareStatic), 2)}`,
      `${verdict(ratios(redis, memory).median, TARGET_LIMITS.redisOverMemory)}; fastest ÷ fastest ${fixed(fastestRatio(redis, memory), 2)}`,
      hasRoundTripTarget(row) && row.redisRoundTrips !== undefined
        ? verdict(row.redisRoundTrips, TARGET_LIMITS.roundTrips, 1)
        : '–',
    ];
  });
  return table(
    [
      'target (#27)',
      `memory ÷ bare-static CPU ≤ ${TARGET_LIMITS.memoryOverBareStatic} (registration ≤ ${TARGET_LIMITS.registrationOverBareStatic})`,
      `Redis ÷ memory CPU ≤ ${TARGET_LIMITS.redisOverMemory}`,
      `Redis round trips ≤ ${TARGET_LIMITS.roundTrips} (introspection, userinfo)`,
    ],
    lines,
  );
}

/** The first-token table: an install's first token against the next refresh of the same install. */
export function firstTokenTable({ first, later, installs }: FirstTokenRow): string {
  const cells = (target: 'library-memory' | 'library-redis') => {
    const firsts = first.samples[target];
    const laters = later.samples[target];
    const ratio = ratios(firsts, laters);
    return [
      `${cpuCell(firsts)} / ${cpuCell(laters)}`,
      `${withRange(ratio, 2)}: ${verdict(ratio.median, TARGET_LIMITS.firstTokenOverLater)}`,
    ];
  };
  const redis = (row: Row) => redisCommandsCell(row.samples['library-redis'], row.redisRoundTrips);
  return table(
    [
      'operation',
      'server CPU µs/op memory: first / later',
      `memory first ÷ later (≤ ${TARGET_LIMITS.firstTokenOverLater})`,
      'server CPU µs/op Redis: first / later',
      `Redis first ÷ later (≤ ${TARGET_LIMITS.firstTokenOverLater})`,
      'Redis commands sent / executed / round trips: first',
      'later',
      'ops/s memory / Redis: first',
    ],
    [
      [
        `${first.name} (${installs} installs)`,
        ...cells('library-memory'),
        ...cells('library-redis'),
        redis(first),
        redis(later),
        [first.samples['library-memory'], first.samples['library-redis']]
          .map(opsMedian)
          .join(' / '),
      ],
    ],
  );
}

/** The many-installs table: server CPU and ratio to the single-install `reference` per target. */
export function manyInstallsTable(row: Row, reference: Row, installs: number): string {
  const cells = (target: TargetName) => {
    const samples = row.samples[target];
    return [cpuCell(samples), withRange(ratios(samples, reference.samples[target]), 2)];
  };
  return table(
    [
      'operation',
      'server CPU µs/op bare-dynamic',
      'bare ÷ one install',
      'library memory',
      'memory ÷ one install',
      'library Redis',
      'Redis ÷ one install',
      'ops/s bare-dynamic / memory / Redis',
    ],
    [
      [
        `${row.name} (${installs} installs)`,
        ...cells('bare'),
        ...cells('library-memory'),
        ...cells('library-redis'),
        [row.samples.bare, row.samples['library-memory'], row.samples['library-redis']]
          .map(opsMedian)
          .join(' / '),
      ],
    ],
  );
}

/** The native sign-in table (the library only): server CPU, and its ratio to a refresh. */
export function nativeTable(row: Row, refresh: Row): string {
  const cells = (target: 'library-memory' | 'library-redis') => {
    const samples = row.samples[target];
    return [cpuCell(samples), withRange(ratios(samples, refresh.samples[target]), 2)];
  };
  const redis = row.samples['library-redis'];
  return table(
    [
      'operation',
      'server CPU µs/op memory',
      'memory ÷ refresh',
      'server CPU µs/op Redis',
      'Redis ÷ refresh',
      'ops/s memory / Redis',
      'Redis commands sent / executed / round trips per op',
    ],
    [
      [
        row.name,
        ...cells('library-memory'),
        ...cells('library-redis'),
        [row.samples['library-memory'], redis].map(opsMedian).join(' / '),
        redisCommandsCell(redis, row.redisRoundTrips),
      ],
    ],
  );
}

/**
 * The sign-in table (the library only): the browser code flow and the browserless sign-in, each
 * whole through the code exchange, and the browserless one ÷ the browser one on each target (its
 * server CPU and its ops/s, round by round).
 */
export function signInTable(browser: Row, challenge: Row): string {
  const targets = ['library-memory', 'library-redis'] as const;
  const line = (row: Row, reference?: Row) => [
    row.name,
    ...targets.map((t) => cpuCell(row.samples[t])),
    targets.map((t) => opsMedian(row.samples[t])).join(' / '),
    ...[cpuOf, opsOf].flatMap((of) =>
      targets.map((t) =>
        reference ? withRange(ratios(row.samples[t], reference.samples[t], of), 2) : '–',
      ),
    ),
    redisCommandsCell(row.samples['library-redis'], row.redisRoundTrips),
  ];
  return table(
    [
      'operation',
      'server CPU µs/op memory',
      'server CPU µs/op Redis',
      'ops/s memory / Redis',
      'CPU ÷ browser code flow, memory',
      'CPU ÷ browser code flow, Redis',
      'ops/s ÷ browser code flow, memory',
      'ops/s ÷ browser code flow, Redis',
      'Redis commands sent / executed / round trips per op',
    ],
    [line(browser), line(challenge, browser)],
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
