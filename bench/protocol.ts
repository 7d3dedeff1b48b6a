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
 * The accounts of the first-token row's installs (library with `BENCH_FIRST_USE=1`): `prefix` +
 * a number, signing in with `password`. Many accounts, so concurrent first uses meet different
 * account locks as apps of different users would, not one lock all requests queue on.
 */
export const FIRST_USE_ACCOUNTS = {
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
 * One load run. Exactly one of `requests` (each sent once, in order: single-use tokens or
 * fresh registrations) or `chains` (refresh with rotation: a request takes the next chain from
 * a queue and puts it back with the rotated token from the response) says what varies.
 */
export interface LoadJob {
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

/** What a load run measured. */
export interface LoadResult {
  opsPerSecond: number;
  p50: number;
  p99: number;
  /** Responses other than 2xx, plus connection errors and timeouts. */
  failures: number;
  /** The first failure: its status and body. */
  firstFailure?: string;
  /** The chains after the run, rotated tokens in place (chain jobs only). */
  chains?: Chain[];
}
