// What the machine was doing while the bench measured: /proc/stat's busy time of all CPUs against
// the bench's own processes' (/proc/<pid>/stat) and Redis's (INFO cpu), so a reader of the
// results can tell a quiet run from one that shared the machine with other work.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';

/** Clock ticks per second of /proc's counters. */
const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds so far: the whole machine's busy time, and each listed process's. */
export interface CpuSnapshot {
  at: number;
  machineBusySeconds: number;
  processSeconds: Map<number, number>;
  redisSeconds: number;
}

/** Busy seconds of all CPUs since boot (/proc/stat: all but idle and iowait). */
function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const [, ...fields] = line.trim().split(/\s+/).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is counted in user already)
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
  return (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND;
}

/** A process's user + system seconds (/proc/<pid>/stat), or undefined once it is gone. */
function processSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is the first, utime the 12th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** The CPU counters now, for the bench's processes `pids` and Redis's `redisCpuUs`. */
export function cpuSnapshot(pids: number[], redisCpuUs: number): CpuSnapshot {
  const processes = new Map<number, number>();
  for (const pid of pids) {
    const seconds = processSeconds(pid);
    if (seconds !== undefined) processes.set(pid, seconds);
  }
  return {
    at: Date.now(),
    machineBusySeconds: machineBusySeconds(),
    processSeconds: processes,
    redisSeconds: redisCpuUs / 1e6,
  };
}

/** CPU used between two snapshots, in cores (CPU seconds per second of the window). */
export interface CpuUse {
  seconds: number;
  machine: number;
  bench: number;
  redis: number;
  /** Everything else on the machine: busy − the bench's processes − Redis. */
  others: number;
}

export function cpuUse(start: CpuSnapshot, end: CpuSnapshot): CpuUse {
  const seconds = (end.at - start.at) / 1000;
  let bench = 0;
  for (const [pid, before] of start.processSeconds) {
    const after = end.processSeconds.get(pid);
    if (after !== undefined) bench += after - before;
  }
  const machine = end.machineBusySeconds - start.machineBusySeconds;
  const redis = end.redisSeconds - start.redisSeconds;
  const cores = (cpuSeconds: number) => cpuSeconds / seconds;
  return {
    seconds,
    machine: cores(machine),
    bench: cores(bench),
    redis: cores(redis),
    others: cores(Math.max(0, machine - bench - redis)),
  };
}

/** The 1-minute load average now. */
export const loadAverage = () => loadavg()[0] ?? 0;

/** The Machine section of the results. */
export function machineSection(settings: {
  redisVersion: string;
  loadAtStart: number;
  loadAtEnd: number;
  use: CpuUse;
}): string {
  const { use } = settings;
  const count = cpus().length;
  const cores = (n: number) => `${n.toFixed(2)} cores (${((n / count) * 100).toFixed(0)} %)`;
  return `## Machine

- CPU: ${count} × ${cpus()[0]?.model ?? 'cpu'}; memory ${Math.round(totalmem() / 2 ** 30)} GiB; Node ${process.version}; Redis ${settings.redisVersion}.
- Load average (1 min): ${settings.loadAtStart.toFixed(2)} at the start, ${settings.loadAtEnd.toFixed(2)} at the end.
- CPU in use over the ${Math.round(use.seconds)} s of measured runs (warm-up and rounds), of ${count} cores: the whole machine ${cores(use.machine)}; the bench's processes (orchestrator, load generator, servers) ${cores(use.bench)}; Redis ${cores(use.redis)}; **other processes ${cores(use.others)}** (the machine's busy time in /proc/stat minus the bench's processes' in /proc/<pid>/stat minus Redis's INFO cpu). Other work above a few percent makes ops/s noisy; server CPU µs/op is affected less.`;
}
