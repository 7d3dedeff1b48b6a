import { MemoryStore, type Store } from 'mobile-oidc-provider';
import type { Adapter } from 'oidc-provider';
import { delegateAdapter } from '../../lib/storage/index.js';

/**
 * A MemoryStore that counts the client records ever written, so a test can assert that a
 * refused registration left nothing behind, and can make one model's writes fail.
 */
export class ClientCountingStore extends MemoryStore implements Store {
  clientWrites = 0;
  /** Ids of every client record written. */
  readonly clientIds: string[] = [];
  /** Models whose writes fail, to test what a failed request leaves behind. */
  readonly failingWrites = new Set<string>();

  override adapter(model: string): Adapter {
    const adapter = super.adapter(model);
    // Wrapped whatever the model: oidc-provider keeps the adapter it gets once, for good.
    return delegateAdapter(adapter, {
      upsert: async (id, payload, expiresIn) => {
        if (this.failingWrites.has(model)) throw new Error(`${model} storage failure (test)`);
        if (model === 'Client') {
          this.clientWrites += 1;
          this.clientIds.push(id);
        }
        return adapter.upsert(id, payload, expiresIn);
      },
    });
  }
}
