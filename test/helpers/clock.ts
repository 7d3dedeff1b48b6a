// Time that passes without waiting: a test of an expiry moves `Date` on instead of sleeping.
// What reads `Date.now()` when it needs the time follows it: oidc-provider's expiry checks
// (its epochTime), jose, the resource-server helper, the Redis store's index scores, and a
// memory store built with `now: dateNow`. Timers (setTimeout) keep real time.
import { mock, type TestContext } from 'node:test';

/**
 * A store clock that reads `Date.now()` on every call, so a mocked `Date` moves it too (a
 * `MemoryStore` keeps the function it was built with, by default the real `Date.now`).
 */
export const dateNow = (): number => Date.now();

/** Stops `Date` for the rest of test `t`; the function returned moves it on by `ms` at once. */
export function stopDate(t: TestContext): (ms: number) => void {
  t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
  return (ms) => t.mock.timers.tick(ms);
}

let stopped = false;

/**
 * Moves `Date` on by `ms` at once, stopping it first if it still runs: for hooks that get no test
 * context, such as the store contract's `advanceTime`. Pair it with `afterEach(restoreDate)`.
 */
export function passDate(ms: number): void {
  if (!stopped) {
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    stopped = true;
  }
  mock.timers.tick(ms);
}

/** Gives `Date` its real time back after {@link passDate}. */
export function restoreDate(): void {
  mock.timers.reset();
  stopped = false;
}
