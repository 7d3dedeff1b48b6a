import { createHmac } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Koa, { type Middleware } from 'koa';
import Provider from 'oidc-provider';
import { MemoryStore } from '../../adapters/memory.js';
import {
  type AuthorizeSettings,
  authorizeRegistration,
  reattestInstance,
} from '../attestation/authorize.js';
import { AttestationChallenges, createChallengeEndpoint } from '../attestation/challenges.js';
import type { ClientAttestationEvents, RegistrationEvents } from '../attestation/types.js';
import { appAttestAssertionCheck } from '../client-attestation/app-attest-assertions.js';
import {
  attestClientAuthFeature,
  popChallenges,
} from '../client-attestation/attest-client-auth.js';
import { createClientAttester } from '../client-attestation/attester.js';
import { AttesterKeys, derivedSecret } from '../client-attestation/attester-keys.js';
import { ConfigurationError } from '../core/errors.js';
import type { FallbackAuthMethod } from '../core/instance-record.js';
import { instanceRecord } from '../core/instance-record.js';
import { consoleLogger, safeLogger } from '../core/logger.js';
import { instanceClientAdapter } from '../devices/client-records.js';
import { wireDeviceEvents } from '../devices/device-events.js';
import { createAdminApi, createSelfService } from '../devices/http.js';
import { DeviceManager } from '../devices/manager.js';
import type { DeviceEvents, DeviceInfo, DevicePage, DevicePageOptions } from '../devices/types.js';
import { BrowserFederation } from '../federation/browser.js';
import { createNonceEndpoint, NativeSignInNonces } from '../federation/nonces.js';
import { FederatedSignIn } from '../federation/sign-in.js';
import {
  registerTokenExchange,
  TOKEN_EXCHANGE,
  withTokenExchangeGrant,
} from '../federation/token-exchange.js';
import type { FederationEvents } from '../federation/types.js';
import { trustProxies } from '../http/client-address.js';
import { createAccountRoutes } from '../interactions/account-routes.js';
import type { SignInEvents } from '../interactions/events.js';
import { interactionUrl } from '../interactions/index.js';
import { createInteractionRoutes } from '../interactions/interaction-routes.js';
import { SignInThrottle } from '../interactions/throttle.js';
import { resolveKeys } from '../keys/index.js';
import type { AuthServerOptions } from '../options/types.js';
import { resolveOptions } from '../options/validate.js';
import { PasskeyService } from '../passkeys/service.js';
import { relyingParty } from '../passkeys/settings.js';
import type { PasskeyEvents, PasskeyManagement } from '../passkeys/types.js';
import { providerAdapterFactory } from '../provider/adapter.js';
import { providerBridge } from '../provider/bridge.js';
import { sizeClientCache } from '../provider/client-cache.js';
import { refuseNonStringAlgorithms } from '../provider/client-metadata-guard.js';
import { refuseUntrustedErrorRedirects } from '../provider/error-redirects.js';
import { instanceRecordById } from '../provider/loaded-client.js';
import { introspectLocally } from '../provider/local-introspection.js';
import {
  embeddedProvider,
  jsonErrors,
  keepInstanceRecordsPrivate,
} from '../provider/middleware.js';
import type { RefreshTokenEvents } from '../provider/refresh-events.js';
import { RefreshRotation } from '../provider/refresh-rotation.js';
import { createDcrGate } from '../registration/dcr-gate.js';
import { createInstancePolicy } from '../registration/instance-policy.js';
import { TemplateSource } from '../registration/templates.js';
import { guardStore } from '../storage/guard.js';
import { StorageHealth } from '../storage/health.js';
import { logAppErrors, logProviderEvents, RequestIds } from './logging.js';
import {
  buildProviderConfiguration,
  INSTANCE_POLICY,
  nativeSignIn,
  staticClients,
} from './provider-configuration.js';

/**
 * Every event an auth server emits, by name: device lifecycle, registration decisions,
 * throttled sign-ins, federated sign-ins and detected refresh token reuse.
 *
 * @group Server
 */
export type ServerEvents = DeviceEvents &
  RegistrationEvents &
  ClientAttestationEvents &
  SignInEvents &
  FederationEvents &
  PasskeyEvents &
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
  /** Device management: list and revoke a user's instance clients. */
  readonly devices: DeviceManagement;
  /** Passkey management: list and remove a user's passkeys (whether or not passkeys are enabled). */
  readonly passkeys: PasskeyManagement;
  /**
   * The admin API as Koa middleware; mount it where only administrators reach it (e.g.
   * `app.use(mount('/admin', server.adminApi()))`). Routes: `GET /accounts/:accountId/devices`,
   * `DELETE /accounts/:accountId/devices`, `GET /devices/:clientId`, `DELETE /devices/:clientId`,
   * and for passkeys `GET /accounts/:accountId/passkeys`, `GET /passkeys/:credentialId`,
   * `DELETE /passkeys/:credentialId`.
   * Each request needs `Authorization: Bearer` with an admin client's access token carrying
   * `devices.adminScope`, or `devices.adminSecret`.
   *
   * @throws ConfigurationError when neither `devices.adminClients` nor `devices.adminSecret` is set.
   */
  adminApi(): Middleware;
  /** The admin API as a `(req, res)` handler for `node:http` and Express (see {@link AuthServer.adminApi}). */
  adminCallback(): (req: IncomingMessage, res: ServerResponse) => void;
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
 * Lists and revokes instance clients (the app installs on a user's devices).
 *
 * @group Devices
 */
export interface DeviceManagement {
  /**
   * All the account's instances, active and recently revoked, oldest first. Everything in one
   * array: prefer {@link DeviceManagement.page} for accounts with many installs.
   */
  list(accountId: string): Promise<DeviceInfo[]>;
  /**
   * One page of the account's instances, in the order of `list`: at most `limit` (1–100,
   * default 50) after `cursor`, and the `nextCursor` to read on with (absent on the last page).
   *
   * @throws RangeError when `limit` is not an integer from 1 to 100, or `cursor` is malformed,
   *   altered or was issued for another account.
   */
  page(accountId: string, options?: DevicePageOptions): Promise<DevicePage>;
  /** One instance, or `undefined` when no instance client has that id. */
  get(clientId: string): Promise<DeviceInfo | undefined>;
  /**
   * Revokes an instance: it can no longer authenticate, and every grant and token it holds is
   * revoked at once. Revoking a revoked instance changes nothing.
   *
   * @returns the instance as it now is, or `undefined` when there is none.
   */
  revoke(clientId: string): Promise<DeviceInfo | undefined>;
  /**
   * Revokes every instance of an account not yet revoked (active and pending).
   *
   * @returns the instances revoked now.
   */
  revokeAll(accountId: string): Promise<DeviceInfo[]>;
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
  const basePath = new URL(o.issuer).pathname.replace(/\/$/, '');

  // The registration endpoint's URL is the DCR token's audience; known once routes are resolved.
  const registrationPath = o.oidcProvider.routes?.registration ?? '/reg';
  const registrationResource = new URL(`${basePath}${registrationPath}`, o.issuer).href;

  // Every store call goes through the guard: a failure answers 503, and an outage is logged once
  // when it starts and once when it ends.
  const guarded = guardStore(store, new StorageHealth(logger));
  const events = new EventEmitter();
  const emit = <E extends keyof ServerEvents>(event: E, payload: ServerEvents[E]) => {
    events.emit(event, payload);
  };
  const templates = new TemplateSource(
    o.registration.templates,
    o.registration.templateResolver,
    o.registration.instances,
  );
  const devices = new DeviceManager({
    store: guarded,
    clients: guarded.adapter('Client'),
    templates,
    keepRevokedFor: o.devices.keepRevokedFor,
    activityTtl: o.ttl.grant,
    emit: (event, payload) => events.emit(event, payload),
  });
  // Passkeys: the service always exists (the APIs manage stored passkeys); the pages and the
  // passkey sign-in only with passkeys.enabled.
  const passkeys = new PasskeyService({
    store: guarded,
    challengeKey: createHmac('sha256', keys.cookieKeys[0] as string)
      .update('passkey-challenge')
      .digest(),
    relyingParty: relyingParty({
      issuer: o.issuer,
      development: o.development,
      title: o.interactions.title,
      passkeys: o.passkeys,
    }),
    findAccount: (accountId) => o.accounts.findAccount(accountId),
    emit,
  });
  const native = nativeSignIn(o);
  const nonces = new NativeSignInNonces(guarded, o.federation.nonce.ttl);
  const federation = new FederatedSignIn({
    providers: o.federation.providers,
    allowHttp: o.development,
    store: guarded,
    nonces,
    accounts: o.accounts,
    emit,
  });
  const rotation = new RefreshRotation(guarded, {
    graceSeconds: o.ttl.refreshTokenReuseGrace,
    reuseLimit: o.ttl.refreshTokenReuseLimit,
    onReuse: (event) => emit('refresh_token.reuse_detected', event),
  });
  const adapters = providerAdapterFactory(
    guarded,
    new Set(staticClients(o).map((c) => c.client_id)),
    {
      Client: (stored) => {
        const clients = instanceClientAdapter(
          stored,
          guarded,
          templates,
          o.assurance.minimumLevels,
        );
        return rotation.client(native ? withTokenExchangeGrant(clients) : clients);
      },
      RefreshToken: (stored) => rotation.refreshToken(stored),
      AuthorizationCode: (stored) => rotation.authorizationCode(stored),
      AccessToken: (stored) => rotation.accessToken(stored),
    },
  );
  const challenges = new AttestationChallenges(guarded, o.attestation.challenge.ttl);
  const attestationOn =
    Object.keys(o.attestation.verifiers).length > 0 ||
    o.registration.templates.some((t) => t.attestation);
  const challengePath = o.attestation.challenge.path;
  // Attestation-based client authentication: oidc-provider's attestClientAuth and the attester.
  const attester = o.attestation.attester;
  const attestOn = attester.enabled ?? o.registration.templates.some((t) => t.attestClientAuth);
  const attesterKeys = attestOn
    ? await AttesterKeys.create(attester.keys, keys.cookieKeys)
    : undefined;
  // Stateless PoP challenges: every process derives the same secret from the cookie keys.
  const popChallengeSecret = derivedSecret(
    keys.cookieKeys[0] as string,
    'oauth-client-attestation-pop-challenge',
  );
  const attesterUrl = new URL(`${basePath}${attester.path}`, o.issuer).href;
  const fallbackClients = new Map(
    o.registration.fallbackClients.map((id) => {
      const client = o.clients.find((c) => c.client_id === id);
      const method = client?.token_endpoint_auth_method ?? 'client_secret_basic';
      return [id, method as FallbackAuthMethod] as const;
    }),
  );
  const refused = (reason: string, ip: string, softwareId?: string) =>
    emit('registration.rejected', { reason, ip, ...(softwareId ? { softwareId } : {}) });
  const limit = o.registration.maxInstancesPerAccount;
  const pipeline: AuthorizeSettings = {
    verifiers: o.attestation.verifiers,
    builtIns: o.attestation,
    challenges,
    ...(o.attestation.policy ? { policy: o.attestation.policy } : {}),
    ...(o.assurance.resolve ? { resolve: o.assurance.resolve } : {}),
  };
  const configuration = buildProviderConfiguration(o, {
    adapter: adapters,
    keys,
    registrationResource,
    ...(attestationOn || attestOn
      ? { challengeEndpoint: new URL(`${basePath}${challengePath}`, o.issuer).href }
      : {}),
    ...(attestOn
      ? {
          attestClientAuth: {
            feature: attestClientAuthFeature({
              issuer: o.issuer,
              keys: attesterKeys,
              templates,
              challengeSecret: popChallengeSecret,
            }),
            dpopNonceSecret: derivedSecret(keys.cookieKeys[0] as string, 'dpop-nonce'),
            attesterEndpoint: attesterUrl,
            attesterJwksUri: new URL(`${basePath}${attester.jwksPath}`, o.issuer).href,
          },
        }
      : {}),
    ...(native
      ? {
          nativeSignInNonceEndpoint: new URL(`${basePath}${o.federation.nonce.path}`, o.issuer)
            .href,
        }
      : {}),
    interactionUrl: (uid) => interactionUrl(basePath, uid),
    firstUse: (clientId) => devices.markUsed(clientId, limit),
    ...(o.attestation.requireAppAttestAssertions
      ? { checkClientAssertion: appAttestAssertionCheck(guarded, o.ttl.grant) }
      : {}),
    instancePolicy: createInstancePolicy({
      findAccount: (accountId) => o.accounts.findAccount(accountId),
      rules: o.registration.instances,
      ...(native ? { serverGrants: [TOKEN_EXCHANGE] } : {}),
      hooks: o.registration.policies,
      templates,
      templatesOnly: o.registration.templatesOnly,
      ...(limit ? { limit } : {}),
      unusedTtl: o.registration.instances.unusedTtl,
      // Unused instances do not count: abandoned registrations block no one.
      activeInstances: async (accountId) =>
        (await devices.list(accountId))
          .filter((d) => d.status === 'active')
          .map((d) => ({ clientId: d.clientId, createdAt: d.createdAt })),
      revokeInstance: async (clientId) => {
        await devices.revoke(clientId, 'limit');
      },
      authorize: (attempt) => authorizeRegistration(pipeline, attempt),
      reattest: (attempt) => reattestInstance(pipeline, attempt),
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
    }),
  });
  const provider = new Provider(o.issuer, configuration);
  refuseNonStringAlgorithms(provider);
  refuseUntrustedErrorRedirects(provider);
  sizeClientCache(provider, o.registration.instances.cacheSize);
  // Any trusted proxy: X-Forwarded-Proto/Host are read. Client addresses: trustProxies below.
  provider.proxy = o.proxy !== false;
  // With a hop count, Koa's ctx.ip agrees with clientAddress() for code that still reads it.
  if (typeof o.proxy === 'number' || o.proxy === true) provider.maxIpsCount = Number(o.proxy);
  const bridge = providerBridge(provider);
  wireDeviceEvents(provider, devices, (event, payload) => emit(event, payload));
  logProviderEvents(provider, logger, requestIds);

  provider.use(requestIds.middleware());
  // Before every limiter: the one client address they and the events use.
  // Without trusted proxies the socket peer is the client: nothing to record per request.
  if (o.proxy !== false) provider.use(trustProxies(o.proxy));
  provider.use(jsonErrors(provider));
  provider.use(rotation.middleware());
  provider.use(keepInstanceRecordsPrivate(provider));
  if (attestationOn || attestOn) {
    provider.use(
      createChallengeEndpoint({
        path: challengePath,
        challenges,
        store: guarded,
        rateLimit: o.attestation.challenge.rateLimit,
      }),
    );
  }
  if (attesterKeys) {
    provider.use(
      createClientAttester({
        provider,
        issuer: o.issuer,
        path: attester.path,
        url: attesterUrl,
        jwksPath: attester.jwksPath,
        keys: attesterKeys,
        ttl: attester.ttl,
        store: guarded,
        rateLimit: attester.rateLimit,
        challenges,
        templates,
        appAttestCounterTtl: o.ttl.grant,
        nextPopChallenge: popChallenges(popChallengeSecret),
        ...(attester.allowWithoutEvidence
          ? { allowWithoutEvidence: attester.allowWithoutEvidence }
          : {}),
        emit: (event, payload) => events.emit(event, payload),
      }),
    );
  }
  if (native) {
    provider.use(
      createNonceEndpoint({
        path: o.federation.nonce.path,
        nonces,
        store: guarded,
        rateLimit: o.federation.nonce.rateLimit,
      }),
    );
    registerTokenExchange(provider, {
      federation,
      registrationClientIds: new Set(o.registrationClients.map((c) => c.client_id)),
      dcr: {
        resource: registrationResource,
        scope: o.registration.dcrToken.scope,
        ttl: o.registration.dcrToken.ttl,
      },
      bindInstance: (clientId, accountId) => devices.bind(clientId, accountId),
    });
  }
  provider.use(
    createDcrGate(bridge, {
      registrationPath,
      resource: registrationResource,
      scope: o.registration.dcrToken.scope,
      maxUses: o.registration.dcrToken.maxUses,
      registrationClientIds: new Set(o.registrationClients.map((c) => c.client_id)),
      fallbackClients,
      // Evidence alone may open a registration only where some template accepts that.
      allowWithoutToken:
        o.registration.templates.some((t) => t.attestation && t.attestation.user !== 'required') ||
        (o.registration.templateResolver !== undefined && attestationOn),
      onRefused: refused,
      store: guarded,
      destroyClient: async (clientId) => {
        await adapters('Client').destroy(clientId);
      },
      accounts: o.accounts,
      rateLimit: o.registration.rateLimit ?? {},
      policyName: INSTANCE_POLICY,
      issuer: o.issuer,
    }),
  );
  // Failed sign-ins counted in the store; a store failure answers 503 (fails closed). The
  // linked accounts page's password form counts in the same budget.
  const throttle = new SignInThrottle({
    store: guarded,
    perAccount: o.interactions.signInRateLimit.perAccount,
    perIp: o.interactions.signInRateLimit.perIp,
    perUsername: o.interactions.signInRateLimit.perUsername,
    onThrottled: (event) => emit('signin.throttled', event),
  });
  const browserSettings = {
    providers: o.federation.providers,
    issuer: o.issuer,
    allowHttp: o.development,
    store: guarded,
    signIn: federation,
    linkingMaxAge: o.federation.linking.maxAge,
    logger,
  };
  // One browser flow for the sign-in page and the linked accounts page: one redirect URI each.
  const browserFederation = new BrowserFederation(browserSettings);
  provider.use(
    createInteractionRoutes(provider, {
      authenticate: o.accounts.authenticate,
      csrfSecret: createHmac('sha256', keys.cookieKeys[0] as string)
        .update('csrf')
        .digest('base64url'),
      basePath,
      title: o.interactions.title,
      // Render hooks, catalogues and scope descriptions; oidc-provider's pages share them.
      ...(o.interactions.pages ? { pages: o.interactions.pages } : {}),
      ...(o.interactions.messages ? { messages: o.interactions.messages } : {}),
      defaultLanguage: o.interactions.defaultLanguage,
      ...(o.interactions.scopeDescriptions
        ? { scopeDescriptions: o.interactions.scopeDescriptions }
        : {}),
      dcrScope: o.registration.dcrToken.scope,
      // Failed sign-ins counted in the store; a store failure answers 503 (fails closed).
      throttle,
      // An instance owned by this user is the user's own app: no second consent. One without
      // an owner shows the consent page on its first sign-in, and binds when the user allows.
      autoConsent: ({ accountId, metadata }) =>
        accountId !== '' && instanceRecord(metadata)?.account_id === accountId,
      confirmConsent: async ({ clientId, accountId }) => {
        const record = await instanceRecordById(provider, clientId);
        if (!record || record.account_id || !accountId) return undefined;
        const owner = await devices.bind(clientId, accountId);
        return owner === accountId
          ? undefined
          : 'this app install was just claimed by another account: register the app again';
      },
      // "Continue with …" buttons for the providers with browser options.
      federation: browserSettings,
      browserFederation,
      ...(o.passkeys.enabled ? { passkeys } : {}),
    }),
  );
  // The account pages of the browser's signed-in user: devices, and passkeys when enabled.
  provider.use(
    createAccountRoutes(provider, {
      basePath,
      csrfSecret: createHmac('sha256', keys.cookieKeys[0] as string)
        .update('account-csrf')
        .digest('base64url'),
      devices,
      ...(o.passkeys.enabled ? { passkeys } : {}),
      findAccount: (accountId) => o.accounts.findAccount(accountId),
      federation: browserFederation,
      authenticate: o.accounts.authenticate,
      throttle,
    }),
  );

  const selfServiceScope = o.devices.selfServiceScope;
  if (selfServiceScope) {
    provider.use(
      createSelfService(bridge, devices, { scope: selfServiceScope, realm: o.issuer, passkeys }),
    );
  }

  const adminApi = () => {
    if (o.devices.adminClients.length === 0 && !o.devices.adminSecret) {
      throw new ConfigurationError([
        'options.devices.adminClients or options.devices.adminSecret is required for the admin API',
      ]);
    }
    return createAdminApi(
      bridge,
      devices,
      {
        adminClients: new Set(o.devices.adminClients),
        adminScope: o.devices.adminScope,
        adminSecret: o.devices.adminSecret,
        realm: `${o.issuer} admin`,
      },
      passkeys,
    );
  };

  const server: AuthServer = {
    provider,
    issuer: o.issuer,
    devices: {
      list: (accountId) => devices.list(accountId),
      page: (accountId, options) => devices.page(accountId, options),
      get: (clientId) => devices.get(clientId),
      revoke: (clientId) => devices.revoke(clientId, 'api'),
      revokeAll: (accountId) => devices.revokeAll(accountId, 'api'),
    },
    passkeys: {
      list: (accountId) => passkeys.list(accountId),
      get: (credentialId) => passkeys.get(credentialId),
      remove: (credentialId) => passkeys.remove(credentialId, 'api'),
    },
    callback: () => provider.callback(),
    introspect: (token) => introspectLocally(provider, token),
    koa: () => embeddedProvider(provider),
    adminApi,
    adminCallback() {
      const app = new Koa();
      app.proxy = o.proxy !== false;
      logAppErrors(app, logger, requestIds);
      app.use(requestIds.middleware());
      app.use(adminApi());
      return app.callback();
    },
    on(event, listener) {
      events.on(event, listener);
      return server;
    },
    off(event, listener) {
      events.off(event, listener);
      return server;
    },
    async close() {
      if (ownsStore) await store.close();
    },
  };
  return server;
}
