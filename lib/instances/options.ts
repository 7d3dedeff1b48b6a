// The instance management options (`instances`, formerly `devices`): type, defaults, schema,
// resolved shape, and the rules that tie the admin and self-service scopes to the offered scopes
// and static clients.
import type { ClientMetadata } from 'oidc-provider';
import type { DefaultsOf, WithDefaults } from '../core/options/resolve-types.js';
import { nonEmptyString, positiveInteger, scopeToken } from '../core/options/schema-pieces.js';

/**
 * Instance management settings: the admin API, self-service, and what revocation keeps.
 *
 * @group Options
 */
export interface InstanceManagementOptions {
  /**
   * Static clients (in {@link AuthServerOptions.clients}, with the `client_credentials` grant)
   * whose access tokens with {@link InstanceManagementOptions.adminScope} open the admin API.
   *
   * @default []
   */
  adminClients?: string[];
  /**
   * The scope an admin client's token needs. Reserved: not offered to any other client.
   *
   * @default 'devices:admin'
   */
  adminScope?: string;
  /**
   * A bearer secret (at least 32 characters) that also opens the admin API, for simple
   * deployments without an admin client.
   */
  adminSecret?: string;
  /**
   * The scope a user's own access token needs at the self-service endpoint (`/instances`, also
   * at its former path `/devices`). The endpoint is off when unset; the scope must be in
   * {@link AuthServerOptions.scopes}.
   */
  selfServiceScope?: string;
  /**
   * How long a revoked instance stays listed (with status `revoked`), in seconds.
   *
   * @default 2592000 (30 days)
   */
  keepRevokedFor?: number;
}

/**
 * @deprecated Use {@link InstanceManagementOptions}: the same settings under the library's one word.
 * @group Deprecated
 */
export type DeviceOptions = InstanceManagementOptions;

/** Defaults of {@link AuthServerOptions.instances} (and of its alias `devices`). @internal */
export const INSTANCE_DEFAULTS = {
  adminClients: [],
  adminScope: 'devices:admin',
  keepRevokedFor: 2592000,
} as const satisfies DefaultsOf<InstanceManagementOptions>;

/** The schema of {@link AuthServerOptions.instances} (and of its alias `devices`). @internal */
export const instancesSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    adminClients: { type: 'array', uniqueItems: true, items: nonEmptyString },
    adminScope: scopeToken,
    adminSecret: { type: 'string', minLength: 32 },
    selfServiceScope: scopeToken,
    keepRevokedFor: positiveInteger,
  },
} as const;

/**
 * `instances` with its defaults filled in (the deprecated `devices` is resolved at `instances` too).
 *
 * @internal
 */
export type ResolvedInstanceOptions = WithDefaults<
  InstanceManagementOptions,
  typeof INSTANCE_DEFAULTS
>;

/** What the instance rules read. @internal */
export interface InstanceRuleInput {
  scopes: readonly string[];
  clients: readonly ClientMetadata[];
  instances: ResolvedInstanceOptions;
}

/**
 * Instance management: admin clients and scopes that only they, or the users, can obtain.
 *
 * @internal
 */
export function instanceOptionProblems(o: InstanceRuleInput): string[] {
  const problems: string[] = [];
  const d = o.instances;
  if (o.scopes.includes(d.adminScope)) {
    problems.push(`options.scopes must not include the admin scope '${d.adminScope}'`);
  }
  for (const [i, id] of d.adminClients.entries()) {
    const client = o.clients.find((c) => c.client_id === id);
    const path = `options.instances.adminClients[${i}] '${id}'`;
    if (!client) {
      problems.push(`${path} is not in options.clients`);
      continue;
    }
    if (!client.grant_types?.includes('client_credentials')) {
      problems.push(`${path} must have the client_credentials grant type`);
    }
    if (
      !String(client.scope ?? '')
        .split(' ')
        .includes(d.adminScope)
    ) {
      problems.push(`${path} must have the scope '${d.adminScope}'`);
    }
    if (client.token_endpoint_auth_method === 'none') {
      problems.push(`${path} must be a confidential client`);
    }
  }
  for (const [i, client] of o.clients.entries()) {
    const scopes = String(client.scope ?? '').split(' ');
    if (scopes.includes(d.adminScope) && !d.adminClients.includes(client.client_id)) {
      problems.push(
        `options.clients[${i}].scope must not include '${d.adminScope}': only admin clients may obtain it`,
      );
    }
  }
  if (d.selfServiceScope && !o.scopes.includes(d.selfServiceScope)) {
    problems.push(
      `options.instances.selfServiceScope '${d.selfServiceScope}' is not in options.scopes`,
    );
  }
  return problems;
}
