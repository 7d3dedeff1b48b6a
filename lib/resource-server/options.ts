import { ConfigurationError } from '../core/errors.js';
import { ASYMMETRIC_JWS_ALGORITHMS } from '../http/jws-algorithms.js';
import type { LocalAuthorizationServer, ReplayStore, TokenVerifierOptions } from './types.js';

/** The JWS algorithms a token or proof may use: asymmetric ones that jose verifies. */
const ASYMMETRIC_ALGORITHMS: ReadonlySet<string> = new Set([
  ...ASYMMETRIC_JWS_ALGORITHMS,
  // jose's name for EdDSA over Ed25519 alone.
  'Ed25519',
]);

/** `TokenVerifierOptions` with every default filled in. @internal */
export interface ResolvedVerifierOptions {
  issuer: string;
  audience: string;
  algorithms: string[];
  clockSkewSeconds: number;
  allowHttp: boolean;
  fetch: typeof globalThis.fetch;
  timeoutMs: number;
  jwksCooldownMs: number;
  introspection:
    | {
        clientId: string;
        clientSecret: string;
        cacheTtlSeconds: number;
        inactiveCacheSeconds: number;
      }
    | undefined;
  dpop: { store: ReplayStore | undefined; maxAgeSeconds: number; algorithms: string[] };
  trustedProxyHeader: string | undefined;
  server: LocalAuthorizationServer | undefined;
}

const isNonEmptyString = (value: unknown): value is string =>
  typeof value === 'string' && value.length > 0;

/**
 * Whether a value is a URL this verifier may fetch from: https (or http when allowed), without
 * userinfo or fragment.
 *
 * @internal
 */
export function isFetchableUrl(value: unknown, allowHttp: boolean): value is string {
  if (typeof value !== 'string' || !URL.canParse(value)) return false;
  const url = new URL(value);
  // Credentials in a URL would be sent to whoever answers it, and logged wherever it is.
  if (url.hash || url.username || url.password) return false;
  return url.protocol === 'https:' || (allowHttp && url.protocol === 'http:');
}

function checkAlgorithms(value: unknown, path: string, problems: string[]): void {
  if (value === undefined) return;
  if (!Array.isArray(value) || value.length === 0) {
    problems.push(`${path} must be a non-empty array of JWS algorithms`);
    return;
  }
  for (const alg of value) {
    if (typeof alg !== 'string' || !ASYMMETRIC_ALGORITHMS.has(alg)) {
      problems.push(
        `${path} must list asymmetric JWS algorithms only (${[...ASYMMETRIC_ALGORITHMS].join(', ')}); got ${JSON.stringify(alg)}`,
      );
    }
  }
}

function checkInteger(value: unknown, path: string, problems: string[], min = 0): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    problems.push(`${path} must be an integer of at least ${min}`);
  }
}

/**
 * Checks `createTokenVerifier`'s options and fills in the defaults.
 *
 * @throws ConfigurationError naming every offending option.
 * @internal
 */
export function resolveVerifierOptions(options: TokenVerifierOptions): ResolvedVerifierOptions {
  const problems: string[] = [];
  const o = options as Partial<TokenVerifierOptions> | undefined;
  if (typeof o !== 'object' || o === null) {
    throw new ConfigurationError(['options must be an object']);
  }
  const allowHttp = o.allowHttp === true;
  if (o.allowHttp !== undefined && typeof o.allowHttp !== 'boolean') {
    problems.push('options.allowHttp must be a boolean');
  }
  const issuerUrl =
    typeof o.issuer === 'string' && URL.canParse(o.issuer) ? new URL(o.issuer) : undefined;
  if (issuerUrl && (issuerUrl.username || issuerUrl.password)) {
    // They would travel with every discovery and key fetch, and into logs.
    problems.push('options.issuer must not contain credentials (user:password@)');
  } else if (!isFetchableUrl(o.issuer, allowHttp) || issuerUrl?.search) {
    problems.push(
      `options.issuer must be an absolute ${allowHttp ? 'http(s)' : 'https'} URL without query or fragment`,
    );
  }
  if (!isNonEmptyString(o.audience)) problems.push('options.audience must be a non-empty string');
  checkAlgorithms(o.algorithms, 'options.algorithms', problems);
  checkInteger(o.clockSkewSeconds, 'options.clockSkewSeconds', problems);
  checkInteger(o.timeoutMs, 'options.timeoutMs', problems, 1);
  checkInteger(o.jwksCooldownMs, 'options.jwksCooldownMs', problems);
  if (o.fetch !== undefined && typeof o.fetch !== 'function') {
    problems.push('options.fetch must be a function');
  }
  const introspection = o.introspection;
  if (introspection !== undefined) {
    if (!isNonEmptyString(introspection?.clientId)) {
      problems.push('options.introspection.clientId must be a non-empty string');
    }
    if (!isNonEmptyString(introspection?.clientSecret)) {
      problems.push('options.introspection.clientSecret must be a non-empty string');
    }
    checkInteger(introspection?.cacheTtlSeconds, 'options.introspection.cacheTtlSeconds', problems);
    checkInteger(
      introspection?.inactiveCacheSeconds,
      'options.introspection.inactiveCacheSeconds',
      problems,
    );
  }
  const dpop = o.dpop ?? {};
  if (dpop.store !== undefined && typeof dpop.store?.takeUse !== 'function') {
    problems.push('options.dpop.store must have a takeUse method (a mobile-oidc-provider Store)');
  }
  checkInteger(dpop.maxAgeSeconds, 'options.dpop.maxAgeSeconds', problems, 1);
  checkAlgorithms(dpop.algorithms, 'options.dpop.algorithms', problems);
  const server = (o as { server?: unknown }).server;
  if (
    server !== undefined &&
    typeof (server as { introspect?: unknown } | null)?.introspect !== 'function'
  ) {
    problems.push('options.server must be the AuthServer of this process (with introspect())');
  }
  const header = o.mtls?.trustedProxyHeader;
  // RFC 9110 §5.1: a field name is a token.
  if (header !== undefined && !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(String(header))) {
    problems.push('options.mtls.trustedProxyHeader must be an HTTP header name');
  }
  if (problems.length > 0) throw new ConfigurationError(problems);
  const valid = o as TokenVerifierOptions;
  return {
    issuer: valid.issuer,
    audience: valid.audience,
    algorithms: [...(valid.algorithms ?? ['RS256', 'ES256', 'PS256', 'EdDSA'])],
    clockSkewSeconds: valid.clockSkewSeconds ?? 30,
    allowHttp,
    // Looked up per call, so a fetch installed on globalThis later (instrumentation) is used.
    fetch: valid.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    timeoutMs: valid.timeoutMs ?? 5000,
    jwksCooldownMs: valid.jwksCooldownMs ?? 30_000,
    introspection: introspection && {
      clientId: introspection.clientId,
      clientSecret: introspection.clientSecret,
      cacheTtlSeconds: introspection.cacheTtlSeconds ?? 30,
      inactiveCacheSeconds: introspection.inactiveCacheSeconds ?? 2,
    },
    dpop: {
      store: dpop.store,
      maxAgeSeconds: dpop.maxAgeSeconds ?? 60,
      algorithms: [...(dpop.algorithms ?? ['ES256', 'EdDSA', 'Ed25519', 'RS256', 'PS256'])],
    },
    trustedProxyHeader: header?.toLowerCase(),
    server: valid.server,
  };
}
