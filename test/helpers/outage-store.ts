import { MemoryStore } from 'mobile-oidc-provider';

/**
 * A memory store whose storage of one model can be made unreachable, as in a store outage:
 * while `down` is set, every call on that model's adapter rejects; other models work.
 */
export class ModelOutageStore extends MemoryStore {
  down = false;

  constructor(readonly model: string) {
    super();
  }

  override adapter(model: string) {
    const adapter = super.adapter(model);
    if (model !== this.model) return adapter;
    const store = this;
    return new Proxy(adapter, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) =>
          store.down
            ? Promise.reject(new Error(`${model} storage unreachable (test)`))
            : value.apply(target, args);
      },
    });
  }
}
