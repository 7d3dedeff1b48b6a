import { type ChildProcess, spawn } from 'node:child_process';
import { after } from 'node:test';
import { freePort } from './listen.js';

/** A runnable example started as its own process. */
export interface SpawnedExample {
  child: ChildProcess;
  /** The port it announced it is listening on. */
  port: number;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Stops it (SIGTERM, then SIGKILL after 5 s) and resolves once it has exited. */
  stop(): Promise<void>;
}

/** Ends `child` (SIGTERM, SIGKILL after 5 s) and resolves once it has exited. */
export async function ended(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(killer);
}

// How every example announces its port ("… listening on port 3000", "… on port 3000; …").
const ANNOUNCED_PORT = /on port (\d+)/;

// Under `npm test` this file runs compiled (test/compile.ts), each entry's JavaScript beside it:
// run that, without a loader. Run from the sources, an entry runs with tsx.
const COMPILED = import.meta.url.endsWith('.js');
const runArguments = (entry: string): string[] =>
  COMPILED ? ['--enable-source-maps', entry.replace(/\.ts$/, '.js')] : ['--import', 'tsx', entry];

/**
 * Starts `entry` (a runnable example's `main.ts`, or `test/helpers/server-process.ts`) as its
 * own process, as `npm start` does, and resolves once it announces the port it bound. `PORT` is
 * 0 unless `env` sets one, so the system picks a free port and no two tests can race for one.
 * An inherited `ISSUER` is dropped unless `env` sets one.
 */
export async function spawnExample(
  entry: string,
  env: Record<string, string> = {},
): Promise<SpawnedExample> {
  const { ISSUER: _inherited, ...inherited } = process.env;
  const child = spawn(process.execPath, runArguments(entry), {
    env: { ...inherited, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const port = await new Promise<number>((resolve, reject) => {
    // A child that never announces its port is ended, so the run does not hang on it.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${entry} did not start: ${output}`));
    }, 30_000);
    child.stdout?.on('data', (chunk) => {
      output += chunk;
      const announced = ANNOUNCED_PORT.exec(output);
      if (announced) {
        clearTimeout(timer);
        resolve(Number(announced[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${entry} exited with ${code}: ${output}`));
    });
  });
  return { child, port, output: () => output, stop: () => ended(child) };
}

/**
 * Starts two processes of `entry` at once, serving one issuer on two ports as two instances of
 * a deployment would: the issuer is `http://localhost:<the first one's port>`, a free port chosen
 * before either starts, so neither waits for the other. Taken meanwhile, another port is tried.
 */
export async function spawnTwoServingOneIssuer(
  entry: string,
  env: Record<string, string>,
): Promise<{ issuer: string; processes: [SpawnedExample, SpawnedExample] }> {
  for (let attempt = 1; ; attempt += 1) {
    const port = await freePort();
    const issuer = `http://localhost:${port}`;
    const started = await Promise.allSettled([
      spawnExample(entry, { ...env, PORT: String(port), ISSUER: issuer }),
      spawnExample(entry, { ...env, ISSUER: issuer }),
    ]);
    const [a, b] = started;
    if (a.status === 'fulfilled' && b.status === 'fulfilled') {
      return { issuer, processes: [a.value, b.value] };
    }
    await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)));
    const failure = a.status === 'rejected' ? a.reason : (b as PromiseRejectedResult).reason;
    if (attempt >= 3 || !/EADDRINUSE/.test(String(failure))) throw failure;
  }
}

/**
 * Starts `entry` now, beside what the test file does first, for a test that needs it later: the
 * function returned resolves to it (or rejects as {@link spawnExample} did). Stopped after the
 * file, whether or not a test used it.
 */
export function spawnEarly(
  entry: string,
  env: Record<string, string> = {},
): () => Promise<SpawnedExample> {
  const started = spawnExample(entry, env);
  started.catch(() => {}); // reported by the test that awaits it
  after(async () => {
    await (await started.catch(() => undefined))?.stop();
  });
  return () => started;
}
