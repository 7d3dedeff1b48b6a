// The registration, attestation challenge and client attester limits behind a proxy (issue #25):
// a client rotating a forged X-Forwarded-For through a real forwarding proxy (`proxy: true`) is
// counted under the address the proxy saw, so it meets each limit after the same number of
// requests as without forging; another real client behind the same proxy keeps its own budget,
// and the events name the real client. Embedded in a Koa app, the library's `proxy` option alone
// decides: the host's `app.proxy` (which rules `ctx.ip`) neither opens nor closes that door.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Koa from 'koa';
import {
  AttestationError,
  type AuthServerOptions,
  createAuthServer,
  type ServerEvents,
} from 'mobile-oidc-provider';
import { type RunningServer, startExample } from '../helpers/example.js';
import { testServerOptions } from '../helpers/fixture.js';
import {
  type ForwardingProxy,
  fetchFrom,
  startForwardingProxy,
} from '../helpers/forwarding-proxy.js';
import { listen } from '../helpers/listen.js';

const ATTACKER = '127.0.0.66';
const NEIGHBOUR = '127.0.0.67';
const LIMIT = { points: 3, duration: 60 };

let forged = 0;
/** A fresh forged X-Forwarded-For, as a client rotating it on every request would write. */
const forgedHeader = () => ({ 'x-forwarded-for': `198.51.100.${(forged++ % 250) + 1}` });

describe('registration, challenge and attester limits behind a proxy, with forged X-Forwarded-For', () => {
  let proxy: ForwardingProxy;
  let server: RunningServer;
  const rejected: ServerEvents['registration.rejected'][] = [];

  before(async () => {
    proxy = await startForwardingProxy();
    server = await startExample((o) => ({
      ...o,
      issuer: proxy.url,
      proxy: true,
      registration: { ...o.registration, rateLimit: { perIp: LIMIT } },
      attestation: {
        verifiers: {
          x: async () => {
            throw new AttestationError('no', 'no');
          },
        },
        challenge: { rateLimit: LIMIT },
        attester: { enabled: true, rateLimit: LIMIT },
      },
    }));
    proxy.upstreams.push(server.http.url);
    server.auth.on('registration.rejected', (event) => rejected.push(event));
  });
  after(async () => {
    await server?.close();
    await proxy?.close();
  });

  /** `count` POSTs to `path` from `localAddress` (each with a new forged header); the statuses. */
  async function post(path: string, localAddress: string, count: number, headers = {}) {
    const statuses: number[] = [];
    for (let i = 0; i < count; i += 1) {
      const res = await fetchFrom(localAddress)(`${proxy.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers, ...forgedHeader() },
        body: '{}',
      });
      const body = (await res.json()) as Record<string, unknown>;
      assert.equal(typeof body.error, 'string', `an OAuth-style error or a value: ${res.status}`);
      if (res.status === 429) assert.ok(Number(res.headers.get('retry-after')) >= 1);
      statuses.push(res.status);
    }
    return statuses;
  }

  it('attack: registration attempts (guessing DCR tokens) stop at the per-IP limit', async () => {
    const bearer = { authorization: 'Bearer not-a-token' };
    assert.deepEqual(await post('/reg', ATTACKER, 4, bearer), [401, 401, 401, 429]);
    // The refused tokens are reported with the real client's address, not a forged one.
    assert.deepEqual(
      rejected.map((e) => e.ip),
      [ATTACKER, ATTACKER, ATTACKER],
    );
    // Control: another real client behind the same proxy has its own budget.
    assert.deepEqual(await post('/reg', NEIGHBOUR, 1, bearer), [401]);
  });

  it('attack: attestation challenges stop at the per-IP limit', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      const res = await fetchFrom(ATTACKER)(`${proxy.url}/attestation/challenge`, {
        method: 'POST',
        headers: forgedHeader(),
      });
      await res.body?.cancel();
      statuses.push(res.status);
    }
    assert.deepEqual(statuses, [200, 200, 200, 429]);
    const neighbour = await fetchFrom(NEIGHBOUR)(`${proxy.url}/attestation/challenge`, {
      method: 'POST',
    });
    await neighbour.body?.cancel();
    assert.equal(neighbour.status, 200, 'control: another client still gets a challenge');
  });

  it('attack: client attester requests stop at the per-IP limit', async () => {
    const statuses = await post('/attestation/client-attestation', ATTACKER, 4);
    assert.ok(
      statuses.slice(0, 3).every((s) => s !== 429),
      `refused on their merits, not throttled: ${statuses}`,
    );
    assert.equal(statuses[3], 429);
    const [neighbour] = await post('/attestation/client-attestation', NEIGHBOUR, 1);
    assert.notEqual(neighbour, 429, 'control: another client is not throttled');
  });
});

describe('embedded in Koa: the proxy option, not the host app, decides the client address', () => {
  /** The server embedded in a Koa app with `app.proxy = appProxy`, challenges limited to 3. */
  async function embedded(proxy: AuthServerOptions['proxy'], appProxy: boolean) {
    const http = await listen();
    const auth = await createAuthServer({
      ...testServerOptions({ issuer: http.url }),
      proxy,
      attestation: {
        verifiers: {
          x: async () => {
            throw new AttestationError('no', 'no');
          },
        },
        challenge: { rateLimit: LIMIT },
      },
    });
    const app = new Koa();
    app.proxy = appProxy;
    app.use(auth.koa());
    http.handle(app.callback());
    return {
      /** A challenge request as the test (the socket peer) sends it, with `forwardedFor`. */
      challenge: async (forwardedFor: string) => {
        const res = await fetch(`${http.url}/attestation/challenge`, {
          method: 'POST',
          headers: { 'x-forwarded-for': forwardedFor },
        });
        await res.body?.cancel();
        return res.status;
      },
      close: async () => {
        await http.close();
        await auth.close();
      },
    };
  }

  it('attack: a host app trusting its proxy does not make the limits trust X-Forwarded-For', async () => {
    // proxy unset: the socket peer is the client, however the header rotates.
    const server = await embedded(false, true);
    try {
      const statuses = [];
      for (let i = 0; i < 4; i += 1)
        statuses.push(await server.challenge(forgedHeader()['x-forwarded-for']));
      assert.deepEqual(statuses, [200, 200, 200, 429]);
    } finally {
      await server.close();
    }
  });

  it('control: with proxy true, the rightmost entry names the client, even with app.proxy false', async () => {
    const server = await embedded(true, false);
    try {
      const statuses = [];
      for (let i = 0; i < 4; i += 1)
        statuses.push(await server.challenge(`198.51.100.1, ${ATTACKER}`));
      assert.deepEqual(statuses, [200, 200, 200, 429], 'one client, whatever it forged');
      assert.equal(await server.challenge(`198.51.100.1, ${NEIGHBOUR}`), 200, 'another client');
    } finally {
      await server.close();
    }
  });
});
