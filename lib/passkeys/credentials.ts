import type { AdapterPayload } from 'oidc-provider';
import type { Store } from '../storage/store.js';
import type { PasskeyInfo } from './types.js';

// The store models of passkeys, both keyed by credential id: the passkey, written once when it is
// added, and its use (counter, last use, backup state), written at each sign-in. A sign-in never
// rewrites the passkey, so one racing a removal cannot bring the removed passkey back.
const MODEL = 'PasskeyCredential';
const USE_MODEL = 'PasskeyUse';
const accountIndex = (accountId: string) => `account-passkeys:${accountId}`;
// The raised counter only has to outlive races between sign-ins: the record keeps it for good.
const COUNTER_TTL = 365 * 24 * 3600;

/** WebAuthn allows credential ids up to 1023 bytes: 1364 base64url characters. */
const CREDENTIAL_ID = /^[A-Za-z0-9_-]{1,1364}$/;

/** Whether `id` can be a credential id (base64url, at most 1023 bytes). @internal */
export const isCredentialId = (id: unknown): id is string =>
  typeof id === 'string' && CREDENTIAL_ID.test(id);

/** A stored passkey: what signing in with it needs, and what the pages show. @internal */
export interface StoredPasskey extends PasskeyInfo {
  /** The COSE public key, base64url. */
  publicKey: string;
  /** The authenticator's signature counter at the last sign-in (0: it keeps none). */
  counter: number;
  /** The WebAuthn user handle the passkey was made with, base64url. */
  userHandle: string;
}

const str = (value: unknown) => (typeof value === 'string' ? value : undefined);

/** The stored record of a passkey, or `undefined` when the payload is not one. */
function fromPayload(id: string, payload: AdapterPayload | undefined): StoredPasskey | undefined {
  if (!payload) return undefined;
  const accountId = str(payload.account_id);
  const publicKey = str(payload.public_key);
  const userHandle = str(payload.user_handle);
  const { counter, created_at: createdAt, last_used_at: lastUsedAt } = payload;
  if (!accountId || !publicKey || !userHandle) return undefined;
  if (typeof counter !== 'number' || typeof createdAt !== 'number') return undefined;
  const transports = Array.isArray(payload.transports)
    ? payload.transports.filter((t): t is string => typeof t === 'string')
    : undefined;
  return {
    id,
    accountId,
    ...(str(payload.name) ? { name: str(payload.name) as string } : {}),
    createdAt,
    ...(typeof lastUsedAt === 'number' ? { lastUsedAt } : {}),
    deviceType: payload.device_type === 'multiDevice' ? 'multiDevice' : 'singleDevice',
    backedUp: payload.backed_up === true,
    ...(transports ? { transports } : {}),
    aaguid: str(payload.aaguid) ?? '00000000-0000-0000-0000-000000000000',
    publicKey,
    counter,
    userHandle,
  };
}

function toPayload(p: StoredPasskey): AdapterPayload {
  return {
    account_id: p.accountId,
    ...(p.name !== undefined ? { name: p.name } : {}),
    created_at: p.createdAt,
    ...(p.lastUsedAt !== undefined ? { last_used_at: p.lastUsedAt } : {}),
    device_type: p.deviceType,
    backed_up: p.backedUp,
    ...(p.transports ? { transports: p.transports } : {}),
    aaguid: p.aaguid,
    public_key: p.publicKey,
    counter: p.counter,
    user_handle: p.userHandle,
  };
}

/** What the pages and APIs show of a stored passkey: everything but its key material. @internal */
export function passkeyInfo(p: StoredPasskey): PasskeyInfo {
  const { publicKey: _key, counter: _counter, userHandle: _handle, ...info } = p;
  return info;
}

/**
 * The passkeys in the library's store (memory or Redis): one `PasskeyCredential` record per
 * credential id, kept until removed, an index of each account's credential ids, and each
 * credential's signature counter, raised atomically.
 *
 * @internal
 */
export class PasskeyCredentials {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  /** The passkey with credential id `id`, or `undefined`. */
  async find(id: string): Promise<StoredPasskey | undefined> {
    if (!isCredentialId(id)) return undefined;
    const [stored, use] = await Promise.all([
      this.#store.adapter(MODEL).find(id),
      this.#store.adapter(USE_MODEL).find(id),
    ]);
    // oidc-provider types a miss as void.
    const passkey = fromPayload(id, stored ?? undefined);
    if (!passkey || !use) return passkey;
    return {
      ...passkey,
      ...(typeof use.last_used_at === 'number' ? { lastUsedAt: use.last_used_at } : {}),
      ...(typeof use.backed_up === 'boolean' ? { backedUp: use.backed_up } : {}),
      counter: Math.max(passkey.counter, typeof use.counter === 'number' ? use.counter : 0),
    };
  }

  /** The account's passkeys, oldest first (credential id for a tie). */
  async list(accountId: string): Promise<StoredPasskey[]> {
    const ids = await this.#store.readIndex(accountIndex(accountId));
    const found = await Promise.all(ids.map((id) => this.find(id)));
    return found
      .filter((p): p is StoredPasskey => p?.accountId === accountId)
      .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Saves a new passkey, kept until removed. */
  async save(passkey: StoredPasskey): Promise<void> {
    await this.#store.adapter(MODEL).upsert(passkey.id, toPayload(passkey));
    await this.#store.addToIndex(accountIndex(passkey.accountId), passkey.id, undefined);
  }

  /**
   * Records a sign-in with passkey `id`: its counter, the time and the backup state. A use
   * written by a sign-in racing the passkey's removal outlives it, but is never read without it.
   */
  async recordUse(
    id: string,
    use: { counter: number; lastUsedAt: number; backedUp: boolean },
  ): Promise<void> {
    await this.#store.adapter(USE_MODEL).upsert(id, {
      counter: use.counter,
      last_used_at: use.lastUsedAt,
      backed_up: use.backedUp,
    });
  }

  /** Removes the passkey `id`. @returns it, or `undefined` when there was none. */
  async remove(id: string): Promise<StoredPasskey | undefined> {
    const passkey = await this.find(id);
    if (!passkey) return undefined;
    await this.#store.adapter(MODEL).destroy(id);
    await this.#store.adapter(USE_MODEL).destroy(id);
    await this.#store.removeFromIndex(accountIndex(passkey.accountId), id);
    return passkey;
  }

  /**
   * Raises the credential's counter to `counter`, atomically across processes.
   *
   * @returns `false` when it already held `counter` or more: a replay or a cloned authenticator.
   */
  raiseCounter(id: string, counter: number): Promise<boolean> {
    return this.#store.raiseCounter(`passkey-counter:${id}`, counter, COUNTER_TTL);
  }
}
