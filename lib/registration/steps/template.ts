// The steps that find an instance's template (its `software_id`) and merge its settings in.
import semver from 'semver';
import { RegistrationPolicyError } from '../../core/errors.js';
import { dropEchoedServerFields, KEY_BOUND_AUTH_METHODS } from '../instance-rules.js';
import {
  ATTEST_AUTH_METHODS,
  fieldsNotAllowed,
  mergeTemplate,
  type ResolvedTemplate,
  type TemplateSource,
} from '../templates.js';
import type { RegistrationState } from './state.js';

/** The scheme of a URI, without the colon. */
export const schemeOf = (uri: string): string => uri.slice(0, Math.max(0, uri.indexOf(':')));

/** The scopes an instance of `template` may choose: its allowance, or the template's own. */
export const appScopes = (template: ResolvedTemplate): readonly string[] =>
  template.allowedScopes ?? String(template.client.scope ?? '').split(' ');

/** The redirect URI schemes an instance of `template` may use: its allowance, or its own. */
export const appRedirectSchemes = (template: ResolvedTemplate): readonly string[] =>
  template.allowedRedirectSchemes ?? template.client.redirect_uris.map(schemeOf);

/** Whether the request sets `field` of its template's instance fields itself. */
export const instanceSets = (
  { ctx }: RegistrationState,
  template: ResolvedTemplate,
  field: string,
): boolean =>
  (template.instanceFields as readonly string[]).includes(field) &&
  (ctx.oidc.body as Record<string, unknown> | undefined)?.[field] !== undefined;

/** Resolves the template a registration names, refusing unknown and disabled ones. */
async function templateFor(
  softwareId: unknown,
  templates: TemplateSource,
): Promise<ResolvedTemplate> {
  if (typeof softwareId !== 'string' || softwareId === '') {
    throw new RegistrationPolicyError('invalid_software_id', 'software_id must be a string');
  }
  const template = await templates.find(softwareId, { purpose: 'register' });
  if (!template) {
    throw new RegistrationPolicyError(
      'invalid_software_id',
      `software_id '${softwareId}' is unknown`,
    );
  }
  if (template.disabled) {
    throw new RegistrationPolicyError(
      'invalid_software_id',
      `software_id '${softwareId}' is disabled: registrations of this app are closed`,
    );
  }
  return template;
}

/**
 * Finds the template a create names in `software_id` (an update keeps its instance's), or
 * refuses a registration without one where the server registers from templates only.
 */
export async function resolveTemplate(state: RegistrationState): Promise<void> {
  const { settings, record } = state;
  state.softwareId = state.operation === 'update' ? record.template : state.properties.software_id;
  if (state.softwareId !== undefined && (settings.templates.enabled || record.template)) {
    const template = await templateFor(state.softwareId, settings.templates);
    state.template = template;
    // With attestClientAuth, its instances may use the attestation-based methods too.
    if (template.attestClientAuth) {
      state.rules = {
        ...settings.rules,
        authMethods: [...settings.rules.authMethods, ...ATTEST_AUTH_METHODS],
      };
    }
    // With approvals, an install authenticated by a secret registers the key it approves with.
    if (template.approvals) state.rules = { ...state.rules, approvalKey: true };
  } else if (settings.templatesOnly) {
    throw new RegistrationPolicyError(
      'invalid_client_metadata',
      'software_id is required: this server registers apps from templates only',
    );
  }
}

/** An update of a templatized instance keeps its `software_id`. */
export function refuseSoftwareIdChange({ template, properties, record }: RegistrationState): void {
  if (template && properties.software_id !== record.template) {
    throw new RegistrationPolicyError('invalid_client_metadata', 'software_id cannot be changed');
  }
}

/**
 * An update sends back the `scope` it read, which leaves out the registered scopes the
 * instance's level is below (they come back if the level or the minimum changes): those stay
 * registered, as long as the instance may still register them.
 */
export function keepWithheldScopes({
  properties,
  withheldScopes,
  template,
  settings,
}: RegistrationState): void {
  if (withheldScopes.length === 0 || typeof properties.scope !== 'string') return;
  const allowed = template ? appScopes(template) : settings.rules.allowedScopes;
  const scopes = properties.scope.split(' ').filter(Boolean);
  const kept = withheldScopes.filter((scope) => allowed.includes(scope) && !scopes.includes(scope));
  if (kept.length > 0) properties.scope = [...scopes, ...kept].join(' ');
}

function checkSoftwareVersion(metadata: Record<string, unknown>, template: ResolvedTemplate) {
  const minimum = template.minimumSoftwareVersion;
  if (!minimum) return;
  const version =
    typeof metadata.software_version === 'string' ? semver.coerce(metadata.software_version) : null;
  if (!version || semver.lt(version, semver.coerce(minimum) ?? minimum)) {
    throw new RegistrationPolicyError(
      'invalid_client_metadata',
      `software_version ${metadata.software_version === undefined ? 'is missing' : `'${String(metadata.software_version)}' is too old`}: update the app to version ${minimum} or later`,
    );
  }
}

/**
 * What an update shows as already registered: its current metadata, with the scopes the level
 * withholds from reads when the request sends back the registered scope in full.
 */
function shownMetadata(state: RegistrationState, body: Record<string, unknown>) {
  if (state.operation !== 'update') return undefined;
  const shown: Record<string, unknown> = {
    ...state.current,
    client_id: state.ctx.oidc.client?.clientId,
  };
  // The registration response showed the scopes the level withholds from reads as well.
  const withheld = state.withheldScopes;
  if (withheld.length > 0 && typeof body.scope === 'string') {
    const registered = new Set([...String(shown.scope).split(' '), ...withheld]);
    const sent = new Set(body.scope.split(' ').filter(Boolean));
    if (sent.size === registered.size && [...sent].every((s) => registered.has(s))) {
      shown.scope = body.scope;
    }
  }
  return shown;
}

/**
 * Builds the effective metadata of a templatized registration or update: the template's settings
 * plus the instance fields the request may set, refusing every other field by name.
 */
export function applyTemplate(state: RegistrationState): void {
  const { template, properties } = state;
  if (!template) return;
  // The attestation member is the registration's credential, not metadata; `cal` is read-only
  // and an RFC 7592 update echoes it back.
  const {
    attestation: _credential,
    cal: _level,
    ...body
  } = (state.ctx.oidc.body ?? {}) as Record<string, unknown>;
  const refused = fieldsNotAllowed(template, body, shownMetadata(state, body));
  if (refused.length > 0) {
    throw new RegistrationPolicyError(
      'invalid_client_metadata',
      `${refused.join(', ')} cannot be set by instances of '${template.software_id}' (they may set ${template.instanceFields.join(', ')})`,
    );
  }
  const merged = mergeTemplate(template, properties);
  checkSoftwareVersion(merged, template);
  // oidc-provider generated a secret before it knew the template's auth method.
  if (KEY_BOUND_AUTH_METHODS.has(String(merged.token_endpoint_auth_method))) {
    delete merged.client_secret;
    delete merged.client_secret_expires_at;
  }
  state.metadata = merged;
  state.record.template = template.software_id;
}

/** An update of an instance without a template may send back the server-set fields it read. */
export function dropEchoedFields({ template, metadata, current }: RegistrationState): void {
  if (!template) dropEchoedServerFields(metadata, current);
}
