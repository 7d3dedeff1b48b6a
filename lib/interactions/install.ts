import type { AccountOptions } from '../core/accounts.js';
import { instanceRecord } from '../core/instance-record.js';
import { SIGN_IN_ACR } from '../core/sign-in-acr.js';
import type { InstalledFederation } from '../federation/install.js';
import type { InstalledInstances } from '../instances/install.js';
import type { NativeSsoManagement } from '../native-sso/types.js';
import type { InstalledPasskeys } from '../passkeys/install.js';
import type { Assembly, Emit } from '../provider/assembly.js';
import { instanceRecordById } from '../provider/loaded-client.js';
import { createAccountRoutes } from './account-routes.js';
import { listRequestedOnConsent } from './consent.js';
import type { SignInEvents } from './events.js';
import { interactionUrl } from './index.js';
import { createInteractionRoutes } from './interaction-routes.js';
import { BUILT_IN_MESSAGES } from './messages.js';
import type { ResolvedInteractionOptions } from './options.js';
import { renderErrorPage, renderLogoutPage, renderLogoutSuccessPage } from './provider-pages.js';
import { pageSignInKinds, requireAcrValues } from './sign-in-acr.js';
import { SignInThrottle } from './throttle.js';
import type { PhoneSignIn } from './types.js';

/** The options the pages read. @internal */
export interface InteractionSettings {
  accounts: AccountOptions;
  interactions: ResolvedInteractionOptions;
  passkeys: { enabled: boolean };
  registration: { dcrToken: { scope: string } };
  /** Phone approval is on when it lists a client: the login page then offers it too. */
  phoneApproval: { clients: readonly string[] };
  oidcProvider: {
    features?: { rpInitiatedLogout?: Record<string, unknown> & { logoutSource?: unknown } };
  };
}

/** What the sign-in pages share with the features above them. @internal */
export interface InstalledInteractions {
  /** The failed sign-in budget: browserless first-party sign-in counts in the same one. */
  readonly throttle: SignInThrottle;
  /**
   * Hands the login page its "Approve on your phone" (phone approval, installed later, calls it
   * when `phoneApproval` is on; before the provider is built).
   */
  offerPhoneSignIn(phone: PhoneSignIn): void;
}

/**
 * Installs the browser pages: sign-in (password, passkeys, "Continue with …"), consent, the
 * account pages (devices, passkeys, linked accounts), and oidc-provider's error and sign-out
 * pages in the same look.
 *
 * @internal
 */
export function installInteractions(
  assembly: Assembly,
  o: InteractionSettings,
  instances: InstalledInstances,
  passkeys: InstalledPasskeys,
  federation: InstalledFederation,
  nativeSso?: NativeSsoManagement,
): InstalledInteractions {
  const { interactions } = o;
  const { basePath } = assembly;
  const emit: Emit<SignInEvents> = assembly.emit;
  // Failed sign-ins counted in the store; a store failure answers 503 (fails closed). The
  // linked accounts page's password form counts in the same budget.
  const throttle = new SignInThrottle({
    store: assembly.store,
    perAccount: interactions.signInRateLimit.perAccount,
    perIp: interactions.signInRateLimit.perIp,
    perUsername: interactions.signInRateLimit.perUsername,
    onThrottled: (event) => emit('signin.throttled', event),
  });
  const enabledPasskeys = o.passkeys.enabled ? { passkeys: passkeys.service } : {};

  assembly.settings.interactions = {
    url: (_ctx, interaction) => interactionUrl(basePath, interaction.uid),
  };
  assembly.changeInteractionPolicy(listRequestedOnConsent);
  // Each way of signing in gives its acr; a request's acr_values among them is honoured.
  const kinds = pageSignInKinds({
    passkeys: o.passkeys.enabled,
    federation: federation.browser.buttons.length > 0,
    phone: o.phoneApproval.clients.length > 0,
  });
  // Set by phone approval before the provider (and so the routes below) is built.
  let phone: PhoneSignIn | undefined;
  for (const kind of kinds) assembly.acrValues.add(SIGN_IN_ACR[kind]);
  assembly.changeInteractionPolicy(requireAcrValues(kinds));
  assembly.settings.renderError = renderErrorPage;
  const logout = o.oidcProvider.features?.rpInitiatedLogout;
  assembly.features.rpInitiatedLogout = {
    ...logout,
    enabled: true,
    logoutSource: logout?.logoutSource ?? renderLogoutPage,
    postLogoutSuccessSource: logout?.postLogoutSuccessSource ?? renderLogoutSuccessPage,
  };
  // OpenID Connect Discovery §3: the languages the pages come in.
  assembly.discovery.ui_locales_supported = [
    ...new Set([...Object.keys(BUILT_IN_MESSAGES), ...Object.keys(interactions.messages ?? {})]),
  ];

  assembly.use((provider) =>
    createInteractionRoutes(provider, {
      authenticate: o.accounts.authenticate,
      csrfSecret: assembly.secret('csrf').toString('base64url'),
      basePath,
      title: interactions.title,
      // Render hooks, catalogues and scope descriptions; oidc-provider's pages share them.
      ...(interactions.pages ? { pages: interactions.pages } : {}),
      ...(interactions.messages ? { messages: interactions.messages } : {}),
      defaultLanguage: interactions.defaultLanguage,
      ...(interactions.scopeDescriptions
        ? { scopeDescriptions: interactions.scopeDescriptions }
        : {}),
      dcrScope: o.registration.dcrToken.scope,
      throttle,
      onSignIn: (outcome, event) => emit(`signin.${outcome}`, event),
      // An instance owned by this user is the user's own app: no second consent. One without
      // an owner shows the consent page on its first sign-in, and binds when the user allows.
      autoConsent: ({ accountId, metadata }) =>
        accountId !== '' && instanceRecord(metadata)?.account_id === accountId,
      confirmConsent: async ({ clientId, accountId }) => {
        const record = await instanceRecordById(provider, clientId);
        if (!record || record.account_id || !accountId) return undefined;
        const owner = await instances.manager.bind(clientId, accountId);
        return owner === accountId
          ? undefined
          : 'this app install was just claimed by another account: register the app again';
      },
      // "Continue with …" buttons for the providers with browser options.
      federation: federation.browserSettings,
      browserFederation: federation.browser,
      ...enabledPasskeys,
      ...(phone ? { phone } : {}),
    }),
  );
  // The account pages of the browser's signed-in user: devices, and passkeys when enabled.
  assembly.use((provider) =>
    createAccountRoutes(provider, {
      basePath,
      csrfSecret: assembly.secret('account-csrf').toString('base64url'),
      instances: instances.manager,
      ...enabledPasskeys,
      ...(nativeSso ? { nativeSso } : {}),
      findAccount: (accountId) => o.accounts.findAccount(accountId),
      federation: federation.browser,
      authenticate: o.accounts.authenticate,
      throttle,
    }),
  );
  return {
    throttle,
    offerPhoneSignIn: (offered) => {
      phone = offered;
    },
  };
}
