import type { Cluster, Redis } from 'ioredis';

/** `host:port`, with an IPv6 address in brackets (RFC 3986 §3.2.2) so the port stays readable. */
const hostPort = (host: string | undefined, port: number | string | undefined): string => {
  const name = host ?? 'localhost';
  return `${name.includes(':') ? `[${name}]` : name}:${port ?? 6379}`;
};

/**
 * A Cluster startup node as `host:port`. A node given as a URL may carry a password: only its
 * host and port are kept; anything unreadable is left out rather than shown.
 */
function startupNode(node: unknown): string | undefined {
  if (typeof node === 'number') return hostPort(undefined, node);
  if (typeof node === 'string') {
    if (!node.includes('://')) return /^[\w.:[\]-]+$/.test(node) ? node : undefined;
    try {
      const url = new URL(node);
      return hostPort(url.hostname.replace(/^\[|\]$/g, ''), url.port || undefined);
    } catch {
      return undefined;
    }
  }
  if (typeof node === 'object' && node !== null) {
    const { host, port } = node as { host?: unknown; port?: unknown };
    return hostPort(
      typeof host === 'string' ? host : undefined,
      typeof port === 'number' || typeof port === 'string' ? port : undefined,
    );
  }
  return undefined;
}

function describeCluster(cluster: Cluster): string {
  const known = cluster
    .nodes('master')
    .map((node) => hostPort(node.options.host, node.options.port));
  // Before the first slots refresh the cluster knows only the nodes it was created with
  // (a TypeScript-private member of ioredis, read defensively).
  const nodes =
    known.length > 0
      ? known
      : ((cluster as unknown as { startupNodes?: unknown }).startupNodes as unknown[] | undefined)
          ?.map(startupNode)
          .filter((node) => node !== undefined);
  return nodes && nodes.length > 0 ? `Redis Cluster ${nodes.join(', ')}` : 'Redis Cluster';
}

/**
 * What the start-up log calls a Redis store: `Redis host:port`, `Redis /path/to.sock`,
 * `Redis Sentinel <master> via host:port, …` or `Redis Cluster host:port, …`, with `(TLS)` when
 * the connection is encrypted. Read from ioredis's parsed options, never from the URL, so a
 * password in the URL or the options never appears.
 *
 * @internal
 */
export function describeRedis(client: Redis | Cluster): string {
  if (client.isCluster) return describeCluster(client as Cluster);
  const { host, port, path, tls, sentinels, name } = (client as Redis).options;
  const secure = tls ? ' (TLS)' : '';
  if (sentinels && sentinels.length > 0) {
    const via = sentinels.map((s) => hostPort(s.host, s.port)).join(', ');
    return `Redis Sentinel ${name ?? 'mymaster'} via ${via}${secure}`;
  }
  if (path) return `Redis ${path}${secure}`;
  return `Redis ${hostPort(host, port)}${secure}`;
}
