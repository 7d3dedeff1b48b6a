// A real Redis Cluster for tests, built from redis-server child processes on free loopback ports.
// Everything here is bounded by a timeout: a test that cannot get a cluster fails with the
// servers' own output instead of hanging the run.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, type ClusterOptions } from 'ioredis';

/**
 * A running Redis Cluster of `redis-server` processes started by {@link startRedisCluster}.
 *
 * Callers must register `stop()` in an `after` hook right after starting the cluster, so it
 * runs even when a test fails:
 *
 * ```ts
 * const cluster = await startRedisCluster();
 * after(() => cluster.stop());
 * ```
 */
export interface RedisClusterHandle {
  /** The masters' addresses, in start order; the seed list for any cluster client. */
  nodes: Array<{ host: '127.0.0.1'; port: number }>;
  /**
   * A new ioredis {@link Cluster} client seeded with every node. The handle keeps track of it
   * and `stop()` disconnects it, so tests need not (but may) close it themselves.
   */
  client(options?: ClusterOptions): Cluster;
  /**
   * Stops one node (SIGTERM, SIGKILL after 2 s) and keeps its directory, so `startNode` can
   * bring the same node back. Once the node timeout (`nodeTimeoutMs`) passes, the others mark it
   * failed and, with no replicas, report `cluster_state:fail`. No-op if the node is down.
   */
  stopNode(port: number): Promise<void>;
  /**
   * Restarts a node stopped by `stopNode` from its saved cluster config (same node id and
   * slots; its data is gone, nothing is persisted). Resolves once it answers PING and, if every
   * node is then running, once every node reports `cluster_state:ok` again. No-op if running.
   */
  startNode(port: number): Promise<void>;
  /**
   * Disconnects tracked clients, stops every node (SIGTERM, SIGKILL after 2 s) and removes the
   * nodes' directories. Safe to call twice; concurrent calls share one shutdown.
   */
  stop(): Promise<void>;
}

/** How long one whole wait (a node starting, the cluster forming) may take. */
const WAIT_MS = 20_000;
/** How long one redis-cli call may take; a hung node must not hang the test. */
const CLI_MS = 3_000;
/** The last bytes of a server's output kept for error messages. */
const OUTPUT_TAIL = 4_000;
/** Bus port offset Redis uses when `cluster-port` is not set. */
const BUS_OFFSET = 10_000;

interface Node {
  port: number;
  dir: string;
  proc: ChildProcess | undefined;
  /** stdout + stderr of the current process (redis-server logs to stdout when not daemonized). */
  output: string;
}

/** Runs redis-cli against a port, bounded; a failure message carries redis-cli's output. */
async function cli(port: number, args: string[], timeout = CLI_MS): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'redis-cli',
      ['-h', '127.0.0.1', '-p', String(port), ...args],
      { timeout, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`redis-cli ${args.join(' ')}: ${error.message}\n${stdout}${stderr}`));
        } else {
          resolve(stdout);
        }
      },
    );
  });
}

/** Whether a loopback port can be bound right now. */
async function canBind(port: number): Promise<boolean> {
  const server = createServer();
  const bound = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (bound) await new Promise((resolve) => server.close(resolve));
  return bound;
}

/**
 * A free loopback port whose bus port (+10000) is free too, not already taken by this cluster.
 * The OS picks the port (listen on 0); it can still be taken before redis-server binds it, which
 * `spawnNode` detects and retries.
 */
async function freePortPair(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const bus = port + BUS_OFFSET;
    // Ports are compared with each other's bus ports too: one node's bus must not be another's
    // client port.
    if (bus > 65535 || taken.has(port) || taken.has(bus)) continue;
    if (await canBind(bus)) return port;
  }
  throw new Error('no free loopback port pair (port and port+10000) for a cluster node');
}

/** Polls `check` every 100 ms until it returns true; throws `describe()` after `timeoutMs`. */
async function until(
  check: () => Promise<boolean>,
  describe: (lastError: unknown) => string,
  timeoutMs = WAIT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms: ${describe(lastError)}`);
}

/** Rejects if `promise` has not settled within `ms` (ioredis commands queue while connecting). */
async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function describeNode(node: Node): string {
  const output = node.output.trim() || '(no output)';
  return `redis-server :${node.port} output:\n${output}`;
}

/** Ends a process: SIGTERM, SIGKILL after 2 s, and gives up waiting 2 s after that. */
async function kill(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill('SIGTERM');
  const timedOut = Symbol();
  if ((await Promise.race([exited, sleep(2_000, timedOut)])) !== timedOut) return;
  proc.kill('SIGKILL');
  await Promise.race([exited, sleep(2_000)]);
}

/**
 * Starts a Redis Cluster of `masters` (default 3) masters and no replicas, each a `redis-server`
 * child process on free loopback ports with its own temp directory and no persistence, and
 * resolves once every node reports `cluster_state:ok` and a cluster client can write and read
 * keys in several slots. Needs `redis-server` and `redis-cli` (Redis 7) on the PATH.
 *
 * Register `stop()` in `after` straight away (see {@link RedisClusterHandle}). If the test
 * process exits without it, the nodes are killed on exit all the same.
 *
 * @throws if the cluster is not ready within about 20 s per step; the message includes the
 * output of the redis-server or redis-cli concerned. Whatever was started is stopped first.
 */
export async function startRedisCluster(
  options: {
    masters?: number;
    /**
     * `cluster-node-timeout`: how long a node may not answer before the others mark it failed
     * (and, once back, about twice as long until they clear that). Default 2000.
     */
    nodeTimeoutMs?: number;
  } = {},
): Promise<RedisClusterHandle> {
  const masters = options.masters ?? 3;
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 2000;
  // redis-cli refuses to create a cluster with fewer than 3 masters.
  if (!Number.isInteger(masters) || masters < 3) {
    throw new Error(`a Redis Cluster needs at least 3 masters, not ${masters}`);
  }

  const byPort = new Map<number, Node>();
  const clients = new Set<Cluster>();
  const nodes: RedisClusterHandle['nodes'] = [];
  let stopping: Promise<void> | undefined;

  // Last resort for a test process that ends without stop() (a crash, a missing `after`): the
  // children are unref'd below so they cannot keep it alive, and this kills them. Synchronous
  // only, as 'exit' allows.
  const onExit = () => {
    for (const node of byPort.values()) {
      node.proc?.kill('SIGKILL');
      rmSync(node.dir, { recursive: true, force: true });
    }
  };
  process.once('exit', onExit);

  /** Starts redis-server for `node` and waits until it answers PING. */
  async function spawnNode(node: Node): Promise<void> {
    node.output = '';
    const proc = spawn(
      'redis-server',
      [
        '--port',
        String(node.port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${node.port}.conf`,
        '--cluster-node-timeout',
        String(nodeTimeoutMs),
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        node.dir,
      ],
      // Not detached and not daemonized: this handle is the only way to stop it.
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    node.proc = proc;
    let spawnError: Error | undefined;
    proc.once('error', (error) => {
      // e.g. ENOENT when redis-server is not installed; without a listener this would crash.
      spawnError = error;
    });
    const collect = (chunk: Buffer) => {
      node.output = (node.output + chunk.toString()).slice(-OUTPUT_TAIL);
    };
    proc.stdout?.on('data', collect);
    proc.stderr?.on('data', collect);
    // A running node must not keep the test process alive; `onExit` cleans up.
    proc.unref();
    (proc.stdout as Socket | null)?.unref();
    (proc.stderr as Socket | null)?.unref();

    const deadline = Date.now() + WAIT_MS;
    while (Date.now() < deadline) {
      if (spawnError) throw new Error(`could not start redis-server: ${spawnError.message}`);
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(`redis-server :${node.port} exited early\n${describeNode(node)}`);
      }
      if ((await cli(node.port, ['PING'], 1_000).catch(() => '')).trim() === 'PONG') return;
      await sleep(100);
    }
    throw new Error(`redis-server :${node.port} did not answer PING\n${describeNode(node)}`);
  }

  /** Adds a node on a fresh port pair, retrying if another process takes the port first. */
  async function addNode(): Promise<void> {
    const taken = new Set([...byPort.keys()].flatMap((port) => [port, port + BUS_OFFSET]));
    let lastError: unknown;
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const port = await freePortPair(taken);
      const node: Node = {
        port,
        dir: await mkdtemp(join(tmpdir(), `mop-cluster-${port}-`)),
        proc: undefined,
        output: '',
      };
      byPort.set(port, node);
      try {
        await spawnNode(node);
        nodes.push({ host: '127.0.0.1', port });
        return;
      } catch (error) {
        lastError = error;
        byPort.delete(port);
        if (node.proc) await kill(node.proc);
        await rm(node.dir, { recursive: true, force: true });
        // Only a port race is worth another port; anything else would fail again.
        if (!/address already in use/i.test(String(error))) break;
        taken.add(port).add(port + BUS_OFFSET);
      }
    }
    throw lastError;
  }

  /** Waits until every node sees a complete, healthy cluster of all `masters` nodes. */
  async function waitClusterOk(): Promise<void> {
    const running = [...byPort.values()];
    const infos = new Map<number, string>();
    // One deadline for all nodes, so the whole wait is bounded by WAIT_MS.
    await until(
      async () => {
        for (const node of running) {
          const info = await cli(node.port, ['CLUSTER', 'INFO']);
          infos.set(node.port, info);
          const ok =
            info.includes('cluster_state:ok') &&
            info.includes('cluster_slots_ok:16384') &&
            info.includes(`cluster_known_nodes:${masters}`);
          if (!ok) return false;
        }
        return true;
      },
      (error) =>
        `cluster_state:ok on every node
` +
        [...infos].map(([port, info]) => `last CLUSTER INFO of :${port}:\n${info}`).join('\n') +
        `${error ? `\nlast error: ${String(error)}` : ''}\n` +
        running.map(describeNode).join('\n'),
    );
  }

  /**
   * Writes and reads keys through a cluster client. 64 keys land in 64 scattered slots, so every
   * master serves some; this proves the slot map clients see agrees with the nodes.
   */
  async function checkReadWrite(): Promise<void> {
    const keys = Array.from({ length: 64 }, (_, i) => `mop-cluster-ready:${i}`);
    await until(
      async () => {
        const probe = new Cluster(nodes, {
          // Fail fast and let `until` retry with a fresh client.
          clusterRetryStrategy: () => null,
          slotsRefreshTimeout: 2_000,
          redisOptions: { connectTimeout: 2_000, maxRetriesPerRequest: 1 },
        });
        probe.on('error', () => {}); // reported through the commands below
        try {
          await withTimeout(
            Promise.all(keys.map((key) => probe.set(key, key))),
            5_000,
            'cluster SET',
          );
          const values = await withTimeout(
            Promise.all(keys.map((key) => probe.get(key))),
            5_000,
            'cluster GET',
          );
          const ok = values.every((value, i) => value === keys[i]);
          // Leave the cluster empty for the tests.
          await withTimeout(Promise.all(keys.map((key) => probe.del(key))), 5_000, 'cluster DEL');
          return ok;
        } finally {
          probe.disconnect();
        }
      },
      (error) =>
        `a cluster client writing and reading keys in several slots\n` +
        `${error ? `last error: ${String(error)}\n` : ''}` +
        [...byPort.values()].map(describeNode).join('\n'),
    );
  }

  async function stop(): Promise<void> {
    stopping ??= (async () => {
      for (const client of clients) client.disconnect();
      clients.clear();
      await Promise.all(
        [...byPort.values()].map(async (node) => {
          if (node.proc) await kill(node.proc);
          node.proc = undefined;
          await rm(node.dir, { recursive: true, force: true });
        }),
      );
      process.removeListener('exit', onExit);
    })();
    return stopping;
  }

  function nodeAt(port: number): Node {
    const node = byPort.get(port);
    if (!node) throw new Error(`no node of this cluster on port ${port}`);
    if (stopping) throw new Error('the cluster has been stopped');
    return node;
  }

  try {
    // One at a time, so each new port pair is checked against the ones already chosen.
    for (let i = 0; i < masters; i += 1) await addNode();
    const addresses = nodes.map((node) => `127.0.0.1:${node.port}`);
    await cli(
      nodes[0]?.port ?? 0,
      ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'],
      30_000,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${[...byPort.values()].map(describeNode).join('\n')}`);
    });
    await waitClusterOk();
    await checkReadWrite();
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    nodes,
    client(clientOptions) {
      if (stopping) throw new Error('the cluster has been stopped');
      const client = new Cluster(nodes, clientOptions);
      clients.add(client);
      return client;
    },
    async stopNode(port) {
      const node = nodeAt(port);
      if (node.proc) await kill(node.proc);
      node.proc = undefined;
    },
    async startNode(port) {
      const node = nodeAt(port);
      if (node.proc && node.proc.exitCode === null && node.proc.signalCode === null) return;
      try {
        await spawnNode(node);
      } catch (error) {
        if (node.proc) await kill(node.proc);
        node.proc = undefined;
        throw error;
      }
      if ([...byPort.values()].every((other) => other.proc)) await waitClusterOk();
    },
    stop,
  };
}
