// The bench's child processes: server targets (server.ts) and the load generator (load.ts), each
// started with tsx, its output kept for the error that ends a failed run, always stoppable.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ended } from '../test/helpers/spawn.js';
import type { LoadJob, LoadResult, MintRequest, ServerStats } from './protocol.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A child process started with tsx, its output (stdout and stderr) captured. */
class Child {
  readonly process: ChildProcess;
  #output = '';
  /** Lines printed on stdout that nobody has asked for yet, and those who wait for one. */
  #lines: string[] = [];
  #waiting: Array<(line: string) => void> = [];
  #exited: Promise<never>;

  constructor(script: string, env: Record<string, string>) {
    // BENCH_NODE_ARGS: Node's own flags for the child (bench/profile.ts: the CPU profiler).
    const nodeArgs = env.BENCH_NODE_ARGS?.split(' ') ?? [];
    this.process = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', `bench/${script}`], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.process.stderr?.on('data', (chunk) => {
      this.#output += chunk;
    });
    // Read to the end, always: a child blocks on a full stdout pipe.
    createInterface({ input: this.process.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      this.#output += `${line}\n`;
      const waiter = this.#waiting.shift();
      if (waiter) waiter(line);
      else this.#lines.push(line);
    });
    this.#exited = new Promise<never>((_, reject) => {
      this.process.once('exit', (code, signal) =>
        reject(new Error(`bench/${script} exited (${code ?? signal}): ${this.output()}`)),
      );
    });
    this.#exited.catch(() => {}); // rejects only those waiting for a line
  }

  /** The next line it prints on stdout; rejects if it exits first. */
  nextLine(): Promise<string> {
    const line = this.#lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    return Promise.race([
      new Promise<string>((resolve) => this.#waiting.push(resolve)),
      this.#exited,
    ]);
  }

  /** What it printed so far, its last 4 kB. */
  output(): string {
    return this.#output.slice(-4096);
  }

  /** Ends it (SIGTERM, SIGKILL after 5 s) and resolves once it has exited. */
  stop(): Promise<void> {
    return ended(this.process);
  }
}

/**
 * Compiles the library with tsc into bench/.dist, which the server processes load (through
 * bench/tsconfig.json): what is measured is the library as it ships, not a transform of its
 * source on the fly.
 */
export function buildLibrary(): void {
  execFileSync(
    process.execPath,
    [
      'node_modules/typescript/bin/tsc',
      ...['-p', 'tsconfig.build.json', '--outDir', 'bench/.dist'],
      ...['--declaration', 'false', '--declarationMap', 'false'],
    ],
    { cwd: ROOT, stdio: 'inherit' },
  );
}

/** A bench target's server process, reached on 127.0.0.1. */
export class ServerProcess extends Child {
  url = '';

  /** Starts server.ts with `env` and resolves once it announces its port (see buildLibrary). */
  static async start(env: Record<string, string>): Promise<ServerProcess> {
    const server = new ServerProcess('server.ts', {
      TSX_TSCONFIG_PATH: 'bench/tsconfig.json',
      ...env,
    });
    // One that never announces its port is ended, so the bench does not hang on it.
    const timer = setTimeout(() => server.stop(), 60_000);
    try {
      let line = await server.nextLine();
      while (!line.startsWith('{"port"')) line = await server.nextLine();
      server.url = `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`;
      return server;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Its CPU so far (and its Redis socket writes). */
  async stats(): Promise<ServerStats> {
    return (await fetch(`${this.url}/__bench/stats`)).json() as Promise<ServerStats>;
  }

  /** Tokens minted in the server, in the order of `request.clientIds` (1000 per request). */
  async mint(request: MintRequest): Promise<string[]> {
    const tokens: string[] = [];
    for (let i = 0; i < request.clientIds.length; i += 1000) {
      const clientIds = request.clientIds.slice(i, i + 1000);
      const res = await fetch(`${this.url}/__bench/mint`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...request, clientIds }),
      });
      const body = (await res.json()) as { tokens?: string[]; error?: string };
      if (!res.ok || !body.tokens) throw new Error(`mint: ${res.status} ${body.error}`);
      tokens.push(...body.tokens);
    }
    return tokens;
  }
}

/** The load generator process: runs one job at a time. */
export class LoadGenerator extends Child {
  static start(): LoadGenerator {
    return new LoadGenerator('load.ts', {});
  }

  async run(job: LoadJob): Promise<LoadResult> {
    this.process.stdin?.write(`${JSON.stringify(job)}\n`);
    return JSON.parse(await this.nextLine()) as LoadResult;
  }
}
