import type { KoaContextWithOIDC, default as Provider } from 'oidc-provider';
import { errors, type interactionPolicy } from 'oidc-provider';

/** One interaction as `provider.interactionDetails()` resolves it. @internal */
export type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>;

/** What oidc-provider's consent prompt says is missing from the grant. @internal */
export interface ConsentDetails {
  /** OpenID scopes not yet granted (`openid`, `profile`, …). */
  missingOIDCScope: string[];
  /** Individual claims requested through the `claims` parameter and not yet granted. */
  missingOIDCClaims: string[];
  /** Resource server scopes not yet granted, by resource indicator. */
  missingResourceScopes: Record<string, string[]>;
  /** OpenID scopes the request asks for, granted or not (see {@link listRequestedOnConsent}). */
  requestedOIDCScope: string[];
  /** Claims the request asks for through the `claims` parameter, granted or not. */
  requestedOIDCClaims: string[];
  /** Resource server scopes the request asks for, granted or not, by resource indicator. */
  requestedResourceScopes: Record<string, string[]>;
}

// Claims every ID token carries: nothing to consent to (oidc-provider's consent prompt skips them).
const IMPLIED_CLAIMS = new Set(['sub', 'sid', 'auth_time', 'acr', 'amr', 'iss']);

/** What the request asks for, as oidc-provider resolved it (unknown scopes and claims dropped). */
function requestedDetails(ctx: KoaContextWithOIDC) {
  const { oidc } = ctx;
  const requestedResourceScopes: Record<string, string[]> = {};
  for (const [indicator, server] of Object.entries(oidc.resourceServers ?? {})) {
    const scopes = [...oidc.requestParamScopes].filter((scope) => server.scopes.has(scope));
    if (scopes.length > 0) requestedResourceScopes[indicator] = scopes;
  }
  return {
    requestedOIDCScope: [...oidc.requestParamOIDCScopes],
    requestedOIDCClaims: [...oidc.requestParamClaims].filter((c) => !IMPLIED_CLAIMS.has(c)),
    requestedResourceScopes,
  };
}

/**
 * Makes the consent prompt's `details` say everything the request asks for, not only what the
 * grant lacks: a consent page lists what its Allow grants even when an earlier grant holds
 * some or all of it (oidc-provider then prompts native apps all the same).
 *
 * @internal
 */
export function listRequestedOnConsent(
  policy: interactionPolicy.DefaultPolicy,
): interactionPolicy.DefaultPolicy {
  const consent = policy.get('consent');
  if (!consent) return policy;
  const own = consent.details;
  consent.details = async (ctx) => ({ ...(await own(ctx)), ...requestedDetails(ctx) });
  return policy;
}

/** `a` and `b` per resource indicator, each scope once. */
function mergeResources(a: Record<string, string[]>, b: Record<string, string[]>) {
  const merged: Record<string, string[]> = {};
  for (const [indicator, scopes] of [...Object.entries(a), ...Object.entries(b)]) {
    merged[indicator] = [...new Set([...(merged[indicator] ?? []), ...scopes])];
  }
  return merged;
}

/**
 * What a consent grants: the OpenID scopes, claims and resource scopes the request asks for
 * (and, should the prompt's details lack them, what it says is missing), each once.
 *
 * @internal
 */
export function consentGrants(details: ConsentDetails): {
  oidcScope: string[];
  claims: string[];
  resourceScopes: Record<string, string[]>;
} {
  return {
    oidcScope: [...new Set([...details.requestedOIDCScope, ...details.missingOIDCScope])],
    claims: [...new Set([...details.requestedOIDCClaims, ...details.missingOIDCClaims])],
    resourceScopes: mergeResources(details.requestedResourceScopes, details.missingResourceScopes),
  };
}

const isStringArray = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((v) => typeof v === 'string');

/**
 * Reads the consent prompt's `details` (typed `unknown` by oidc-provider), keeping only
 * well-formed entries so the page and the grant see exactly the same thing.
 *
 * @internal
 */
export function consentDetails(details: unknown): ConsentDetails {
  const d =
    typeof details === 'object' && details !== null ? (details as Record<string, unknown>) : {};
  const strings = (name: string) => {
    const value = Object.hasOwn(d, name) ? d[name] : undefined;
    return isStringArray(value) ? value : [];
  };
  const byResource = (name: string) => {
    const resources: Record<string, string[]> = {};
    const raw = Object.hasOwn(d, name) ? d[name] : undefined;
    if (typeof raw === 'object' && raw !== null) {
      for (const [indicator, scopes] of Object.entries(raw)) {
        if (isStringArray(scopes)) resources[indicator] = scopes;
      }
    }
    return resources;
  };
  return {
    missingOIDCScope: strings('missingOIDCScope'),
    missingOIDCClaims: strings('missingOIDCClaims'),
    missingResourceScopes: byResource('missingResourceScopes'),
    requestedOIDCScope: strings('requestedOIDCScope'),
    requestedOIDCClaims: strings('requestedOIDCClaims'),
    requestedResourceScopes: byResource('requestedResourceScopes'),
  };
}

/** Whether a consent would grant nothing at all (no scope, no claim). @internal */
export function grantsNothing(granted: ReturnType<typeof consentGrants>): boolean {
  return (
    granted.oidcScope.length === 0 &&
    granted.claims.length === 0 &&
    Object.values(granted.resourceScopes).every((scopes) => scopes.length === 0)
  );
}

/**
 * Grants what the consent asks for ({@link consentGrants}) on the interaction's grant (created
 * when the interaction has none) and saves it. Used by both the Allow button and auto-consent.
 *
 * @returns the grant id to finish the interaction with.
 * @internal
 */
export async function grantConsent(provider: Provider, interaction: Interaction): Promise<string> {
  const { params, session } = interaction;
  const grant = interaction.grantId
    ? await provider.Grant.find(interaction.grantId)
    : new provider.Grant({ accountId: session?.accountId, clientId: String(params.client_id) });
  // A grant that vanished (expired or revoked) mid-interaction: the user must start again.
  if (!grant) throw new errors.SessionNotFound('grant not found');
  const granted = consentGrants(consentDetails(interaction.prompt.details));
  if (granted.oidcScope.length) grant.addOIDCScope(granted.oidcScope.join(' '));
  if (granted.claims.length) grant.addOIDCClaims(granted.claims);
  for (const [indicator, scopes] of Object.entries(granted.resourceScopes)) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  return grant.save();
}
