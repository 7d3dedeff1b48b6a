export { guardStore, StorageUnavailableError } from './guard.js';
export { RateLimiters } from './rate-limit.js';
export {
  AlreadyConsumedError,
  type RateDecision,
  type RateLimit,
  type RateLimitWindow,
  type Store,
} from './store.js';
