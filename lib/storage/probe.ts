import type { Store } from './store.js';

/** The claim readiness reads from a store without `ping`: a name no feature claims. */
const READINESS_CLAIM = 'mop-readiness-probe';

/**
 * Asks `store` for a trivial answer: its `ping`, or, for a store written without one, a read of
 * a claim nobody holds (one cheap read on any store, and it writes nothing).
 *
 * @internal
 */
export async function pingStore(store: Store): Promise<void> {
  if (typeof store.ping === 'function') await store.ping();
  else await store.claimHolder(READINESS_CLAIM);
}

/**
 * What the start-up log calls `store`: its own `describe()`, else `custom (<class name>)`. A
 * `describe` that throws costs the log its detail, never the start.
 *
 * @internal
 */
export function describeStore(store: Store): string {
  try {
    const described = typeof store.describe === 'function' ? store.describe() : undefined;
    if (typeof described === 'string' && described !== '') return described;
  } catch {
    // fall through to the class name
  }
  const name = (store as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' && name !== 'Object'
    ? `custom (${name})`
    : 'custom';
}
