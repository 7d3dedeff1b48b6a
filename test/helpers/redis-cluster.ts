import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Cluster, type ClusterOptions } from 'ioredis';

const run = promisify(execFile);

/** A real Redis Cluster of redis-server processes on loopback, started by a test. */
export interface RedisClusterHandle {
  nodes: Array<{ host: '127.0.0.1'; port: number }>;
  /** A new ioredis Cluster client on the nodes; stop() closes it. */
  client(options?: ClusterOptions): Cluster;
  /** Stops everything and removes the nodes' directories; safe to call twice (put it in `after`). */
  stop(): Promise<void>;
}

/** A free port whose cluster bus port (+10000) is free too. */
async function freePortPair(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    if (port + 10000 > 65535) continue;
    const bus = createServer();
    const free = await new Promise<boolean>((resolve) => {
      bus.once('error', () => resolve(false));
      bus.listen(port + 10000, '127.0.0.1', () => resolve(true));
    });
    if (free) {
      await new Promise((resolve) => bus.close(resolve));
      return port;
    }
  }
  throw new Error('no free port pair for a cluster node');
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Starts a cluster of `masters` redis-server processes (no replicas, no persistence). */
export async function startRedisCluster({ masters = 3 } = {}): Promise<RedisClusterHandle> {
  const dir = await mkdtemp(join(tmpdir(), 'mop-cluster-'));
  const processes: ChildProcess[] = [];
  const clients: Cluster[] = [];
  const nodes: RedisClusterHandle['nodes'] = [];
  let stopped = false;

  async function stop() {
    if (stopped) return;
    stopped = true;
    for (const client of clients) client.disconnect();
    await Promise.all(
      processes.map(async (proc) => {
        if (proc.exitCode !== null) return;
        const exited = new Promise((resolve) => proc.once('exit', resolve));
        proc.kill('SIGKILL');
        await exited;
      }),
    );
    await rm(dir, { recursive: true, force: true });
  }

  try {
    for (let i = 0; i < masters; i += 1) {
      const port = await freePortPair();
      let stderr = '';
      const proc = spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          `nodes-${port}.conf`,
          '--cluster-node-timeout',
          '2000',
          '--save',
          '',
          '--appendonly',
          'no',
          '--dir',
          dir,
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      proc.stderr?.on('data', (chunk) => {
        stderr += chunk;
      });
      processes.push(proc);
      nodes.push({ host: '127.0.0.1', port });
      await until(`redis-server on ${port} (${stderr})`, async () => {
        const { stdout } = await run('redis-cli', ['-p', String(port), 'ping']);
        return stdout.trim() === 'PONG';
      });
    }
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...nodes.map((n) => `127.0.0.1:${n.port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { timeout: 30_000 },
    );
    for (const node of nodes) {
      await until(`cluster_state:ok on ${node.port}`, async () => {
        const { stdout } = await run('redis-cli', ['-p', String(node.port), 'cluster', 'info']);
        return stdout.includes('cluster_state:ok');
      });
    }
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    nodes,
    client(options) {
      const client = new Cluster(nodes, options);
      clients.push(client);
      return client;
    },
    stop,
  };
}
