import { createHash } from 'node:crypto';
import type { ClientAddress } from '../http/client-address.js';
import type { RateLimitWindow, Store } from '../storage/store.js';
import type { SignInThrottledEvent } from './events.js';

/** What the throttle needs: the (guarded) store, the three limits, and where events go. @internal */
export interface SignInThrottleSettings {
  /** The store the failures are counted in; its failures reject (the page fails closed). */
  store: Store;
  /** Failures per username and IP; `false`: none. */
  perAccount: RateLimitWindow | false;
  /** Failures per IP; `false`: none. */
  perIp: RateLimitWindow | false;
  /** Failures per username from all IPs together; `false` or absent: none. */
  perUsername?: RateLimitWindow | false;
  /** Called for every refused attempt. */
  onThrottled(event: SignInThrottledEvent): void;
}

/** A refused attempt: the limit reached and the `Retry-After` to send. @internal */
export interface ThrottleDecision {
  limit: 'account' | 'ip' | 'username';
  retryAfterSeconds: number;
}

interface Limit {
  limit: ThrottleDecision['limit'];
  key: string;
  window: RateLimitWindow;
}

/** The longest username hint an event carries, in characters. */
const HINT_LENGTH = 64;

/**
 * The key a username is counted under: trimmed, NFKC-normalised and lower-cased, so trivial
 * variants share one budget (stricter, never weaker), whether or not such an account exists.
 * Hashed with the IP, so no username is written to the store in the clear and no submitted
 * character can shape a store key.
 */
function accountKey(username: string, ip: string): string {
  return `signin-account:${createHash('sha256')
    .update(`${normalised(username)}\n${ip}`)
    .digest('base64url')}`;
}

/** The key of a username across all IPs: normalised and hashed like {@link accountKey}. */
function usernameKey(username: string): string {
  return `signin-username:${createHash('sha256').update(normalised(username)).digest('base64url')}`;
}

function normalised(username: string): string {
  return username.trim().normalize('NFKC').toLowerCase();
}

/**
 * Throttles failed sign-ins per username + IP, per IP and per username from all IPs (a short
 * cool-down against many addresses guessing one account): before the password is checked, each
 * limit is read without counting (`Store.consumeRate` with `points` `0`); when one is reached the
 * password is not checked at all. Only a failed check is then counted.
 *
 * Attempts for one username (+ IP, without the per-username limit) run one at a time in this
 * process, so parallel guesses cannot all pass the check before the first failure is counted.
 * Across processes, and for the per-IP limit across usernames, as many attempts as are in flight
 * at once may pass together.
 *
 * @internal
 */
export class SignInThrottle {
  readonly #settings: SignInThrottleSettings;
  /** The tail of each username + IP key's queue of attempts in this process. */
  readonly #queues = new Map<string, Promise<void>>();

  constructor(settings: SignInThrottleSettings) {
    this.#settings = settings;
  }

  /**
   * Runs `check` (the password check) unless a limit is reached; counts its failure.
   *
   * @returns `{ throttled }` when refused (`check` was not called), else `{ accountId }`.
   * @throws what the store throws (a guarded store: `StorageUnavailableError`), before `check`
   *   runs when the limits cannot be read.
   */
  async attempt(
    username: string,
    client: ClientAddress,
    check: () => Promise<string | undefined>,
  ): Promise<{ throttled: ThrottleDecision } | { accountId: string | undefined }> {
    const { perAccount, perIp, perUsername, store } = this.#settings;
    // Keyed on the address's rate key (an IPv6 client's /64); the event names the address.
    const account = accountKey(username, client.rateKey);
    const limits: Limit[] = [];
    if (perAccount) limits.push({ limit: 'account', key: account, window: perAccount });
    if (perIp) limits.push({ limit: 'ip', key: `signin-ip:${client.rateKey}`, window: perIp });
    if (perUsername) {
      limits.push({ limit: 'username', key: usernameKey(username), window: perUsername });
    }
    if (limits.length === 0) return { accountId: await check() };

    // With the cap across IPs, attempts for one username queue whatever their IP, so parallel
    // guesses from many addresses cannot all pass the check before the first failure counts.
    const queue = perUsername ? usernameKey(username) : account;
    return this.#oneAtATime(queue, async () => {
      const peeks = await Promise.all(limits.map((l) => store.consumeRate(l.key, l.window, 0)));
      let refusal: ThrottleDecision | undefined;
      limits.forEach(({ limit }, i) => {
        const peek = peeks[i];
        if (!peek || peek.allowed) return;
        const retryAfterSeconds = Math.max(1, peek.retryAfterSeconds);
        if (!refusal || retryAfterSeconds > refusal.retryAfterSeconds)
          refusal = { limit, retryAfterSeconds };
      });
      if (refusal) {
        this.#settings.onThrottled({
          username: Array.from(username).slice(0, HINT_LENGTH).join(''),
          ip: client.address,
          ...refusal,
        });
        return { throttled: refusal };
      }
      const accountId = await check();
      if (!accountId) {
        await Promise.all(limits.map((l) => store.consumeRate(l.key, l.window, 1)));
      }
      return { accountId };
    });
  }

  /** Runs `task` after every earlier task of `key` in this process has settled. */
  async #oneAtATime<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(key) ?? Promise.resolve();
    let done = () => {};
    const current = new Promise<void>((resolve) => {
      done = resolve;
    });
    const tail = previous.then(() => current);
    this.#queues.set(key, tail);
    try {
      await previous;
      return await task();
    } finally {
      done();
      if (this.#queues.get(key) === tail) this.#queues.delete(key);
    }
  }
}
