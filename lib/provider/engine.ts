import Provider, { type Adapter } from 'oidc-provider';
import { type ProxyTrust, trustProxies } from '../http/client-address.js';
import { providerAdapterFactory } from './adapter.js';
import type { Assembly } from './assembly.js';
import { providerBridge } from './bridge.js';
import { refuseNonStringAlgorithms } from './client-metadata-guard.js';
import { buildProviderConfiguration, type EngineOptions, staticClients } from './configuration.js';
import { refuseUntrustedErrorRedirects } from './error-redirects.js';
import { logProviderEvents, type RequestIds } from './logging.js';
import { engineBoundary } from './middleware.js';
import { RefreshRotation } from './refresh-rotation.js';
import { RequestPrefetch } from './request-prefetch.js';

/** The options the engine reads beyond the configuration's. @internal */
export interface EngineSettings extends EngineOptions {
  proxy: ProxyTrust;
  ttl: EngineOptions['ttl'] & { refreshTokenReuseGrace: number; refreshTokenReuseLimit: number };
}

/**
 * Builds oidc-provider from what the installed features contributed, with the engine's own
 * layer around them: request ids, proxy trust, JSON errors, refresh rotation and private
 * instance records run before any feature's middleware.
 *
 * @internal
 */
export function buildProvider(
  assembly: Assembly,
  o: EngineSettings,
  requestIds: RequestIds,
): Provider {
  const { store } = assembly;
  const contributed = assembly.contributions();
  const rotation = new RefreshRotation(store, {
    graceSeconds: o.ttl.refreshTokenReuseGrace,
    reuseLimit: o.ttl.refreshTokenReuseLimit,
    onReuse: (event) => assembly.emit('refresh_token.reuse_detected', event),
    onRetry: (event) => assembly.emit('refresh_token.retried', event),
  });
  const clients = staticClients(o, assembly);
  const clientWrappers = contributed.adapterWrappers.get('Client') ?? [];
  const staticClientIds = new Set(clients.map((c) => c.client_id));
  const stored = providerAdapterFactory(store, staticClientIds, {
    Client: (stored) =>
      rotation.client(clientWrappers.reduce((wrapped, wrap) => wrap(wrapped), stored)),
    RefreshToken: (stored) => rotation.refreshToken(stored),
    AuthorizationCode: (stored) => rotation.authorizationCode(stored),
    AccessToken: (stored) => rotation.accessToken(stored),
  });
  // Introspection and userinfo read a token's grant and client with the token's own answer.
  const readers = { Grant: stored('Grant'), Client: stored('Client') };
  const prefetch = new RequestPrefetch(readers, staticClientIds);
  const adapter = (model: string) => prefetch.adapter(model, stored(model));
  assembly.providerBuilt(adapter as (model: string) => Adapter);
  const provider = new Provider(
    assembly.issuer,
    buildProviderConfiguration(o, assembly, adapter, clients),
  );
  refuseNonStringAlgorithms(provider);
  refuseUntrustedErrorRedirects(provider);
  // Any trusted proxy: X-Forwarded-Proto/Host are read. Client addresses: trustProxies below.
  provider.proxy = o.proxy !== false;
  // With a hop count, Koa's ctx.ip agrees with clientAddress() for code that still reads it.
  if (typeof o.proxy === 'number' || o.proxy === true) provider.maxIpsCount = Number(o.proxy);
  const bridge = providerBridge(provider);
  for (const setUp of contributed.onProvider) setUp(provider, bridge);
  logProviderEvents(provider, assembly.logger, requestIds);

  // Before every limiter: the one client address they and the events use.
  // Without trusted proxies the socket peer is the client: nothing to record per request.
  if (o.proxy !== false) provider.use(trustProxies(o.proxy));
  provider.use(engineBoundary(provider, requestIds, rotation));
  for (const middleware of contributed.middleware) provider.use(middleware(provider, bridge));
  return provider;
}
