import Provider, { type Adapter, type AdapterPayload } from 'oidc-provider';
import { delegateAdapter } from './adapter.js';

/**
 * The routes where oidc-provider, having found a token, next reads its grant and its client:
 * introspection (RFC 7662) and userinfo. Elsewhere nothing is read ahead.
 */
const PREFETCHING_ROUTES: ReadonlySet<string> = new Set(['introspection', 'userinfo']);

/** The models of the tokens those routes find: each names its grant and its client. */
const TOKEN_MODELS: ReadonlySet<string> = new Set([
  'AccessToken',
  'RefreshToken',
  'ClientCredentials',
]);

/** The models read ahead. */
type PrefetchedModel = 'Grant' | 'Client';

type Found = ReturnType<Adapter['find']>;

/**
 * Where one request's reads ahead wait for the find they stand in for: on oidc-provider's request
 * context, so they end with the request and no other request ever sees them.
 */
const PREFETCHED = Symbol('mobile-oidc-provider.prefetched');
type WithPrefetched = { [PREFETCHED]?: Map<string, Found> };

const keyOf = (model: PrefetchedModel, id: string) => `${model}:${id}`;

/** The current request's reads ahead, when it has any. */
function prefetchedReads(): Map<string, Found> | undefined {
  return (Provider.ctx as WithPrefetched | undefined)?.[PREFETCHED];
}

/**
 * The current request's read ahead of a record, without taking it: for a check that must see what
 * the next find of it will, at no store read of its own.
 *
 * @internal
 */
export function peekReadAhead(model: PrefetchedModel, id: string): Found | undefined {
  return prefetchedReads()?.get(keyOf(model, id));
}

/** The current request's reads ahead, made on first use; none outside the prefetching routes. */
function prefetchingReads(): Map<string, Found> | undefined {
  const ctx = Provider.ctx;
  const route = ctx?.oidc?.route;
  if (typeof route !== 'string' || !PREFETCHING_ROUTES.has(route)) return undefined;
  const holder = ctx as unknown as WithPrefetched;
  holder[PREFETCHED] ??= new Map();
  return holder[PREFETCHED];
}

/**
 * Reads ahead, within one request, what oidc-provider reads one after the other: at introspection
 * and userinfo, the token's grant and client are read as soon as the token is found, in the same
 * tick as whatever else is being sent, so that on Redis they share one round trip (ioredis
 * pipelines a tick's commands) instead of taking one each.
 *
 * Nothing outlives the request: a read ahead serves only the first find of the same record in the
 * same request, then is gone; any write of a grant or a client in the request drops every read
 * ahead (those two routes write neither). So a grant or instance revoked, here or by another
 * process, is refused exactly as before: its record is read after the token, by the request that
 * uses it, and never kept for another.
 *
 * @internal
 */
export class RequestPrefetch {
  readonly #readers: Readonly<Record<PrefetchedModel, Adapter>>;
  readonly #staticClientIds: ReadonlySet<string>;

  /**
   * @param readers - the adapters that read each model ahead: built as oidc-provider's are,
   *   without this layer.
   * @param staticClientIds - clients oidc-provider never reads from the store.
   */
  constructor(
    readers: Readonly<Record<PrefetchedModel, Adapter>>,
    staticClientIds: ReadonlySet<string>,
  ) {
    this.#readers = readers;
    this.#staticClientIds = staticClientIds;
  }

  /** `adapter`, the one oidc-provider uses for `model`, taking part in reading ahead. */
  adapter(model: string, adapter: Adapter): Adapter {
    if (TOKEN_MODELS.has(model)) return this.#tokenAdapter(adapter);
    if (model === 'Grant' || model === 'Client') return this.#prefetchedAdapter(model, adapter);
    return adapter;
  }

  /** A token's find starts the reads of its grant and client, in the tick it resolves. */
  #tokenAdapter(adapter: Adapter): Adapter {
    return delegateAdapter(adapter, {
      find: (id) => {
        const reads = prefetchingReads();
        if (!reads) return adapter.find(id);
        return adapter.find(id).then((payload) => {
          if (payload) this.#readAhead(reads, payload);
          return payload;
        });
      },
    });
  }

  /** A find takes the read ahead of its record, once; a write drops every read ahead. */
  #prefetchedAdapter(model: PrefetchedModel, adapter: Adapter): Adapter {
    const dropAll = () => prefetchedReads()?.clear();
    return delegateAdapter(adapter, {
      find(id) {
        const reads = prefetchedReads();
        const key = keyOf(model, id);
        const found = reads?.get(key);
        if (!found) return adapter.find(id);
        reads?.delete(key);
        return found;
      },
      upsert(id, payload, expiresIn) {
        dropAll();
        return adapter.upsert(id, payload, expiresIn);
      },
      consume(id) {
        dropAll();
        return adapter.consume(id);
      },
      destroy(id) {
        dropAll();
        return adapter.destroy(id);
      },
      revokeByGrantId(grantId) {
        dropAll();
        return adapter.revokeByGrantId(grantId);
      },
    });
  }

  #readAhead(reads: Map<string, Found>, token: AdapterPayload): void {
    const { grantId, clientId } = token;
    if (typeof grantId === 'string' && grantId.length > 0) this.#start(reads, 'Grant', grantId);
    if (typeof clientId === 'string' && clientId.length > 0 && this.#readsClient(token, clientId)) {
      this.#start(reads, 'Client', clientId);
    }
  }

  /** Whether oidc-provider will read the token's client from the store in this request. */
  #readsClient(token: AdapterPayload, clientId: string): boolean {
    // Introspection loads the client of a user's token only (for its subject type).
    if (typeof token.accountId !== 'string') return false;
    // Static clients are built from the configuration; the authenticated client is loaded.
    if (this.#staticClientIds.has(clientId)) return false;
    return Provider.ctx?.oidc?.entities.Client?.clientId !== clientId;
  }

  #start(reads: Map<string, Found>, model: PrefetchedModel, id: string): void {
    const key = keyOf(model, id);
    if (reads.has(key)) return;
    const found = this.#readers[model].find(id);
    // Awaited by the find it stands in for; one never asked for must not be an unhandled rejection.
    found.catch(() => {});
    reads.set(key, found);
  }
}
