import { type ChildProcess, spawn } from 'node:child_process';

/** A runnable example started as its own process. */
export interface SpawnedExample {
  child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Stops it (SIGTERM, then SIGKILL after 5 s) and resolves once it has exited. */
  stop(): Promise<void>;
}

/** Ends `child` and resolves once it has exited. */
async function ended(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(killer);
}

/**
 * Starts `entry` (e.g. `examples/server/main.ts`) with tsx, as `npm start` does, on `port`, and
 * resolves once it announces that port. An inherited `ISSUER` is dropped unless `env` sets one.
 */
export async function spawnExample(
  entry: string,
  port: number,
  env: Record<string, string> = {},
): Promise<SpawnedExample> {
  const { ISSUER: _inherited, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    env: { ...inherited, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  await new Promise<void>((resolve, reject) => {
    // A child that never announces its port is ended, so the run does not hang on it.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${entry} did not start: ${output}`));
    }, 30_000);
    child.stdout?.on('data', (chunk) => {
      output += chunk;
      if (output.includes(`port ${port}`)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${entry} exited with ${code}: ${output}`));
    });
  });
  return { child, output: () => output, stop: () => ended(child) };
}
