import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './listen.js';

/** A standalone redis-server this test started on a free loopback port, to stop and restart. */
export interface OwnRedis {
  port: number;
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Freezes the server (SIGSTOP): connections stay open, nothing answers — a hung Redis. */
  pause(): void;
  /** Unfreezes it (SIGCONT). */
  resume(): void;
  /** Stops it for good and removes its directory; safe to call twice. */
  destroy(): Promise<void>;
}

/**
 * Starts a throwaway redis-server (no persistence) for fault tests; with `password`, it requires
 * it (`requirepass`) and `url` carries it.
 */
export async function startOwnRedis(options: { password?: string } = {}): Promise<OwnRedis> {
  const { password } = options;
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'mop-redis-'));
  let child: ChildProcess | undefined;

  async function start() {
    const proc = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        ...(password ? ['--requirepass', password] : []),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    let output = '';
    proc.stdout?.on('data', (chunk) => {
      output += chunk;
    });
    // Bounded wait for "Ready to accept connections".
    for (let i = 0; i < 100 && !output.includes('Ready to accept connections'); i += 1) {
      if (proc.exitCode !== null) throw new Error(`redis-server exited: ${output}`);
      await sleep(50);
    }
    if (!output.includes('Ready to accept connections'))
      throw new Error(`redis-server did not start: ${output}`);
  }

  async function stop() {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGKILL');
    await exited;
  }

  await start();
  return {
    port,
    url: password
      ? `redis://:${encodeURIComponent(password)}@127.0.0.1:${port}`
      : `redis://127.0.0.1:${port}`,
    stop,
    start,
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
    async destroy() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
