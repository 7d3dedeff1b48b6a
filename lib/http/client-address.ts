// The client address every rate limit and every event uses: derived once per request from the
// socket peer and X-Forwarded-For, trusting only the proxies `options.proxy` names.
import type { IncomingMessage } from 'node:http';
import ipaddr from 'ipaddr.js';
import type { Middleware } from 'koa';
import proxyaddr from 'proxy-addr';

/**
 * Which proxies in front of the server are trusted (`options.proxy`): `false` none, `true` one
 * hop, a number that many hops, or a list of proxy addresses and CIDR ranges.
 *
 * @internal
 */
export type ProxyTrust = boolean | number | readonly string[];

/**
 * A request's client, as the limits and events see it.
 *
 * @internal
 */
export interface ClientAddress {
  /** The client's address; an IPv4-mapped IPv6 address is written as IPv4. For events. */
  readonly address: string;
  /**
   * What rate limits are keyed on: the IPv4 address, or the IPv6 address's /64 prefix (one
   * household or host gets a whole /64, so a single address would be free to rotate).
   */
  readonly rateKey: string;
}

type Trust = (address: string, hop: number) => boolean;

/** The client of a request whose socket has already gone (no peer address to key on). */
const UNKNOWN: ClientAddress = { address: 'unknown', rateKey: 'unknown' };

/**
 * The trust function for `proxy`, or `undefined` when nothing forwarded is trusted. Hop 0 is the
 * socket peer, then X-Forwarded-For from right to left.
 *
 * @throws TypeError for a list entry that is not an IP address or CIDR range (the options
 *   validation reports those first, see {@link proxyTrustProblems}).
 */
function compileTrust(proxy: ProxyTrust): Trust | undefined {
  if (proxy === false) return undefined;
  const hops = proxy === true ? 1 : proxy;
  if (typeof hops === 'number') return (_address, hop) => hop < hops;
  return proxyaddr.compile(hops);
}

/** The address written canonically: IPv4-mapped IPv6 as IPv4, IPv6 compressed. */
function canonical(address: string): ipaddr.IPv4 | ipaddr.IPv6 {
  return ipaddr.process(address);
}

/** The rate-limit key of a parsed address: itself for IPv4, its /64 prefix for IPv6. */
function rateKeyOf(ip: ipaddr.IPv4 | ipaddr.IPv6): string {
  if (ip.kind() === 'ipv4') return ip.toString();
  const parts = (ip as ipaddr.IPv6).parts.slice(0, 4);
  return `${new ipaddr.IPv6([...parts, 0, 0, 0, 0]).toString()}/64`;
}

/**
 * Derives the client address of `req` from its socket peer and `X-Forwarded-For`, trusting the
 * proxies `proxy` names: walking from the socket peer leftwards through the header while the
 * address is a trusted proxy (by hop count or by address), the first untrusted one is the client.
 * An entry that is not an IP address ends the walk, and the hop that forwarded it counts as the
 * client: a trusted proxy never writes one, and a string of the sender's choosing must not become
 * a fresh rate-limit key.
 *
 * @internal
 */
export function deriveClientAddress(req: IncomingMessage, proxy: ProxyTrust): ClientAddress {
  return derive(req, compileTrust(proxy));
}

function derive(req: IncomingMessage, trust: Trust | undefined): ClientAddress {
  const peer = req.socket?.remoteAddress;
  if (typeof peer !== 'string' || !ipaddr.isValid(peer)) return UNKNOWN;
  let address = peer;
  if (trust) {
    const hops = proxyaddr.all(req, (hop, i) => ipaddr.isValid(hop) && trust(hop, i));
    // The last hop is the client, unless it is malformed: then the trusted one before it.
    const last = hops.at(-1);
    address = typeof last === 'string' && ipaddr.isValid(last) ? last : (hops.at(-2) ?? peer);
  }
  const ip = canonical(address);
  return { address: ip.toString(), rateKey: rateKeyOf(ip) };
}

const trustOf = new WeakMap<IncomingMessage, Trust | undefined>();
const derived = new WeakMap<IncomingMessage, ClientAddress>();

/**
 * Koa middleware, installed before every limiter: records which proxies `req` may be trusted
 * through, for {@link clientAddress}. Keyed by the node request, not `ctx`, since an embedding
 * host's `ctx` and its `app.proxy` are not the library's.
 *
 * @internal
 */
export function trustProxies(proxy: ProxyTrust): Middleware {
  const trust = compileTrust(proxy);
  // Not async: it only records, and adds no promise of its own to every request.
  return function recordProxyTrust(ctx, next) {
    trustOf.set(ctx.req, trust);
    return next();
  };
}

/**
 * The client address of the request of `ctx`, derived once per request with the trust
 * {@link trustProxies} recorded (none when it did not run: the socket peer is the client).
 *
 * @internal
 */
export function clientAddress(ctx: { req: IncomingMessage }): ClientAddress {
  let found = derived.get(ctx.req);
  if (!found) {
    found = derive(ctx.req, trustOf.get(ctx.req));
    derived.set(ctx.req, found);
  }
  return found;
}

/** The named ranges proxy-addr would accept; the option takes addresses and CIDRs only. */
const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * What is wrong with a list of trusted proxies: one message per entry that is not an IP address
 * or CIDR range (IPv4 or IPv6, e.g. `10.0.0.0/8`, `2001:db8::/32`).
 *
 * @internal
 */
export function proxyTrustProblems(proxy: ProxyTrust): string[] {
  if (!Array.isArray(proxy)) return [];
  return (proxy as readonly unknown[]).flatMap((entry, i) => {
    const bad = [`options.proxy[${i}] '${String(entry)}' is not an IP address or CIDR range`];
    if (typeof entry !== 'string' || NAMED_RANGES.has(entry)) return bad;
    try {
      proxyaddr.compile(entry);
      return [];
    } catch {
      return bad;
    }
  });
}
