import type { AccountOptions } from '../core/accounts.js';
import type { InstanceManager } from '../instances/manager.js';
import type { Assembly, Emit } from '../provider/assembly.js';
import type { InstalledRegistration } from '../registration/install.js';
import { BrowserFederation, type BrowserFederationSettings } from './browser.js';
import { createNonceEndpoint, NativeSignInNonces } from './nonces.js';
import type { ResolvedFederationOptions } from './options.js';
import { FederatedSignIn } from './sign-in.js';
import { registerTokenExchange, TOKEN_EXCHANGE, withTokenExchangeGrant } from './token-exchange.js';
import type { FederatedSignInFailure, FederationEvents } from './types.js';

/** The options federated sign-in reads. @internal */
export interface FederationSettings {
  issuer: string;
  development: boolean;
  accounts: AccountOptions;
  federation: ResolvedFederationOptions;
}

/** What federated sign-in gives the sign-in pages. @internal */
export interface InstalledFederation {
  /** The "Continue with …" settings of the sign-in page. */
  readonly browserSettings: BrowserFederationSettings;
  /** One browser flow for the sign-in page and the linked accounts page: one redirect URI each. */
  readonly browser: BrowserFederation;
  /** Verifies native id_tokens (when `native`) and resolves their accounts: for first-party sign-in. */
  readonly signIn: FederatedSignIn;
}

/**
 * Installs federated sign-in: the native exchange of a platform's id_token (RFC 8693) with its
 * nonce endpoint, for providers with `audiences`, and the browser flow the sign-in pages offer.
 *
 * @internal
 */
export function installFederation(
  assembly: Assembly,
  o: FederationSettings,
  registration: InstalledRegistration,
  instances: InstanceManager,
): InstalledFederation {
  const { store } = assembly;
  const { providers, nonce } = o.federation;
  const emit: Emit<FederationEvents> = assembly.emit;
  // The sign-in pages' `signin.failed` (its type lives above this floor), for a refused exchange.
  const refusals: Emit<{ 'signin.failed': FederatedSignInFailure }> = assembly.emit;
  const nonces = new NativeSignInNonces(store, nonce.ttl);
  const signIn = new FederatedSignIn({
    providers,
    allowHttp: o.development,
    store,
    nonces,
    accounts: o.accounts,
    phases: assembly,
    emit,
  });

  // Some provider takes part in the native exchange: registration clients and every instance
  // may use the RFC 8693 grant.
  if (providers.some((p) => p.audiences.length > 0)) {
    const { dcrToken } = registration;
    assembly.discovery.native_sign_in_nonce_endpoint = assembly.url(nonce.path);
    assembly.wrapAdapter('Client', withTokenExchangeGrant);
    registration.serverGrants.push(TOKEN_EXCHANGE);
    assembly.changeStaticClients((clients) =>
      clients.map((c) =>
        dcrToken.registrationClientIds.has(c.client_id)
          ? { ...c, grant_types: [...(c.grant_types ?? []), TOKEN_EXCHANGE] }
          : c,
      ),
    );
    assembly.use(() =>
      createNonceEndpoint({ path: nonce.path, nonces, store, rateLimit: nonce.rateLimit }),
    );
    assembly.onProvider((provider) =>
      registerTokenExchange(provider, {
        federation: signIn,
        registrationClientIds: dcrToken.registrationClientIds,
        dcr: { resource: dcrToken.resource, scope: dcrToken.scope, ttl: dcrToken.ttl },
        bindInstance: (clientId, accountId) => instances.bind(clientId, accountId),
        onRefused: (clientId, ip) =>
          refusals('signin.failed', { method: 'federated', clientId, ip }),
      }),
    );
  }

  const browserSettings: BrowserFederationSettings = {
    providers,
    issuer: o.issuer,
    allowHttp: o.development,
    store,
    signIn,
    linkingMaxAge: o.federation.linking.maxAge,
    logger: assembly.logger,
    phases: assembly,
  };
  return { browserSettings, browser: new BrowserFederation(browserSettings), signIn };
}
