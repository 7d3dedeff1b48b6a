import { createHash } from 'node:crypto';
import type { IssuerDiscovery } from './discovery.js';
import { TokenVerificationError, unavailable } from './errors.js';
import { isJsonObject, requestJson } from './http.js';
import type { ResolvedVerifierOptions } from './options.js';

/** Results cached at most; past it, expired entries are dropped first, then the oldest. */
const MAX_CACHE_ENTRIES = 10_000;

type Settings = Pick<
  ResolvedVerifierOptions,
  'issuer' | 'audience' | 'fetch' | 'timeoutMs' | 'clockSkewSeconds' | 'server'
> & { introspection: ResolvedVerifierOptions['introspection'] };

/** An introspection answer: the active response, inactive, or a token the server cannot introspect. */
type Outcome = { active: Record<string, unknown> } | 'inactive' | 'unsupported';

const invalid = (description: string) =>
  new TokenVerificationError({ error: 'invalid_token', description });

/** RFC 6749 §2.3.1: the client id and secret are form-encoded before Basic encoding. */
const formEncode = (value: string) => new URLSearchParams({ v: value }).toString().slice(2);

const cacheKey = (token: string) => createHash('sha256').update(token).digest('base64url');

/**
 * Introspection (RFC 7662) of tokens with the API's own client credential, at the endpoint the
 * discovery document names. Results are cached under a SHA-256 of the token (never the token):
 * active ones for `cacheTtlSeconds` but never beyond their `exp`, inactive ones for
 * `inactiveCacheSeconds`. Concurrent introspections of one token share one request.
 *
 * @internal
 */
export class Introspector {
  readonly #discovery: IssuerDiscovery;
  readonly #settings: Settings;
  readonly #cache = new Map<string, { expiresAt: number; outcome: Outcome }>();
  readonly #inFlight = new Map<string, Promise<Outcome>>();

  constructor(discovery: IssuerDiscovery, settings: Settings) {
    this.#discovery = discovery;
    this.#settings = settings;
  }

  /**
   * The introspection response of an active access token for this API.
   *
   * @param fresh - ask the server even when a cached result exists (a revocation check).
   * @throws TokenVerificationError `invalid_token` for an inactive token, one for another API
   *   or issuer, an expired one, or one the server cannot introspect; `temporarily_unavailable`
   *   when the server could not answer.
   */
  async introspect(token: string, fresh: boolean): Promise<Record<string, unknown>> {
    const key = cacheKey(token);
    const outcome = (!fresh && this.#cached(key)) || (await this.#ask(key, token, fresh));
    if (outcome === 'inactive') throw invalid('the token is not active');
    if (outcome === 'unsupported') {
      throw invalid(
        'the authorization server cannot introspect this token to check its revocation',
      );
    }
    return this.#checked(outcome.active);
  }

  #cached(key: string): Outcome | undefined {
    const entry = this.#cache.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt > Date.now()) return entry.outcome;
    this.#cache.delete(key);
    return undefined;
  }

  #ask(key: string, token: string, fresh: boolean): Promise<Outcome> {
    // The server in this process answers from its store: nothing to cache or share.
    const local = this.#settings.server;
    if (local) {
      return local
        .introspect(token)
        .then((body) => (body.active === true ? { active: body } : 'inactive'));
    }
    const pending = fresh ? undefined : this.#inFlight.get(key);
    if (pending) return pending;
    const request = this.#request(token).finally(() => {
      if (this.#inFlight.get(key) === request) this.#inFlight.delete(key);
    });
    if (!fresh) this.#inFlight.set(key, request);
    return request.then((outcome) => {
      this.#remember(key, outcome);
      return outcome;
    });
  }

  async #request(token: string): Promise<Outcome> {
    const { introspectionEndpoint } = await this.#discovery.metadata();
    if (!introspectionEndpoint) {
      throw unavailable('the authorization server advertises no introspection endpoint');
    }
    const { clientId, clientSecret } = this.#credentials();
    const credential = Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`).toString(
      'base64',
    );
    const what = "authorization server's introspection endpoint";
    const { status, body } = await requestJson(
      this.#settings.fetch,
      introspectionEndpoint,
      {
        method: 'POST',
        headers: {
          accept: 'application/json',
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${credential}`,
        },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
        timeoutMs: this.#settings.timeoutMs,
      },
      what,
    );
    // RFC 7009 §2.2.1's code, which oidc-provider also answers for JWTs at introspection.
    if (status === 400 && isJsonObject(body) && body.error === 'unsupported_token_type') {
      return 'unsupported';
    }
    if (status !== 200 || !isJsonObject(body) || typeof body.active !== 'boolean') {
      throw unavailable(`the ${what} answered ${status}`);
    }
    return body.active ? { active: body } : 'inactive';
  }

  #credentials() {
    const { introspection } = this.#settings;
    if (!introspection) throw unavailable('options.introspection is not set');
    return introspection;
  }

  #remember(key: string, outcome: Outcome): void {
    if (outcome === 'unsupported') return;
    const { cacheTtlSeconds, inactiveCacheSeconds } = this.#credentials();
    const now = Date.now();
    let expiresAt = now + (outcome === 'inactive' ? inactiveCacheSeconds : cacheTtlSeconds) * 1000;
    const exp = outcome === 'inactive' ? undefined : outcome.active.exp;
    if (typeof exp === 'number') expiresAt = Math.min(expiresAt, exp * 1000);
    if (expiresAt <= now) return;
    if (this.#cache.size >= MAX_CACHE_ENTRIES) {
      for (const [stored, entry] of this.#cache) {
        if (entry.expiresAt <= now) this.#cache.delete(stored);
      }
      const oldest = this.#cache.keys().next();
      if (this.#cache.size >= MAX_CACHE_ENTRIES && !oldest.done) this.#cache.delete(oldest.value);
    }
    this.#cache.set(key, { expiresAt, outcome });
  }

  /** The checks of an active response, repeated on every use since they depend on the time. */
  #checked(response: Record<string, unknown>): Record<string, unknown> {
    const { issuer, audience, clockSkewSeconds } = this.#settings;
    const now = Date.now() / 1000;
    const { aud, iss, exp, nbf, token_type: tokenType, cnf } = response;
    // A refresh token, or anything else that is not an access token, must not pass.
    const type = typeof tokenType === 'string' ? tokenType.toLowerCase() : tokenType;
    if (type !== undefined && type !== 'bearer' && type !== 'dpop') {
      throw invalid('the token is not an access token');
    }
    // Tokens issued without a resource (for userinfo) have no aud: they are not for any API.
    const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
    if (!audiences.includes(audience)) throw invalid('the token is not for this API (aud)');
    if (iss !== undefined && iss !== issuer)
      throw invalid('the token is from another issuer (iss)');
    if (exp !== undefined && (typeof exp !== 'number' || exp <= now - clockSkewSeconds)) {
      throw invalid('the token has expired');
    }
    if (nbf !== undefined && (typeof nbf !== 'number' || nbf > now + clockSkewSeconds)) {
      throw invalid('the token is not valid yet (nbf)');
    }
    if (type === 'dpop' && !(isJsonObject(cnf) && typeof cnf.jkt === 'string')) {
      throw invalid('the token is a DPoP token without the key it is bound to');
    }
    return response;
  }
}
