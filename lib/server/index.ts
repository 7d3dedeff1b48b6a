import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Middleware } from 'koa';
import type Provider from 'oidc-provider';
import { MemoryStore } from '../../adapters/memory.js';
import { installAttestation } from '../attestation/install.js';
import type { ClientAttestationEvents, RegistrationEvents } from '../attestation/types.js';
import { installClientAttestation } from '../client-attestation/install.js';
import { consoleLogger, safeLogger } from '../core/logger.js';
import { installFederation } from '../federation/install.js';
import type { FederationEvents } from '../federation/types.js';
import { installFirstParty } from '../first-party/install.js';
import { type HealthReport, installHealth } from '../health/index.js';
import { type InstanceManagement, installInstances } from '../instances/install.js';
import type { InstanceEvents } from '../instances/types.js';
import type { SignInEvents } from '../interactions/events.js';
import { installInteractions } from '../interactions/install.js';
import { resolveKeys } from '../keys/index.js';
import { installNativeSso } from '../native-sso/install.js';
import type { NativeSsoEvents, NativeSsoManagement } from '../native-sso/types.js';
import type { AuthServerOptions } from '../options/types.js';
import { resolveOptions } from '../options/validate.js';
import { installPasskeys } from '../passkeys/install.js';
import type { PasskeyEvents, PasskeyManagement } from '../passkeys/types.js';
import type { PhoneApprovalEvents } from '../phone-approval/events.js';
import { installPhoneApproval } from '../phone-approval/install.js';
import { Assembly } from '../provider/assembly.js';
import { buildProvider } from '../provider/engine.js';
import { introspectLocally } from '../provider/local-introspection.js';
import { RequestIds } from '../provider/logging.js';
import { embeddedProvider } from '../provider/middleware.js';
import { phasedAccounts } from '../provider/phases.js';
import type { RefreshTokenEvents } from '../provider/refresh-events.js';
import { installRegistration, templateSource } from '../registration/install.js';

import { guardStore } from '../storage/guard.js';
import { StorageHealth } from '../storage/health.js';
import { openTelemetry } from '../telemetry/index.js';

export type { DeviceManagement, InstanceManagement } from '../instances/install.js';

/**
 * Every event an auth server emits, by name: instance lifecycle, registration decisions,
 * throttled sign-ins, federated sign-ins and detected refresh token reuse.
 *
 * @group Server
 */
export type ServerEvents = InstanceEvents &
  RegistrationEvents &
  ClientAttestationEvents &
  SignInEvents &
  FederationEvents &
  PasskeyEvents &
  PhoneApprovalEvents &
  NativeSsoEvents &
  RefreshTokenEvents;

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
  /** Instance management: list and revoke a user's instance clients. */
  readonly instances: InstanceManagement;
  /**
   * @deprecated Use {@link AuthServer.instances}: the same object under the library's one word.
   */
  readonly devices: InstanceManagement;
  /** Passkey management: list and remove a user's passkeys (whether or not passkeys are enabled). */
  readonly passkeys: PasskeyManagement;
  /**
   * Native SSO: list and end an account's device sessions (whether or not a template takes
   * part in Native SSO).
   */
  readonly nativeSso: NativeSsoManagement;
  /**
   * The admin API as Koa middleware; mount it where only administrators reach it (e.g.
   * `app.use(mount('/admin', server.adminApi()))`). Routes: `GET /accounts/:accountId/instances`,
   * `DELETE /accounts/:accountId/instances`, `GET /instances/:clientId`,
   * `DELETE /instances/:clientId` (each also at its deprecated `devices` path), and for passkeys
   * `GET /accounts/:accountId/passkeys`, `GET /passkeys/:credentialId`,
   * `DELETE /passkeys/:credentialId`.
   * Each request needs `Authorization: Bearer` with an admin client's access token carrying
   * `instances.adminScope`, or `instances.adminSecret`.
   *
   * @throws ConfigurationError when neither `instances.adminClients` nor `instances.adminSecret`
   *   is set.
   */
  adminApi(): Middleware;
  /** The admin API as a `(req, res)` handler for `node:http` and Express (see {@link AuthServer.adminApi}). */
  adminCallback(): (req: IncomingMessage, res: ServerResponse) => void;
  /**
   * Readiness, for a probe or dashboard of your own: `ok` when the store answered a trivial
   * request (Redis: `PING`) within 1 s and the signing keys are loaded, else `unavailable` with
   * a fixed reason per failed check. Never rejects and never waits much longer than that second;
   * concurrent calls share one check, and a store that hangs gets one ping at a time.
   */
  health(): Promise<HealthReport>;
  /**
   * Liveness and readiness probes as Koa middleware, relative to where it is mounted:
   * `GET /healthz` answers `200 {"status":"ok"}` whenever the process serves (liveness);
   * `GET /readyz` answers `200` or `503` with {@link AuthServer.health}'s report (readiness).
   * Both are `no-store`, carry no secret, and take `HEAD` too; other requests fall through.
   */
  healthApi(): Middleware;
  /**
   * The probes of {@link AuthServer.healthApi} as a `(req, res, next?)` handler for `node:http`
   * and Express (`app.use(server.healthCallback())`): a request for another path goes to `next`,
   * or gets a 404 when there is none.
   */
  healthCallback(): (req: IncomingMessage, res: ServerResponse, next?: () => void) => void;
  /**
   * Subscribes to an audit event: instance registration, update, delete, binding and
   * revocation; attested, fallback and refused registrations; throttled sign-ins.
   */
  on<E extends keyof ServerEvents>(event: E, listener: (payload: ServerEvents[E]) => void): this;
  /** Unsubscribes from an audit event. */
  off<E extends keyof ServerEvents>(event: E, listener: (payload: ServerEvents[E]) => void): this;
  /**
   * Introspects an access token of this server in process, as RFC 7662 answers a resource
   * server allowed to see every token (`{ active: false }` for anything else). For an API in
   * the same process: pass the server as the resource-server verifier's `server` option.
   */
  introspect(token: string): Promise<Record<string, unknown>>;
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
  const logger = safeLogger(o.logger ?? consoleLogger);
  const store = o.store ?? new MemoryStore();
  const keys = await resolveKeys(o, (message) => logger.warn({}, message));
  const requestIds = new RequestIds();
  const events = new EventEmitter();
  // Metrics and traces when the app registered an OpenTelemetry SDK; else nothing at all.
  const telemetry = openTelemetry();
  // Every store call goes through the guard: a failure answers 503, and an outage is logged once
  // when it starts and once when it ends.
  const guarded = guardStore(store, new StorageHealth(logger), telemetry?.store);
  const storeName = guarded.describe();
  logger.info({ store: storeName }, `store: ${storeName}`);
  const assembly = new Assembly(o.issuer, guarded, logger, keys, events);
  telemetry?.install(assembly);
  // Every call of the app's account hooks, by any feature or the engine, is a phase of its request.
  const f = { ...o, accounts: phasedAccounts(assembly, o.accounts) };

  // The features, in the order they build on each other.
  const templates = templateSource(f.registration);
  const passkeys = installPasskeys(assembly, f);
  const instances = installInstances(assembly, f, templates, passkeys.service);
  const attestation = installAttestation(assembly, f);
  const registration = installRegistration(assembly, f, templates, attestation, instances);
  await installClientAttestation(assembly, f, templates, attestation, instances.guard);
  const federation = installFederation(assembly, f, registration, instances.manager);
  const nativeSso = installNativeSso(assembly, f, templates, registration, (clientId, accountId) =>
    instances.manager.bind(clientId, accountId),
  );
  const interactions = installInteractions(
    assembly,
    f,
    instances,
    passkeys,
    federation,
    nativeSso.enabled ? nativeSso.management : undefined,
  );
  installFirstParty(assembly, f, templates, instances, interactions.throttle, {
    federation: federation.signIn,
    passkeys: passkeys.service,
  });
  installPhoneApproval(assembly, f, templates, instances, interactions);

  const provider = buildProvider(assembly, f, requestIds);
  let closing = false;
  const health = installHealth({
    closing: () => closing,
    // Through the guard: a probe's failure or answer shows in the storage outage log too.
    ping: () => guarded.ping(),
    keysLoaded: () => keys.jwks.keys.length > 0,
  });
  const server: AuthServer = {
    provider,
    issuer: o.issuer,
    instances: instances.management,
    devices: instances.management,
    passkeys: passkeys.management,
    nativeSso: nativeSso.management,
    callback: () => provider.callback(),
    introspect: (token) => introspectLocally(provider, token),
    koa: () => embeddedProvider(provider),
    adminApi: () => instances.adminApi(),
    adminCallback: () => instances.adminApp(requestIds).callback(),
    ...health,
    on(event, listener) {
      events.on(event, listener);
      return server;
    },
    off(event, listener) {
      events.off(event, listener);
      return server;
    },
    async close() {
      closing = true;
      if (ownsStore) await store.close();
    },
  };
  return server;
}
