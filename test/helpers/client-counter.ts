import { MemoryStore, type Store } from 'mobile-oidc-provider';
import type { Adapter } from 'oidc-provider';

/**
 * A MemoryStore that counts the client records ever written, so a test can assert that a
 * refused registration left nothing behind.
 */
export class ClientCountingStore extends MemoryStore implements Store {
  clientWrites = 0;

  override adapter(model: string): Adapter {
    const adapter = super.adapter(model);
    if (model !== 'Client') return adapter;
    return {
      upsert: async (id, payload, expiresIn) => {
        this.clientWrites += 1;
        return adapter.upsert(id, payload, expiresIn);
      },
      find: (id) => adapter.find(id),
      findByUid: (uid) => adapter.findByUid(uid),
      findByUserCode: (code) => adapter.findByUserCode(code),
      consume: (id) => adapter.consume(id),
      destroy: (id) => adapter.destroy(id),
      revokeByGrantId: (grantId) => adapter.revokeByGrantId(grantId),
    };
  }
}
