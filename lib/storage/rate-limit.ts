import { type RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import type { RateDecision, RateLimitWindow } from './store.js';

/**
 * Rate limiters of one store, one per window shape, over rate-limiter-flexible (its Redis
 * limiter is a single-key Lua script, so it holds across processes and on a Cluster).
 *
 * @internal
 */
export class RateLimiters {
  readonly #limiters = new Map<string, RateLimiterAbstract>();

  /** @param create - builds the store's limiter for one window. */
  constructor(private readonly create: (limit: RateLimitWindow) => RateLimiterAbstract) {}

  /**
   * Counts `points` attempts for `key` (`0`: only reads whether `key` is limited, see
   * `Store.consumeRate`); a store failure rejects (the caller fails closed).
   */
  async consume(key: string, limit: RateLimitWindow, points = 1): Promise<RateDecision> {
    if (!Number.isSafeInteger(points) || points < 0) {
      throw new RangeError(`points must be a non-negative integer, got ${points}`);
    }
    const shape = `${limit.points}:${limit.duration}`;
    let limiter = this.#limiters.get(shape);
    if (!limiter) {
      limiter = this.create(limit);
      this.#limiters.set(shape, limiter);
    }
    if (points === 0) {
      // get() reads the count and its remaining time without writing (memory: the record;
      // Redis: GET + PTTL of the one key in a MULTI). A record past its expiry that was not swept
      // yet counts as nothing.
      const current = await limiter.get(key);
      const msLeft = current?.msBeforeNext ?? 0;
      const consumed = current && msLeft > 0 ? current.consumedPoints : 0;
      const allowed = consumed < limit.points;
      const seconds = consumed > 0 ? Math.ceil(msLeft / 1000) : 0;
      return { allowed, retryAfterSeconds: allowed ? seconds : Math.max(1, seconds) };
    }
    try {
      const result = await limiter.consume(key, points);
      return { allowed: true, retryAfterSeconds: Math.ceil(result.msBeforeNext / 1000) };
    } catch (rejection) {
      // rate-limiter-flexible rejects with a RateLimiterRes when over the limit, an Error otherwise.
      if (rejection instanceof RateLimiterRes) {
        return {
          allowed: false,
          retryAfterSeconds: Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)),
        };
      }
      throw rejection;
    }
  }
}
