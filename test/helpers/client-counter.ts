import { MemoryStore, type Store } from 'mobile-oidc-provider';
import type { Adapter } from 'oidc-provider';
import { delegateAdapter } from '../../lib/provider/adapter.js';

/**
 * A MemoryStore that counts the client records ever written, so a test can assert that a
 * refused registration left nothing behind, and that can make models fail as a broken store
 * would.
 */
export class ClientCountingStore extends MemoryStore implements Store {
  clientWrites = 0;
  /** Ids of every client record written. */
  readonly clientIds: string[] = [];
  /** Models whose writes fail, to test what a failed request leaves behind. */
  readonly failingWrites = new Set<string>();
  /** Models whose every operation fails, as if the store were unreachable. */
  readonly failingModels = new Set<string>();
  /** Models whose every operation throws a RangeError, as a bug or absurd data would. */
  readonly buggyModels = new Set<string>();
  /** Every model an adapter was asked for. */
  readonly modelsOpened = new Set<string>();

  override adapter(model: string): Adapter {
    this.modelsOpened.add(model);
    const adapter = super.adapter(model);
    const reachable = async <T>(operation: () => Promise<T>): Promise<T> => {
      if (this.failingModels.has(model)) throw new Error(`${model} storage unreachable (test)`);
      if (this.buggyModels.has(model)) throw new RangeError('Maximum call stack size exceeded');
      return operation();
    };
    // Wrapped whatever the model: oidc-provider keeps the adapter it gets once, for good.
    return delegateAdapter(adapter, {
      find: (id) => reachable(() => adapter.find(id)),
      findByUid: (uid) => reachable(() => adapter.findByUid(uid)),
      consume: (id) => reachable(() => adapter.consume(id)),
      destroy: (id) => reachable(() => adapter.destroy(id)),
      upsert: (id, payload, expiresIn) =>
        reachable(async () => {
          if (this.failingWrites.has(model)) throw new Error(`${model} storage failure (test)`);
          if (model === 'Client') {
            this.clientWrites += 1;
            this.clientIds.push(id);
          }
          return adapter.upsert(id, payload, expiresIn);
        }),
    });
  }
}
