// The one RFC 8693 grant handler of a provider, shared by the features that exchange tokens there
// (native federated sign-in, Native SSO): oidc-provider keeps one handler per grant type, so a
// second registerGrantType would silently replace the first.
import type Provider from 'oidc-provider';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';

/** The grant type (RFC 8693 §2.1). @internal */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';

/** One kind of token exchange a feature answers. @internal */
export interface TokenExchangeProfile {
  /** Whether this profile answers the request (read from its parameters only). */
  matches(params: Readonly<Record<string, unknown>>): boolean;
  /** Answers the request: sets `ctx.body`, or throws an OAuth error. */
  handle(ctx: KoaContextWithOIDC): Promise<void>;
  /** The request parameters it reads besides `grant_type`. */
  parameters: readonly string[];
}

const profilesOf = new WeakMap<Provider, TokenExchangeProfile[]>();

/**
 * Adds `profile` to `provider`'s token exchange grant: the first profile added that matches a
 * request answers it; a request none matches is `invalid_request`.
 *
 * @internal
 */
export function addTokenExchangeProfile(provider: Provider, profile: TokenExchangeProfile): void {
  const profiles = profilesOf.get(provider) ?? [];
  profilesOf.set(provider, profiles);
  profiles.push(profile);
  // Registered again with every profile's parameters: oidc-provider reads only those it was told.
  provider.registerGrantType(
    TOKEN_EXCHANGE_GRANT,
    async (ctx: KoaContextWithOIDC) => {
      const params = (ctx.oidc.params ?? {}) as Record<string, unknown>;
      const chosen = profiles.find((p) => p.matches(params));
      if (!chosen) {
        throw new errors.InvalidRequest('no token exchange is offered for these token types');
      }
      await chosen.handle(ctx);
    },
    [...new Set(profiles.flatMap((p) => p.parameters))],
  );
}
