// A real reverse proxy hop for the proxy-trust tests (issue #25): it forwards every request to
// its upstreams in turn (a load balancer) and appends the address of the peer it saw to
// X-Forwarded-For, as nginx's $proxy_add_x_forwarded_for does. Whatever X-Forwarded-For the
// sender wrote is passed on to the left of that. `fetchFrom` sends from a chosen loopback address
// (all of 127.0.0.0/8 is the loopback on Linux), so distinct clients are distinct sockets.
import {
  createServer,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  request,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignInBrowser } from './sign-in.js';

/** A running forwarding proxy. */
export interface ForwardingProxy {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** The servers it forwards to, in turn (`http://host:port`); set them once they run. */
  upstreams: string[];
  close(): Promise<void>;
}

/** Starts a forwarding proxy on a free loopback port. */
export async function startForwardingProxy(upstreams: string[] = []): Promise<ForwardingProxy> {
  let turn = 0;
  const proxy: ForwardingProxy = { url: '', upstreams, close: async () => {} };
  const server = createServer((req, res) => {
    const upstream = new URL(proxy.upstreams[turn++ % proxy.upstreams.length] as string);
    const peer = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    const sent = req.headers['x-forwarded-for'];
    const headers: IncomingHttpHeaders = {
      ...req.headers,
      'x-forwarded-for': sent ? `${sent}, ${peer}` : peer,
    };
    const forwarded = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: headers as OutgoingHttpHeaders,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
        answer.pipe(res);
      },
    );
    forwarded.on('error', () => res.writeHead(502).end());
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}

/**
 * A `fetch` (for what the tests use: method, headers, a string body, no redirects followed) whose
 * requests leave from `localAddress`, a loopback address such as `127.0.0.42`.
 */
export function fetchFrom(localAddress: string) {
  return (url: string | URL, init: RequestInit = {}): Promise<Response> =>
    new Promise((resolve, reject) => {
      const sent = request(
        String(url),
        {
          method: init.method ?? 'GET',
          headers: Object.fromEntries(new Headers(init.headers)),
          localAddress,
          agent: false,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const headers = new Headers();
            for (let i = 0; i < res.rawHeaders.length; i += 2) {
              headers.append(res.rawHeaders[i] as string, res.rawHeaders[i + 1] as string);
            }
            const status = res.statusCode ?? 502;
            const body = [204, 304].includes(status) ? null : Buffer.concat(chunks);
            resolve(new Response(body, { status, headers }));
          });
        },
      );
      sent.on('error', reject);
      if (init.body !== undefined && init.body !== null) sent.write(String(init.body));
      sent.end();
    });
}

/** The sign-in pages' browser, on a machine at `localAddress` (cookies kept per browser). */
export class BrowserAt extends SignInBrowser {
  constructor(readonly localAddress: string) {
    super();
  }

  override async request(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const href = String(url);
    const cookie = await this.jar.getCookieString(href);
    const headers = new Headers(init.headers);
    if (cookie) headers.set('cookie', cookie);
    const res = await fetchFrom(this.localAddress)(href, { ...init, headers });
    for (const setCookie of res.headers.getSetCookie()) await this.jar.setCookie(setCookie, href);
    return res;
  }
}
