// The cost of hostile-traffic checks on the hot path, as a ratio of throughput with the check on
// over off, measured in the same run with rounds interleaved (on, off, on, off, …) so drift on
// this shared machine falls on both sides alike.
import { performance } from 'node:perf_hooks';
import type { AuthServerOptions, Store } from 'mobile-oidc-provider';
import * as oidc from 'openid-client';
import { registrationClient, startExample } from '../test/helpers/example.js';
import {
  codeForInstance,
  dcrAuthorizationUrl,
  obtainDcrToken,
  registerInstance,
  SignInBrowser,
  signIn,
} from '../test/helpers/sign-in.js';

const ROUNDS = 8;

/** One server variant ready to run one operation, `concurrency` chains at a time. */
interface Variant {
  run(count: number): Promise<number>;
  close(): Promise<void>;
}

/** A throughput ratio over rounds: the median round's and the range. */
export interface Ratio {
  median: number;
  min: number;
  max: number;
}

/** The cost of a check, beside the noise floor measured the same way. */
export interface CheckCost {
  /** Throughput with the check on ÷ off. */
  cost: Ratio;
  /** Throughput of a second server with the check off ÷ the first: what "no difference" reads. */
  noise: Ratio;
}

function summarise(ratios: number[]): Ratio {
  const sorted = [...ratios].sort((x, y) => x - y);
  const middle = sorted.length / 2;
  const median =
    ((sorted[Math.floor(middle - 0.5)] ?? 0) + (sorted[Math.ceil(middle - 0.5)] ?? 0)) / 2;
  return { median, min: sorted[0] ?? 0, max: sorted.at(-1) ?? 0 };
}

/**
 * Throughput of `on` ÷ `off`, and of `control` (configured like `off`) ÷ `off`, over interleaved
 * rounds whose order rotates, so warm-up and drift fall on every variant alike.
 */
async function compare(on: Variant, off: Variant, control: Variant, perRound: number) {
  const costs: number[] = [];
  const noises: number[] = [];
  const variants = [on, off, control];
  for (let round = 0; round < ROUNDS; round += 1) {
    const measured = new Map<Variant, number>();
    for (let i = 0; i < variants.length; i += 1) {
      const variant = variants[(round + i) % variants.length] as Variant;
      measured.set(variant, await variant.run(perRound));
    }
    const offRate = measured.get(off) ?? 1;
    costs.push((measured.get(on) ?? 0) / offRate);
    noises.push((measured.get(control) ?? 0) / offRate);
  }
  return { cost: summarise(costs), noise: summarise(noises) };
}

/** Runs `op` `count` times, `concurrency` at a time (each worker gets its index): ops per second. */
async function opsPerSecond(
  count: number,
  concurrency: number,
  op: (worker: number) => Promise<unknown>,
): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (next < count) {
        next += 1;
        await op(worker);
      }
    }),
  );
  return count / ((performance.now() - started) / 1000);
}

/** A server whose `concurrency` instance chains refresh with rotation, timed per batch. */
async function refreshVariant(
  store: Store | undefined,
  overrides: (o: AuthServerOptions) => AuthServerOptions,
  concurrency: number,
): Promise<Variant> {
  const server = await startExample((o) => overrides({ ...o, ...(store ? { store } : {}) }));
  const browser = new SignInBrowser();
  const { tokens } = await obtainDcrToken(await registrationClient(server.issuer), browser);
  const instance = await registerInstance(server.issuer, tokens.access_token);
  const chains: string[] = [];
  for (let w = 0; w < concurrency; w += 1) {
    const { callback, checks } = await codeForInstance(browser, instance);
    chains[w] = (await oidc.authorizationCodeGrant(instance, callback, checks))
      .refresh_token as string;
  }
  return {
    run: (count) =>
      opsPerSecond(count, concurrency, async (w) => {
        const refreshed = await oidc.refreshTokenGrant(instance, chains[w] as string);
        chains[w] = refreshed.refresh_token as string;
      }),
    close: () => server.close(),
  };
}

// Each worker signs in as its own user, as real traffic does: the throttle serialises attempts of
// one account from one address (so a burst of guesses cannot outrun its count), not of everyone.
const benchAccounts: AuthServerOptions['accounts'] = {
  authenticate: async (username, password) =>
    password === 'bench-password' ? username : undefined,
  findAccount: async (accountId) => ({ claims: { sub: accountId } }),
};

/** A server whose users sign in on the login page (each op: /auth, the page, the POST). */
async function signInVariant(
  store: Store | undefined,
  overrides: (o: AuthServerOptions) => AuthServerOptions,
  concurrency: number,
): Promise<Variant> {
  const server = await startExample((o) =>
    overrides({ ...o, accounts: benchAccounts, ...(store ? { store } : {}) }),
  );
  const reg = await registrationClient(server.issuer);
  const signInOnce = async (worker: number) => {
    // A fresh browser each time: no SSO session, so the login page is served and posted.
    const url = await dcrAuthorizationUrl(reg);
    const { pages } = await signIn(new SignInBrowser(), url, {
      username: `bench-user-${worker}`,
      password: 'bench-password',
    });
    if (pages[0] !== 'login') throw new Error('no login page');
  };
  return {
    run: (count) => opsPerSecond(count, concurrency, signInOnce),
    close: () => server.close(),
  };
}

/**
 * Sign-in throughput with sign-in throttling on (the defaults) ÷ off, on the store `makeStore`
 * gives (memory when it gives none).
 */
export async function signInThrottleCost(
  makeStore: () => Promise<Store | undefined>,
  perRound: number,
  concurrency: number,
) {
  const store = await makeStore();
  const on = await signInVariant(store, (o) => o, concurrency);
  const throttleOff = (o: AuthServerOptions): AuthServerOptions => ({
    ...o,
    interactions: { ...o.interactions, signInRateLimit: { perAccount: false, perIp: false } },
  });
  const off = await signInVariant(store, throttleOff, concurrency);
  const control = await signInVariant(store, throttleOff, concurrency);
  try {
    return await compare(on, off, control, perRound);
  } finally {
    await Promise.all([on.close(), off.close(), control.close()]);
    await store?.close();
  }
}

/**
 * Refresh throughput with the reuse grace window on (the default, 30 s) ÷ off, on the store
 * `makeStore` gives (memory when it gives none).
 */
export async function refreshGraceCost(
  makeStore: () => Promise<Store | undefined>,
  perRound: number,
  concurrency: number,
) {
  const store = await makeStore();
  const grace = (seconds: number) => (o: AuthServerOptions) => ({
    ...o,
    ttl: { ...o.ttl, refreshTokenReuseGrace: seconds },
  });
  const on = await refreshVariant(store, grace(30), concurrency);
  const off = await refreshVariant(store, grace(0), concurrency);
  const control = await refreshVariant(store, grace(0), concurrency);
  try {
    return await compare(on, off, control, perRound);
  } finally {
    await Promise.all([on.close(), off.close(), control.close()]);
    await store?.close();
  }
}
