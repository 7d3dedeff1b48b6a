// The operations the bench times (the rows of its tables), and each target's preparation: the
// installs registered over HTTP as apps register, and their refresh-token chains.

import { registrationClient } from '../test/helpers/example.js';
import {
  APP_REDIRECT_URI,
  APP_SOFTWARE_ID,
  FALLBACK_CLIENT_ID,
  FALLBACK_CLIENT_SECRET,
  RESOURCE_SERVER_ID,
  RESOURCE_SERVER_SECRET,
} from '../test/helpers/fixture.js';
import { obtainDcrToken, SignInBrowser } from '../test/helpers/sign-in.js';
import type { UpstreamIdp } from '../test/helpers/upstream-idp.js';
import { BARE_STATIC_CLIENT, bareInstanceMetadata, DCR_TOKEN } from './bare.js';
import type { ServerProcess } from './processes.js';
import {
  BARE_INITIAL_ACCESS_TOKEN,
  BENCH_ACCOUNTS,
  BENCH_SCOPE,
  type Chain,
  CODE_VERIFIER,
  type LoadJob,
  type LoadResult,
  type MintRequest,
  NATIVE_AUDIENCE,
  type SignInInstall,
  type SignInJob,
} from './protocol.js';

/**
 * The targets of every row: bare oidc-provider with its install as a configured (static) client
 * and as a registered (dynamic) one, the library in memory and on Redis.
 */
export const TARGETS = ['bare-static', 'bare', 'library-memory', 'library-redis'] as const;
export type TargetName = (typeof TARGETS)[number];
/** The library's targets: the first-token row runs on servers of these two kinds of its own. */
export type LibraryTargetName = 'library-memory' | 'library-redis';

/** Whether the target is bare oidc-provider (either client). */
export const isBare = (name: TargetName) => name === 'bare' || name === 'bare-static';

/** The account of every token: the fixture's user, to whom the library binds its instances. */
const ACCOUNT_ID = 'demouser';

/** A target ready for the operations. */
export interface Target {
  name: TargetName;
  server: ServerProcess;
  /** What registrations present: bare's initial access token, the library's DCR token. */
  registrationToken: string;
  /** The install of the single-install rows: its client id and HTTP Basic credentials. */
  install: { clientId: string; authorization: string };
  /** Refresh-token chains of that install, one per connection. */
  chains: Chain[];
  /** The same, of grants without `openid`: refreshes that sign no ID token. */
  plainChains: Chain[];
  /** One chain per install of the many-installs row. */
  installChains: Chain[];
  /** First-token row: chains of installs that never had a token, each taken once. */
  unusedChains: Chain[];
  /** First-token row: the chains whose first token the last run took, for the later refresh. */
  firstUsedChains: Chain[];
  /** Sign-in rows (library only): one install per connection, each of its own account. */
  signInInstalls: SignInInstall[];
  /** Sign-in rows: the server's endpoints, from its discovery. */
  endpoints: SignInJob['endpoints'];
}

/** One row: builds a run of `amount` requests on `connections` connections. */
export interface Operation {
  name: string;
  job(target: Target, amount: number, connections: number): Promise<LoadJob>;
  /** Keeps what a run changed: the rotated refresh tokens. */
  after?(target: Target, result: LoadResult): void;
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const JSON_BODY = { 'content-type': 'application/json' };

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/** What an app sends to register: the library fills in the rest, bare needs it spelled out. */
const registrationBody = (target: Target): Record<string, unknown> =>
  isBare(target.name)
    ? bareInstanceMetadata(APP_REDIRECT_URI)
    : { redirect_uris: [APP_REDIRECT_URI] };

/** Mints `amount` tokens of `kind` for the target's install. */
const mint = (target: Target, kind: MintRequest['kind'], amount: number) =>
  target.server.mint({
    clientIds: Array<string>(amount).fill(target.install.clientId),
    accountId: ACCOUNT_ID,
    kind,
  });

type ChainsOf = 'chains' | 'plainChains' | 'installChains' | 'firstUsedChains';

/** Refresh with rotation over `chains` of the target: each request rotates one chain. */
function refresh(name: string, chains: ChainsOf): Operation {
  return {
    name,
    job: async (target, amount, connections) => ({
      url: `${target.server.url}/token`,
      method: 'POST',
      headers: FORM,
      connections,
      amount,
      chains: target[chains],
    }),
    after: (target, result) => {
      if (result.chains) target[chains] = result.chains;
    },
  };
}

function registration(name: string, body: (target: Target) => Record<string, unknown>): Operation {
  return {
    name,
    job: async (target, amount, connections) => ({
      url: `${target.server.url}/reg`,
      method: 'POST',
      headers: { ...JSON_BODY, authorization: `Bearer ${target.registrationToken}` },
      body: JSON.stringify(body(target)),
      connections,
      amount,
    }),
  };
}

/** The main table's rows. */
export const OPERATIONS: Operation[] = [
  refresh('refresh with rotation', 'chains'),
  refresh('refresh with rotation, no ID token', 'plainChains'),
  {
    name: 'authorization-code exchange (PKCE)',
    job: async (target, amount, connections) => ({
      url: `${target.server.url}/token`,
      method: 'POST',
      headers: { ...FORM, authorization: target.install.authorization },
      connections,
      amount,
      requests: (await mint(target, 'code', amount)).map((code) => ({
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          redirect_uri: APP_REDIRECT_URI,
          code_verifier: CODE_VERIFIER,
        }).toString(),
      })),
    }),
  },
  {
    name: 'client_credentials',
    job: async (target, amount, connections) => ({
      url: `${target.server.url}/token`,
      method: 'POST',
      headers: { ...FORM, authorization: basic(FALLBACK_CLIENT_ID, FALLBACK_CLIENT_SECRET) },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        scope: DCR_TOKEN.scope,
      }).toString(),
      connections,
      amount,
    }),
  },
  {
    name: 'introspection (resource server)',
    job: async (target, amount, connections) => ({
      url: `${target.server.url}/token/introspection`,
      method: 'POST',
      headers: { ...FORM, authorization: basic(RESOURCE_SERVER_ID, RESOURCE_SERVER_SECRET) },
      connections,
      amount,
      requests: (await mint(target, 'access', amount)).map((token) => ({
        body: new URLSearchParams({ token }).toString(),
      })),
    }),
  },
  {
    name: 'userinfo (Bearer access token)',
    job: async (target, amount, connections) => ({
      url: `${target.server.url}/me`,
      method: 'GET',
      headers: {},
      connections,
      amount,
      requests: (await mint(target, 'access', amount)).map((token) => ({
        headers: { authorization: `Bearer ${token}` },
      })),
    }),
  },
  registration('registration: DCR token (bare: initial access token)', registrationBody),
  registration('registration: templatized (bare: as above)', (target) =>
    isBare(target.name)
      ? registrationBody(target)
      : { software_id: APP_SOFTWARE_ID, software_version: '1.0.0' },
  ),
];

/**
 * The native sign-in row (the library only): the install exchanges an upstream id_token, each
 * carrying a nonce fetched from the server beforehand, for its access and refresh tokens.
 */
export function nativeExchange(upstream: UpstreamIdp): Operation {
  return {
    name: 'native sign-in: id_token exchange (RFC 8693)',
    job: async (target, amount, connections) => {
      const subjectTokens = await inParallel(amount, 16, async () => {
        const res = await fetch(`${target.server.url}/federation/nonce`, { method: 'POST' });
        const { nonce } = (await res.json()) as { nonce: string };
        return upstream.mintIdToken({ sub: ACCOUNT_ID, aud: NATIVE_AUDIENCE, nonce });
      });
      return {
        url: `${target.server.url}/token`,
        method: 'POST',
        headers: { ...FORM, authorization: target.install.authorization },
        connections,
        amount,
        requests: subjectTokens.map((subjectToken) => ({
          body: new URLSearchParams({
            grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
            subject_token: subjectToken,
            subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
            scope: BENCH_SCOPE,
          }).toString(),
        })),
      };
    },
  };
}

/** A sign-in row (the library only): whole sign-ins of `kind` by the target's sign-in installs. */
function signInRow(name: string, kind: SignInJob['signIn']): Operation {
  return {
    name,
    job: async (target, amount, connections) => ({
      signIn: kind,
      endpoints: target.endpoints,
      redirectUri: APP_REDIRECT_URI,
      scope: BENCH_SCOPE,
      installs: target.signInInstalls,
      connections,
      amount,
    }),
  };
}

/**
 * The browser code flow by password, whole: the authorization request in a fresh browser, the
 * login page, the password posted, the redirects back to the app, then the code exchange. The
 * reference of the browserless sign-in.
 */
export const BROWSER_SIGN_IN = signInRow(
  'browser sign-in: code flow (login page, password) + code exchange',
  'browser',
);

/**
 * The browserless sign-in by password (issue #29): one POST to the Authorization Challenge
 * Endpoint with username, password and the PKCE challenge, answered with the code, then the code
 * exchange. Compared with {@link BROWSER_SIGN_IN} on the same target in the same round.
 */
export const CHALLENGE_SIGN_IN = signInRow(
  'browserless sign-in: authorization challenge (password) + code exchange',
  'challenge',
);

/** The many-installs row: refresh with rotation spread over every install of the target. */
export const MANY_INSTALLS = refresh('refresh with rotation, many installs', 'installChains');

/**
 * The first-token row (on the library's first-use servers): each request is an install's first
 * token, a refresh (no ID token) of a refresh token minted at registration, which promotes the
 * install from unused to in use. Takes `amount` unused installs per run.
 */
export const FIRST_TOKEN: Operation = {
  name: "install's first token (refresh, no ID token)",
  job: async (target, amount, connections) => {
    if (target.unusedChains.length < amount) {
      throw new Error(
        `${target.name}: ${target.unusedChains.length} unused installs left, ${amount} needed: raise BENCH_INSTALLS`,
      );
    }
    target.firstUsedChains = target.unusedChains.splice(0, amount);
    return {
      url: `${target.server.url}/token`,
      method: 'POST',
      headers: FORM,
      connections,
      amount,
      chains: target.firstUsedChains,
    };
  },
  after: (target, result) => {
    if (result.chains) target.firstUsedChains = result.chains;
  },
};

/** The first-token row's reference: the next refresh of the installs the last first-token run used. */
export const LATER_REFRESH = refresh('later refresh of the same installs', 'firstUsedChains');

/** Runs `task` `count` times, `concurrency` at a time; resolves the results in order. */
async function inParallel<T>(count: number, concurrency: number, task: (i: number) => Promise<T>) {
  const results: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await task(i);
      }
    }),
  );
  return results;
}

/** Registers one install over HTTP; resolves its client id and HTTP Basic credentials. */
async function register(
  target: Target,
  token = target.registrationToken,
  metadata = registrationBody(target),
): Promise<Target['install']> {
  const res = await fetch(`${target.server.url}/reg`, {
    method: 'POST',
    headers: { ...JSON_BODY, authorization: `Bearer ${token}` },
    body: JSON.stringify(metadata),
  });
  const body = (await res.json()) as { client_id: string; client_secret: string };
  if (res.status !== 201)
    throw new Error(`registration at ${target.name}: ${JSON.stringify(body)}`);
  return { clientId: body.client_id, authorization: basic(body.client_id, body.client_secret) };
}

/** One refresh-token chain per entry of `installs`, of `kind`. */
async function chainsFor(
  target: Target,
  installs: Target['install'][],
  kind: 'refresh' | 'refresh-plain' = 'refresh',
  accountId = ACCOUNT_ID,
): Promise<Chain[]> {
  const tokens = await target.server.mint({
    clientIds: installs.map((install) => install.clientId),
    accountId,
    kind,
  });
  return installs.map((install, i) => ({
    authorization: install.authorization,
    refreshToken: tokens[i] as string,
  }));
}

/** A library server's DCR token, from a real sign-in as `username` (the fixture's user by default). */
async function dcrToken(server: ServerProcess, choices?: { username: string; password: string }) {
  const signIn = await obtainDcrToken(
    await registrationClient(server.url),
    new SignInBrowser(),
    choices,
  );
  return signIn.tokens.access_token;
}

const emptyTarget = (
  name: TargetName,
  server: ServerProcess,
  registrationToken: string,
): Target => ({
  name,
  server,
  registrationToken,
  install: { clientId: '', authorization: '' },
  chains: [],
  plainChains: [],
  installChains: [],
  unusedChains: [],
  firstUsedChains: [],
  signInInstalls: [],
  endpoints: { authorization: '', challenge: '', token: '' },
});

/**
 * Prepares a target as apps would meet it: the library's DCR token from a real sign-in, the
 * installs registered over HTTP (bare-static's install is configured), then refresh tokens
 * minted for them.
 */
export async function prepare(
  name: TargetName,
  server: ServerProcess,
  settings: { connections: number; installs: number },
): Promise<Target> {
  const target = emptyTarget(
    name,
    server,
    isBare(name) ? BARE_INITIAL_ACCESS_TOKEN : await dcrToken(server),
  );
  target.install =
    name === 'bare-static'
      ? {
          clientId: BARE_STATIC_CLIENT.client_id,
          authorization: basic(BARE_STATIC_CLIENT.client_id, BARE_STATIC_CLIENT.client_secret),
        }
      : await register(target);
  const perConnection = Array(settings.connections).fill(target.install);
  target.chains = await chainsFor(target, perConnection);
  target.plainChains = await chainsFor(target, perConnection, 'refresh-plain');
  const installs = await inParallel(settings.installs, 16, () => register(target));
  target.installChains = await chainsFor(target, installs);
  return target;
}

/**
 * Prepares a library first-use server (BENCH_FIRST_USE=1) for the first-token row: `installs`
 * installs registered over HTTP, spread in turn over the BENCH_ACCOUNTS (each signs in for
 * its DCR token), each with one refresh token (no ID token) minted and never used.
 */
export async function prepareFirstUse(
  name: LibraryTargetName,
  server: ServerProcess,
  installs: number,
): Promise<Target> {
  const target = emptyTarget(name, server, '');
  const { prefix, password, count } = BENCH_ACCOUNTS;
  const accounts = Array.from({ length: count }, (_, i) => `${prefix}${i}`);
  const tokens = await Promise.all(
    accounts.map((username) => dcrToken(server, { username, password })),
  );
  const registered = await inParallel(installs, 16, (i) =>
    register(target, tokens[i % count] as string),
  );
  const chains: Chain[] = [];
  for (const [a, accountId] of accounts.entries()) {
    const own = registered.filter((_, i) => i % count === a);
    const minted = await chainsFor(target, own, 'refresh-plain', accountId);
    minted.forEach((chain, j) => {
      chains[a + j * count] = chain;
    });
  }
  // In registration order: consecutive requests (those in flight together) are other accounts'.
  target.unusedChains = chains;
  return target;
}

/**
 * Prepares a library target for the sign-in rows: its endpoints from discovery, and one install
 * per connection, each registered over HTTP from the app template with the DCR token of its own
 * account of the BENCH_ACCOUNTS (a real sign-in), so bound to the user it signs in.
 */
export async function prepareSignIns(target: Target, connections: number): Promise<void> {
  const res = await fetch(`${target.server.url}/.well-known/openid-configuration`);
  const discovery = (await res.json()) as Record<string, string | undefined>;
  const { authorization_endpoint, authorization_challenge_endpoint, token_endpoint } = discovery;
  if (!authorization_endpoint || !authorization_challenge_endpoint || !token_endpoint) {
    throw new Error(`${target.name} advertises no authorization challenge endpoint`);
  }
  target.endpoints = {
    authorization: authorization_endpoint,
    challenge: authorization_challenge_endpoint,
    token: token_endpoint,
  };
  const { prefix, password, count } = BENCH_ACCOUNTS;
  if (connections > count)
    throw new Error(`${count} bench accounts for ${connections} connections`);
  target.signInInstalls = await Promise.all(
    Array.from({ length: connections }, async (_, i) => {
      const username = `${prefix}${i}`;
      const token = await dcrToken(target.server, { username, password });
      const install = await register(target, token, {
        software_id: APP_SOFTWARE_ID,
        software_version: '1.0.0',
      });
      return { ...install, username, password };
    }),
  );
}
