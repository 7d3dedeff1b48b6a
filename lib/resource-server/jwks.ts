import type { webcrypto } from 'node:crypto';
import {
  createLocalJWKSet,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWSHeaderParameters,
  errors as joseErrors,
} from 'jose';
import type { IssuerDiscovery } from './discovery.js';
import { unavailable } from './errors.js';
import { isJsonObject, requestJson } from './http.js';
import type { ResolvedVerifierOptions } from './options.js';
import { SharedFetch } from './shared-fetch.js';

/** Milliseconds a fetched key set is trusted before it is fetched again on next use. */
const MAX_AGE_MS = 10 * 60_000;

type LocalSet = ReturnType<typeof createLocalJWKSet>;

type Settings = Pick<ResolvedVerifierOptions, 'fetch' | 'timeoutMs' | 'jwksCooldownMs'>;

/**
 * The issuer's signing keys (its `jwks_uri`): fetched on first use, again in the background once
 * 10 minutes old (the old set stays in use meanwhile, and if that fails), and again on an unknown
 * `kid` at most once per cooldown.
 * Concurrent fetches are shared; after a failure requests fail fast for a second.
 *
 * @internal
 */
export class IssuerKeys {
  readonly #discovery: IssuerDiscovery;
  readonly #settings: Settings;
  #held: { select: LocalSet; fetchedAt: number } | undefined;
  #attemptedAt = Number.NEGATIVE_INFINITY;
  readonly #fetching = new SharedFetch(async () => {
    const select = await this.#fetch();
    this.#held = { select, fetchedAt: Date.now() };
    return select;
  });

  constructor(discovery: IssuerDiscovery, settings: Settings) {
    this.#discovery = discovery;
    this.#settings = settings;
  }

  /**
   * The key for a JWS's protected header, in the shape jose's `jwtVerify` takes.
   *
   * @throws jose's JWKSNoMatchingKey when no key matches, even after a refresh the cooldown
   *   allowed; JWKSMultipleMatchingKeys (iterable) when several do.
   * @throws TokenVerificationError `temporarily_unavailable` when no key set could be fetched.
   */
  readonly resolve = async (
    header: JWSHeaderParameters,
    token: FlattenedJWSInput,
  ): Promise<webcrypto.CryptoKey> => {
    const select = await this.#current();
    try {
      return await select(header, token);
    } catch (error) {
      if (!(error instanceof joseErrors.JWKSNoMatchingKey)) throw error;
      if (
        !this.#fetching.inFlight &&
        Date.now() - this.#attemptedAt < this.#settings.jwksCooldownMs
      ) {
        throw error;
      }
      // The issuer may have rotated its keys since the set was fetched.
      const refreshed = await this.#fetching.run();
      return refreshed(header, token);
    }
  };

  async #current(): Promise<LocalSet> {
    const held = this.#held;
    if (!held) return this.#fetching.run();
    if (
      Date.now() - held.fetchedAt >= MAX_AGE_MS &&
      !this.#fetching.inFlight &&
      !this.#fetching.inBackoff
    ) {
      // Refreshed in the background: a slow or unreachable issuer never delays a request here.
      this.#fetching.run().catch(() => {});
    }
    return held.select;
  }

  async #fetch(): Promise<LocalSet> {
    this.#attemptedAt = Date.now();
    const { jwksUri } = await this.#discovery.metadata();
    const what = "authorization server's key set";
    const { status, body } = await requestJson(
      this.#settings.fetch,
      jwksUri,
      {
        headers: { accept: 'application/jwk-set+json, application/json' },
        timeoutMs: this.#settings.timeoutMs,
      },
      what,
    );
    if (status !== 200 || !isJsonObject(body) || !Array.isArray(body.keys)) {
      throw unavailable(`the ${what} answered ${status} without keys`);
    }
    // Encryption keys published beside the signing keys are never used to verify.
    const keys = body.keys.filter(
      (jwk: unknown) => isJsonObject(jwk) && (jwk.use === undefined || jwk.use === 'sig'),
    );
    try {
      return createLocalJWKSet({ keys } as JSONWebKeySet);
    } catch (cause) {
      throw unavailable(`the ${what} is malformed`, cause);
    }
  }
}
