// "Continue with Apple / Google / …" on the sign-in page: the authorization code flow with PKCE
// against an upstream OpenID provider (OpenID Connect Core §3.1), through openid-client. State
// and PKCE verifier are kept in the store, bound to the interaction that started the sign-in.
import { randomBytes } from 'node:crypto';
import { decodeProtectedHeader } from 'jose';
import * as oidc from 'openid-client';
import type { FederatedIdentity } from '../core/accounts.js';
import { MobileOidcProviderError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { HttpProblem } from '../http/problem.js';
import { prototypeSafeCopy } from '../http/prototype-safety.js';
import { directPhases, type Phases } from '../provider/phases.js';
import { SingleUseRecords, wasTaken } from '../storage/single-use.js';
import type { Store } from '../storage/store.js';
import { AppleClientSecret } from './apple-client-secret.js';
import { normalizeClaims } from './id-token.js';
import type { FederatedBrowserOptions, ResolvedFederatedProvider } from './options.js';
import {
  type AccountLabel,
  type FederatedSignIn,
  identityOf,
  type ResolvedAccount,
  UnknownIdentityProblem,
} from './sign-in.js';

/** Seconds a started sign-in may take at the provider before its state expires. @internal */
export const BROWSER_STATE_TTL = 600;

/** Seconds a link offer waits for the user's answer on the link page. @internal */
export const LINK_OFFER_TTL = 300;

const STATE_MODEL = 'FederatedBrowserState';
const LINK_OFFER_MODEL = 'FederatedLinkOffer';
// The account page's link flow keeps its own records: no interaction state or offer can be
// taken as one of the account page's, nor the other way round.
const ACCOUNT_STATE_MODEL = 'FederatedAccountLinkState';
const ACCOUNT_OFFER_MODEL = 'FederatedAccountLinkOffer';
const REAUTHENTICATION_MODEL = 'AccountReauthentication';
// `<interaction uid>.<32 random bytes>`: the uid routes the callback to its interaction's path,
// where the interaction cookie is sent; the random part is what makes the state unguessable.
const STATE = /^([\w-]{1,64})\.([\w-]{43})$/;
// `account.link.<32 random bytes>`: a link started on the account page, bound to the browser's
// session on the server; the dots keep it from ever matching an interaction's state.
const ACCOUNT_STATE = /^account\.link\.[\w-]{43}$/;
const ACCOUNT_PREFIX = 'account.link.';
// The authorization response parameters the callback passes on (RFC 6749 §4.1.2, RFC 9207).
const RESPONSE_PARAMETERS = ['state', 'code', 'iss', 'error'] as const;
// Far above any real code or state; longer values are not passed on.
const MAX_PARAMETER_LENGTH = 4096;
const MAX_CLAIM_DEPTH = 16;

/** Why a browser sign-in failed; the sign-in page words each for the user. @internal */
export type BrowserSignInFailure =
  /** The state is unknown, expired, used already, or from another interaction. */
  | 'state'
  /** The provider answered with an error (the user cancelled or was refused there). */
  | 'denied'
  /** The provider's discovery document could not be fetched. */
  | 'unavailable'
  /** The code exchange or the id_token failed a check. */
  | 'exchange'
  /** `accounts.federated` refused the identity. */
  | 'refused'
  /** `accounts.federated` knows the identity under no account (it resolved `undefined`). */
  | 'unlinked';

/** A failed browser sign-in; `code` says why, `message` is for logs, never shown. @internal */
export class BrowserSignInError extends MobileOidcProviderError {
  declare readonly code: BrowserSignInFailure;

  constructor(
    code: BrowserSignInFailure,
    message: string,
    /** With `unlinked`: the identity the provider vouched for, which may be offered for linking. */
    readonly identity?: FederatedIdentity,
  ) {
    super(code, message);
  }

  /** @deprecated The old name of {@link BrowserSignInError.code}. */
  get reason(): BrowserSignInFailure {
    return this.code;
  }
}

/** What the browser flow needs. @internal */
export interface BrowserFederationSettings {
  /** Every configured provider; those with `browser` get a button. */
  providers: readonly ResolvedFederatedProvider[];
  /** This server's issuer: the callback URLs are under it. */
  issuer: string;
  /** Accept `http://` upstream issuers (development only). */
  allowHttp: boolean;
  /** The guarded store: the started sign-ins (state, PKCE verifier, nonce). */
  store: Store;
  /** Resolves the identity to an account and reports the sign-in; links it, when it can. */
  signIn: Pick<FederatedSignIn, 'resolveAccount' | 'reportSignIn'> &
    Partial<Pick<FederatedSignIn, 'canLink' | 'link' | 'describeAccount' | 'reportLinked'>>;
  /**
   * Seconds after the browser's sign-in during which its account is proof for linking
   * (`federation.linking.maxAge`); `0`: never.
   *
   * @default 300
   */
  linkingMaxAge?: number;
  /** Where failures at the provider are logged for operators (the user sees a plain message). */
  logger?: Logger;
  /** The fetch used to reach the providers (tests inject one). */
  fetch?: typeof globalThis.fetch;
  /** The clock of the Apple client secret, in milliseconds since the epoch. @default Date.now */
  now?: () => number;
  /** Runs the code exchange and the id_token's checks as a phase of the callback. @default plain calls */
  phases?: Phases;
}

/** A "Continue with …" button. @internal */
export interface BrowserButton {
  /** The provider's `name`, in the button's form action. */
  name: string;
  /** The text on the button. */
  label: string;
}

/** A started sign-in, as stored under its state. @internal */
export interface BrowserState {
  /** The interaction the sign-in finishes. */
  uid: string;
  /** The provider's `name`. */
  provider: string;
  /** The PKCE code verifier (RFC 7636 §4.1). */
  codeVerifier: string;
  /** The nonce the id_token must carry (OpenID Connect Core §3.1.2.1). */
  nonce: string;
}

/**
 * A link started on the account page (`/account/links`), as stored under its state: bound to
 * the browser's session and its account, never to an interaction.
 *
 * @internal
 */
export interface AccountLinkState {
  /** The oidc-provider session (its `uid`) that started the link. */
  session: string;
  /** The session's account when the link started. */
  accountId: string;
  /** The provider's `name`. */
  provider: string;
  /** The PKCE code verifier (RFC 7636 §4.1). */
  codeVerifier: string;
  /** The nonce the id_token must carry (OpenID Connect Core §3.1.2.1). */
  nonce: string;
}

/**
 * An identity waiting on the link page for the user's answer, as stored under its handle: the
 * one the provider vouched for, and the account it would be linked to.
 *
 * @internal
 */
export interface LinkOffer {
  /** The interaction the link page belongs to. */
  uid: string;
  /** The account signed in on the browser, freshly, when the offer was made. */
  accountId: string;
  /** The identity to link. */
  identity: FederatedIdentity;
}

/** A finished browser sign-in: who the provider vouched for and the account it resolved to. @internal */
export interface BrowserSignIn {
  identity: FederatedIdentity;
  account: ResolvedAccount;
}

interface Upstream {
  provider: ResolvedFederatedProvider;
  browser: FederatedBrowserOptions;
  label: string;
  apple: AppleClientSecret | undefined;
  // The Apple secret made last; openid-client's client authentication is synchronous.
  appleSecret: string;
  configuration: Promise<oidc.Configuration> | undefined;
}

const capitalised = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);

/**
 * The browser flow with the providers that have `browser` options: starts a sign-in (state,
 * PKCE, nonce, stored for 10 minutes) and completes it from the provider's callback.
 *
 * @internal
 */
export class BrowserFederation {
  readonly #settings: BrowserFederationSettings;
  // The single-use records of each model: started sign-ins and links, and link offers.
  readonly #records: ReadonlyMap<string, SingleUseRecords>;
  readonly #upstreams = new Map<string, Upstream>();

  constructor(settings: BrowserFederationSettings) {
    this.#settings = settings;
    this.#records = new Map(
      (
        [
          [STATE_MODEL, BROWSER_STATE_TTL],
          [ACCOUNT_STATE_MODEL, BROWSER_STATE_TTL],
          [LINK_OFFER_MODEL, LINK_OFFER_TTL],
          [ACCOUNT_OFFER_MODEL, LINK_OFFER_TTL],
        ] as const
      ).map(([model, ttl]) => [model, new SingleUseRecords(settings.store, model, ttl)]),
    );
    for (const provider of settings.providers) {
      const browser = provider.browser;
      if (!browser) continue;
      const apple = browser.appleKey
        ? new AppleClientSecret({
            ...browser.appleKey,
            clientId: browser.clientId,
            audience: provider.issuer,
            ...(settings.now ? { now: settings.now } : {}),
          })
        : undefined;
      this.#upstreams.set(provider.name, {
        provider,
        browser,
        label: browser.label ?? `Continue with ${capitalised(provider.name)}`,
        apple,
        appleSecret: '',
        configuration: undefined,
      });
    }
  }

  /** The sign-in page's buttons, in the order the providers are configured. */
  get buttons(): readonly BrowserButton[] {
    return [...this.#upstreams.values()].map((u) => ({ name: u.provider.name, label: u.label }));
  }

  /** Whether identities can be linked on the link page (`accounts.link` exists). */
  get canLink(): boolean {
    return this.#settings.signIn.canLink === true && (this.#settings.linkingMaxAge ?? 300) > 0;
  }

  /** Seconds the browser's sign-in counts as proof for linking. */
  get linkingMaxAge(): number {
    return this.#settings.linkingMaxAge ?? 300;
  }

  /** What the link page says about `accountId`; `undefined` when the account is gone. */
  async describeAccount(accountId: string): Promise<AccountLabel | undefined> {
    return this.#settings.signIn.describeAccount?.(accountId);
  }

  /**
   * Links the offer's identity to its account (`accounts.link`), after the user confirmed:
   * `undefined` when the hook refused it as linked to another account.
   */
  async link(offer: Pick<LinkOffer, 'identity' | 'accountId'>): Promise<BrowserSignIn | undefined> {
    const { signIn } = this.#settings;
    if (!signIn.link) throw new Error('accounts.link is not configured');
    const account = await signIn.link(offer.identity, offer.accountId);
    return account && { identity: offer.identity, account };
  }

  /** Reports a link made on the account page (`account.linked`): nobody signed in. */
  reportLinked(signIn: BrowserSignIn): void {
    this.#settings.signIn.reportLinked?.(signIn.identity, signIn.account.accountId);
  }

  /** Whether `name` is a provider with a button. */
  has(name: string): boolean {
    return this.#upstreams.has(name);
  }

  /** The provider's display name, for messages: the button label's subject. */
  displayName(name: string): string {
    return capitalised(name);
  }

  /** The redirect URI registered at the provider: `<issuer>/federation/callback/<name>`. */
  redirectUri(name: string): string {
    return `${this.#settings.issuer.replace(/\/$/, '')}/federation/callback/${name}`;
  }

  /**
   * Starts a sign-in for interaction `uid`: stores state, PKCE verifier and nonce, and resolves
   * the provider's authorization URL to send the browser to.
   *
   * @throws BrowserSignInError `unavailable` when the provider's discovery fails.
   */
  async start(uid: string, name: string): Promise<URL> {
    return this.#start(name, STATE_MODEL, `${uid}.`, { uid });
  }

  /**
   * Starts a link from the account page for the browser's `session` (its `uid`) and its
   * account: like {@link BrowserFederation.start}, with a state of its own kind, so the one
   * redirect URI serves both and the callback can tell them apart.
   *
   * @throws BrowserSignInError `unavailable` when the provider's discovery fails.
   */
  async startLink(session: string, accountId: string, name: string): Promise<URL> {
    return this.#start(name, ACCOUNT_STATE_MODEL, ACCOUNT_PREFIX, { session, accountId });
  }

  async #start(
    name: string,
    model: string,
    prefix: string,
    binding: Record<string, string>,
  ): Promise<URL> {
    const upstream = this.#upstream(name);
    const configuration = await this.#configuration(upstream);
    const state = `${prefix}${randomBytes(32).toString('base64url')}`;
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const nonce = oidc.randomNonce();
    const record = { ...binding, provider: name, codeVerifier, nonce };
    await this.#recordsOf(model).issue(state, record);
    const apple = upstream.provider.quirks === 'apple';
    return oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: this.redirectUri(name),
      scope: scopeOf(upstream.browser, apple),
      state,
      nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      // Apple sends the response as a form post whenever name or email is asked for.
      ...(apple ? { response_mode: 'form_post' } : {}),
    });
  }

  /**
   * The callback's response parameters, to pass on to the interaction the state names (its
   * path is where the interaction cookie is sent): `undefined` when the state is malformed.
   * An over-long parameter is passed on as `error=invalid_request`, so the state is still used up.
   */
  forward(
    response: URLSearchParams,
  ):
    | { uid: string; query: URLSearchParams }
    | { account: true; query: URLSearchParams }
    | undefined {
    const state = response.get('state') ?? '';
    // A link started on the account page: `uid` is never set, so it never reaches an interaction.
    const uid = STATE.exec(state)?.[1];
    const to = ACCOUNT_STATE.test(state) ? ({ account: true } as const) : uid && { uid };
    if (!to) return undefined;
    const query = new URLSearchParams();
    for (const name of RESPONSE_PARAMETERS) {
      const value = response.get(name);
      if (value === null) continue;
      if (value.length > MAX_PARAMETER_LENGTH) {
        return { ...to, query: new URLSearchParams({ state, error: 'invalid_request' }) };
      }
      query.set(name, value);
    }
    return { ...to, query };
  }

  /**
   * Takes a started sign-in by its state, exactly once (RFC 6749 §10.12): a second take of the
   * same state, or of an unknown or expired one, resolves `undefined`.
   */
  async takeState(state: string | null): Promise<BrowserState | undefined> {
    if (!state || !STATE.test(state)) return undefined;
    const found = await this.#take(STATE_MODEL, state);
    const { uid, provider, codeVerifier, nonce } = found ?? {};
    if (
      typeof uid !== 'string' ||
      typeof provider !== 'string' ||
      typeof codeVerifier !== 'string' ||
      typeof nonce !== 'string'
    ) {
      return undefined;
    }
    return { uid, provider, codeVerifier, nonce };
  }

  /**
   * Takes a link started on the account page by its state, exactly once, like
   * {@link BrowserFederation.takeState}: an interaction's state is never one.
   */
  async takeLinkState(state: string | null): Promise<AccountLinkState | undefined> {
    if (!state || !ACCOUNT_STATE.test(state)) return undefined;
    const found = await this.#take(ACCOUNT_STATE_MODEL, state);
    const { session, accountId, provider, codeVerifier, nonce } = found ?? {};
    if (
      typeof session !== 'string' ||
      typeof accountId !== 'string' ||
      typeof provider !== 'string' ||
      typeof codeVerifier !== 'string' ||
      typeof nonce !== 'string'
    ) {
      return undefined;
    }
    return { session, accountId, provider, codeVerifier, nonce };
  }

  #recordsOf(model: string): SingleUseRecords {
    return this.#records.get(model) as SingleUseRecords;
  }

  /**
   * The record `key` of `model`, consumed by this call alone; `undefined` when it cannot be, or
   * when `bound` says it is not the caller's (left for its owner then).
   */
  async #take(
    model: string,
    key: string,
    bound: (found: Record<string, unknown>) => boolean = () => true,
  ): Promise<Record<string, unknown> | undefined> {
    const taken = await this.#recordsOf(model).take(key, bound);
    return wasTaken(taken) ? taken : undefined;
  }

  /**
   * Completes a sign-in whose state was taken: exchanges the code (PKCE, state and nonce
   * checked by openid-client), checks the id_token against the provider's settings, and asks
   * `accounts.federated` for the account.
   *
   * @param started - what {@link BrowserFederation.takeState} returned for the response's state.
   * @param response - the authorization response's parameters.
   * @param signedInAccountId - the account signed in on this browser, proof for linking.
   * @throws BrowserSignInError naming what failed.
   */
  async complete(
    started: BrowserState,
    response: URLSearchParams,
    signedInAccountId: string | undefined,
  ): Promise<BrowserSignIn> {
    const identity = await this.#verify(started, response, signedInAccountId);
    try {
      return { identity, account: await this.#settings.signIn.resolveAccount(identity) };
    } catch (error) {
      if (error instanceof UnknownIdentityProblem) {
        throw new BrowserSignInError('unlinked', error.description, identity);
      }
      if (error instanceof HttpProblem) {
        throw new BrowserSignInError('refused', error.description);
      }
      throw error;
    }
  }

  /**
   * Completes a link started on the account page: the code exchanged and the id_token checked
   * as for a sign-in, resolving the identity the provider vouched for. `accounts.federated` is
   * not asked (it may sign the identity up): the account to link to is the state's.
   *
   * @throws BrowserSignInError naming what failed (never `refused` or `unlinked`).
   */
  verifyLink(started: AccountLinkState, response: URLSearchParams): Promise<FederatedIdentity> {
    return this.#verify(started, response, started.accountId);
  }

  /** The code exchange and the id_token's checks: the identity the provider vouched for. */
  async #verify(
    started: Pick<BrowserState, 'provider' | 'codeVerifier' | 'nonce'>,
    response: URLSearchParams,
    signedInAccountId: string | undefined,
  ): Promise<FederatedIdentity> {
    const name = started.provider;
    const upstream = this.#upstream(name);
    if (response.has('error')) {
      throw new BrowserSignInError('denied', `${name} answered error=${response.get('error')}`);
    }
    const configuration = await this.#configuration(upstream);
    if (upstream.apple) {
      try {
        upstream.appleSecret = await upstream.apple.secret();
      } catch (error) {
        // A key that cannot sign is the operator's to fix: logged as an error, not a warning.
        const reason = error instanceof Error ? error.message : String(error);
        this.#settings.logger?.error(
          { provider: name, reason },
          'federated browser sign-in: the Apple client secret could not be made from browser.appleKey',
        );
        throw new BrowserSignInError('exchange', 'the Apple client secret could not be made');
      }
    }
    const callback = new URL(this.redirectUri(name));
    for (const parameter of RESPONSE_PARAMETERS) {
      const value = response.get(parameter);
      if (value !== null) callback.searchParams.set(parameter, value);
    }
    const claims = await (this.#settings.phases ?? directPhases).phase(
      'federation.verify_id_token',
      async () => {
        let tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
        try {
          // openid-client verifies the id_token here (signature with the provider's JWKS, nonce).
          tokens = await oidc.authorizationCodeGrant(configuration, callback, {
            expectedState: response.get('state') ?? '',
            pkceCodeVerifier: started.codeVerifier,
            expectedNonce: started.nonce,
            idTokenExpected: true,
          });
        } catch (error) {
          this.#log(name, 'the code exchange failed', error);
          throw new BrowserSignInError('exchange', `the code exchange with ${name} failed`);
        }
        return checkedClaims(tokens, upstream.provider);
      },
    );
    if (typeof claims === 'string') {
      this.#log(name, claims);
      throw new BrowserSignInError('exchange', claims);
    }
    return identityOf(
      { provider: name, subject: claims.sub as string, claims },
      'browser',
      signedInAccountId,
    );
  }

  /**
   * Keeps `identity` for the link page of interaction `uid`, for {@link LINK_OFFER_TTL}
   * seconds: resolves the handle the page's form sends back. Only the handle leaves the server,
   * so what is linked is what the provider vouched for, never what a form says.
   */
  async offerLink(uid: string, identity: FederatedIdentity, accountId: string): Promise<string> {
    const handle = `${uid}.${randomBytes(32).toString('base64url')}`;
    await this.#keepOffer(LINK_OFFER_MODEL, handle, { uid }, identity, accountId);
    return handle;
  }

  /**
   * Takes the link offer `handle` of interaction `uid`, exactly once: a second take, an unknown
   * or expired handle, or one of another interaction resolves `undefined`.
   */
  async takeLinkOffer(uid: string, handle: string | null): Promise<LinkOffer | undefined> {
    const match = handle ? STATE.exec(handle) : null;
    if (!handle || match?.[1] !== uid) return undefined;
    const taken = await this.#takeOffer(LINK_OFFER_MODEL, handle, (found) => found.uid === uid);
    return taken && { uid, ...taken };
  }

  /**
   * Keeps `identity` for the account page's link page of the browser's `session` (its `uid`),
   * for {@link LINK_OFFER_TTL} seconds: resolves the handle the page's form sends back.
   */
  async offerAccountLink(
    session: string,
    identity: FederatedIdentity,
    accountId: string,
  ): Promise<string> {
    const handle = `${ACCOUNT_PREFIX}${randomBytes(32).toString('base64url')}`;
    await this.#keepOffer(ACCOUNT_OFFER_MODEL, handle, { session }, identity, accountId);
    return handle;
  }

  /**
   * Takes the account page's link offer `handle` of `session`, exactly once: a second take, an
   * unknown or expired handle, or one of another session resolves `undefined`.
   */
  async takeAccountLinkOffer(
    session: string,
    handle: string | null,
  ): Promise<Omit<LinkOffer, 'uid'> | undefined> {
    if (!handle || !ACCOUNT_STATE.test(handle)) return undefined;
    return this.#takeOffer(ACCOUNT_OFFER_MODEL, handle, (found) => found.session === session);
  }

  async #keepOffer(
    model: string,
    handle: string,
    binding: Record<string, string>,
    identity: FederatedIdentity,
    accountId: string,
  ): Promise<void> {
    const record = {
      ...binding,
      accountId,
      provider: identity.provider,
      subject: identity.subject,
      via: identity.via,
      claims: { ...identity.claims },
    };
    await this.#recordsOf(model).issue(handle, record);
  }

  /** The offer `handle` of `model`, taken once, when `bound` says it is the caller's. */
  async #takeOffer(
    model: string,
    handle: string,
    bound: (found: Record<string, unknown>) => boolean,
  ): Promise<Omit<LinkOffer, 'uid'> | undefined> {
    // Another session's (or interaction's) post does not use the offer up for its owner.
    const found = await this.#take(model, handle, bound);
    if (!found) return undefined;
    const { accountId, provider, subject, via, claims } = found;
    const copy = prototypeSafeCopy(claims, MAX_CLAIM_DEPTH);
    if (
      typeof accountId !== 'string' ||
      typeof provider !== 'string' ||
      typeof subject !== 'string' ||
      via !== 'browser' ||
      typeof copy !== 'object' ||
      copy === null
    ) {
      return undefined;
    }
    const identity = identityOf(
      { provider, subject, claims: copy as Record<string, unknown> },
      'browser',
      accountId,
    );
    return { accountId, identity };
  }

  /**
   * Records that the browser's `session` (its `uid`) just proved its account again with the
   * password, for `federation.linking.maxAge` seconds: proof for linking on the account page
   * without touching the session's own sign-in time (`auth_time` stays what it was).
   */
  async markReauthenticated(session: string, accountId: string, now: number): Promise<void> {
    const maxAge = this.linkingMaxAge;
    if (maxAge <= 0) return;
    await this.#settings.store
      .adapter(REAUTHENTICATION_MODEL)
      .upsert(session, { accountId, at: now }, maxAge);
  }

  /**
   * When `session` last proved `accountId` again on the account page (seconds since the epoch);
   * `undefined` when it did not, or for another account.
   */
  async reauthenticatedAt(session: string, accountId: string): Promise<number | undefined> {
    const found = await this.#settings.store.adapter(REAUTHENTICATION_MODEL).find(session);
    const at = found?.at;
    return found?.accountId === accountId && typeof at === 'number' ? at : undefined;
  }

  /** Reports a finished sign-in (`account.linked`, `account.federated`). */
  report(signIn: BrowserSignIn, clientId?: string): void {
    this.#settings.signIn.reportSignIn(signIn.identity, signIn.account, clientId);
  }

  #upstream(name: string): Upstream {
    const upstream = this.#upstreams.get(name);
    if (!upstream) throw new BrowserSignInError('state', `no browser provider ${name}`);
    return upstream;
  }

  /** The provider's openid-client configuration, discovered once (again after a failure). */
  async #configuration(upstream: Upstream): Promise<oidc.Configuration> {
    const pending = upstream.configuration ?? this.#discover(upstream);
    upstream.configuration = pending;
    try {
      return await pending;
    } catch (error) {
      if (upstream.configuration === pending) upstream.configuration = undefined;
      this.#log(upstream.provider.name, 'its discovery document could not be read', error);
      throw new BrowserSignInError('unavailable', `${upstream.provider.name} is unreachable`);
    }
  }

  #discover(upstream: Upstream): Promise<oidc.Configuration> {
    const { provider, browser } = upstream;
    const issuer = new URL(provider.issuer);
    const insecure = issuer.protocol === 'http:' && this.#settings.allowHttp;
    const fetch = this.#settings.fetch;
    return oidc.discovery(
      issuer,
      browser.clientId,
      { [oidc.clockTolerance]: provider.clockSkewSeconds },
      clientAuthentication(upstream),
      {
        ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {}),
        ...(fetch ? { [oidc.customFetch]: fetch } : {}),
      },
    );
  }

  #log(provider: string, message: string, error?: unknown) {
    const reason = error instanceof Error ? error.message : undefined;
    // The provider's OAuth error code, when it answered with one (never a token).
    const code = error instanceof oidc.ResponseBodyError ? error.error : undefined;
    this.#settings.logger?.warn(
      { provider, ...(reason ? { reason } : {}), ...(code ? { error: code } : {}) },
      `federated browser sign-in: ${message}`,
    );
  }
}

/** The scope asked for, always with `openid` (no id_token, no identity). */
function scopeOf(browser: FederatedBrowserOptions, apple: boolean): string {
  const scope = browser.scope ?? (apple ? 'openid email name' : 'openid email profile');
  const values = scope.split(' ').filter(Boolean);
  return values.includes('openid') ? values.join(' ') : ['openid', ...values].join(' ');
}

/**
 * How this server authenticates at the provider's token endpoint: Apple's JWT (made fresh as
 * needed) in the body, a client secret by Basic unless the provider supports only the body,
 * nothing for a public client (PKCE protects its code).
 */
function clientAuthentication(upstream: Upstream): oidc.ClientAuth {
  const { browser } = upstream;
  if (upstream.apple) {
    return (as, client, body, headers) =>
      oidc.ClientSecretPost(upstream.appleSecret)(as, client, body, headers);
  }
  const secret = browser.clientSecret;
  if (!secret) return oidc.None();
  return (as, client, body, headers) => {
    const methods = as.token_endpoint_auth_methods_supported;
    // RFC 8414 §2: an absent list means client_secret_basic.
    const postOnly =
      Array.isArray(methods) &&
      methods.includes('client_secret_post') &&
      !methods.includes('client_secret_basic');
    const method = postOnly ? oidc.ClientSecretPost(secret) : oidc.ClientSecretBasic(secret);
    method(as, client, body, headers);
  };
}

/**
 * The id_token's claims after openid-client's checks, checked further against the provider's
 * settings (algorithm, hosted domain), copied without prototype-reaching keys and with Apple's
 * string booleans made booleans; a string says what failed.
 */
function checkedClaims(
  tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers,
  provider: ResolvedFederatedProvider,
): Record<string, unknown> | string {
  const claims = tokens.claims();
  if (!claims || typeof tokens.id_token !== 'string') return 'the token response has no id_token';
  let alg: unknown;
  try {
    alg = decodeProtectedHeader(tokens.id_token).alg;
  } catch {
    return 'the id_token header is malformed';
  }
  if (typeof alg !== 'string' || !provider.algorithms.includes(alg)) {
    return "the id_token's alg is not an accepted algorithm";
  }
  if (provider.hostedDomain !== undefined && claims.hd !== provider.hostedDomain) {
    return "the id_token's hd is not the accepted hosted domain";
  }
  if (typeof claims.sub !== 'string' || claims.sub === '' || claims.sub.length > 255) {
    return "the id_token's sub is not a non-empty string";
  }
  const copy = prototypeSafeCopy(claims, MAX_CLAIM_DEPTH);
  if (copy === undefined) return "the id_token's claims are nested too deeply";
  return normalizeClaims(copy as Record<string, unknown>) as Record<string, unknown>;
}
