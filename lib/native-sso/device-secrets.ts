// Native SSO's device secrets: opaque random values the server keeps only as hashes, each the
// current secret of one device session (an account signed in on one device, in one group of apps).
import { createHash, randomBytes } from 'node:crypto';
import { AlreadyConsumedError, type Store } from '../storage/store.js';

/** The store model device secrets live in, keyed by the SHA-256 of the secret. @internal */
export const DEVICE_SECRET_MODEL = 'DeviceSecret';

/** The index of an account's current device secrets (their hashes). @internal */
export const accountDeviceSecretsIndex = (accountId: string) => `device-secrets:${accountId}`;

/** What the server keeps of a device secret: never the secret itself. @internal */
export interface DeviceSecretRecord {
  /** The account signed in. */
  accountId: string;
  /** The device session: the ID tokens' `sid`, kept through every rotation. */
  sid: string;
  /** The browser session the first app signed in with: the device session ends with it. */
  sessionUid: string;
  /** The group of apps that may exchange it. */
  group: string;
  /** The client the secret was last issued to. */
  clientId: string;
  /** Every client the device session's secrets were issued to: the apps on that device. */
  clientIds: string[];
  /** When the device session started (the first secret), in seconds since the epoch. */
  createdAt: number;
  /** When this secret was issued, in seconds since the epoch. */
  issuedAt: number;
  /** When the device session ends at the latest, in seconds since the epoch. */
  expiresAt: number;
  /** When the user signed in (the ID tokens' `auth_time`). */
  authTime?: number;
  /** Set once the secret was rotated or revoked: it is no longer accepted. */
  consumed?: number;
}

/** Why a device secret was not accepted. @internal */
export type SecretRefusal = 'unknown' | 'used';

const now = () => Math.floor(Date.now() / 1000);

/** The key a secret is stored under: its SHA-256, so the store never holds a usable secret. */
export const secretKey = (secret: string) =>
  createHash('sha256').update(secret, 'utf8').digest('base64url');

/** A new device secret: 256 random bits, base64url. */
const mintSecret = () => randomBytes(32).toString('base64url');

/**
 * Device secrets in the store: issued at a code exchange, rotated at each Native SSO exchange
 * (the one of parallel exchanges that consumes the secret first wins), listed and revoked per
 * account.
 *
 * @internal
 */
export class DeviceSecrets {
  constructor(private readonly store: Store) {}

  get #adapter() {
    return this.store.adapter(DEVICE_SECRET_MODEL);
  }

  /**
   * Issues the first secret of a new device session, for `ttl` seconds at most.
   *
   * @returns the secret, to be handed to the app once.
   */
  async issue(
    session: Omit<
      DeviceSecretRecord,
      'clientIds' | 'createdAt' | 'issuedAt' | 'expiresAt' | 'consumed'
    >,
    ttl: number,
  ): Promise<{ secret: string; record: DeviceSecretRecord }> {
    const issuedAt = now();
    const record: DeviceSecretRecord = {
      ...session,
      clientIds: [session.clientId],
      createdAt: issuedAt,
      issuedAt,
      expiresAt: issuedAt + ttl,
    };
    return { secret: await this.#write(record), record };
  }

  /** The live record of `secret`, or why there is none. */
  async find(secret: string): Promise<DeviceSecretRecord | SecretRefusal> {
    const found = (await this.#adapter.find(secretKey(secret))) as DeviceSecretRecord | undefined;
    if (!found || found.expiresAt <= now()) return 'unknown';
    if (found.consumed !== undefined) return 'used';
    return found;
  }

  /**
   * Replaces `secret` by a new one of the same device session, now held by `clientId`. Atomic:
   * of parallel rotations of one secret exactly one succeeds, in every process sharing the store.
   *
   * @returns the new secret and its record, or `used` when another rotation took it first.
   */
  async rotate(
    secret: string,
    record: DeviceSecretRecord,
    clientId: string,
  ): Promise<{ secret: string; record: DeviceSecretRecord } | 'used'> {
    const key = secretKey(secret);
    try {
      await this.#adapter.consume(key);
    } catch (error) {
      if (error instanceof AlreadyConsumedError) return 'used';
      throw error;
    }
    // consume() of a record removed meanwhile does nothing: read again to be sure it was ours.
    const after = (await this.#adapter.find(key)) as DeviceSecretRecord | undefined;
    if (!after) return 'used';
    await this.store.removeFromIndex(accountDeviceSecretsIndex(record.accountId), key);
    const { consumed: _consumed, ...live } = record;
    const clientIds = live.clientIds.includes(clientId)
      ? live.clientIds
      : [...live.clientIds, clientId];
    const next: DeviceSecretRecord = { ...live, clientId, clientIds, issuedAt: now() };
    return { secret: await this.#write(next), record: next };
  }

  /** The account's live device sessions, oldest first. */
  async list(accountId: string): Promise<DeviceSecretRecord[]> {
    const keys = await this.store.readIndex(accountDeviceSecretsIndex(accountId));
    const records = await Promise.all(
      keys.map(async (key) => (await this.#adapter.find(key)) as DeviceSecretRecord | undefined),
    );
    return records
      .filter(
        (r): r is DeviceSecretRecord =>
          r !== undefined &&
          r.consumed === undefined &&
          r.expiresAt > now() &&
          r.accountId === accountId,
      )
      .sort((a, b) => a.createdAt - b.createdAt);
  }

  /**
   * Ends the account's device sessions `which` selects (all by default): their current secrets
   * stop working at once.
   *
   * @returns how many were ended.
   */
  async revoke(
    accountId: string,
    which: (record: DeviceSecretRecord) => boolean = () => true,
  ): Promise<number> {
    const index = accountDeviceSecretsIndex(accountId);
    let ended = 0;
    for (const key of await this.store.readIndex(index)) {
      const found = (await this.#adapter.find(key)) as DeviceSecretRecord | undefined;
      if (found && found.accountId === accountId && !which(found)) continue;
      if (found) {
        await this.#adapter.destroy(key);
        if (found.consumed === undefined && found.expiresAt > now()) ended += 1;
      }
      await this.store.removeFromIndex(index, key);
    }
    return ended;
  }

  /** Ends the device session of `secret`'s record (its session ended). */
  async end(secret: string, record: DeviceSecretRecord): Promise<void> {
    const key = secretKey(secret);
    await this.#adapter.destroy(key);
    await this.store.removeFromIndex(accountDeviceSecretsIndex(record.accountId), key);
  }

  /** Stores `record` under a new secret, indexed under its account, until it expires. */
  async #write(record: DeviceSecretRecord): Promise<string> {
    const secret = mintSecret();
    const key = secretKey(secret);
    const ttl = Math.max(1, record.expiresAt - now());
    // Index first: a listed key without a record is skipped; a record not indexed can't be revoked.
    await this.store.addToIndex(accountDeviceSecretsIndex(record.accountId), key, ttl);
    await this.#adapter.upsert(key, { ...record }, ttl);
    return secret;
  }
}
