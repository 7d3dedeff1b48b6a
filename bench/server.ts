// One bench target as a process of its own, so the load generator and the orchestrator never
// share its CPU or event loop. Prints `{"port":N}` once it listens on 127.0.0.1.
//   BENCH_TARGET      bare (oidc-provider as bench/bare.ts configures it) | bare-static (the
//                     same with a configured install client) | library
//   BENCH_FIRST_USE   1: the library keeps its default registration.instances.unusedTtl, so an
//                     install's first token promotes it
//   BENCH_STORE       memory (the default store) | redis (library only)
//   REDIS_URL, BENCH_KEY_PREFIX   the Redis and the key prefix of the redis store
//   BENCH_KEYS_FILE   JSON of generateKeys(): both targets sign with the same keys
//   BENCH_UPSTREAM_ISSUER   an upstream OpenID provider for native sign-in (library only)
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { type AuthServerOptions, createAuthServer, type ServerKeys } from 'mobile-oidc-provider';
import { RedisStore } from 'mobile-oidc-provider/adapters/redis';
import Provider from 'oidc-provider';
import {
  APP_SOFTWARE_ID,
  RESOURCE_SERVER_SECRET,
  silentLogger,
  testServerOptions,
} from '../test/helpers/fixture.js';
import { countSocketWrites } from '../test/helpers/redis-writes.js';
import { bareConfiguration, bareMemoryAdapter, DCR_TOKEN } from './bare.js';
import { type ControlSettings, controlRoutes } from './control.js';
import { BENCH_ACCOUNTS, NATIVE_AUDIENCE } from './protocol.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A target ready to serve: its request handler and what the control routes need. */
interface Target extends ControlSettings {
  handle: Handler;
}

/** Counts the commands `redis` issues from now on (a pipeline's each, a script's EVALSHA once). */
function countCommandsSent(redis: Redis): () => number {
  let sent = 0;
  const send = redis.sendCommand;
  redis.sendCommand = function (this: Redis, ...args: Parameters<Redis['sendCommand']>) {
    sent += 1;
    return Reflect.apply(send, this, args) as ReturnType<Redis['sendCommand']>;
  };
  return () => sent;
}

/** The fixture's accounts, plus the bench's own (see BENCH_ACCOUNTS). */
function withBenchAccounts(accounts: AuthServerOptions['accounts']): AuthServerOptions['accounts'] {
  const { prefix, password } = BENCH_ACCOUNTS;
  return {
    ...accounts,
    authenticate: async (username, given) => {
      if (!username.startsWith(prefix)) return accounts.authenticate(username, given);
      return given === password ? username : undefined;
    },
    findAccount: async (accountId) =>
      accountId.startsWith(prefix)
        ? { claims: { name: accountId } }
        : accounts.findAccount(accountId),
  };
}

async function libraryTarget(issuer: string, keys: ServerKeys): Promise<Target> {
  const env = process.env;
  const base = testServerOptions({ issuer, resourceServerSecret: RESOURCE_SERVER_SECRET });
  let store: RedisStore | undefined;
  let redisWrites: (() => number) | undefined;
  let redisCommandsSent: (() => number) | undefined;
  if (env.BENCH_STORE === 'redis') {
    // As the store opens a URL itself: auto-pipelining, and its default command timeout.
    const redis = new Redis(env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
      enableAutoPipelining: true,
      commandTimeout: 2000,
    });
    redisWrites = countSocketWrites(redis);
    redisCommandsSent = countCommandsSent(redis);
    store = new RedisStore({
      client: redis,
      keyPrefix: env.BENCH_KEY_PREFIX,
      logger: silentLogger,
    });
  }
  const upstream = env.BENCH_UPSTREAM_ISSUER;
  const firstUse = env.BENCH_FIRST_USE === '1';
  const accounts = withBenchAccounts(base.accounts);
  const auth = await createAuthServer({
    ...base,
    ...(upstream
      ? {
          // Every bench identity is the fixture's user; nonces are fetched faster than apps do.
          accounts: { ...accounts, federated: async () => 'demouser' },
          federation: {
            providers: [{ name: 'bench', issuer: upstream, audiences: [NATIVE_AUDIENCE] }],
            nonce: { rateLimit: false },
          },
        }
      : {}),
    ...(upstream ? {} : { accounts }),
    jwks: keys.jwks,
    cookieKeys: keys.cookieKeys,
    ...(store ? { store } : {}),
    registration: {
      ...base.registration,
      // The sign-in rows' installs (the app template's, registered with a user's DCR token, so
      // `cal` none) may also sign in at the Authorization Challenge Endpoint.
      templates: (base.registration?.templates ?? []).map((t) =>
        t.software_id === APP_SOFTWARE_ID ? { ...t, firstParty: { minimumLevel: 'none' } } : t,
      ),
      // One DCR token registers every instance of the bench.
      dcrToken: { maxUses: 1_000_000, ttl: DCR_TOKEN.ttl },
      // Instances are permanent from registration: minted tokens meet used installs, as steady
      // traffic does, not each install's one-time first-use promotion under its account's lock
      // (the first-token row's servers keep the default, which promotes on the first token).
      ...(firstUse ? {} : { instances: { unusedTtl: 0 } }),
    },
  });
  return {
    handle: auth.callback(),
    provider: auth.provider,
    // Only instances registered over HTTP, for the account they are bound to.
    mayMint: async (clientId, accountId) =>
      (await auth.instances.get(clientId))?.accountId === accountId,
    ...(redisWrites ? { redisWrites } : {}),
    ...(redisCommandsSent ? { redisCommandsSent } : {}),
  };
}

async function bareTarget(
  issuer: string,
  keys: ServerKeys,
  staticInstall: boolean,
): Promise<Target> {
  const configuration = bareConfiguration(issuer, keys, bareMemoryAdapter(), { staticInstall });
  const provider = new Provider(issuer, configuration);
  return { handle: provider.callback(), provider, mayMint: async () => true };
}

let handler: Handler = (_req, res) => {
  res.writeHead(503).end();
};
const http = createServer((req, res) => handler(req, res));
await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
const { port } = http.address() as AddressInfo;
const issuer = `http://127.0.0.1:${port}`;
const keys = JSON.parse(readFileSync(process.env.BENCH_KEYS_FILE ?? '', 'utf8')) as ServerKeys;
const kind = process.env.BENCH_TARGET;
const target: Target =
  kind === 'bare' || kind === 'bare-static'
    ? await bareTarget(issuer, keys, kind === 'bare-static')
    : await libraryTarget(issuer, keys);
const control = controlRoutes(target);
handler = (req, res) =>
  req.url?.startsWith('/__bench/') ? control(req, res) : target.handle(req, res);
console.log(JSON.stringify({ port }));
// Ended by the bench: exit normally, so that a CPU profile (bench/profile.ts) is written.
process.once('SIGTERM', () => {
  http.closeAllConnections();
  process.exit(0);
});
