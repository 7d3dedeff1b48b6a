import { Ajv } from 'ajv';
import { RegistrationPolicyError } from '../core/errors.js';
import { copyJsonData } from '../core/json-data.js';
import type {
  AttestAuthMethod,
  Template,
  TemplateLookup,
  TemplateResolver,
} from '../core/template-types.js';
import { applyInstanceRules, type InstanceRuleSettings } from './instance-rules.js';
import { templateSchema } from './template-schema.js';

/** A template after validation, with defaults filled in. @internal */
export type ResolvedTemplate = Template & {
  instanceFields: NonNullable<Template['instanceFields']>;
};

// Fields every instance record keeps whatever its template says: identity and credentials.
const RECORD_FIELDS = [
  'client_id',
  'client_id_issued_at',
  'client_secret',
  'client_secret_expires_at',
  'software_id',
];

/** The methods of attestation-based client authentication. @internal */
export const ATTEST_AUTH_METHODS: readonly AttestAuthMethod[] = [
  'attest_jwt_client_auth',
  'attest_jwt_client_auth_dpop',
];

/**
 * The token endpoint auth method an instance of `template` chose itself: an attestation-based
 * one its template allows, or `undefined` (it then inherits the template's).
 *
 * @internal
 */
export function chosenAuthMethod(
  template: Template,
  metadata: Record<string, unknown>,
): AttestAuthMethod | undefined {
  const method = metadata.token_endpoint_auth_method;
  return template.attestClientAuth && ATTEST_AUTH_METHODS.includes(method as AttestAuthMethod)
    ? (method as AttestAuthMethod)
    : undefined;
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true });
const validateTemplateSchema = ajv.compile(templateSchema);

/**
 * What is wrong with a template: its shape, and whether its settings pass the built-in instance
 * rules (a template must describe a client an instance could have registered itself).
 *
 * @returns problems, each prefixed with `path`; empty when the template is valid. Fills defaults
 *   into `template` (schema defaults, and the client defaults of the instance rules).
 * @internal
 */
export function templateProblems(
  template: unknown,
  settings: InstanceRuleSettings,
  path: string,
): string[] {
  if (!validateTemplateSchema(template)) {
    return (validateTemplateSchema.errors ?? []).map(
      (e) => `${path}${e.instancePath.replaceAll('/', '.')} ${e.message}`,
    );
  }
  const t = template as ResolvedTemplate;
  const problems: string[] = [];
  try {
    // The rules also fill in the defaults (application_type, response_types, …) every loaded
    // instance must carry, so the template keeps the completed metadata.
    const client = t.client as unknown as Record<string, unknown>;
    // Each private_key_jwt instance brings its own key; check the rest with a stand-in.
    const bringsOwnKey = client.token_endpoint_auth_method === 'private_key_jwt';
    if (bringsOwnKey) client.jwks = { keys: [{ kty: 'EC' }] };
    try {
      applyInstanceRules(client, settings);
    } finally {
      if (bringsOwnKey) delete client.jwks;
    }
  } catch (error) {
    if (!(error instanceof RegistrationPolicyError)) throw error;
    problems.push(`${path}.client ${error.message}`);
  }
  const method = t.client.token_endpoint_auth_method ?? settings.authMethods[0];
  if (method === 'private_key_jwt' && !t.instanceFields.includes('jwks')) {
    problems.push(`${path}.instanceFields must include 'jwks' with private_key_jwt`);
  }
  if (t.attestation && method !== 'private_key_jwt') {
    problems.push(
      `${path}.attestation needs client.token_endpoint_auth_method 'private_key_jwt': evidence is bound to the key each instance registers`,
    );
  }
  if (method !== 'private_key_jwt' && t.instanceFields.includes('jwks') && !t.approvals) {
    problems.push(
      `${path}.instanceFields may include 'jwks' only with private_key_jwt or approvals`,
    );
  }
  if (t.approvals && method !== 'private_key_jwt' && !t.instanceFields.includes('jwks')) {
    problems.push(
      `${path}.approvals needs client.token_endpoint_auth_method 'private_key_jwt' or 'jwks' in instanceFields: an install signs its answers with a key it registers`,
    );
  }
  // Native SSO's device secret comes with an ID token: without openid there is none to bind it to.
  if (
    t.nativeSso &&
    !String(t.client.scope ?? '')
      .split(' ')
      .includes('openid')
  ) {
    problems.push(
      `${path}.nativeSso needs 'openid' in client.scope: the device secret is bound to an ID token`,
    );
  }
  if (
    typeof t.approvals === 'object' &&
    t.approvals.requireKeyUserAuthentication &&
    !t.attestation
  ) {
    problems.push(
      `${path}.approvals.requireKeyUserAuthentication needs attestation: only an attestation of the key shows what it requires`,
    );
  }
  if (t.attestClientAuth && method !== 'private_key_jwt') {
    problems.push(
      `${path}.attestClientAuth needs client.token_endpoint_auth_method 'private_key_jwt': an attestation attests the key each instance registers`,
    );
  }
  return problems;
}

/**
 * Where templates come from: the configured list first, then the resolver. Resolver results are
 * validated once per object, and an invalid one fails closed.
 *
 * @internal
 */
export class TemplateSource {
  readonly #configured = new Map<string, ResolvedTemplate>();
  readonly #validated = new WeakMap<object, ResolvedTemplate>();

  constructor(
    templates: readonly ResolvedTemplate[],
    private readonly resolver: TemplateResolver | undefined,
    private readonly settings: InstanceRuleSettings,
  ) {
    for (const template of templates) this.#configured.set(template.software_id, template);
  }

  /** Whether any template can exist: a registration's `software_id` then names a template. */
  get enabled(): boolean {
    return this.#configured.size > 0 || this.resolver !== undefined;
  }

  /**
   * The template named `softwareId`, or `undefined` when there is none.
   *
   * @throws Error when the resolver returns an invalid template.
   */
  async find(softwareId: string, lookup: TemplateLookup): Promise<ResolvedTemplate | undefined> {
    const configured = this.#configured.get(softwareId);
    if (configured || !this.resolver) return configured;
    const resolved = await this.resolver(softwareId, lookup);
    if (resolved === undefined) return undefined;
    const known = this.#validated.get(resolved);
    if (known) return known;
    const copy = structuredClone(resolved);
    const problems = templateProblems(copy, this.settings, 'template');
    if (problems.length > 0 || copy.software_id !== softwareId) {
      throw new Error(
        `the template resolver returned an invalid template for '${softwareId}': ${problems.join('; ') || 'software_id differs'}`,
      );
    }
    this.#validated.set(resolved, copy as ResolvedTemplate);
    return copy as ResolvedTemplate;
  }
}

/**
 * The effective metadata of an instance: the template's settings, with the fields the template
 * lets instances set taken from the instance's own record.
 *
 * @internal
 */
export function mergeTemplate(
  template: ResolvedTemplate,
  record: Record<string, unknown>,
): Record<string, unknown> {
  // A copy: oidc-provider may change what it is handed, and the template is shared.
  const merged = copyJsonData(template.client as unknown as Record<string, unknown>);
  for (const field of [...RECORD_FIELDS, ...template.instanceFields]) {
    if (record[field] !== undefined) merged[field] = record[field];
  }
  const chosen = chosenAuthMethod(template, record);
  if (chosen) merged.token_endpoint_auth_method = chosen;
  return merged;
}

/**
 * What an instance record stores: only its own fields (identity, credentials and the fields
 * its template lets it set, where they differ from the template's), so template changes reach it.
 *
 * @internal
 */
export function ownFields(
  template: ResolvedTemplate,
  metadata: Record<string, unknown>,
): Record<string, unknown> {
  const own: Record<string, unknown> = {};
  for (const field of RECORD_FIELDS) {
    if (metadata[field] !== undefined) own[field] = metadata[field];
  }
  const chosen = chosenAuthMethod(template, metadata);
  if (chosen) own.token_endpoint_auth_method = chosen;
  const inherited = template.client as unknown as Record<string, unknown>;
  for (const field of template.instanceFields) {
    // A value equal to the template's is inherited, not pinned: an RFC 7592 update sends the
    // effective metadata back, and a later template change must still reach the instance.
    if (
      metadata[field] !== undefined &&
      JSON.stringify(metadata[field]) !== JSON.stringify(inherited[field])
    ) {
      own[field] = metadata[field];
    }
  }
  return own;
}

/**
 * The fields of a registration request an instance may not send for this template: anything
 * but `software_id` and the template's instance fields.
 *
 * @internal
 */
export function fieldsNotAllowed(
  template: ResolvedTemplate,
  body: Record<string, unknown>,
  effective?: Record<string, unknown>,
): string[] {
  const allowed = new Set<string>(['software_id', ...template.instanceFields]);
  return Object.keys(body).filter((field) => {
    if (allowed.has(field)) return false;
    // With attestClientAuth an instance picks its method: the template's, or an attestation one.
    if (
      field === 'token_endpoint_auth_method' &&
      template.attestClientAuth &&
      (body[field] === template.client.token_endpoint_auth_method ||
        chosenAuthMethod(template, body))
    ) {
      return false;
    }
    // RFC 7592 §2.2: an update sends the full metadata back; unchanged values are fine.
    return !(effective && JSON.stringify(effective[field]) === JSON.stringify(body[field]));
  });
}
