import type { AccountOptions, FederatedIdentity } from '../core/accounts.js';
import { HttpProblem } from '../http/problem.js';
import type { Phases } from '../provider/phases.js';
import type { Store } from '../storage/store.js';
import {
  nonceLookupKey,
  UpstreamIdTokenError,
  type VerifiedUpstreamIdToken,
  verifyUpstreamIdToken,
} from './id-token.js';
import { UpstreamJwks, UpstreamUnavailableError } from './jwks.js';
import type { NativeSignInNonces } from './nonces.js';
import type { ResolvedFederatedProvider } from './options.js';
import type { FederatedAccountEvent, FederationEvents } from './types.js';

/** What federated sign-in needs. @internal */
export interface FederatedSignInSettings {
  providers: readonly ResolvedFederatedProvider[];
  /** Accept `http://` upstream issuers (development only). */
  allowHttp: boolean;
  /** The guarded store: the id_token replay marks. */
  store: Store;
  nonces: NativeSignInNonces;
  accounts: AccountOptions;
  /** Runs the id_token's verification as a phase of its request. */
  phases: Phases;
  emit<E extends keyof FederationEvents>(event: E, payload: FederationEvents[E]): void;
  /** The fetch used to reach the upstreams (tests inject one). */
  fetch?: typeof globalThis.fetch;
}

/** How an account is named to its user on the link page. @internal */
export interface AccountLabel {
  /** Its `name` (else `preferred_username`) claim. */
  name?: string;
  /** Its `email` claim. */
  email?: string;
}

/** The account a federated identity resolved to. @internal */
export interface ResolvedAccount {
  accountId: string;
  /** `accounts.federated` linked the identity just now. */
  linked: boolean;
}

/** A refused federated sign-in: RFC 6749 §5.2 / RFC 8693 §2.2.2 error and description. */
const refusal = (error: 'invalid_grant' | 'invalid_request', description: string) =>
  new HttpProblem(400, error, description);

/**
 * `accounts.federated` named no account: the identity is linked to none. The same refusal as
 * any other, so the native exchange answers as before; the browser may offer the link page.
 *
 * @internal
 */
export class UnknownIdentityProblem extends HttpProblem {
  constructor() {
    super(400, 'invalid_grant', 'no account may sign in with this identity');
  }
}

/** An upstream that could not be reached: the sign-in may work later. */
const upstreamDown = (name: string) =>
  new HttpProblem(
    503,
    'temporarily_unavailable',
    `the sign-in provider ${name} could not be reached, try again later`,
  );

/** The `iss` of a JWS's payload, read before anything is verified, to pick the provider. */
function claimedIssuer(token: string): string | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const iss: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))?.iss;
    return typeof iss === 'string' ? iss : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Federated sign-in: verifies what an upstream provider says about a user, keeps nonces and
 * id_tokens single-use, and asks `accounts.federated` which account that user is.
 *
 * @internal
 */
export class FederatedSignIn {
  readonly #settings: FederatedSignInSettings;
  readonly #upstreams = new Map<
    string,
    { provider: ResolvedFederatedProvider; jwks: UpstreamJwks }
  >();

  constructor(settings: FederatedSignInSettings) {
    this.#settings = settings;
    for (const provider of settings.providers) {
      const jwks = new UpstreamJwks({
        issuer: provider.issuer,
        allowHttp: settings.allowHttp,
        ...(settings.fetch ? { fetch: settings.fetch } : {}),
      });
      this.#upstreams.set(provider.name, { provider, jwks });
    }
  }

  /** Whether some provider takes part in the native exchange. */
  get native(): boolean {
    return this.#settings.providers.some((p) => p.audiences.length > 0);
  }

  /**
   * The configured provider an id_token claims to come from (its unverified `iss`), and whether
   * it takes part in the native exchange: lets a caller name a browser-only provider.
   */
  providerOf(idToken: string): { name: string; native: boolean } | undefined {
    const issuer = claimedIssuer(idToken);
    const upstream = [...this.#upstreams.values()].find((u) => u.provider.issuer === issuer);
    if (!upstream) return undefined;
    return { name: upstream.provider.name, native: upstream.provider.audiences.length > 0 };
  }

  /**
   * The native exchange's first half: the id_token an app got from its platform SDK, verified
   * (signature, `iss`, `aud`, lifetime…), its nonce taken, the token itself marked used.
   *
   * @throws HttpProblem `invalid_request` (no nonce), `invalid_grant` (any other failed
   *   check, named in the description) or `temporarily_unavailable` (the upstream is down).
   */
  async verifyNative(idToken: string): Promise<FederatedIdentity> {
    const issuer = claimedIssuer(idToken);
    const upstream = [...this.#upstreams.values()].find(
      (u) => u.provider.issuer === issuer && u.provider.audiences.length > 0,
    );
    if (!upstream) {
      throw refusal('invalid_grant', 'the id_token is not from a provider accepted for sign-in');
    }
    const { provider, jwks } = upstream;
    let verified: VerifiedUpstreamIdToken;
    try {
      verified = await this.#settings.phases.phase('federation.verify_id_token', () =>
        verifyUpstreamIdToken(idToken, settingsOf(provider), jwks),
      );
    } catch (error) {
      if (error instanceof UpstreamIdTokenError) {
        if (error.check === 'nonce') {
          throw refusal(
            'invalid_request',
            'the id_token carries no nonce: get one from the native_sign_in_nonce_endpoint first',
          );
        }
        throw refusal('invalid_grant', error.message);
      }
      if (error instanceof UpstreamUnavailableError) throw upstreamDown(provider.name);
      throw error;
    }
    // Side by side: one round trip to the store; a refused nonce is reported first.
    const [nonce, replay] = await Promise.allSettled([
      this.#takeNonce(verified, provider),
      this.#markUsed(verified, provider),
    ]);
    if (nonce.status === 'rejected') throw nonce.reason;
    if (replay.status === 'rejected') throw replay.reason;
    return identityOf(verified, 'native');
  }

  /**
   * Asks `accounts.federated` which account `identity` is.
   *
   * @throws HttpProblem `invalid_grant` when the hook refuses or names no existing account.
   */
  async resolveAccount(identity: FederatedIdentity): Promise<ResolvedAccount> {
    const { accounts } = this.#settings;
    const resolved = await accounts.federated?.(identity);
    const accountId = typeof resolved === 'string' ? resolved : resolved?.accountId;
    if (typeof accountId !== 'string' || accountId === '') throw new UnknownIdentityProblem();
    if (!(await accounts.findAccount(accountId))) {
      throw refusal('invalid_grant', 'the account for this identity does not exist');
    }
    return { accountId, linked: typeof resolved === 'object' && resolved.linked === true };
  }

  /** How the link page names `accountId`: its `name` and `email` claims; `undefined` when gone. */
  async describeAccount(accountId: string): Promise<AccountLabel | undefined> {
    const found = await this.#settings.accounts.findAccount(accountId);
    if (!found) return undefined;
    const text = (value: unknown) =>
      typeof value === 'string' && value !== '' ? value : undefined;
    const name = text(found.claims.name) ?? text(found.claims.preferred_username);
    const email = text(found.claims.email);
    return { ...(name ? { name } : {}), ...(email ? { email } : {}) };
  }

  /** Whether `accounts.link` exists: only then is the link page offered. */
  get canLink(): boolean {
    return typeof this.#settings.accounts.link === 'function';
  }

  /**
   * Links `identity` to `accountId` through `accounts.link`, after the user confirmed it; the
   * sign-in that follows is reported as linked. `undefined` when the hook refused it (`false`:
   * the identity is linked to another account).
   */
  async link(identity: FederatedIdentity, accountId: string): Promise<ResolvedAccount | undefined> {
    const { accounts } = this.#settings;
    if (!accounts.link) throw new Error('accounts.link is not configured');
    if ((await accounts.link(identity, accountId)) === false) return undefined;
    return { accountId, linked: true };
  }

  /** Reports a link confirmed on the account page: `account.linked`, and no sign-in. */
  reportLinked(identity: FederatedIdentity, accountId: string): void {
    this.#settings.emit('account.linked', {
      provider: identity.provider,
      subject: identity.subject,
      accountId,
      via: identity.via,
    });
  }

  /**
   * Reports a finished sign-in (`account.linked` first when the hook linked just now); `endpoint`
   * names the Authorization Challenge Endpoint when it came through there.
   */
  reportSignIn(
    identity: FederatedIdentity,
    account: ResolvedAccount,
    clientId?: string,
    endpoint?: FederatedAccountEvent['endpoint'],
  ): void {
    const event = {
      provider: identity.provider,
      subject: identity.subject,
      accountId: account.accountId,
      via: identity.via,
      ...(clientId ? { clientId } : {}),
      ...(endpoint ? { endpoint } : {}),
    };
    if (account.linked) this.#settings.emit('account.linked', event);
    this.#settings.emit('account.federated', event);
  }

  async #takeNonce(verified: VerifiedUpstreamIdToken, provider: ResolvedFederatedProvider) {
    let key: string;
    try {
      key = nonceLookupKey(verified.nonce, provider.quirks);
    } catch (error) {
      if (error instanceof UpstreamIdTokenError) throw refusal('invalid_grant', error.message);
      throw error;
    }
    if (!(await this.#settings.nonces.take(key))) {
      throw refusal('invalid_grant', "the id_token's nonce is unknown, expired or already used");
    }
  }

  // The nonce already makes a token single-use; this holds even for a nonce issued twice.
  async #markUsed(verified: VerifiedUpstreamIdToken, provider: ResolvedFederatedProvider) {
    const ttl = Math.max(
      1,
      Math.ceil(verified.expiresAt + provider.clockSkewSeconds - Date.now() / 1000),
    );
    const first = await this.#settings.store.takeUse(
      `federated-id-token:${verified.tokenHash}`,
      1,
      ttl,
    );
    if (!first) throw refusal('invalid_grant', 'the id_token was already used');
  }
}

function settingsOf(provider: ResolvedFederatedProvider) {
  return {
    name: provider.name,
    issuer: provider.issuer,
    audiences: provider.audiences,
    clockSkewSeconds: provider.clockSkewSeconds,
    algorithms: provider.algorithms,
    ...(provider.quirks ? { quirks: provider.quirks } : {}),
    ...(provider.hostedDomain ? { hostedDomain: provider.hostedDomain } : {}),
  };
}

/**
 * The identity the hook sees: an unverified email is left out entirely, so nothing can link
 * accounts by it.
 *
 * @internal
 */
export function identityOf(
  verified: Pick<VerifiedUpstreamIdToken, 'provider' | 'subject' | 'claims'>,
  via: FederatedIdentity['via'],
  signedInAccountId?: string,
): FederatedIdentity {
  const claims: Record<string, unknown> = Object.create(null);
  Object.assign(claims, verified.claims);
  const verifiedEmail =
    claims.email_verified === true && typeof claims.email === 'string' ? claims.email : undefined;
  if (!verifiedEmail) delete claims.email;
  return {
    provider: verified.provider,
    subject: verified.subject,
    ...(verifiedEmail ? { email: verifiedEmail } : {}),
    claims,
    via,
    ...(signedInAccountId ? { signedInAccountId } : {}),
  };
}
