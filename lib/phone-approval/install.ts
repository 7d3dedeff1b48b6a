import type Provider from 'oidc-provider';
import type { AccountOptions } from '../core/accounts.js';
import type { InstalledInstances } from '../instances/install.js';
import type { InstalledInteractions } from '../interactions/install.js';
import type { Assembly, Emit } from '../provider/assembly.js';
import type { TemplateSource } from '../registration/templates.js';
import { Approvals } from './approvals.js';
import { cibaFeature, requestTtl, unauthorizedClientRefusal } from './ciba.js';
import { createApprovalEndpoints } from './endpoints.js';
import type { PhoneApprovalEvents } from './events.js';
import { APPROVALS_PATH, type ResolvedPhoneApprovalOptions } from './options.js';
import { pagePhoneSignIn } from './page.js';

/** The options phone approval reads. @internal */
export interface PhoneApprovalSettings {
  accounts: Pick<AccountOptions, 'findAccount'>;
  phoneApproval: ResolvedPhoneApprovalOptions;
  /** The passthrough: its `routes` may move the backchannel authentication endpoint. */
  oidcProvider: { routes?: { backchannel_authentication?: string | undefined } | undefined };
}

// oidc-provider's path of the backchannel authentication endpoint, unless `routes` moves it.
const BACKCHANNEL_PATH = '/backchannel';

/**
 * Installs phone approval: oidc-provider's CIBA (the backchannel authentication endpoint, in
 * discovery) for the listed static clients, with the user's installs as the authentication
 * device, the installs' endpoints (`<issuer>/approvals`), and "Approve on your phone" on the
 * login page. Nothing when no client is listed.
 *
 * @internal
 */
export function installPhoneApproval(
  assembly: Assembly,
  o: PhoneApprovalSettings,
  templates: TemplateSource,
  instances: InstalledInstances,
  interactions: InstalledInteractions,
): void {
  const options = o.phoneApproval;
  if (options.clients.length === 0) return;
  const approvals = new Approvals(assembly.store);
  const emit: Emit<PhoneApprovalEvents> = assembly.emit;
  let built: Provider | undefined;
  assembly.onProvider((provider) => {
    built = provider;
  });
  const settings = {
    options,
    accounts: o.accounts,
    templates,
    manager: instances.manager,
    approvals,
    provider: () => built as Provider,
    emit,
    logger: assembly.logger,
  };
  assembly.features.ciba = cibaFeature(settings);
  interactions.offerPhoneSignIn(pagePhoneSignIn(settings));
  assembly.settings.ttl = {
    ...assembly.settings.ttl,
    BackchannelAuthenticationRequest: requestTtl(options.maxExpiry),
  };
  if (options.fetch) assembly.settings.fetch = options.fetch;
  const url = assembly.url(APPROVALS_PATH);
  assembly.discovery.phone_approval_endpoint = url;
  assembly.use(() =>
    unauthorizedClientRefusal(
      o.oidcProvider.routes?.backchannel_authentication ?? BACKCHANNEL_PATH,
    ),
  );
  assembly.use((provider) =>
    createApprovalEndpoints({
      provider,
      path: APPROVALS_PATH,
      url,
      approvals,
      templates,
      minimumLevel: options.minimumLevel,
      emit,
      logger: assembly.logger,
    }),
  );
}
