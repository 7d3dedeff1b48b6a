import { type ChildProcess, spawn } from 'node:child_process';

/** A runnable example started as its own process. */
export interface SpawnedExample {
  child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  stop(): void;
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
    const timer = setTimeout(() => reject(new Error(`${entry} did not start: ${output}`)), 30_000);
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
  return { child, output: () => output, stop: () => child.kill('SIGTERM') };
}
