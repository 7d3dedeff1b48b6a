// What the bench's processes say to each other: the orchestrator (run.ts), the server processes
// (server.ts) and the load generator (load.ts). Bench-internal, so no validation beyond types.

/** The scope of every minted grant, code and token: what an app's sign-in asks for. */
export const BENCH_SCOPE = 'openid offline_access';
/**
 * The scope of the refresh tokens of the plain refresh row: no `openid`, so no ID token is signed
 * and the row shows the cost a signature would hide (an RS256 signature is ~500 µs).
 */
export const PLAIN_REFRESH_SCOPE = 'offline_access';
/** The PKCE verifier of every minted authorization code (its S256 challenge is stored). */
export const CODE_VERIFIER = 'bench-pkce-verifier-0123456789-abcdefghijklmnopqrstuvwxyz';
/** The `aud` the bench's upstream provider signs its id_tokens for (the library accepts it). */
export const NATIVE_AUDIENCE = 'bench-app';
/**
 * The bench's own accounts (the library's servers accept them beside the fixture's): `prefix` +
 * a number, signing in with `password`. Many accounts, so concurrent requests meet different
 * per-account locks and queues as apps of different users would, not one all requests queue on:
 * the first-token row's installs (account locks) and the sign-in rows' installs, one per
 * connection (the sign-in throttle runs one attempt at a time per username).
 */
export const BENCH_ACCOUNTS = {
  prefix: 'bench-account-',
  password: 'bench-account-password',
  count: 32,
} as const;
/** The plain RFC 7591 initial access token of the bare target (the library uses DCR tokens). */
export const BARE_INITIAL_ACCESS_TOKEN = 'bench-initial-access-token-0123456789abcdefghij';

/**
 * `POST /__bench/mint`: single-use tokens minted inside the server with its own models, one per
 * entry of `clientIds` (an id listed n times gets n tokens), answered as `{ tokens }` in order.
 */
export interface MintRequest {
  clientIds: string[];
  accountId: string;
  /** `refresh-plain`: a refresh token of a grant without `openid` ({@link PLAIN_REFRESH_SCOPE}). */
  kind: 'code' | 'refresh' | 'refresh-plain' | 'access';
}

/** `GET /__bench/stats`: the server process's CPU so far, its Redis commands and socket writes. */
export interface ServerStats {
  cpuUserUs: number;
  cpuSystemUs: number;
  /** Commands the server's ioredis client issued (library on Redis only); EVALSHA counts one. */
  redisCommandsSent?: number;
  /** Writes on the ioredis socket (library on Redis only): round trips, one request at a time. */
  redisWrites?: number;
}

/** One request's own part: what differs from the job's common request. */
export interface RequestPart {
  headers?: Record<string, string>;
  body?: string;
}

/** A refresh-token chain: one install's credentials and its current refresh token. */
export interface Chain {
  authorization: string;
  refreshToken: string;
}

/**
 * One load run of single requests. Exactly one of `requests` (each sent once, in order:
 * single-use tokens or fresh registrations) or `chains` (refresh with rotation: a request takes
 * the next chain from a queue and puts it back with the rotated token from the response) says
 * what varies.
 */
export interface RequestJob {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  /** The body of every request, unless `requests` gives each its own. */
  body?: string;
  connections: number;
  amount: number;
  requests?: RequestPart[];
  chains?: Chain[];
}

/** An install of the sign-in rows, with the user it signs in (its own account). */
export interface SignInInstall {
  clientId: string;
  /** Its HTTP Basic credentials (client_secret_basic, as at the token endpoint). */
  authorization: string;
  username: string;
  password: string;
}

/**
 * One load run of whole sign-ins, each several requests ending with the code exchange: `amount`
 * sign-ins, `connections` at a time, the n-th concurrent one always as `installs[n]` (its user).
 */
export interface SignInJob {
  /**
   * `browser`: the authorization request in a fresh browser (no SSO session), the login page,
   * the password posted, the redirects to the app's redirect URI. `challenge`: one POST to the
   * Authorization Challenge Endpoint with the username and password. Either way then the code
   * at the token endpoint with the PKCE verifier.
   */
  signIn: 'browser' | 'challenge';
  endpoints: { authorization: string; challenge: string; token: string };
  redirectUri: string;
  scope: string;
  installs: SignInInstall[];
  connections: number;
  amount: number;
}

/** One load run. */
export type LoadJob = RequestJob | SignInJob;

/** What a load run measured (of a sign-in job: whole sign-ins, latency from first to last request). */
export interface LoadResult {
  opsPerSecond: number;
  p50: number;
  p99: number;
  /** Responses other than 2xx (sign-ins: other than expected), plus connection errors and timeouts. */
  failures: number;
  /** The first failure: its status and body. */
  firstFailure?: string;
  /** The chains after the run, rotated tokens in place (chain jobs only). */
  chains?: Chain[];
}
