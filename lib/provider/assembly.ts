// The feature module contract: what a feature's install function receives, and the one place
// where features contribute to oidc-provider's configuration and middleware.
import { createHmac } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import type { Middleware } from 'koa';
import type {
  Adapter,
  ClientMetadata,
  Configuration,
  interactionPolicy,
  KoaContextWithOIDC,
  default as Provider,
  ResourceServer,
} from 'oidc-provider';
import type { Logger } from '../core/logger.js';
import type { ServerKeys } from '../keys/index.js';
import type { Store } from '../storage/store.js';
import type { ProviderBridge } from './bridge.js';
import type { LoadedClient } from './loaded-client.js';
import { type PhaseRunner, type Phases, runDirectly } from './phases.js';

/** oidc-provider's interaction policy: the prompts and their checks. @internal */
export type InteractionPolicy = ReturnType<typeof interactionPolicy.base>;

/** A token as `extraTokenClaims` receives it. @internal */
export type IssuedToken = Parameters<NonNullable<Configuration['extraTokenClaims']>>[1];

/** Emits one event of a feature's event map. @internal */
export type Emit<Events> = <E extends keyof Events & string>(event: E, payload: Events[E]) => void;

/**
 * Resolves a resource indicator (RFC 8707) for a client: the resource server's settings,
 * `undefined` to leave it to the next resolver, or a thrown `InvalidTarget`.
 */
type ResourceResolver = (
  ctx: KoaContextWithOIDC,
  resource: string,
  client: LoadedClient & { clientAuthMethod?: string },
) => Promise<ResourceServer | undefined>;

type ClientAssertionCheck = (
  ctx: KoaContextWithOIDC,
  client: LoadedClient | undefined,
) => Promise<void>;

/**
 * The shared pieces a feature's install function receives, and where it contributes: its
 * routes (`use`), its oidc-provider hooks, its discovery metadata and its adapter wrappers. The
 * server creates one per server, installs the features in a declared order, then builds the
 * provider from what they contributed.
 *
 * @internal
 */
export class Assembly implements Phases {
  /** The issuer's path, without a trailing slash (`''` at the root). */
  readonly basePath: string;
  /** Scopes features add to the configured ones. */
  readonly scopes: string[] = [];
  /** Client authentication methods beyond oidc-provider's defaults. */
  readonly clientAuthMethods: string[] = [];
  /** Client metadata properties beyond RFC 7591's. */
  readonly clientMetadata: string[] = [];
  /** Discovery metadata. */
  readonly discovery: Record<string, unknown> = {};
  /**
   * The `acr` values the features' sign-ins give: oidc-provider's `acrValues`, so discovery lists
   * them (`acr_values_supported`) and an ID token carries the `acr` a request asked for.
   */
  readonly acrValues = new Set<string>();
  /** oidc-provider features to enable (merged over the engine's). */
  readonly features: Record<string, unknown> = {};
  /** oidc-provider registration policies by name. */
  readonly registrationPolicies: Record<
    string,
    (ctx: KoaContextWithOIDC, properties: Record<string, unknown>) => Promise<void>
  > = {};
  /**
   * Runs a phase of a request (the app's hooks, verifications): `phase(name, run)` returns
   * `run()`. A plain call by default; telemetry replaces it with one that makes a child span
   * when the app registered a tracer. Read at each call, never kept.
   */
  phase: PhaseRunner = runDirectly;
  /** Whether some feature issues tokens with the client credentials grant. */
  clientCredentials = false;
  /** Configuration a feature sets whole (an interaction URL, a grant lifetime, error pages). */
  readonly settings: Partial<Configuration> = {};
  #adapters: ((model: string) => Adapter) | undefined;
  readonly #clientChanges: Array<(clients: ClientMetadata[]) => ClientMetadata[]> = [];
  readonly #middleware: Array<(provider: Provider, bridge: ProviderBridge) => Middleware> = [];
  readonly #onProvider: Array<(provider: Provider, bridge: ProviderBridge) => void> = [];
  readonly #adapterWrappers = new Map<string, Array<(adapter: Adapter) => Adapter>>();
  readonly #tokenClaims: Array<
    (ctx: KoaContextWithOIDC, token: IssuedToken) => Promise<Record<string, unknown> | undefined>
  > = [];
  readonly #refreshChecks: Array<(ctx: KoaContextWithOIDC) => void> = [];
  readonly #clientAssertionChecks: ClientAssertionCheck[] = [];
  readonly #policyChanges: Array<(policy: InteractionPolicy) => InteractionPolicy> = [];
  readonly #resourceResolvers: ResourceResolver[] = [];
  readonly #defaultResources: Array<(client: LoadedClient) => string | undefined> = [];

  constructor(
    /** The issuer identifier. */
    readonly issuer: string,
    /** The store, behind its failure guard. */
    readonly store: Store,
    readonly logger: Logger,
    readonly keys: ServerKeys,
    readonly events: EventEmitter,
  ) {
    this.basePath = new URL(issuer).pathname.replace(/\/$/, '');
  }

  /** The absolute URL of `path`, relative to the issuer. */
  url(path: string): string {
    return new URL(`${this.basePath}${path}`, this.issuer).href;
  }

  /** A secret for one purpose, derived from the first cookie key: the same in every process. */
  secret(purpose: string): Buffer {
    return createHmac('sha256', this.keys.cookieKeys[0] as string)
      .update(purpose)
      .digest();
  }

  /** Emits an audit event to the server's listeners. */
  readonly emit = (event: string, payload: unknown): void => {
    this.events.emit(event, payload);
  };

  /**
   * The store adapter oidc-provider uses for `model`, with the engine's cascades (destroying a
   * client revokes its grants). Available once the provider is built.
   */
  adapter(model: string): Adapter {
    if (!this.#adapters) throw new Error('the provider is not built yet');
    return this.#adapters(model);
  }

  /** Records the adapter factory the provider was built with. @internal */
  providerBuilt(adapters: (model: string) => Adapter): void {
    this.#adapters = adapters;
  }

  /**
   * Adds provider middleware, made once the provider exists; features' middleware runs in the
   * order they were installed.
   */
  use(middleware: (provider: Provider, bridge: ProviderBridge) => Middleware): void {
    this.#middleware.push(middleware);
  }

  /**
   * Changes the static clients: adds a feature's own, or changes configured ones. A client
   * still without a scope list afterwards gets every configured scope.
   */
  changeStaticClients(change: (clients: ClientMetadata[]) => ClientMetadata[]): void {
    this.#clientChanges.push(change);
  }

  /** Runs `setUp` once the provider exists (event listeners, the provider's own settings). */
  onProvider(setUp: (provider: Provider, bridge: ProviderBridge) => void): void {
    this.#onProvider.push(setUp);
  }

  /** Wraps the store adapter of one oidc-provider model; wrappers apply in install order. */
  wrapAdapter(model: string, wrapper: (adapter: Adapter) => Adapter): void {
    const wrappers = this.#adapterWrappers.get(model) ?? [];
    wrappers.push(wrapper);
    this.#adapterWrappers.set(model, wrappers);
  }

  /**
   * Checks every access token as it is issued and adds claims to it; a later feature's claims
   * replace an earlier one's of the same name. Throw an oidc-provider error to refuse.
   */
  tokenClaims(
    hook: (
      ctx: KoaContextWithOIDC,
      token: IssuedToken,
    ) => Promise<Record<string, unknown> | undefined>,
  ): void {
    this.#tokenClaims.push(hook);
  }

  /** Checks a refresh before the old refresh token is consumed; throw to refuse. */
  checkRefresh(check: (ctx: KoaContextWithOIDC) => void): void {
    this.#refreshChecks.push(check);
  }

  /** Checks a `private_key_jwt` client authentication after oidc-provider's own checks. */
  checkClientAssertion(check: ClientAssertionCheck): void {
    this.#clientAssertionChecks.push(check);
  }

  /** Changes the interaction policy (adds checks, reshapes prompt details), in install order. */
  changeInteractionPolicy(change: (policy: InteractionPolicy) => InteractionPolicy): void {
    this.#policyChanges.push(change);
  }

  /** Resolves resource indicators before the configured APIs are looked up. */
  resolveResource(resolver: ResourceResolver): void {
    this.#resourceResolvers.push(resolver);
  }

  /** The resource a client's token is for when its request names none. */
  defaultResource(resolver: (client: LoadedClient) => string | undefined): void {
    this.#defaultResources.push(resolver);
  }

  /** What the features contributed, for the engine to build the provider from. @internal */
  contributions() {
    return {
      clientChanges: this.#clientChanges,
      middleware: this.#middleware,
      onProvider: this.#onProvider,
      adapterWrappers: this.#adapterWrappers,
      tokenClaims: this.#tokenClaims,
      refreshChecks: this.#refreshChecks,
      clientAssertionChecks: this.#clientAssertionChecks,
      policyChanges: this.#policyChanges,
      resourceResolvers: this.#resourceResolvers,
      defaultResources: this.#defaultResources,
    };
  }
}
