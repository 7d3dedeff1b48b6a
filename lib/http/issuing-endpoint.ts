import type { Middleware } from 'koa';
import type { RateLimitWindow, Store } from '../storage/store.js';
import { clientAddress } from './client-address.js';
import { sendJson, sendProblem, tooManyAttempts } from './problem.js';
import { routed, routerPath } from './routed.js';

/** What an issuing endpoint needs. @internal */
export interface IssuingEndpointSettings {
  /** Its path, matched as oidc-provider's router does (any case, one trailing slash). */
  path: string;
  /** Names the rate limit's key, per client IP, and what the 429 says was limited. */
  rateLimit: { window: RateLimitWindow | undefined; key: string; what: string };
  /** The guarded store the rate limit counts in. */
  store: Store;
  /** Makes the JSON body of one answer. */
  issue(): Promise<Record<string, unknown>>;
}

/**
 * A `POST`-only endpoint that hands out a fresh single-use value (an attestation challenge, a
 * native sign-in nonce) to anyone, rate-limited per client IP; installed with `provider.use()`.
 *
 * @internal
 */
export function createIssuingEndpoint(settings: IssuingEndpointSettings): Middleware {
  const path = settings.path.toLowerCase();
  const { window, key, what } = settings.rateLimit;
  return routed(
    (ctx) => routerPath(ctx) === path,
    async function issuingEndpoint(ctx) {
      if (ctx.method !== 'POST') {
        ctx.set('Allow', 'POST');
        return sendJson(ctx, 405, { error: 'invalid_request', error_description: 'use POST' });
      }
      if (window) {
        const decision = await settings.store.consumeRate(
          `${key}:${clientAddress(ctx).rateKey}`,
          window,
        );
        if (!decision.allowed) {
          return sendProblem(ctx, '', tooManyAttempts(decision.retryAfterSeconds, what));
        }
      }
      sendJson(ctx, 200, await settings.issue());
    },
  );
}
