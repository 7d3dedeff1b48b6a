// The resource-server verifier in-process, against a loopback issuer this file serves (discovery,
// JWKS, introspection): JWT verification as a ratio to a bare jose.jwtVerify with the same key
// in the same run, introspection cached and uncached, and DPoP proofs.
import { createHash, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  jwtVerify,
  SignJWT,
} from 'jose';
import { createTokenVerifier } from 'mobile-oidc-provider/resource-server';

const AUDIENCE = 'https://api.example.com/';
const API_URL = 'https://api.example.com/payments';
const OPAQUE_TOKEN = 'opaque-access-token-for-the-bench-0123456789';
// Calls before timing: JIT, the verifier's first discovery and key fetch.
const WARM_UP = 200;
const ROUNDS = 5;

// Verifications in flight at once, as an API under load has them: signature checks run on
// libuv's thread pool, so one at a time would time the hop to it, not the work.
const IN_FLIGHT = 8;

async function opsPerSecond(operation: (i: number) => unknown, count: number): Promise<number> {
  const run = async (from: number, amount: number) => {
    let next = from;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < from + amount) await operation(next++);
      }),
    );
  };
  await run(count, Math.min(WARM_UP, count));
  const started = performance.now();
  await run(0, count);
  return count / ((performance.now() - started) / 1000);
}

/** Rows of the resource-server table: name, median ops/s, ratio to jose.jwtVerify (range). */
export async function benchResourceServer(count: number): Promise<string[][]> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'ES256', use: 'sig' };
  const server = createServer((req, res) => {
    const json = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.url === '/.well-known/openid-configuration') {
      json({ issuer, jwks_uri: `${issuer}/jwks`, introspection_endpoint: `${issuer}/introspect` });
    } else if (req.url === '/jwks') {
      json({ keys: [jwk] });
    } else if (req.url === '/introspect') {
      req.resume();
      req.on('end', () =>
        json({
          active: true,
          sub: 'demouser',
          client_id: 'bench-install',
          aud: AUDIENCE,
          scope: 'payments',
          cal: 'none',
          iss: issuer,
          exp: Math.floor(Date.now() / 1000) + 600,
          token_type: 'Bearer',
        }),
      );
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const accessToken = (cnf?: Record<string, string>) =>
      new SignJWT({
        client_id: 'bench-install',
        scope: 'payments',
        cal: 'none',
        ...(cnf ? { cnf } : {}),
      })
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'bench' })
        .setIssuer(issuer)
        .setAudience(AUDIENCE)
        .setSubject('demouser')
        .setIssuedAt()
        .setExpirationTime('10m')
        .setJti(randomUUID())
        .sign(privateKey);
    const token = await accessToken();
    const keySet = createLocalJWKSet({ keys: [jwk] });
    const common = { issuer, audience: AUDIENCE, allowHttp: true };
    const bearer = (value: string) => ({
      method: 'GET',
      url: API_URL,
      headers: { authorization: `Bearer ${value}` },
    });
    const jwtVerifier = createTokenVerifier(common);
    const introspection = { clientId: 'bench-api', clientSecret: 'bench-secret' };
    const cached = createTokenVerifier({ ...common, introspection });
    const uncached = createTokenVerifier({
      ...common,
      introspection: { ...introspection, cacheTtlSeconds: 0 },
    });
    // DPoP: a bound token and a fresh proof per request (each proof's jti is used once).
    const dpopKeys = await generateKeyPair('ES256');
    const dpopJwk = await exportJWK(dpopKeys.publicKey);
    const bound = await accessToken({ jkt: await calculateJwkThumbprint(dpopJwk) });
    const ath = createHash('sha256').update(bound).digest('base64url');
    const proof = () =>
      new SignJWT({ htm: 'GET', htu: API_URL, ath, jti: randomUUID() })
        .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: dpopJwk })
        .setIssuedAt()
        .sign(dpopKeys.privateKey);
    const dpopVerifier = createTokenVerifier(common);

    const rows: { name: string; run: () => Promise<number> }[] = [
      {
        name: 'jose.jwtVerify, ES256 at+jwt (baseline)',
        run: () =>
          opsPerSecond(
            () => jwtVerify(token, keySet, { issuer, audience: AUDIENCE, typ: 'at+jwt' }),
            count,
          ),
      },
      {
        name: 'verify: JWT access token (RFC 9068)',
        run: () => opsPerSecond(() => jwtVerifier.verify(bearer(token)), count),
      },
      {
        name: 'verify: opaque token, introspection cached',
        run: () => opsPerSecond(() => cached.verify(bearer(OPAQUE_TOKEN)), count),
      },
      {
        name: 'verify: opaque token, introspection per request (loopback HTTP)',
        run: () => opsPerSecond(() => uncached.verify(bearer(OPAQUE_TOKEN)), count),
      },
      {
        name: 'verify: DPoP-bound JWT with a fresh proof (RFC 9449)',
        run: async () => {
          const proofs = await Promise.all(Array.from({ length: count + WARM_UP }, proof));
          return opsPerSecond(
            (i) =>
              dpopVerifier.verify({
                method: 'GET',
                url: API_URL,
                headers: { authorization: `DPoP ${bound}`, dpop: proofs[i] as string },
              }),
            count,
          );
        },
      },
    ];
    // Rounds with the order rotating, ratios to the baseline of the same round, then medians:
    // one machine's drift falls on both sides of a ratio.
    const samples = rows.map(() => [] as { ops: number; ratio: number }[]);
    for (let round = 0; round < ROUNDS; round += 1) {
      const ops: number[] = [];
      for (let k = 0; k < rows.length; k += 1) {
        const i = (round + k) % rows.length;
        ops[i] = await (rows[i] as (typeof rows)[number]).run();
      }
      ops.forEach((value, i) => {
        samples[i]?.push({ ops: value, ratio: value / (ops[0] as number) });
      });
    }
    const median = (values: number[]) => {
      const sorted = [...values].sort((a, b) => a - b);
      return sorted[Math.floor(sorted.length / 2)] as number;
    };
    return rows.map((row, i) => {
      const taken = samples[i] ?? [];
      const ratios = taken.map((t) => t.ratio);
      return [
        row.name,
        median(taken.map((t) => t.ops)).toFixed(0),
        `${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`,
      ];
    });
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}
