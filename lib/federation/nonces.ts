import { createHash, randomBytes } from 'node:crypto';
import type { Middleware } from 'koa';
import { createIssuingEndpoint } from '../http/issuing-endpoint.js';
import { SingleUseRecords, wasTaken } from '../storage/single-use.js';
import type { RateLimitWindow, Store } from '../storage/store.js';

// The store model that holds issued nonces until they are used or expire.
const NONCE_MODEL = 'NativeSignInNonce';

/**
 * The key a nonce is stored under: the lowercase hex SHA-256 of the nonce. Apple's id_token
 * carries exactly that (its SDK is given the hash), Google's the nonce itself, so both are found
 * by one key; and the store never holds a usable nonce.
 *
 * @internal
 */
export const nonceKey = (nonce: string): string =>
  createHash('sha256').update(nonce, 'utf8').digest('hex');

/**
 * Single-use nonces for native sign-in, kept in the store so every process sharing it sees them;
 * taking one is atomic (the store's `consume`), so of parallel exchanges carrying one nonce
 * exactly one gets it.
 *
 * @internal
 */
export class NativeSignInNonces {
  readonly #records: SingleUseRecords;

  constructor(
    store: Store,
    readonly ttl: number,
  ) {
    this.#records = new SingleUseRecords(store, NONCE_MODEL, ttl);
  }

  /** Issues a new nonce: 256 random bits, base64url. */
  async issue(): Promise<string> {
    const nonce = randomBytes(32).toString('base64url');
    await this.#records.issue(nonceKey(nonce), { iat: Date.now() });
    return nonce;
  }

  /**
   * Takes the nonce stored under `key` (see {@link nonceKey}); it can never be taken again.
   *
   * @returns whether it was issued, unexpired and not taken before.
   */
  async take(key: string): Promise<boolean> {
    if (!/^[0-9a-f]{64}$/.test(key)) return false;
    return wasTaken(await this.#records.take(key));
  }
}

/**
 * The nonce endpoint, installed with `provider.use()`: `POST <path>` answers
 * `{"nonce": "…", "expires_in": N}`; rate-limited per client IP.
 *
 * @internal
 */
export function createNonceEndpoint(settings: {
  path: string;
  nonces: NativeSignInNonces;
  store: Store;
  rateLimit: RateLimitWindow | false;
}): Middleware {
  return createIssuingEndpoint({
    path: settings.path,
    store: settings.store,
    rateLimit: {
      window: settings.rateLimit || undefined,
      key: 'native-sign-in-nonce-ip',
      what: 'nonces requested',
    },
    issue: async () => ({
      nonce: await settings.nonces.issue(),
      expires_in: settings.nonces.ttl,
    }),
  });
}
