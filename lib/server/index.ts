import { createHmac } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Middleware } from 'koa';
import Provider from 'oidc-provider';
import { MemoryStore } from '../../adapters/memory.js';
import { createInteractionRoutes, interactionUrl } from '../interactions/index.js';
import { resolveKeys } from '../keys/index.js';
import type { AuthServerOptions } from '../options/types.js';
import { resolveOptions } from '../options/validate.js';
import {
  buildProviderConfiguration,
  INSTANCE_POLICY,
  staticClients,
} from '../provider/configuration.js';
import { createDcrGate } from '../registration/dcr-gate.js';
import {
  createInstancePolicy,
  INSTANCE_FIELD,
  instanceRecord,
} from '../registration/instance-policy.js';
import { guardStore, providerAdapterFactory } from '../storage/index.js';
import { embeddedProvider, jsonErrors, stripFromRegistrationResponses } from './middleware.js';

/**
 * A running mobile-oidc-provider authorization server.
 *
 * @group Server
 */
export interface AuthServer {
  /** The underlying oidc-provider instance: an escape hatch for what the library does not wrap. */
  readonly provider: Provider;
  /** The issuer identifier. */
  readonly issuer: string;
  /**
   * A `(req, res)` request handler for `node:http` and Express. Mount it under the issuer's path:
   * `app.use('/oidc', server.callback())` for issuer `https://example.com/oidc`.
   */
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  /**
   * Koa middleware for an existing Koa app. Mount it under the issuer's path (e.g. with
   * `koa-mount`); requests it does not serve fall through to the next middleware. Behind a TLS
   * proxy set `app.proxy = true` on the outer app.
   */
  koa(): Middleware;
  /**
   * Releases what the server opened: the default in-memory store. A store passed in
   * `options.store` stays open; close it yourself.
   */
  close(): Promise<void>;
}

/**
 * Creates the authorization server: validates `options` (throwing a `ConfigurationError` naming
 * each bad option), then configures oidc-provider with the DCR token gate, the instance
 * registration rules, the sign-in pages and the storage.
 *
 * @group Server
 */
export async function createAuthServer(options: AuthServerOptions): Promise<AuthServer> {
  const o = resolveOptions(options);
  const ownsStore = !o.store;
  const store = o.store ?? new MemoryStore();
  const keys = await resolveKeys(o, (message) => console.warn(message));
  const basePath = new URL(o.issuer).pathname.replace(/\/$/, '');

  // The registration endpoint's URL is the DCR token's audience; known once routes are resolved.
  const registrationPath = o.oidcProvider.routes?.registration ?? '/reg';
  const registrationResource = new URL(`${basePath}${registrationPath}`, o.issuer).href;

  const adapters = providerAdapterFactory(store, new Set(staticClients(o).map((c) => c.client_id)));
  const configuration = buildProviderConfiguration(o, {
    adapter: adapters,
    keys,
    registrationResource,
    interactionUrl: (uid) => interactionUrl(basePath, uid),
    instancePolicy: createInstancePolicy(o.registration.instances, o.registration.policies),
  });
  const provider = new Provider(o.issuer, configuration);
  provider.proxy = o.proxy;

  provider.use(jsonErrors(provider));
  provider.use(stripFromRegistrationResponses(registrationPath, INSTANCE_FIELD));
  provider.use(
    createDcrGate(provider, {
      registrationPath,
      resource: registrationResource,
      scope: o.registration.dcrToken.scope,
      maxUses: o.registration.dcrToken.maxUses,
      registrationClientIds: new Set(o.registrationClients.map((c) => c.client_id)),
      store: guardStore(store),
      destroyClient: async (clientId) => {
        await adapters('Client').destroy(clientId);
      },
      accounts: o.accounts,
      policyName: INSTANCE_POLICY,
      issuer: o.issuer,
    }),
  );
  provider.use(
    createInteractionRoutes(provider, {
      authenticate: o.accounts.authenticate,
      csrfSecret: createHmac('sha256', keys.cookieKeys[0] as string)
        .update('csrf')
        .digest('base64url'),
      basePath,
      title: o.interactions.title,
      // An instance registered by this very user is the user's own app: no second consent.
      autoConsent: ({ accountId, metadata }) => instanceRecord(metadata)?.account_id === accountId,
    }),
  );

  return {
    provider,
    issuer: o.issuer,
    callback: () => provider.callback(),
    koa: () => embeddedProvider(provider),
    async close() {
      if (ownsStore) await store.close();
    },
  };
}
