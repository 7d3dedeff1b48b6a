// The cost of hostile-traffic checks on the hot path, as a ratio of throughput with the check on
// over off, measured in the same run with rounds interleaved (on, off, on, off, …) so drift on
// this shared machine falls on both sides alike.
import { performance } from 'node:perf_hooks';
import type { AuthServerOptions, Store } from 'mobile-oidc-provider';
import * as oidc from 'openid-client';
import { APP_REDIRECT_URI, registrationClient, startExample } from '../test/helpers/example.js';
import {
  codeForInstance,
  obtainDcrToken,
  registerInstance,
  SignInBrowser,
  signIn,
} from '../test/helpers/sign-in.js';

const ROUNDS = 4;

/** One server variant ready to run one operation, `concurrency` chains at a time. */
interface Variant {
  run(count: number): Promise<number>;
  close(): Promise<void>;
}

/** Throughput of `on` ÷ `off` over interleaved rounds: the median round ratio and the range. */
async function ratio(on: Variant, off: Variant, perRound: number) {
  const ratios: number[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    const a = await on.run(perRound);
    const b = await off.run(perRound);
    ratios.push(a / b);
  }
  ratios.sort((x, y) => x - y);
  const median = ((ratios[1] ?? 0) + (ratios[2] ?? 0)) / 2;
  return { median, min: ratios[0] ?? 0, max: ratios.at(-1) ?? 0 };
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

/** A server whose users sign in on the login page (each op: /auth, the page, the POST). */
async function signInVariant(
  store: Store | undefined,
  overrides: (o: AuthServerOptions) => AuthServerOptions,
  concurrency: number,
): Promise<Variant> {
  const server = await startExample((o) => overrides({ ...o, ...(store ? { store } : {}) }));
  const reg = await registrationClient(server.issuer);
  const signInOnce = async () => {
    // A fresh browser each time: no SSO session, so the login page is served and posted.
    const url = oidc.buildAuthorizationUrl(reg, {
      redirect_uri: APP_REDIRECT_URI,
      scope: 'dcr',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const { pages } = await signIn(new SignInBrowser(), url);
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
  const off = await signInVariant(
    store,
    (o) => ({
      ...o,
      interactions: { ...o.interactions, signInRateLimit: { perAccount: false, perIp: false } },
    }),
    concurrency,
  );
  try {
    return await ratio(on, off, perRound);
  } finally {
    await on.close();
    await off.close();
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
  try {
    return await ratio(on, off, perRound);
  } finally {
    await on.close();
    await off.close();
    await store?.close();
  }
}
