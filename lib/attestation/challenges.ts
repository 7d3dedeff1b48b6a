import { randomBytes } from 'node:crypto';
import type { Middleware } from 'koa';
import { createIssuingEndpoint } from '../http/issuing-endpoint.js';
import { SingleUseRecords, wasTaken } from '../storage/single-use.js';
import type { RateLimitWindow, Store } from '../storage/store.js';

// The store model that holds issued challenges until they are used or expire.
const CHALLENGE_MODEL = 'AttestationChallenge';

/** Why a challenge cannot be used. @internal */
export type ChallengeProblem = 'unknown' | 'used';

/**
 * Single-use attestation challenges, kept in the store so every process sharing it sees them;
 * taking one is atomic (the store's `consume`), so of parallel registrations with one challenge
 * exactly one gets it.
 *
 * @internal
 */
export class AttestationChallenges {
  readonly #records: SingleUseRecords;

  constructor(
    store: Store,
    readonly ttl: number,
  ) {
    this.#records = new SingleUseRecords(store, CHALLENGE_MODEL, ttl);
  }

  /** Issues a new challenge: 256 random bits, base64url. */
  async issue(): Promise<string> {
    const challenge = randomBytes(32).toString('base64url');
    await this.#records.issue(challenge, { iat: Date.now() });
    return challenge;
  }

  /**
   * Takes a challenge for one registration attempt; it can never be used again, whatever the
   * attempt's outcome.
   *
   * @returns `undefined` when taken, or why it cannot be.
   */
  async take(challenge: string): Promise<ChallengeProblem | undefined> {
    // Challenges are base64url; anything else was never issued (and is no store key).
    if (!/^[\w-]{16,128}$/.test(challenge)) return 'unknown';
    const taken = await this.#records.take(challenge);
    return wasTaken(taken) ? undefined : taken === 'used' ? 'used' : 'unknown';
  }
}

/** What the challenge endpoint needs. @internal */
export interface ChallengeEndpointSettings {
  path: string;
  challenges: AttestationChallenges;
  store: Store;
  rateLimit: RateLimitWindow | undefined;
}

/**
 * The challenge endpoint, installed with `provider.use()`: `POST <path>` answers
 * `{"attestation_challenge": "…", "expires_in": N}`; rate-limited per client IP.
 *
 * @internal
 */
export function createChallengeEndpoint(settings: ChallengeEndpointSettings): Middleware {
  return createIssuingEndpoint({
    path: settings.path,
    store: settings.store,
    rateLimit: {
      window: settings.rateLimit,
      key: 'attestation-challenge-ip',
      what: 'challenges requested',
    },
    issue: async () => ({
      attestation_challenge: await settings.challenges.issue(),
      expires_in: settings.challenges.ttl,
    }),
  });
}
