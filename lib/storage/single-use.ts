import { AlreadyConsumedError, type Store } from './store.js';

/** Why a single-use record could not be taken. @internal */
export type NotTaken = 'unknown' | 'used' | 'foreign';

/**
 * Records that are taken once: challenges, nonces and browser states issued into one store
 * model. Taking reads the record, lets the caller check it is theirs, then consumes it with the
 * store's atomic `consume`, so of parallel takers exactly one gets it, in every process sharing
 * the store. Tokens that carry their own proof (signed, with an expiry) need no record: their
 * single use is the store's `takeUse` when they are spent.
 *
 * @internal
 */
export class SingleUseRecords {
  readonly #store: Store;
  readonly #model: string;

  /**
   * @param model - the store model the records live in.
   * @param ttl - seconds a record can be taken after it was issued.
   */
  constructor(
    store: Store,
    model: string,
    readonly ttl: number,
  ) {
    this.#store = store;
    this.#model = model;
  }

  /** Issues record `key`, takeable for the records' `ttl` seconds. */
  async issue(key: string, record: Record<string, unknown>): Promise<void> {
    await this.#store.adapter(this.#model).upsert(key, record, this.ttl);
  }

  /**
   * Takes record `key`; it can never be taken again. A record `belongs` says is not the caller's
   * is left for its owner.
   *
   * @returns the record when this call took it, or why it was not taken.
   */
  async take(
    key: string,
    belongs: (record: Record<string, unknown>) => boolean = () => true,
  ): Promise<Record<string, unknown> | NotTaken> {
    const adapter = this.#store.adapter(this.#model);
    const found = await adapter.find(key);
    if (!found) return 'unknown';
    if (found.consumed !== undefined) return 'used';
    if (!belongs(found)) return 'foreign';
    try {
      await adapter.consume(key);
    } catch (error) {
      if (error instanceof AlreadyConsumedError) return 'used';
      throw error;
    }
    return found;
  }
}

/** Whether {@link SingleUseRecords.take} took the record. @internal */
export const wasTaken = (
  result: Record<string, unknown> | NotTaken,
): result is Record<string, unknown> => typeof result === 'object';
