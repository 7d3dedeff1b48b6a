import type { AccountOptions } from '../core/accounts.js';
import { SIGN_IN_ACR } from '../core/sign-in-acr.js';
import type { Template } from '../core/template-types.js';
import type { FederatedSignIn } from '../federation/sign-in.js';
import type { InstalledInstances } from '../instances/install.js';
import type { SignInEvents } from '../interactions/events.js';
import type { SignInThrottle } from '../interactions/throttle.js';
import type { PasskeyService } from '../passkeys/service.js';
import type { Assembly, Emit } from '../provider/assembly.js';
import { beforeGrant } from '../provider/grant-handlers.js';
import type { TemplateSource } from '../registration/templates.js';
import { createChallengeEndpoint } from './challenge-endpoint.js';
import {
  AUTH_SESSION_TTL,
  AUTHORIZATION_CHALLENGE_PATH,
  type FirstPartyOptions,
} from './options.js';
import { challengeCodeRedirectUri } from './outcome.js';
import { AuthSessions } from './sessions.js';

/** The options first-party sign-in reads. @internal */
export interface FirstPartySettings {
  accounts: AccountOptions;
  registration: { templates: readonly Template[]; templateResolver?: unknown };
  passkeys: { enabled: boolean };
  firstParty: FirstPartyOptions;
}

/** The other features' sign-in methods the endpoint offers as steps. @internal */
export interface FirstPartyMethods {
  /** Native id_tokens: a step only when some provider has `audiences`. */
  federation: FederatedSignIn;
  /** Passkey assertions: a step only with `passkeys.enabled`. */
  passkeys: PasskeyService;
}

/**
 * Installs browserless first-party sign-in (draft-ietf-oauth-first-party-apps): the
 * Authorization Challenge Endpoint, advertised as `authorization_challenge_endpoint`, when a
 * template declares `firstParty` or a template resolver may return one that does.
 *
 * @internal
 */
export function installFirstParty(
  assembly: Assembly,
  o: FirstPartySettings,
  templates: TemplateSource,
  instances: InstalledInstances,
  throttle: SignInThrottle,
  methods: FirstPartyMethods,
): void {
  const { templates: configured, templateResolver } = o.registration;
  if (!configured.some((t) => t.firstParty) && !templateResolver) return;
  const url = assembly.url(AUTHORIZATION_CHALLENGE_PATH);
  assembly.discovery.authorization_challenge_endpoint = url;
  // The acr of each step it takes (see FIRST_PARTY_ACR).
  assembly.acrValues.add(SIGN_IN_ACR.password);
  if (methods.federation.native) assembly.acrValues.add(SIGN_IN_ACR.id_token);
  if (o.passkeys.enabled) assembly.acrValues.add(SIGN_IN_ACR.passkey);
  const sessions = new AuthSessions(assembly.store, AUTH_SESSION_TTL);
  const emit: Emit<SignInEvents> = assembly.emit;
  // Its codes exchange without redirect_uri, whatever the number of the install's redirect URIs.
  assembly.onProvider((provider) =>
    beforeGrant(provider, 'authorization_code', challengeCodeRedirectUri),
  );
  assembly.use((provider) =>
    createChallengeEndpoint({
      provider,
      path: AUTHORIZATION_CHALLENGE_PATH,
      url,
      templates,
      guard: instances.guard,
      sessions,
      throttle,
      authenticate: o.accounts.authenticate,
      bind: (clientId, accountId) => instances.manager.bind(clientId, accountId),
      recordSignIn: (clientId, signIn) =>
        instances.manager.recordFirstPartySignIn(clientId, signIn),
      emit,
      ...(methods.federation.native ? { federation: methods.federation } : {}),
      ...(o.passkeys.enabled ? { passkeys: methods.passkeys } : {}),
      ...(o.firstParty.policy ? { policy: o.firstParty.policy } : {}),
    }),
  );
}
