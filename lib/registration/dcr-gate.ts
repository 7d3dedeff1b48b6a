import type { Context, Middleware } from 'koa';
import type { RegistrationCredential } from '../attestation/authorize.js';
import type { AccountOptions } from '../core/accounts.js';
import type { FallbackAuthMethod } from '../core/instance-record.js';
import { clientAddress } from '../http/client-address.js';
import { bearerToken, HttpProblem, sendProblem, tooManyAttempts } from '../http/problem.js';
import { routed, routerPath } from '../http/routed.js';
import type { ProviderBridge } from '../provider/bridge.js';
import type { RateLimitWindow, Store } from '../storage/store.js';

/** Who opened a registration: recorded on the instance client it creates. @internal */
export interface RegistrationOpener {
  /** The token that opened it (a user's or a fallback client's), or none. */
  credential: RegistrationCredential;
  /** Work that must happen only once the client is registered (e.g. revoking the oldest). */
  afterCreate: Array<() => Promise<void>>;
}

/** What the gate needs to know. @internal */
export interface DcrGateSettings {
  /** The registration route, relative to the mount point (oidc-provider's `routes.registration`). */
  registrationPath: string;
  /** The resource indicator (audience) every DCR token carries: the registration endpoint URL. */
  resource: string;
  scope: string;
  maxUses: number;
  registrationClientIds: ReadonlySet<string>;
  /** Fallback clients, with the authentication method each is registered with. */
  fallbackClients: ReadonlyMap<string, FallbackAuthMethod>;
  /** Whether a registration without any token may go on (some template takes evidence alone). */
  allowWithoutToken: boolean;
  /** Reports a refused registration (for the `registration.rejected` event). */
  onRefused(reason: string, ip: string): void;
  store: Store;
  accounts: AccountOptions;
  /** Deletes a client record, with the revocation cascade of the provider's adapter. */
  destroyClient(clientId: string): Promise<void>;
  /** Registration attempts allowed per account and per client IP. */
  rateLimit: { perAccount?: RateLimitWindow; perIp?: RateLimitWindow };
  /** The oidc-provider registration policy the minted initial access token carries. */
  policyName: string;
  issuer: string;
}

// The gate hands the opener to the registration policy through the request's own context.
const openers = new WeakMap<object, RegistrationOpener>();

/** The opener of the registration being processed on `ctx`, set by the DCR gate. @internal */
export function registrationOpener(ctx: object): RegistrationOpener | undefined {
  return openers.get(ctx);
}

async function checkRate(store: Store, key: string, limit: RateLimitWindow | undefined) {
  if (!limit) return;
  const decision = await store.consumeRate(key, limit);
  if (!decision.allowed) throw tooManyAttempts(decision.retryAfterSeconds, 'registration attempts');
}

/** A DCR token refused: RFC 6750 §3.1 `invalid_token`, bare when no token was sent at all. */
const refusal = (description: string, missing = false) =>
  new HttpProblem(401, 'invalid_token', description, missing);

function presentedToken(ctx: Context, optional: boolean): string | undefined {
  return bearerToken(
    ctx,
    optional ? undefined : () => refusal('a DCR token is required (Authorization: Bearer)', true),
    () => refusal('the DCR token must be sent as Authorization: Bearer <token>'),
  );
}

type Verified = { opener: RegistrationOpener; jti: string; remainingTtl: number };

/** Checks a presented DCR token the way a resource server checks an access token. */
async function verifyDcrToken(
  provider: ProviderBridge,
  value: string,
  settings: DcrGateSettings,
): Promise<Verified> {
  // A user's DCR token is an access token; a fallback client's is a client credentials token.
  const token = await provider.findToken(value, ['user', 'client']);
  if (!token) throw refusal('the DCR token is unknown, expired or revoked');
  if (token.audience !== settings.resource || !token.scopes.includes(settings.scope)) {
    throw refusal('the access token is not a DCR token');
  }
  // The registration endpoint cannot check DPoP or mTLS proofs, so bound tokens are refused
  // rather than accepted as if they were bearer tokens.
  if (token.senderConstrained) {
    throw refusal('sender-constrained DCR tokens are not accepted at the registration endpoint');
  }
  const fallbackMethod = token.clientId ? settings.fallbackClients.get(token.clientId) : undefined;
  if (token.kind === 'client') {
    if (!token.clientId || !fallbackMethod) {
      throw refusal('the DCR token was not issued to a fallback client');
    }
    return {
      opener: {
        credential: {
          kind: 'fallback-client',
          clientId: token.clientId,
          authMethod: fallbackMethod,
        },
        afterCreate: [],
      },
      jti: token.jti,
      remainingTtl: Math.max(1, token.remainingTtl),
    };
  }
  if (!token.clientId || !settings.registrationClientIds.has(token.clientId)) {
    throw refusal('the DCR token was not issued to a registration client');
  }
  const [grantIsLive, account] = await Promise.all([
    token.grantIsLive(),
    token.accountId ? settings.accounts.findAccount(token.accountId) : undefined,
  ]);
  if (!grantIsLive) throw refusal('the DCR token was revoked');
  if (!token.accountId || !account) {
    throw refusal('the account behind the DCR token no longer exists');
  }
  return {
    opener: {
      credential: {
        kind: 'user',
        accountId: token.accountId,
        account,
        registrationClientId: token.clientId,
      },
      afterCreate: [],
    },
    jti: token.jti,
    remainingTtl: Math.max(1, token.remainingTtl),
  };
}

/**
 * The DCR token gate, installed with `provider.use()` in front of oidc-provider's registration
 * endpoint. oidc-provider only accepts its own initial access tokens there, so the gate checks
 * the user's DCR token, takes one of its uses atomically, and swaps it for a one-request initial
 * access token that carries the instance registration policy. A failed registration gives the
 * use back.
 *
 * @internal
 */
export function createDcrGate(provider: ProviderBridge, settings: DcrGateSettings): Middleware {
  const path = settings.registrationPath.toLowerCase();
  const isRegistration = (ctx: Context) => ctx.method === 'POST' && routerPath(ctx) === path;
  return routed(isRegistration, async function dcrGate(ctx, next) {
    let verified: Verified | undefined;
    try {
      // Per IP, so guessing tokens is limited too; per account once the token names one. The IP
      // count and the token lookup run side by side, and being over the limit answers first.
      const [rate, verification] = await Promise.allSettled([
        checkRate(settings.store, `dcr-ip:${clientAddress(ctx).rateKey}`, settings.rateLimit.perIp),
        (async () => {
          const presented = presentedToken(ctx, settings.allowWithoutToken);
          return presented ? verifyDcrToken(provider, presented, settings) : undefined;
        })(),
      ]);
      if (rate.status === 'rejected') throw rate.reason;
      if (verification.status === 'rejected') throw verification.reason;
      verified = verification.value;
      const credential = verified?.opener.credential;
      if (credential?.kind === 'user') {
        await checkRate(
          settings.store,
          `dcr-account:${credential.accountId}`,
          settings.rateLimit.perAccount,
        );
      }
    } catch (error) {
      if (!(error instanceof HttpProblem)) throw error;
      // Being over a rate limit is no refused credential.
      if (error.status !== 429) settings.onRefused('invalid_token', clientAddress(ctx).address);
      return sendProblem(ctx, settings.issuer, error);
    }

    const useKey = verified && `dcr-token:${verified.jti}`;
    if (
      verified &&
      useKey &&
      !(await settings.store.takeUse(useKey, settings.maxUses, verified.remainingTtl))
    ) {
      settings.onRefused('invalid_token', clientAddress(ctx).address);
      return sendProblem(ctx, settings.issuer, refusal('the DCR token has been used up'));
    }
    const opener: RegistrationOpener = verified?.opener ?? {
      credential: { kind: 'none' },
      afterCreate: [],
    };

    let created = false;
    try {
      openers.set(ctx, opener);
      await provider.withInitialAccessToken(ctx, settings.policyName, async () => {
        await next();
        created = ctx.status === 201;
      });
    } finally {
      if (created) {
        for (const task of opener.afterCreate) {
          // The client exists and the app has its credentials: report, do not fail the request.
          await task().catch((error: unknown) => provider.reportError(ctx, error));
        }
      }
      openers.delete(ctx);
      if (!created) {
        // oidc-provider stores the client before its registration access token; if a later
        // step failed, the app never got the credentials, so the client must not stay behind.
        const orphan = provider.clientStoredBy(ctx);
        if (orphan) await settings.destroyClient(orphan);
        if (useKey) await settings.store.returnUse(useKey);
      }
    }
  });
}
