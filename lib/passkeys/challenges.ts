import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Store } from '../storage/store.js';

// challenge = nonce (16) ‖ expiry (4, seconds since the epoch, big-endian) ‖ tag (16)
const NONCE_BYTES = 16;
const EXPIRY_BYTES = 4;
const TAG_BYTES = 16;
const CHALLENGE_BYTES = NONCE_BYTES + EXPIRY_BYTES + TAG_BYTES;

/** What a challenge is for: a sign-in of one interaction, or adding a passkey to one account. @internal */
export type ChallengePurpose = 'signin' | 'register';

/** Why a challenge was refused. @internal */
export type ChallengeRefusal = 'malformed' | 'foreign' | 'expired' | 'used';

/**
 * WebAuthn challenges that need no store write to hand out: each is a random nonce with its
 * expiry and an HMAC tag over its purpose and binding (the interaction, or the account and
 * session). Taking one checks the tag and expiry, then takes its single use atomically in the
 * store, so a challenge works once, for what it was made for, until it expires. A page can
 * therefore carry fresh options on every render without filling the store.
 *
 * @internal
 */
export class PasskeyChallenges {
  readonly #store: Store;
  readonly #key: Buffer;
  readonly #ttl: number;
  readonly #now: () => number;

  /**
   * @param key - the HMAC key: the same in every process sharing the store.
   * @param ttl - how long a challenge can be used, in seconds.
   */
  constructor(store: Store, key: Buffer, ttl: number, now: () => number = Date.now) {
    this.#store = store;
    this.#key = key;
    this.#ttl = ttl;
    this.#now = now;
  }

  #tag(purpose: ChallengePurpose, binding: string, head: Buffer): Buffer {
    return createHmac('sha256', this.#key)
      .update(`${purpose}\0${binding}\0`)
      .update(head)
      .digest()
      .subarray(0, TAG_BYTES);
  }

  /** A new challenge for `purpose` and `binding`, base64url as WebAuthn's JSON options carry it. */
  issue(purpose: ChallengePurpose, binding: string): string {
    const head = Buffer.alloc(NONCE_BYTES + EXPIRY_BYTES);
    randomBytes(NONCE_BYTES).copy(head);
    head.writeUInt32BE(Math.floor(this.#now() / 1000) + this.#ttl, NONCE_BYTES);
    return Buffer.concat([head, this.#tag(purpose, binding, head)]).toString('base64url');
  }

  /**
   * Takes the single use of `challenge` (from the client data the authenticator signed) when it
   * was issued for `purpose` and `binding` and has not expired.
   *
   * @returns `undefined` when taken; otherwise why it is refused.
   */
  async take(
    purpose: ChallengePurpose,
    binding: string,
    challenge: string,
  ): Promise<ChallengeRefusal | undefined> {
    if (!/^[A-Za-z0-9_-]+$/.test(challenge)) return 'malformed';
    const bytes = Buffer.from(challenge, 'base64url');
    if (bytes.length !== CHALLENGE_BYTES || bytes.toString('base64url') !== challenge) {
      return 'malformed';
    }
    const head = bytes.subarray(0, NONCE_BYTES + EXPIRY_BYTES);
    if (!timingSafeEqual(bytes.subarray(head.length), this.#tag(purpose, binding, head))) {
      return 'foreign';
    }
    const remaining = head.readUInt32BE(NONCE_BYTES) - Math.floor(this.#now() / 1000);
    if (remaining <= 0) return 'expired';
    const nonce = head.subarray(0, NONCE_BYTES).toString('base64url');
    const taken = await this.#store.takeUse(`passkey-challenge:${nonce}`, 1, remaining);
    return taken ? undefined : 'used';
  }
}
