// The bench-only control routes under /__bench/, mounted by bench/server.ts (never by the
// library): the process's CPU and Redis socket writes, and single-use tokens minted in process
// with the provider's own models, so the timed runs need no sign-in per token.
import type { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Session } from 'node:inspector/promises';
import type Provider from 'oidc-provider';
import { APP_REDIRECT_URI } from '../test/helpers/fixture.js';
import {
  BENCH_SCOPE,
  CODE_VERIFIER,
  type MintRequest,
  PLAIN_REFRESH_SCOPE,
  type ServerStats,
} from './protocol.js';

// oidc-provider keeps the request context in an AsyncLocalStorage; hooks such as the library's
// extraTokenClaims read the client from it while an access token is saved. It has no exports
// map, so the module is reachable (as lib/provider/upstream-defaults.ts reaches its defaults).
const ALS_MODULE = 'oidc-provider/lib/helpers/als.js';
const als = ((await import(ALS_MODULE)) as { default: AsyncLocalStorage<unknown> }).default;

const CODE_CHALLENGE = createHash('sha256').update(CODE_VERIFIER).digest('base64url');

/** What the routes need from the server process. */
export interface ControlSettings {
  provider: Provider;
  /** Whether tokens may be minted for this client and account (the library: its instances). */
  mayMint(clientId: string, accountId: string): Promise<boolean>;
  /** Writes on the Redis socket so far, for a target on Redis. */
  redisWrites?: () => number;
  /** Commands sent to Redis so far, for a target on Redis. */
  redisCommandsSent?: () => number;
}

type Client = NonNullable<Awaited<ReturnType<Provider['Client']['find']>>>;

/** One grant, and one code, refresh token or access token of it, as a sign-in would leave. */
async function mintOne(
  provider: Provider,
  client: Client,
  accountId: string,
  kind: MintRequest['kind'],
): Promise<string> {
  const scope = kind === 'refresh-plain' ? PLAIN_REFRESH_SCOPE : BENCH_SCOPE;
  const grant = new provider.Grant({ accountId, clientId: client.clientId });
  grant.addOIDCScope(scope);
  const grantId = await grant.save();
  const common = { client, accountId, grantId, scope, gty: 'authorization_code' };
  const authTime = Math.floor(Date.now() / 1000);
  switch (kind) {
    case 'code':
      return new provider.AuthorizationCode({
        ...common,
        authTime,
        redirectUri: APP_REDIRECT_URI,
        codeChallenge: CODE_CHALLENGE,
        codeChallengeMethod: 'S256',
      }).save();
    case 'refresh':
    case 'refresh-plain':
      return new provider.RefreshToken({ ...common, authTime, rotations: 0 }).save();
    case 'access':
      // Saved as the token endpoint saves it: with the client in the request context.
      return als.run({ oidc: { client, entities: {} } }, () =>
        new provider.AccessToken(common).save(),
      );
  }
}

async function readJson(req: IncomingMessage): Promise<MintRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as MintRequest;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** The `/__bench/` request handler. */
export function controlRoutes(settings: ControlSettings) {
  const { provider } = settings;
  const stats = (): ServerStats => {
    const cpu = process.cpuUsage();
    const writes = settings.redisWrites?.();
    const sent = settings.redisCommandsSent?.();
    return {
      cpuUserUs: cpu.user,
      cpuSystemUs: cpu.system,
      ...(writes === undefined ? {} : { redisWrites: writes }),
      ...(sent === undefined ? {} : { redisCommandsSent: sent }),
    };
  };
  const mint = async (req: IncomingMessage, res: ServerResponse) => {
    const { clientIds, accountId, kind } = await readJson(req);
    const clients = new Map<string, Client>();
    for (const clientId of new Set(clientIds)) {
      const client = await provider.Client.find(clientId);
      if (!client || !(await settings.mayMint(clientId, accountId))) {
        send(res, 400, { error: `will not mint for ${clientId} and ${accountId}` });
        return;
      }
      clients.set(clientId, client);
    }
    const tokens = await Promise.all(
      clientIds.map((id) => mintOne(provider, clients.get(id) as Client, accountId, kind)),
    );
    send(res, 200, { tokens });
  };
  // The CPU profiler of bench/profile.ts, on for the timed run only (not start-up or minting).
  let profiler: Session | undefined;
  const profile = async (req: IncomingMessage, res: ServerResponse) => {
    if (!profiler) {
      profiler = new Session();
      profiler.connect();
    }
    if (req.url === '/__bench/profile/start') {
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
      send(res, 200, {});
    } else send(res, 200, (await profiler.post('Profiler.stop')).profile);
  };
  return (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method === 'GET' && req.url === '/__bench/stats') send(res, 200, stats());
    else if (req.method === 'POST' && req.url?.startsWith('/__bench/profile/')) {
      profile(req, res).catch((error: unknown) => send(res, 500, { error: String(error) }));
    } else if (req.method === 'POST' && req.url === '/__bench/mint') {
      mint(req, res).catch((error: unknown) => send(res, 500, { error: String(error) }));
    } else send(res, 404, { error: 'no such bench route' });
  };
}
