import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';

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
  const resources: Record<string, string[]> = {};
  const raw = d.missingResourceScopes;
  if (typeof raw === 'object' && raw !== null) {
    for (const [indicator, scopes] of Object.entries(raw)) {
      if (isStringArray(scopes)) resources[indicator] = scopes;
    }
  }
  return {
    missingOIDCScope: isStringArray(d.missingOIDCScope) ? d.missingOIDCScope : [],
    missingOIDCClaims: isStringArray(d.missingOIDCClaims) ? d.missingOIDCClaims : [],
    missingResourceScopes: resources,
  };
}

/**
 * Grants what the consent prompt asks for on the interaction's grant (created when the
 * interaction has none) and saves it. Used by both the Allow button and auto-consent.
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
  const details = consentDetails(interaction.prompt.details);
  if (details.missingOIDCScope.length) grant.addOIDCScope(details.missingOIDCScope.join(' '));
  if (details.missingOIDCClaims.length) grant.addOIDCClaims(details.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(details.missingResourceScopes)) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  return grant.save();
}
