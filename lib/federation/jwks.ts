import type { webcrypto } from 'node:crypto';
import {
  createLocalJWKSet,
  type JSONWebKeySet,
  type JWK,
  type JWSHeaderParameters,
  errors as joseErrors,
} from 'jose';
import { ConfigurationError, MobileOidcProviderError } from '../core/errors.js';

/** The floor, in seconds, of how long a fetched key set is used before it is fetched again. */
const JWKS_MIN_MAX_AGE = 60;
/** The ceiling, in seconds, of how long a fetched key set is used before it is fetched again. */
const JWKS_MAX_MAX_AGE = 24 * 60 * 60;
/** Seconds a key set is used when its response has no usable `Cache-Control: max-age`. */
const JWKS_DEFAULT_MAX_AGE = 60 * 60;

/**
 * The upstream provider's discovery document or key set could not be fetched (network error,
 * timeout, non-2xx, malformed JSON, a discovery document naming another issuer) and no cached
 * key can stand in. A server error, not the app's: retry later.
 *
 * @group Errors
 */
export class UpstreamUnavailableError extends MobileOidcProviderError {
  /** A stable code for programmatic handling. */
  declare readonly code: 'upstream_unavailable';
  /** The issuer of the upstream provider that could not be reached. */
  readonly issuer: string;

  /**
   * @param issuer - the upstream issuer.
   * @param message - what failed, for people: no secrets.
   * @param options - `cause`: the underlying error, kept for logs only.
   */
  constructor(issuer: string, message: string, options?: { cause?: unknown }) {
    super('upstream_unavailable', message, options);
    this.issuer = issuer;
  }
}

/** Options of {@link UpstreamJwks}. */
export interface UpstreamJwksOptions {
  /** The upstream issuer, exactly as its discovery document and id_tokens spell it. */
  issuer: string;
  /**
   * Accept an `http://` issuer or `jwks_uri`: for development and tests only, as keys fetched
   * without TLS can be swapped by anyone on the path.
   *
   * @default false
   */
  allowHttp?: boolean;
  /**
   * The fetch used for discovery and the key set; tests inject one to count or fail requests.
   *
   * @default globalThis.fetch
   */
  fetch?: typeof globalThis.fetch;
  /**
   * Milliseconds each request to the upstream may take before it is aborted.
   *
   * @default 5000
   */
  timeoutMs?: number;
  /**
   * Milliseconds between two fetches caused by an unknown `kid` (and between retries after a
   * failed fetch), so that tokens with made-up key ids cannot make the server fetch per request.
   *
   * @default 30000
   */
  cooldownMs?: number;
  /**
   * The clock, in milliseconds since the epoch; tests move it to age the cache.
   *
   * @default Date.now
   */
  now?: () => number;
}

/** The set of keys held, with when it goes stale. */
interface HeldSet {
  select: ReturnType<typeof createLocalJWKSet>;
  expiresAt: number;
}

/** What selecting a key for a JWS header found. */
type Selection = webcrypto.CryptoKey | 'unknown' | 'unusable';

/**
 * The signing keys of one upstream OpenID provider (Apple, Google, a corporate IdP): found via
 * its discovery document's `jwks_uri`, cached for the response's `Cache-Control: max-age`
 * (clamped to 60 s – 24 h, 1 h when absent), refreshed once per cooldown on an unknown `kid`.
 * Concurrent lookups share one in-flight fetch; a stale set is kept for known keys when a refresh
 * fails.
 */
export class UpstreamJwks {
  /** The upstream issuer these keys belong to. */
  readonly issuer: string;
  readonly #allowHttp: boolean;
  readonly #fetch: typeof globalThis.fetch;
  readonly #timeoutMs: number;
  readonly #cooldownMs: number;
  readonly #now: () => number;
  #jwksUri: string | undefined;
  #held: HeldSet | undefined;
  #inFlight: Promise<void> | undefined;
  #lastAttemptAt = Number.NEGATIVE_INFINITY;
  #lastUnknownKidRefreshAt = Number.NEGATIVE_INFINITY;
  #lastFailure: UpstreamUnavailableError | undefined;

  /**
   * @param options - the issuer and how to reach it.
   * @throws ConfigurationError when the issuer is not an absolute https URL (or http with
   *   `allowHttp`).
   */
  constructor(options: UpstreamJwksOptions) {
    this.#allowHttp = options.allowHttp ?? false;
    this.issuer = options.issuer;
    const problem = this.#httpsProblem(options.issuer, 'issuer');
    if (problem) throw new ConfigurationError([problem]);
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.#cooldownMs = options.cooldownMs ?? 30_000;
    this.#now = options.now ?? Date.now;
  }

  /**
   * The public key that verifies a JWS with this protected header: fetched first when no set is
   * held or the held one is stale, and fetched again once (per cooldown) when the `kid` is
   * unknown.
   *
   * @param header - the JWS protected header (`alg`, `kid`).
   * @returns the key, or `undefined` when no single held key matches the `kid` and `alg`.
   * @throws UpstreamUnavailableError when no key set could be fetched, or the `kid` is unknown
   *   and fetching a newer set failed.
   */
  async key(header: JWSHeaderParameters): Promise<webcrypto.CryptoKey | undefined> {
    const now = this.#now();
    const stale = !this.#held || now >= this.#held.expiresAt;
    if (stale && (this.#inFlight || now - this.#lastAttemptAt >= this.#cooldownMs)) {
      // A stale set still verifies known keys while the upstream is down.
      await this.refresh().catch(() => {});
    }
    if (!this.#held) {
      const message =
        this.#lastFailure?.message ?? `the signing keys of ${this.issuer} could not be fetched`;
      throw new UpstreamUnavailableError(this.issuer, message, { cause: this.#lastFailure?.cause });
    }
    let selection = await this.#select(header);
    if (selection === 'unknown') {
      if (this.#inFlight) {
        await this.#inFlight;
      } else if (this.#now() - this.#lastUnknownKidRefreshAt >= this.#cooldownMs) {
        this.#lastUnknownKidRefreshAt = this.#now();
        await this.refresh();
      }
      selection = await this.#select(header);
    }
    return typeof selection === 'string' ? undefined : selection;
  }

  /**
   * Fetches the key set now (discovering `jwks_uri` first when not yet known); joins the fetch
   * already in flight, if any.
   *
   * @throws UpstreamUnavailableError when discovery or the key set fetch fails.
   */
  refresh(): Promise<void> {
    this.#inFlight ??= this.#fetchKeys().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async #select(header: JWSHeaderParameters): Promise<Selection> {
    try {
      return await (this.#held as HeldSet).select(header);
    } catch (error) {
      return error instanceof joseErrors.JWKSNoMatchingKey ? 'unknown' : 'unusable';
    }
  }

  async #fetchKeys(): Promise<void> {
    this.#lastAttemptAt = this.#now();
    try {
      this.#jwksUri ??= await this.#discover();
      const response = await this.#get(this.#jwksUri, 'application/jwk-set+json, application/json');
      const body = (await response.json()) as unknown;
      const keys = isObject(body) && Array.isArray(body.keys) ? body.keys : undefined;
      if (!keys) throw new Error('the JWKS response has no keys array');
      const signingKeys = keys.filter(
        (jwk): jwk is JWK => isObject(jwk) && (jwk.use === undefined || jwk.use === 'sig'),
      );
      const select = createLocalJWKSet({ keys: signingKeys } as JSONWebKeySet);
      const maxAge = maxAgeOf(response.headers.get('cache-control'));
      this.#held = { select, expiresAt: this.#now() + maxAge * 1000 };
      this.#lastFailure = undefined;
    } catch (error) {
      // The jwks_uri may have moved: the next attempt asks discovery again.
      this.#jwksUri = undefined;
      this.#lastFailure =
        error instanceof UpstreamUnavailableError
          ? error
          : new UpstreamUnavailableError(
              this.issuer,
              `the signing keys of ${this.issuer} could not be fetched`,
              { cause: error },
            );
      throw this.#lastFailure;
    }
  }

  /** The `jwks_uri` of the issuer's discovery document (OpenID Connect Discovery 1.0 §4). */
  async #discover(): Promise<string> {
    const url = `${this.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const response = await this.#get(url, 'application/json');
    const document = (await response.json()) as unknown;
    if (!isObject(document) || document.issuer !== this.issuer) {
      throw new UpstreamUnavailableError(
        this.issuer,
        `the discovery document of ${this.issuer} names another issuer`,
      );
    }
    if (typeof document.jwks_uri !== 'string') {
      throw new UpstreamUnavailableError(
        this.issuer,
        `the discovery document of ${this.issuer} has no jwks_uri`,
      );
    }
    const problem = this.#httpsProblem(document.jwks_uri, 'jwks_uri');
    if (problem) throw new UpstreamUnavailableError(this.issuer, problem);
    return document.jwks_uri;
  }

  async #get(url: string, accept: string): Promise<Response> {
    const response = await this.#fetch(url, {
      headers: { accept },
      signal: AbortSignal.timeout(this.#timeoutMs),
    });
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`GET ${url} answered ${response.status}`);
    }
    return response;
  }

  #httpsProblem(value: string, name: string): string | undefined {
    let protocol: string | undefined;
    try {
      protocol = new URL(value).protocol;
    } catch {}
    if (protocol === 'https:' || (protocol === 'http:' && this.#allowHttp)) return undefined;
    return `the upstream ${name} ${value} must be an https URL (http only with allowHttp)`;
  }
}

/** Seconds to keep a key set: its `Cache-Control` max-age, clamped, else the default. */
function maxAgeOf(cacheControl: string | null): number {
  const directives = (cacheControl ?? '').toLowerCase().split(',');
  let maxAge: number | undefined;
  for (const directive of directives) {
    const [name, value] = directive.trim().split('=', 2);
    // no-store/no-cache would mean a fetch per token: the default applies instead.
    if (name === 'no-store' || name === 'no-cache') return JWKS_DEFAULT_MAX_AGE;
    if (name === 'max-age' && value && /^\d+$/.test(value)) maxAge = Number(value);
  }
  if (maxAge === undefined) return JWKS_DEFAULT_MAX_AGE;
  return Math.min(JWKS_MAX_MAX_AGE, Math.max(JWKS_MIN_MAX_AGE, maxAge));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
