import type { KoaContextWithOIDC } from 'oidc-provider';
import semver from 'semver';
import {
  type ReattestationAttempt,
  type RegistrationAttempt,
  type RegistrationAuthority,
  RegistrationDenied,
} from '../attestation/authorize.js';
import { sameKeyMaterial } from '../attestation/binding.js';
import type { AccountClaims } from '../core/accounts.js';
import { RegistrationPolicyError } from '../core/errors.js';
import {
  INSTANCE_FIELD,
  type InstanceRecord,
  instanceRecord,
  storedRecord,
} from '../core/instance-record.js';
import { clientAddress } from '../http/client-address.js';
import { findUnsafeKey } from '../http/prototype-safety.js';
import { protocolError } from '../provider/protocol-error.js';
import { registrationOpener } from './dcr-gate.js';
import {
  applyInstanceRules,
  checkMetadataTypes,
  dropEchoedServerFields,
  type InstanceRuleSettings,
  KEY_BOUND_AUTH_METHODS,
} from './instance-rules.js';
import type { RegistrationPolicy } from './policy-types.js';
import {
  ATTEST_AUTH_METHODS,
  fieldsNotAllowed,
  mergeTemplate,
  type ResolvedTemplate,
  type TemplateSource,
} from './templates.js';

/** An active instance of an account, as the instance limit sees it. @internal */
export interface ActiveInstance {
  clientId: string;
  createdAt: number;
}

/** What the instance policy needs beyond the built-in rules. @internal */
export interface InstancePolicySettings {
  /** Loads the account of an instance being updated (a registration has it from its token). */
  findAccount(accountId: string): Promise<AccountClaims | undefined>;
  rules: InstanceRuleSettings & { allowedRedirectSchemes?: readonly string[] };
  /**
   * Grant types the server gives every instance as it is loaded, never stored (the RFC 8693
   * exchange with native sign-in): a request may send them back, and the response shows them.
   */
  serverGrants?: readonly string[];
  hooks: readonly RegistrationPolicy[];
  templates: TemplateSource;
  templatesOnly: boolean;
  limit?: { max: number; onLimit: 'reject' | 'revoke-oldest' };
  /**
   * Seconds a new instance is kept until its first token (0: kept for good, and counted toward
   * the limit from registration on).
   */
  unusedTtl: number;
  /** The account's active instances that count toward the limit, oldest first. */
  activeInstances(accountId: string): Promise<ActiveInstance[]>;
  /** Revokes an instance (for `revoke-oldest`). */
  revokeInstance(clientId: string): Promise<void>;
  /** The attestation pipeline: who may register, and at what level. */
  authorize(attempt: RegistrationAttempt): Promise<RegistrationAuthority>;
  /** Verifies fresh evidence sent with an update that changes the instance's key. */
  reattest(attempt: ReattestationAttempt): Promise<RegistrationAuthority>;
  /** Reports a registration authorized by a fallback client or evidence, once it succeeded. */
  onAuthorized(authority: RegistrationAuthority, clientId: string, softwareId?: string): void;
  /** Reports a registration refused for its credential or evidence. */
  onRefused(reason: string, ip: string, softwareId?: string): void;
}

/** The rules for an instance of `template`: with attestClientAuth, its methods too. */
function rulesFor(
  rules: InstanceRuleSettings,
  template: ResolvedTemplate | undefined,
): InstanceRuleSettings {
  if (!template?.attestClientAuth) return rules;
  return { ...rules, authMethods: [...rules.authMethods, ...ATTEST_AUTH_METHODS] };
}

/** A refusal as oidc-provider renders it: the status, the code and the description. */
function deniedError(ctx: KoaContextWithOIDC, denied: RegistrationDenied) {
  if (denied.status === 401) ctx.set('WWW-Authenticate', 'Bearer');
  return protocolError(denied.status, denied.error, denied.description);
}

const toProviderError = (error: RegistrationPolicyError) =>
  protocolError(400, error.code, error.message);

const schemeOf = (uri: string) => uri.slice(0, Math.max(0, uri.indexOf(':')));

function checkRedirectSchemes(
  metadata: Record<string, unknown>,
  allowed: readonly string[] | undefined,
) {
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

function checkScopes(metadata: Record<string, unknown>, allowed: readonly string[]) {
  for (const scope of String(metadata.scope ?? '').split(' ')) {
    if (scope && !allowed.includes(scope)) {
      throw new RegistrationPolicyError(
        'invalid_client_metadata',
        `scope '${scope}' is not allowed for this app`,
      );
    }
  }
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
 * Refuses a body with `__proto__`, `constructor` or `prototype` keys at any depth. oidc-provider
 * has already copied the body into `properties` with `Object.assign`, which turns a `__proto__`
 * member into the prototype: its inherited fields would pass every rule and never be stored.
 */
function refuseUnsafeKeys(body: unknown, properties: Record<string, unknown>) {
  const unsafe =
    findUnsafeKey(body) ??
    (Object.getPrototypeOf(properties) === Object.prototype
      ? undefined
      : { key: '__proto__', path: '__proto__' });
  if (!unsafe) return;
  throw toProviderError(
    new RegistrationPolicyError(
      'invalid_client_metadata',
      unsafe.key === '(nesting)'
        ? `the request nests deeper than allowed (at ${unsafe.path})`
        : `${unsafe.path} is refused: '${unsafe.key}' is not allowed as a member name`,
    ),
  );
}

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
 * Builds the effective metadata of a templatized registration or update: the template's settings
 * plus the instance fields the request may set, refusing every other field by name.
 */
function templatized(
  ctx: KoaContextWithOIDC,
  properties: Record<string, unknown>,
  template: ResolvedTemplate,
): Record<string, unknown> {
  // The attestation member is the registration's credential, not metadata; `cal` is read-only
  // and an RFC 7592 update echoes it back.
  const {
    attestation: _credential,
    cal: _level,
    ...body
  } = (ctx.oidc.body ?? {}) as Record<string, unknown>;
  const current = ctx.method === 'PUT' ? ctx.oidc.client?.metadata() : undefined;
  const shown = current && { ...current, client_id: ctx.oidc.client?.clientId };
  // The registration response showed the scopes the level withholds from reads as well.
  const withheld = (current && instanceRecord(current)?.withheld_scopes) ?? [];
  if (shown && withheld.length > 0 && typeof body.scope === 'string') {
    const registered = new Set([...String(shown.scope).split(' '), ...withheld]);
    const sent = new Set(body.scope.split(' ').filter(Boolean));
    if (sent.size === registered.size && [...sent].every((s) => registered.has(s))) {
      shown.scope = body.scope;
    }
  }
  const refused = fieldsNotAllowed(template, body, shown);
  if (refused.length > 0) {
    throw new RegistrationPolicyError(
      'invalid_client_metadata',
      `${refused.join(', ')} cannot be set by instances of '${template.software_id}' (they may set ${template.instanceFields.join(', ')})`,
    );
  }
  const merged = mergeTemplate(template, properties);
  checkSoftwareVersion(merged, template);
  if (template.instanceFields.includes('scope') && body.scope !== undefined) {
    checkScopes(merged, template.allowedScopes ?? String(template.client.scope ?? '').split(' '));
  }
  if (template.instanceFields.includes('redirect_uris') && body.redirect_uris !== undefined) {
    checkRedirectSchemes(
      merged,
      template.allowedRedirectSchemes ?? template.client.redirect_uris.map(schemeOf),
    );
  }
  // oidc-provider generated a secret before it knew the template's auth method.
  if (KEY_BOUND_AUTH_METHODS.has(String(merged.token_endpoint_auth_method))) {
    delete merged.client_secret;
    delete merged.client_secret_expires_at;
  }
  return merged;
}

/**
 * An update sends back the `scope` it read, which leaves out the registered scopes the
 * instance's level is below (they come back if the level or the minimum changes): those stay
 * registered, as long as the instance may still register them.
 */
function keepWithheldScopes(
  properties: Record<string, unknown>,
  withheld: readonly string[],
  template: ResolvedTemplate | undefined,
  allowedScopes: readonly string[],
) {
  if (withheld.length === 0 || typeof properties.scope !== 'string') return;
  const allowed = template
    ? (template.allowedScopes ?? String(template.client.scope ?? '').split(' '))
    : allowedScopes;
  const scopes = properties.scope.split(' ').filter(Boolean);
  const kept = withheld.filter((scope) => allowed.includes(scope) && !scopes.includes(scope));
  if (kept.length > 0) properties.scope = [...scopes, ...kept].join(' ');
}

/**
 * Enforces the per-account instance limit at registration: `reject` refuses when the account
 * already has `max` instances in use; `revoke-oldest` revokes once the new instance is registered.
 * A new instance that starts unused is checked again when it is first used (the device manager's
 * `markUsed`), which is where `revoke-oldest` then applies.
 */
async function applyLimit(
  settings: InstancePolicySettings,
  accountId: string,
  afterCreate: Array<() => Promise<void>>,
) {
  const { limit } = settings;
  if (!limit || (settings.unusedTtl > 0 && limit.onLimit === 'revoke-oldest')) return;
  const active = await settings.activeInstances(accountId);
  const excess = active.length + 1 - limit.max;
  if (excess <= 0) return;
  if (limit.onLimit === 'reject') {
    throw new RegistrationPolicyError(
      'invalid_client_metadata',
      `this account already has ${active.length} registered devices (at most ${limit.max}): remove one first`,
    );
  }
  for (const oldest of active.slice(0, excess)) {
    afterCreate.push(() => settings.revokeInstance(oldest.clientId));
  }
}

/**
 * What an RFC 7592 update may not change: a non-template instance cannot take on a template's
 * `software_id` or `software_version`, and an instance whose level rests on evidence bound to its
 * key keeps that key and authentication method unless the update brings fresh evidence bound to
 * the new key (which then sets the level). The level never rises otherwise: `cal` in the body is
 * ignored and the stored one kept.
 */
async function checkUpdate(
  ctx: KoaContextWithOIDC,
  settings: InstancePolicySettings,
  record: InstanceRecord,
  metadata: Record<string, unknown>,
  template: ResolvedTemplate | undefined,
  evidence: unknown,
) {
  const current: Record<string, unknown> = ctx.oidc.client?.metadata() ?? {};
  if (!record.template) {
    for (const field of ['software_id', 'software_version']) {
      if (
        Object.hasOwn(metadata, field) &&
        JSON.stringify(metadata[field]) !== JSON.stringify(current[field])
      ) {
        throw new RegistrationPolicyError(
          'invalid_client_metadata',
          `${field} cannot be set by an update: this install was not registered from a template`,
        );
      }
    }
  }
  if (evidence !== undefined) {
    const authority = await settings.reattest({
      template,
      attestation: evidence,
      jwks: metadata.jwks,
      ip: clientAddress(ctx).address,
      ...(record.account_id ? { accountId: record.account_id } : {}),
    });
    record.cal = authority.cal;
    record.registered_by = authority.proof;
    return;
  }
  if (record.registered_by?.method !== 'attestation') return;
  // Between key-bound methods (private_key_jwt, attestation-based) the key stays what it was.
  const method = String(metadata.token_endpoint_auth_method);
  const previous = String(current.token_endpoint_auth_method);
  const rebound =
    (method !== previous &&
      !(KEY_BOUND_AUTH_METHODS.has(method) && KEY_BOUND_AUTH_METHODS.has(previous))) ||
    !(await sameKeyMaterial(metadata.jwks, current.jwks));
  if (rebound) {
    throw new RegistrationPolicyError(
      'invalid_client_metadata',
      `jwks and token_endpoint_auth_method cannot change: this install's assurance level (${record.cal ?? 'none'}) rests on attestation evidence bound to its key; send fresh evidence bound to the new key in 'attestation', with a new challenge`,
    );
  }
}

/**
 * Builds the oidc-provider registration policy for instance clients: binds the instance to the
 * user who opened the registration, resolves its template, applies the built-in rules and
 * limits, runs the deployment's policy hooks, then applies the rules again so no hook can widen
 * what an instance may do. Runs on `POST` (create) and on RFC 7592 `PUT` (update).
 *
 * @internal
 */
export function createInstancePolicy(settings: InstancePolicySettings) {
  return async function instancePolicy(
    ctx: KoaContextWithOIDC,
    properties: Record<string, unknown>,
  ) {
    const operation = ctx.method === 'PUT' ? 'update' : 'create';
    refuseUnsafeKeys(ctx.oidc.body, properties);
    // Before anything reads a field (templates, software_version, attestation, the rules): a
    // value of the wrong JSON type is a 400 naming the field, never a crash further on.
    try {
      checkMetadataTypes(properties);
    } catch (error) {
      if (error instanceof RegistrationPolicyError) throw toProviderError(error);
      throw error;
    }
    const opener = registrationOpener(ctx);
    let record: InstanceRecord | undefined;
    let withheldScopes: readonly string[] = [];
    if (operation === 'update') {
      const current = ctx.oidc.client ? instanceRecord(ctx.oidc.client.metadata()) : undefined;
      if (current) record = storedRecord(current);
      withheldScopes = current?.withheld_scopes ?? [];
    } else if (opener) {
      const now = Date.now();
      const { credential } = opener;
      record = {
        ...(credential.kind === 'user'
          ? {
              account_id: credential.accountId,
              registration_client_id: credential.registrationClientId,
            }
          : {}),
        created_at: Math.floor(now / 1000),
        created_ms: now,
        status: 'active',
        ...(settings.unusedTtl > 0
          ? { unused_until: Math.floor(now / 1000) + settings.unusedTtl }
          : {}),
      };
    }
    // Only the DCR gate mints the tokens that carry this policy, so this is a wiring fault.
    if (!record) throw new Error('instance registration policy ran without a registration opener');

    delete properties[INSTANCE_FIELD];
    const serverGrants = settings.serverGrants ?? [];
    // RFC 7592 §2.2: the read shows them, so a client sends them back; they are not its to set.
    if (Array.isArray(properties.grant_types) && serverGrants.length > 0) {
      properties.grant_types = properties.grant_types.filter((g) => !serverGrants.includes(g));
    }
    const evidence = properties.attestation;
    delete properties.attestation;
    let softwareId: unknown;
    try {
      let metadata = properties;
      let template: ResolvedTemplate | undefined;
      softwareId = operation === 'update' ? record.template : properties.software_id;
      if (softwareId !== undefined && (settings.templates.enabled || record.template)) {
        template = await templateFor(softwareId, settings.templates);
        if (operation === 'update' && properties.software_id !== record.template) {
          throw new RegistrationPolicyError(
            'invalid_client_metadata',
            'software_id cannot be changed',
          );
        }
      } else if (settings.templatesOnly) {
        throw new RegistrationPolicyError(
          'invalid_client_metadata',
          'software_id is required: this server registers apps from templates only',
        );
      }
      if (operation === 'create' && opener) {
        const authority = await settings.authorize({
          credential: opener.credential,
          template,
          attestation: evidence,
          jwks: properties.jwks,
          ip: clientAddress(ctx).address,
        });
        record.cal = authority.cal;
        record.registered_by = authority.proof;
        if (authority.proof.method !== 'user-token') {
          const clientId = String(properties.client_id);
          opener.afterCreate.push(async () =>
            settings.onAuthorized(authority, clientId, template?.software_id),
          );
        }
      }
      keepWithheldScopes(properties, withheldScopes, template, settings.rules.allowedScopes);
      if (template) {
        metadata = templatized(ctx, properties, template);
        record.template = template.software_id;
      } else if (operation === 'update') {
        dropEchoedServerFields(metadata, ctx.oidc.client?.metadata() ?? {});
      }
      const rules = rulesFor(settings.rules, template);
      applyInstanceRules(metadata, rules);
      if (!template) checkRedirectSchemes(metadata, settings.rules.allowedRedirectSchemes);
      if (operation === 'update') {
        await checkUpdate(ctx, settings, record, metadata, template, evidence);
      }
      const accountId = record.account_id;
      if (operation === 'create' && opener && accountId) {
        await applyLimit(settings, accountId, opener.afterCreate);
      }
      const account =
        settings.hooks.length === 0 || !accountId
          ? undefined
          : opener?.credential.kind === 'user'
            ? opener.credential.account
            : await settings.findAccount(accountId);
      if (settings.hooks.length > 0 && accountId && !account) {
        throw new RegistrationPolicyError(
          'invalid_client_metadata',
          'the account that registered this client no longer exists',
        );
      }
      for (const hook of settings.hooks) {
        await hook({
          operation,
          accountId,
          account,
          registrationClientId: record.registration_client_id,
          clientId: String(properties.client_id),
          template,
          cal: record.cal ?? 'none',
          method: record.registered_by?.method ?? 'user-token',
          ip: clientAddress(ctx).address,
          metadata,
        });
        applyInstanceRules(metadata, rules);
      }
      // oidc-provider saves `properties`: make it the final metadata.
      if (metadata !== properties) {
        for (const key of Object.keys(properties)) delete properties[key];
        Object.assign(properties, metadata);
      }
      // The response shows what a read will (the Client adapter drops them again on write).
      if (serverGrants.length > 0) {
        properties.grant_types = [...(properties.grant_types as string[]), ...serverGrants];
      }
    } catch (error) {
      if (error instanceof RegistrationPolicyError) throw toProviderError(error);
      if (error instanceof RegistrationDenied) {
        settings.onRefused(
          error.code,
          clientAddress(ctx).address,
          typeof softwareId === 'string' ? softwareId : undefined,
        );
        throw deniedError(ctx, error);
      }
      throw error;
    }
    properties[INSTANCE_FIELD] = record;
  };
}
