import { randomBytes } from 'node:crypto';
import type { ClientMetadata } from 'oidc-provider';
import { errors } from 'oidc-provider';
import type { InstalledAttestation } from '../attestation/install.js';
import type { RegistrationEvents } from '../attestation/types.js';
import type { AccountOptions } from '../core/accounts.js';
import type { FallbackAuthMethod } from '../core/instance-record.js';
import type { Assembly, Emit } from '../provider/assembly.js';
import { createDcrGate } from './dcr-gate.js';
import { type ActiveInstance, createInstancePolicy } from './instance-policy.js';
import type { RegistrationClientOptions, ResolvedRegistrationOptions } from './options.js';
import { TemplateSource } from './templates.js';

/** Name of the oidc-provider registration policy that instance registrations carry. @internal */
export const INSTANCE_POLICY = 'mobile-oidc-provider/instance';

/** The options the registration feature reads. @internal */
export interface RegistrationSettings {
  issuer: string;
  accounts: AccountOptions;
  ttl: { grant: number };
  clients: readonly ClientMetadata[];
  registrationClients: readonly RegistrationClientOptions[];
  registration: ResolvedRegistrationOptions;
  oidcProvider: { routes?: { registration?: string } | undefined };
}

/** The DCR token: the access token whose audience is the registration endpoint. @internal */
export interface DcrTokenSettings {
  /** The registration endpoint's URL: every DCR token's audience. */
  readonly resource: string;
  readonly scope: string;
  readonly ttl: number;
  /** The registration clients: the users' apps before they register. */
  readonly registrationClientIds: ReadonlySet<string>;
}

/** What the registration feature gives the features installed after it. @internal */
export interface InstalledRegistration {
  readonly dcrToken: DcrTokenSettings;
  /**
   * Grant types the server gives every instance as it is loaded, never stored: features
   * installed later add theirs (the RFC 8693 exchange of native sign-in).
   */
  readonly serverGrants: string[];
}

/** What the instances feature offers the registration rules (the per-account limit). */
interface Instances {
  active(accountId: string): Promise<ActiveInstance[]>;
  revoke(clientId: string): Promise<void>;
}

/**
 * Installs Dynamic Client Registration (RFC 7591/7592) for instance clients: the registration
 * clients and their DCR tokens, the DCR token gate in front of the registration endpoint, and
 * the registration rules (templates, evidence, the per-account limit).
 *
 * @internal
 */
export function installRegistration(
  assembly: Assembly,
  o: RegistrationSettings,
  templates: TemplateSource,
  attestation: InstalledAttestation,
  instances: Instances,
): InstalledRegistration {
  const { registration } = o;
  const dcr = registration.dcrToken;
  const registrationPath = o.oidcProvider.routes?.registration ?? '/reg';
  const resource = assembly.url(registrationPath);
  const registrationClientIds = new Set(o.registrationClients.map((c) => c.client_id));
  // Clients whose tokens may open the registration endpoint: users' and fallback clients'.
  const dcrClientIds = new Set([...registrationClientIds, ...registration.fallbackClients]);
  const serverGrants: string[] = [];
  const emit: Emit<RegistrationEvents> = assembly.emit;
  const refused = (reason: string, ip: string, softwareId?: string) =>
    emit('registration.rejected', { reason, ip, ...(softwareId ? { softwareId } : {}) });

  // Registration clients get dcr alone; fallback clients get dcr, by default alone: it is what
  // they are for. Every other client's scope list leaves dcr out (invalid_scope).
  const fallback = new Set(registration.fallbackClients);
  assembly.changeStaticClients((clients) => [
    ...o.registrationClients.map(
      (c): ClientMetadata => ({
        client_id: c.client_id,
        ...(c.client_name ? { client_name: c.client_name } : {}),
        redirect_uris: c.redirect_uris,
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        scope: dcr.scope,
      }),
    ),
    ...clients.map((c) =>
      fallback.has(c.client_id)
        ? { ...c, scope: c.scope ? `${c.scope} ${dcr.scope}` : dcr.scope }
        : c,
    ),
  ]);
  assembly.scopes.push(dcr.scope);
  if (registration.fallbackClients.length > 0) assembly.clientCredentials = true;
  assembly.clientMetadata.push('software_id', 'software_version');

  const instancePolicy = createInstancePolicy({
    findAccount: (accountId) => o.accounts.findAccount(accountId),
    rules: registration.instances,
    serverGrants,
    hooks: registration.policies,
    phases: assembly,
    templates,
    templatesOnly: registration.templatesOnly,
    ...(registration.maxInstancesPerAccount ? { limit: registration.maxInstancesPerAccount } : {}),
    // Unused instances do not count: abandoned registrations block no one.
    activeInstances: (accountId) => instances.active(accountId),
    revokeInstance: (clientId) => instances.revoke(clientId),
    authorize: attestation.authorize,
    reattest: attestation.reattest,
    onAuthorized: (authority, clientId, softwareId) =>
      emit(
        authority.proof.method === 'attestation'
          ? 'registration.attested'
          : 'registration.fallback',
        {
          clientId,
          cal: authority.cal,
          proof: authority.proof,
          ...(softwareId ? { softwareId } : {}),
        },
      ),
    onRefused: refused,
  });
  assembly.features.registration = {
    enabled: true,
    initialAccessToken: true,
    issueRegistrationAccessToken: true,
    policies: { [INSTANCE_POLICY]: instancePolicy },
    // 256 bits of entropy (RFC 7591 §2 leaves it to the server; RFC 9700 §2.5 asks for it).
    secretFactory: async () => randomBytes(32).toString('base64url'),
  };

  // A DCR token is single-use: each DCR consent starts a fresh grant holding exactly what its
  // page listed, rather than reusing an earlier consent (and that grant's nearer expiry).
  assembly.settings.loadExistingGrant = async (ctx) => {
    const clientId = ctx.oidc.client?.clientId;
    const grantId =
      ctx.oidc.result?.consent?.grantId ??
      (clientId && !registrationClientIds.has(clientId)
        ? ctx.oidc.session?.grantIdFor(clientId)
        : undefined);
    return grantId ? ctx.oidc.provider.Grant.find(grantId) : undefined;
  };
  // A registration client's grant only ever yields DCR tokens: it need not outlive one.
  assembly.settings.ttl = {
    ...assembly.settings.ttl,
    Grant: (_ctx, grant) =>
      grant.clientId && registrationClientIds.has(grant.clientId) ? dcr.ttl : o.ttl.grant,
  };
  // The DCR token is an access token whose audience is the registration endpoint, so it is
  // useless at userinfo and at any resource server that checks its audience.
  assembly.defaultResource((client) => (dcrClientIds.has(client.clientId) ? resource : undefined));
  assembly.resolveResource(async (_ctx, requested, client) => {
    if (!dcrClientIds.has(client.clientId)) return undefined;
    // Registration and fallback clients exist for one purpose: no API tokens.
    if (requested !== resource) throw new errors.InvalidTarget();
    return {
      scope: dcr.scope,
      audience: resource,
      accessTokenTTL: dcr.ttl,
      accessTokenFormat: 'opaque',
    };
  });

  const fallbackClients = new Map(
    registration.fallbackClients.map((id) => {
      const client = o.clients.find((c) => c.client_id === id);
      const method = client?.token_endpoint_auth_method ?? 'client_secret_basic';
      return [id, method as FallbackAuthMethod] as const;
    }),
  );
  assembly.use((_provider, bridge) =>
    createDcrGate(bridge, {
      registrationPath,
      resource,
      scope: dcr.scope,
      maxUses: dcr.maxUses,
      registrationClientIds,
      fallbackClients,
      // Evidence alone may open a registration only where some template accepts that.
      allowWithoutToken:
        registration.templates.some((t) => t.attestation && t.attestation.user !== 'required') ||
        (registration.templateResolver !== undefined && attestation.enabled),
      onRefused: refused,
      store: assembly.store,
      destroyClient: (clientId) => assembly.adapter('Client').destroy(clientId),
      accounts: o.accounts,
      rateLimit: registration.rateLimit ?? {},
      policyName: INSTANCE_POLICY,
      issuer: o.issuer,
    }),
  );

  return {
    dcrToken: { resource, scope: dcr.scope, ttl: dcr.ttl, registrationClientIds },
    serverGrants,
  };
}

/** The templates of the `registration` options: configured ones and the resolver's. @internal */
export const templateSource = (registration: ResolvedRegistrationOptions): TemplateSource =>
  new TemplateSource(registration.templates, registration.templateResolver, registration.instances);
