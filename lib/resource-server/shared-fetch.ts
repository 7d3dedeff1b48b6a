/** Milliseconds after a failed fetch during which requests fail fast instead of fetching again. @internal */
export const FAILURE_BACKOFF_MS = 1000;

/**
 * One fetch from the issuer at a time: concurrent callers share the one in flight, and after a
 * failure callers get that failure for {@link FAILURE_BACKOFF_MS} instead of fetching again.
 *
 * @internal
 */
export class SharedFetch<T> {
  readonly #fetch: () => Promise<T>;
  #inFlight: Promise<T> | undefined;
  #failedAt = Number.NEGATIVE_INFINITY;
  #failure: unknown;

  /** @param fetch - fetches a fresh value. */
  constructor(fetch: () => Promise<T>) {
    this.#fetch = fetch;
  }

  /** Whether a fetch is going on. */
  get inFlight(): boolean {
    return this.#inFlight !== undefined;
  }

  /** Whether a fetch failed less than the back-off ago (and none is going on). */
  get inBackoff(): boolean {
    return !this.#inFlight && Date.now() - this.#failedAt < FAILURE_BACKOFF_MS;
  }

  /** The fetch going on, or a new one; the last failure while backing off. */
  run(): Promise<T> {
    if (this.inBackoff) return Promise.reject(this.#failure);
    this.#inFlight ??= this.#fetch().then(
      (value) => {
        this.#inFlight = undefined;
        return value;
      },
      (error: unknown) => {
        this.#failedAt = Date.now();
        this.#failure = error;
        this.#inFlight = undefined;
        throw error;
      },
    );
    return this.#inFlight;
  }
}
