// The steps that judge the instance's metadata: the built-in rules, each where the request
// meets it, with the allowances of the instance's app (its template) or of the deployment.
import { RegistrationPolicyError } from '../../core/errors.js';
import {
  checkApplicationType,
  checkAuthMethod as checkAuthMethodRule,
  checkFieldNames,
  checkGrantAndResponseTypes,
  checkRedirectUris as checkRedirectUriRules,
  checkScope,
} from '../instance-rules.js';
import type { RegistrationState } from './state.js';
import { appRedirectSchemes, appScopes, instanceSets, schemeOf } from './template.js';

/** Refuses fields an instance may not set, drops unknown ones, and makes it a native app. */
export function checkFields({ metadata }: RegistrationState): void {
  checkFieldNames(metadata);
  checkApplicationType(metadata);
}

/**
 * The schemes the redirect URIs may use: those of the instance's app when the instance sets its
 * own redirect URIs, else (without a template) the deployment's `allowedRedirectSchemes`.
 */
function allowedSchemes(state: RegistrationState): readonly string[] | undefined {
  const { template } = state;
  if (!template) return state.settings.rules.allowedRedirectSchemes;
  return instanceSets(state, template, 'redirect_uris') ? appRedirectSchemes(template) : undefined;
}

/**
 * The redirect URIs: each a safe native-app redirect (stored in the form the server matches),
 * with a scheme the instance may use.
 */
export function checkRedirectUris(state: RegistrationState): void {
  const { metadata } = state;
  checkRedirectUriRules(metadata);
  const allowed = allowedSchemes(state);
  if (!allowed) return;
  for (const field of ['redirect_uris', 'post_logout_redirect_uris']) {
    for (const uri of (metadata[field] as string[] | undefined) ?? []) {
      if (!allowed.includes(schemeOf(uri))) {
        throw new RegistrationPolicyError(
          'invalid_redirect_uri',
          `${field} '${uri}' must use one of the schemes ${allowed.join(', ')}`,
        );
      }
    }
  }
}

/** The authorization code grant, and the `code` response type. */
export function checkGrantTypes({ metadata }: RegistrationState): void {
  checkGrantAndResponseTypes(metadata);
}

/** An auth method the instance may use, with its public keys when the method is key-bound. */
export function checkAuthMethod({ metadata, rules }: RegistrationState): void {
  checkAuthMethodRule(metadata, rules);
}

/**
 * The scopes: those an instance sets itself within its app's allowance, and all of them within
 * the deployment's (which are the default).
 */
export function checkScopes(state: RegistrationState): void {
  const { template, metadata } = state;
  if (template && instanceSets(state, template, 'scope')) {
    const allowed = appScopes(template);
    for (const scope of String(metadata.scope ?? '').split(' ')) {
      if (scope && !allowed.includes(scope)) {
        throw new RegistrationPolicyError(
          'invalid_client_metadata',
          `scope '${scope}' is not allowed for this app`,
        );
      }
    }
  }
  checkScope(metadata, state.rules);
}
