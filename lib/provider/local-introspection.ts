import type Provider from 'oidc-provider';

/**
 * RFC 7662 introspection of an access token inside this process, for an API served by the same
 * process (the resource-server helper's fast path): the answer oidc-provider's introspection
 * endpoint gives a resource server allowed to see every token, read from the store with no HTTP.
 * Only access tokens: refresh tokens, codes and client credentials tokens answer inactive.
 *
 * @internal
 */
export async function introspectLocally(
  provider: Provider,
  token: string,
): Promise<Record<string, unknown>> {
  const inactive = { active: false };
  if (typeof token !== 'string' || token.length === 0 || token.length > 512) return inactive;
  const at = await provider.AccessToken.find(token);
  if (!at?.isValid) return inactive;
  // As the endpoint does: a token of a revoked grant, or of another client or account, is dead.
  if (at.grantId) {
    const grant = await provider.Grant.find(at.grantId, { ignoreExpiration: true });
    if (
      !grant ||
      grant.isExpired ||
      grant.clientId !== at.clientId ||
      grant.accountId !== at.accountId
    ) {
      return inactive;
    }
  }
  const cnf = {
    ...(at.jkt ? { jkt: at.jkt } : {}),
    ...(at['x5t#S256'] ? { 'x5t#S256': at['x5t#S256'] } : {}),
  };
  return {
    ...at.extra,
    active: true,
    sub: at.accountId,
    client_id: at.clientId,
    exp: at.exp,
    iat: at.iat,
    iss: provider.issuer,
    ...(at.aud ? { aud: at.aud } : {}),
    ...(at.scope ? { scope: at.scope } : {}),
    ...(Object.keys(cnf).length > 0 ? { cnf } : {}),
    token_type: at.tokenType,
  };
}
