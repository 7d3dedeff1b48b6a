// What the library's own endpoints (the DCR gate, the instance APIs) need from oidc-provider, as
// small typed functions: they never see its models, its error classes or its request context.
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';

/** An access token presented to one of the library's endpoints, as oidc-provider holds it. */
export interface PresentedToken {
  /** `user`: issued for a signed-in account; `client`: a client credentials token. */
  kind: 'user' | 'client';
  jti: string;
  clientId: string | undefined;
  accountId: string | undefined;
  /** The resource indicator (audience) it was issued for. */
  audience: unknown;
  scopes: readonly string[];
  /** Bound to a DPoP key or an mTLS certificate: the library's endpoints cannot check proofs. */
  senderConstrained: boolean;
  /** Seconds until it expires. */
  remainingTtl: number;
  /** Whether the grant it was issued from still exists for the same client and account. */
  grantIsLive(): Promise<boolean>;
}

/** An OAuth error response: status and JSON body. */
export interface ProtocolFailure {
  status: number;
  body: { error: string; error_description?: string };
}

/** The small typed surface of one provider that the rest of the library uses. @internal */
export interface ProviderBridge {
  /**
   * The access token `value`, looked up among the kinds given (opaque lookup: format, expiry,
   * and for a user's token its session binding, as oidc-provider checks them); `undefined` when
   * it is unknown, expired or revoked.
   */
  findToken(
    value: string,
    kinds: ReadonlyArray<PresentedToken['kind']>,
  ): Promise<PresentedToken | undefined>;
  /**
   * Runs `next` with the request's `Authorization` header swapped for a one-request initial access
   * token carrying registration policy `policyName`: oidc-provider accepts only its own initial
   * access tokens at the registration endpoint. The token is destroyed afterwards.
   */
  withInitialAccessToken(
    ctx: Context,
    policyName: string,
    next: () => Promise<void>,
  ): Promise<void>;
  /** The id of the client oidc-provider stored while handling `ctx`, if any. */
  clientStoredBy(ctx: Context): string | undefined;
  /** Reports an unexpected error on `ctx` as oidc-provider's `server_error` event (logged). */
  reportError(ctx: Context, error: unknown): void;
}

// Lifetime of the internal initial access token: it only has to outlive one request.
const INTERNAL_IAT_TTL = 60;

type AnyToken = InstanceType<Provider['AccessToken']> | InstanceType<Provider['ClientCredentials']>;

function presented(
  provider: Provider,
  token: AnyToken,
  kind: PresentedToken['kind'],
): PresentedToken {
  const grantId = 'grantId' in token ? token.grantId : undefined;
  const accountId = 'accountId' in token ? token.accountId : undefined;
  return {
    kind,
    jti: token.jti,
    clientId: token.clientId,
    accountId,
    audience: token.aud,
    scopes: token.scope?.split(' ') ?? [],
    senderConstrained: token.isSenderConstrained(),
    remainingTtl: token.remainingTTL,
    async grantIsLive() {
      const grant = grantId ? await provider.Grant.find(grantId) : undefined;
      return !!grant && grant.clientId === token.clientId && grant.accountId === accountId;
    },
  };
}

/** The bridge over `provider`. @internal */
export function providerBridge(provider: Provider): ProviderBridge {
  return {
    async findToken(value, kinds) {
      if (kinds.includes('user')) {
        const token = await provider.AccessToken.find(value);
        if (token) return presented(provider, token, 'user');
      }
      if (kinds.includes('client')) {
        const token = await provider.ClientCredentials.find(value);
        if (token) return presented(provider, token, 'client');
      }
      return undefined;
    },
    async withInitialAccessToken(ctx, policyName, next) {
      const iat = new provider.InitialAccessToken({
        policies: [policyName],
        expiresIn: INTERNAL_IAT_TTL,
      });
      try {
        ctx.req.headers.authorization = `Bearer ${await iat.save()}`;
        await next();
      } finally {
        // It expires within a minute anyway: failing to delete it must not fail a registration
        // whose client and credentials already exist.
        await iat.destroy().catch((error: unknown) => provider.emit('server_error', ctx, error));
      }
    },
    clientStoredBy(ctx) {
      return (ctx as Context & { oidc?: KoaContextWithOIDC['oidc'] }).oidc?.entities.Client
        ?.clientId;
    },
    reportError(ctx, error) {
      provider.emit('server_error', ctx, error);
    },
  };
}

/** The shape oidc-provider renders an error meant for the client by (its own, and ours). */
interface ExposedError {
  expose: true;
  statusCode: number;
  error: string;
  error_description?: string;
}

const isExposed = (error: unknown): error is ExposedError =>
  typeof error === 'object' &&
  error !== null &&
  (error as Partial<ExposedError>).expose === true &&
  typeof (error as Partial<ExposedError>).statusCode === 'number' &&
  typeof (error as Partial<ExposedError>).error === 'string';

/**
 * The response for an error meant for the client (an oidc-provider protocol error it exposes, or
 * the library's `503 temporarily_unavailable` when storage is down); `undefined` for anything
 * else, which is a bug to log and answer with a bare 500.
 *
 * @internal
 */
export function protocolFailure(error: unknown): ProtocolFailure | undefined {
  if (!isExposed(error)) return undefined;
  return {
    status: error.statusCode,
    body: {
      error: error.error,
      ...(error.error_description === undefined
        ? {}
        : { error_description: error.error_description }),
    },
  };
}

/** The answer to an unexpected error (a fresh object each time): no stack, nothing internal. @internal */
export const serverError = (): ProtocolFailure => ({
  status: 500,
  body: { error: 'server_error', error_description: 'oops! something went wrong' },
});
