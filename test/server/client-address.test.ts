// The client address behind proxies (issue #25): derived from the socket peer and
// X-Forwarded-For with only the configured proxies trusted — a hop count as Express's
// `trust proxy` counts them (the socket peer is the first hop), or a list of proxy addresses and
// CIDR ranges walked from the socket peer leftwards. Entries left of the trusted ones are written
// by the client and never chosen; IPv6 clients are keyed by their /64.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import { ConfigurationError } from '../../lib/core/errors.js';
import {
  type ClientAddress,
  clientAddress,
  deriveClientAddress,
  type ProxyTrust,
  trustProxies,
} from '../../lib/http/client-address.js';
import type { AuthServerOptions } from '../../lib/options/types.js';
import { resolveOptions } from '../../lib/options/validate.js';
import { listen } from '../helpers/listen.js';

/** A request as node:http hands it over: its socket peer and its X-Forwarded-For header. */
function requestFrom(peer: string | undefined, forwardedFor?: string): IncomingMessage {
  return {
    socket: { remoteAddress: peer },
    headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
  } as unknown as IncomingMessage;
}

function derive(peer: string | undefined, forwardedFor: string | undefined, proxy: ProxyTrust) {
  return deriveClientAddress(requestFrom(peer, forwardedFor), proxy);
}

const LB = '10.0.0.7';
const ATTACKER = '203.0.113.7';

describe('client address: hop counts', () => {
  it('proxy false: the socket peer is the client and X-Forwarded-For is never read', () => {
    assert.deepEqual(derive(ATTACKER, '198.51.100.1', false), {
      address: ATTACKER,
      rateKey: ATTACKER,
    });
  });

  it('attack: with proxy true, a forged leftmost entry is ignored; the entry our proxy wrote is the client', () => {
    // The proxy appends the peer it saw; everything left of it is the sender's own text.
    for (const forged of ['198.51.100.1', '198.51.100.2, 198.51.100.3', '1.1.1.1, 8.8.8.8']) {
      assert.equal(derive(LB, `${forged}, ${ATTACKER}`, true).address, ATTACKER, forged);
    }
  });

  it('control: proxy true without X-Forwarded-For falls back to the socket peer', () => {
    assert.equal(derive(LB, undefined, true).address, LB);
  });

  it('proxy n: the socket peer and the n-1 rightmost entries are proxies, the next one is the client', () => {
    const header = `198.51.100.1, ${ATTACKER}, 10.0.0.2`;
    assert.equal(derive(LB, header, 1).address, '10.0.0.2');
    assert.equal(derive(LB, header, 2).address, ATTACKER);
    assert.equal(derive(LB, header, 3).address, '198.51.100.1');
    // Fewer entries than hops: the leftmost one is all there is.
    assert.equal(derive(LB, ATTACKER, 3).address, ATTACKER);
  });

  it('entries split over spaces and empty items are read as node:http joins repeated headers', () => {
    assert.equal(derive(LB, ` 198.51.100.1 ,, ${ATTACKER} `, true).address, ATTACKER);
  });
});

describe('client address: trusted proxy addresses and CIDRs', () => {
  const trusted = ['10.0.0.0/8', '2001:db8:ffff::/48'];

  it('walks from the socket peer leftwards while the address is a trusted proxy', () => {
    assert.equal(derive(LB, `${ATTACKER}, 10.1.2.3, 10.0.0.9`, trusted).address, ATTACKER);
    assert.equal(derive('2001:db8:ffff::1', `${ATTACKER}`, trusted).address, ATTACKER);
  });

  it('attack: forged entries left of the first untrusted address are never reached', () => {
    assert.equal(derive(LB, `10.9.9.9, 198.51.100.1, ${ATTACKER}`, trusted).address, ATTACKER);
  });

  it('an untrusted socket peer is the client, whatever it forwards', () => {
    assert.equal(derive(ATTACKER, '10.0.0.1, 198.51.100.1', trusted).address, ATTACKER);
  });

  it('an IPv4-mapped socket peer matches an IPv4 range, and is written as IPv4', () => {
    assert.equal(derive('::ffff:10.0.0.7', ATTACKER, trusted).address, ATTACKER);
    assert.equal(derive('::ffff:203.0.113.9', undefined, trusted).address, '203.0.113.9');
  });
});

describe('client address: malformed entries', () => {
  it('a malformed entry where the client should be: the proxy that forwarded it is the client', () => {
    // A string of the sender's choosing must never become a fresh rate-limit key.
    for (const bad of [
      'unknown',
      'not-an-ip',
      '203.0.113.7:4711',
      '[2001:db8::1]',
      '',
      '_hidden',
    ]) {
      assert.equal(derive(LB, bad, true).address, LB, JSON.stringify(bad));
    }
    assert.equal(derive(LB, `${ATTACKER}, garbage`, 2).address, LB);
  });

  it('a malformed entry stops the CIDR walk at the trusted hop before it', () => {
    assert.equal(derive(LB, `${ATTACKER}, garbage, 10.0.0.9`, ['10.0.0.0/8']).address, '10.0.0.9');
  });

  it('a request whose socket has gone has the address "unknown"', () => {
    assert.deepEqual(derive(undefined, ATTACKER, true), {
      address: 'unknown',
      rateKey: 'unknown',
    });
  });
});

describe('client address: rate-limit keys', () => {
  it('IPv4-mapped IPv6 is keyed as the IPv4 address, so both spellings share one budget', () => {
    const mapped = derive(LB, '::ffff:203.0.113.5', true);
    const plain = derive(LB, '203.0.113.5', true);
    assert.deepEqual(mapped, plain);
    assert.deepEqual(mapped, { address: '203.0.113.5', rateKey: '203.0.113.5' });
  });

  it('IPv6 is keyed by its /64; the event address stays the full address', () => {
    const a = derive(LB, '2001:db8:1:2:aaaa::1', true);
    const b = derive(LB, '2001:DB8:1:2:0:0:ffff:9', true);
    const other = derive(LB, '2001:db8:1:3::1', true);
    assert.deepEqual(a, { address: '2001:db8:1:2:aaaa::1', rateKey: '2001:db8:1:2::/64' });
    assert.equal(b.rateKey, a.rateKey, 'two addresses of one /64 share a key');
    assert.equal(b.address, '2001:db8:1:2::ffff:9');
    assert.equal(other.rateKey, '2001:db8:1:3::/64', 'another /64 has its own');
  });

  it('other spellings of one IPv4 address get one key', () => {
    assert.equal(derive(LB, '2130706433', true).rateKey, '127.0.0.1');
    assert.equal(derive(LB, '127.0.0.1', true).rateKey, '127.0.0.1');
  });
});

describe('client address per request, over real HTTP', () => {
  /** Serves one request through `middleware` (as provider.use would), answering clientAddress. */
  async function addressSeen(
    middleware: ReturnType<typeof trustProxies> | undefined,
    headers: Record<string, string>,
    localAddress = '127.0.0.1',
  ): Promise<ClientAddress & { again: boolean }> {
    const http = await listen();
    http.handle((req, res) => {
      const ctx = { req } as Parameters<ReturnType<typeof trustProxies>>[0];
      const answer = async () => {
        const first = clientAddress(ctx);
        res.end(JSON.stringify({ ...first, again: clientAddress(ctx) === first }));
      };
      void (middleware ? middleware(ctx, answer) : answer());
    });
    try {
      return await new Promise((resolve, reject) => {
        const req = request(`${http.url}/`, { headers, localAddress }, (res) => {
          let body = '';
          res.on('data', (chunk) => {
            body += chunk;
          });
          res.on('end', () => resolve(JSON.parse(body)));
        });
        req.on('error', reject);
        req.end();
      });
    } finally {
      await http.close();
    }
  }

  it('derives once per request, with the trust the middleware recorded', async () => {
    const seen = await addressSeen(
      trustProxies(true),
      { 'x-forwarded-for': '1.1.1.1, 198.51.100.8' },
      '127.0.0.9',
    );
    assert.deepEqual(seen, { address: '198.51.100.8', rateKey: '198.51.100.8', again: true });
  });

  it('without the middleware (proxy false, or a module used alone) the real socket peer is the client', async () => {
    const seen = await addressSeen(undefined, { 'x-forwarded-for': '198.51.100.8' }, '127.0.0.9');
    assert.equal(seen.address, '127.0.0.9');
    const off = await addressSeen(
      trustProxies(false),
      { 'x-forwarded-for': '198.51.100.8' },
      '127.0.0.9',
    );
    assert.equal(off.address, '127.0.0.9');
  });
});

describe('options.proxy', () => {
  const base = (): AuthServerOptions => ({
    issuer: 'https://login.example.com',
    development: true,
    accounts: { authenticate: async () => undefined, findAccount: async () => undefined },
  });

  function problems(proxy: unknown): string[] {
    try {
      resolveOptions({ ...base(), proxy } as AuthServerOptions);
      return [];
    } catch (error) {
      assert.ok(error instanceof ConfigurationError, String(error));
      return [...error.problems];
    }
  }

  it('accepts false, true, a hop count and a list of IPv4 and IPv6 addresses and CIDRs', () => {
    for (const proxy of [false, true, 1, 3, ['10.0.0.0/8', '192.0.2.1', '::1', 'fd00::/8']]) {
      assert.deepEqual(problems(proxy), [], JSON.stringify(proxy));
    }
    assert.equal(resolveOptions(base()).proxy, false);
  });

  it('refuses a bad proxy at start-up, naming the option', () => {
    const message =
      'options.proxy must be true, false, a number of proxy hops (1 or more) or a non-empty list of proxy addresses and CIDR ranges';
    for (const proxy of [0, -1, 1.5, 'true', [], {}]) {
      assert.ok(problems(proxy).includes(message), `${JSON.stringify(proxy)}: ${problems(proxy)}`);
    }
  });

  it('refuses an entry that is not an IP address or CIDR range, naming it', () => {
    assert.deepEqual(
      problems(['10.0.0.0/8', '10.0.0.0/33', 'proxy.internal', 'loopback', '0.0.0.0/0']),
      [
        "options.proxy[1] '10.0.0.0/33' is not an IP address or CIDR range",
        "options.proxy[2] 'proxy.internal' is not an IP address or CIDR range",
        "options.proxy[3] 'loopback' is not an IP address or CIDR range",
        "options.proxy[4] '0.0.0.0/0' is not an IP address or CIDR range",
      ],
    );
  });
});
