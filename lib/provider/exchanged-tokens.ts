// The tokens an RFC 8693 exchange answers, the same whichever sign-in it stands for (a native
// Apple/Google id_token, a Native SSO device secret): a DCR token for a registration client, an
// install's own access and refresh tokens, sender-constrained as oidc-provider's own grants do.
import type Provider from 'oidc-provider';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import {
  applyRefreshTokenBindings,
  checkDpopReplay,
  checkDpopRequired,
  checkMtlsCert,
  type DpopProof,
  validateDpop,
} from './sender-constraints.js';
import { TOKEN_EXCHANGE_GRANT } from './token-exchange-profiles.js';

const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

type Ctx = KoaContextWithOIDC & { oidc: { params: Record<string, string | undefined> } };
type Client = NonNullable<KoaContextWithOIDC['oidc']['client']>;
type Certificate = ReturnType<typeof checkMtlsCert>;

/** The DCR token a registration client gets: its audience and resource server settings. @internal */
export interface DcrTokenSettings {
  resource: string;
  scope: string;
  ttl: number;
}

/** The request's sender constraints, checked before the exchange spends its subject. @internal */
export interface ExchangeSenderConstraints {
  dPoP: DpopProof | undefined;
  cert: Certificate;
}

/**
 * Checks the request's DPoP proof and mTLS certificate as the token endpoint does, before the
 * exchange spends anything: a registration client's DCR token is a bearer token (a proof is
 * refused); an install's binding rules (`dpop_bound_access_tokens`, mTLS) hold.
 *
 * @internal
 */
export async function exchangeSenderConstraints(
  provider: Provider,
  ctx: Ctx,
  isRegistrationClient: boolean,
): Promise<ExchangeSenderConstraints> {
  const dPoP = await validateDpop(provider, ctx);
  if (isRegistrationClient && (dPoP || ctx.get('dpop'))) {
    throw new errors.InvalidRequest('DCR tokens are bearer tokens: send no DPoP proof');
  }
  if (isRegistrationClient) return { dPoP, cert: undefined };
  checkDpopRequired(provider, ctx, dPoP);
  return { dPoP, cert: checkMtlsCert(provider, ctx) };
}

/**
 * The scopes asked for (all the install's own when none are, less `leaveOut`), each one the
 * install has; `invalid_scope` otherwise.
 *
 * @internal
 */
export function requestedScopes(
  ctx: Ctx,
  clientScope: string | undefined,
  leaveOut?: string,
): Set<string> {
  const allowed = new Set((clientScope ?? '').split(' ').filter(Boolean));
  const requested = (
    ctx.oidc.params.scope ? ctx.oidc.params.scope.split(' ').filter(Boolean) : [...allowed]
  ).filter((scope) => scope !== leaveOut);
  const refused = requested.filter((scope) => !allowed.has(scope));
  if (refused.length > 0) {
    throw new errors.InvalidScope('requested scope is not allowed', refused.join(' '));
  }
  if (requested.length === 0) throw new errors.InvalidScope('no scope to grant', '');
  return new Set(requested);
}

/** What {@link issueExchangedTokens} issues for. @internal */
export interface ExchangedTokensRequest {
  accountId: string;
  /** Set for a registration client: it gets a DCR token of these settings and nothing else. */
  dcr?: DcrTokenSettings;
  /** An install's granted scopes ({@link requestedScopes}); unused with `dcr`. */
  scope?: Set<string>;
  constraints: ExchangeSenderConstraints;
}

/**
 * Issues the exchange's tokens on a new Grant and answers their RFC 8693 §2.2.1 response body:
 * a DCR token for a registration client; an install's access token (bound to its DPoP key or
 * certificate) and, with `offline_access` and the refresh grant, a refresh token.
 *
 * @internal
 */
export async function issueExchangedTokens(
  provider: Provider,
  ctx: Ctx,
  { accountId, dcr, scope, constraints: { dPoP, cert } }: ExchangedTokensRequest,
): Promise<Record<string, unknown>> {
  const client = ctx.oidc.client as Client;
  const grant = new provider.Grant({ accountId, clientId: client.clientId });
  const at = new provider.AccessToken({
    accountId,
    client,
    gty: TOKEN_EXCHANGE_GRANT,
  } as ConstructorParameters<Provider['AccessToken']>[0]);
  if (dcr) {
    grant.addResourceScope(dcr.resource, dcr.scope);
    at.resourceServer = new provider.ResourceServer(dcr.resource, {
      scope: dcr.scope,
      audience: dcr.resource,
      accessTokenTTL: dcr.ttl,
      accessTokenFormat: 'opaque',
    });
    at.scope = dcr.scope;
  } else {
    at.scope = [...(scope ?? [])].join(' ');
    grant.addOIDCScope(at.scope);
    if (cert) at.setThumbprint('x5t', cert);
    if (dPoP) {
      await checkDpopReplay(provider, ctx, dPoP, client.clientId);
      at.setThumbprint('jkt', dPoP.thumbprint);
    }
  }
  at.grantId = await grant.save();
  ctx.oidc.entity('AccessToken', at);
  const accessToken = await at.save();

  let refreshToken: string | undefined;
  if (!dcr && client.grantTypeAllowed('refresh_token') && at.scopes.has('offline_access')) {
    const rt = new provider.RefreshToken({
      accountId,
      client,
      grantId: at.grantId,
      gty: TOKEN_EXCHANGE_GRANT,
      scope: at.scope,
      rotations: 0,
    } as ConstructorParameters<Provider['RefreshToken']>[0]);
    await applyRefreshTokenBindings(provider, ctx, at, rt);
    ctx.oidc.entity('RefreshToken', rt);
    refreshToken = await rt.save();
  }
  return {
    access_token: accessToken,
    issued_token_type: ACCESS_TOKEN_TYPE,
    token_type: at.tokenType,
    expires_in: at.expiration,
    scope: at.scope,
    ...(refreshToken ? { refresh_token: refreshToken } : {}),
  };
}
