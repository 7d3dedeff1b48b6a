import { unavailable } from './errors.js';
import { isJsonObject, requestJson } from './http.js';
import { isFetchableUrl, type ResolvedVerifierOptions } from './options.js';
import { FAILURE_BACKOFF_MS, SharedFetch } from './shared-fetch.js';

/** What the verifier uses of the issuer's discovery document. @internal */
export interface IssuerMetadata {
  jwksUri: string;
  introspectionEndpoint: string | undefined;
}

type Settings = Pick<ResolvedVerifierOptions, 'issuer' | 'allowHttp' | 'fetch' | 'timeoutMs'>;

/**
 * The issuer's OpenID Connect discovery document, fetched on first use and kept for the life of
 * the verifier. Concurrent first uses share one fetch; a failure is retried by a request after
 * {@link FAILURE_BACKOFF_MS}.
 *
 * @internal
 */
export class IssuerDiscovery {
  readonly #settings: Settings;
  #metadata: IssuerMetadata | undefined;
  readonly #fetching = new SharedFetch(async () => {
    this.#metadata = await this.#fetch();
    return this.#metadata;
  });

  constructor(settings: Settings) {
    this.#settings = settings;
  }

  /** The metadata, fetched first when not yet known. */
  async metadata(): Promise<IssuerMetadata> {
    return this.#metadata ?? this.#fetching.run();
  }

  async #fetch(): Promise<IssuerMetadata> {
    const { issuer, allowHttp, fetch, timeoutMs } = this.#settings;
    // OpenID Connect Discovery §4: the path is appended to the issuer, path included.
    const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const what = "authorization server's discovery document";
    const { status, body } = await requestJson(
      fetch,
      url,
      { headers: { accept: 'application/json' }, timeoutMs },
      what,
    );
    if (status !== 200 || !isJsonObject(body)) {
      throw unavailable(`the ${what} answered ${status}`);
    }
    // OpenID Connect Discovery §4.3: the document must name exactly the configured issuer.
    if (body.issuer !== issuer) {
      throw unavailable(`the ${what} names another issuer than the one configured`);
    }
    if (!isFetchableUrl(body.jwks_uri, allowHttp)) {
      throw unavailable(`the ${what} has no usable jwks_uri`);
    }
    const introspection = body.introspection_endpoint;
    return {
      jwksUri: body.jwks_uri,
      introspectionEndpoint: isFetchableUrl(introspection, allowHttp) ? introspection : undefined,
    };
  }
}
