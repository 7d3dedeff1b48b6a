import Koa, { type Middleware } from 'koa';
import { errors } from 'oidc-provider';
import type { ResolvedAssuranceOptions } from '../attestation/options.js';
import { ConfigurationError } from '../core/errors.js';
import type { PasskeyService } from '../passkeys/service.js';
import type { Assembly, Emit } from '../provider/assembly.js';
import type { ProviderBridge } from '../provider/bridge.js';
import { sizeClientCache } from '../provider/client-cache.js';
import type { RequestIds } from '../provider/logging.js';
import { logAppErrors } from '../provider/logging.js';
import type { ActiveInstance } from '../registration/instance-policy.js';
import type { ResolvedRegistrationOptions } from '../registration/options.js';
import type { TemplateSource } from '../registration/templates.js';
import { instanceClientAdapter } from './client-records.js';
import { createAdminApi, createSelfService } from './http.js';
import { wireInstanceEvents } from './instance-events.js';
import { InstanceGuard } from './instance-guard.js';
import { InstanceManager } from './manager.js';
import type { ResolvedInstanceOptions } from './options.js';
import type { InstanceEvents, InstanceInfo, InstancePage, InstancePageOptions } from './types.js';

/**
 * Lists and revokes instance clients (the app installs on a user's devices).
 *
 * @group Instances
 */
export interface InstanceManagement {
  /**
   * All the account's instances, active and recently revoked, oldest first. Everything in one
   * array: prefer {@link InstanceManagement.page} for accounts with many installs.
   */
  list(accountId: string): Promise<InstanceInfo[]>;
  /**
   * One page of the account's instances, in the order of `list`: at most `limit` (1–100,
   * default 50) after `cursor`, and the `nextCursor` to read on with (absent on the last page).
   *
   * @throws RangeError when `limit` is not an integer from 1 to 100, or `cursor` is malformed,
   *   altered or was issued for another account.
   */
  page(accountId: string, options?: InstancePageOptions): Promise<InstancePage>;
  /** One instance, or `undefined` when no instance client has that id. */
  get(clientId: string): Promise<InstanceInfo | undefined>;
  /**
   * Revokes an instance: it can no longer authenticate, and every grant and token it holds is
   * revoked at once. Revoking a revoked instance changes nothing.
   *
   * @returns the instance as it now is, or `undefined` when there is none.
   */
  revoke(clientId: string): Promise<InstanceInfo | undefined>;
  /**
   * Revokes every instance of an account not yet revoked (active and pending).
   *
   * @returns the instances revoked now.
   */
  revokeAll(accountId: string): Promise<InstanceInfo[]>;
}

/**
 * @deprecated Use {@link InstanceManagement}: the same interface under the library's one word.
 * @group Deprecated
 */
export type DeviceManagement = InstanceManagement;

/** The options the instances feature reads. @internal */
export interface InstancesSettings {
  instances: ResolvedInstanceOptions;
  ttl: { grant: number };
  assurance: ResolvedAssuranceOptions;
  registration: ResolvedRegistrationOptions;
  proxy: unknown;
}

/** What the instances feature gives the features installed after it, and the server. @internal */
export interface InstalledInstances {
  readonly manager: InstanceManager;
  /** The instance's token rules (scopes within its level, its own account only). */
  readonly guard: InstanceGuard;
  /** An account's active instances, as the per-account limit counts them, oldest first. */
  active(accountId: string): Promise<ActiveInstance[]>;
  /** Revokes an instance to make room under the per-account limit. */
  revoke(clientId: string): Promise<void>;
  /** The public face: `server.instances` (and its alias `server.devices`). */
  readonly management: InstanceManagement;
  /** The admin API as Koa middleware. @throws ConfigurationError without admin credentials. */
  adminApi(): Middleware;
  /** The admin API as a Koa app of its own, for `node:http` and Express. */
  adminApp(requestIds: RequestIds): Koa;
}

/**
 * Installs instance clients: their stored records read through their templates, the
 * token rules every instance obeys, first use and the per-account limit, the instance events, the
 * self-service and admin APIs.
 *
 * @internal
 */
export function installInstances(
  assembly: Assembly,
  o: InstancesSettings,
  templates: TemplateSource,
  passkeys: PasskeyService,
): InstalledInstances {
  const { store } = assembly;
  const emit: Emit<InstanceEvents> = assembly.emit;
  const manager = new InstanceManager({
    store,
    clients: store.adapter('Client'),
    templates,
    keepRevokedFor: o.instances.keepRevokedFor,
    activityTtl: o.ttl.grant,
    emit,
  });
  const guard = new InstanceGuard(o.assurance.minimumLevels);
  const limit = o.registration.maxInstancesPerAccount;

  assembly.wrapAdapter('Client', (stored) =>
    instanceClientAdapter(stored, store, templates, o.assurance.minimumLevels),
  );
  // The token's scope and account are checked, the instance's first use is recorded (the
  // account limit applies then), and the instance's level travels in it.
  assembly.tokenClaims(async (ctx, token) => {
    const record = guard.assertToken(ctx.oidc.client, token);
    if (!record) return undefined;
    const refusal =
      record.unused_until && token.clientId
        ? await manager.markUsed(token.clientId, record.account_id, limit)
        : undefined;
    if (refusal) {
      const refused = new errors.InvalidGrant();
      refused.error_description = refusal;
      throw refused;
    }
    return { cal: record.cal ?? 'none' };
  });
  assembly.checkRefresh((ctx) => {
    guard.assertToken(ctx.oidc.client, ctx.oidc.entities.RefreshToken ?? {});
  });
  assembly.changeInteractionPolicy((policy) => guard.addInteractionChecks(policy));
  assembly.onProvider((provider) => {
    sizeClientCache(provider, o.registration.instances.cacheSize);
    wireInstanceEvents(provider, manager, emit);
  });
  // The admin scope is known to oidc-provider, but only admin clients list it; they obtain
  // admin API tokens with client_credentials.
  if (o.instances.adminClients.length > 0) {
    assembly.scopes.push(o.instances.adminScope);
    assembly.clientCredentials = true;
  }
  const selfServiceScope = o.instances.selfServiceScope;
  if (selfServiceScope) {
    assembly.use((_provider, bridge) =>
      createSelfService(bridge, manager, {
        scope: selfServiceScope,
        realm: assembly.issuer,
        passkeys,
      }),
    );
  }

  let bridge: ProviderBridge | undefined;
  assembly.onProvider((_provider, providerBridge) => {
    bridge = providerBridge;
  });
  const adminApi = () => {
    if (o.instances.adminClients.length === 0 && !o.instances.adminSecret) {
      throw new ConfigurationError([
        'options.instances.adminClients or options.instances.adminSecret is required for the admin API',
      ]);
    }
    return createAdminApi(
      bridge as ProviderBridge,
      manager,
      {
        adminClients: new Set(o.instances.adminClients),
        adminScope: o.instances.adminScope,
        adminSecret: o.instances.adminSecret,
        realm: `${assembly.issuer} admin`,
      },
      passkeys,
    );
  };

  return {
    manager,
    guard,
    // Unused instances do not count: abandoned registrations block no one.
    active: async (accountId) =>
      (await manager.list(accountId))
        .filter((d) => d.status === 'active')
        .map((d) => ({ clientId: d.clientId, createdAt: d.createdAt })),
    revoke: async (clientId) => {
      await manager.revoke(clientId, 'limit');
    },
    management: {
      list: (accountId) => manager.list(accountId),
      page: (accountId, options) => manager.page(accountId, options),
      get: (clientId) => manager.get(clientId),
      revoke: (clientId) => manager.revoke(clientId, 'api'),
      revokeAll: (accountId) => manager.revokeAll(accountId, 'api'),
    },
    adminApi,
    adminApp(requestIds) {
      const app = new Koa();
      app.proxy = o.proxy !== false;
      logAppErrors(app, assembly.logger, requestIds);
      app.use(requestIds.middleware());
      app.use(adminApi());
      return app;
    },
  };
}
