import type { AccountOptions } from '../core/accounts.js';
import type { Assembly } from '../provider/assembly.js';
import { PasskeyService } from './service.js';
import { type PasskeyOptionInput, relyingParty } from './settings.js';
import type { PasskeyManagement } from './types.js';

/** The options passkeys read. @internal */
export interface PasskeySettings extends Omit<PasskeyOptionInput, 'title'> {
  accounts: AccountOptions;
  /** `interactions.title` names the relying party by default. */
  interactions: { title: string };
}

/** What passkeys give the pages and the server. @internal */
export interface InstalledPasskeys {
  /** The passkey ceremonies and the stored passkeys. */
  readonly service: PasskeyService;
  /** The public face: `server.passkeys`. */
  readonly management: PasskeyManagement;
}

/**
 * Installs passkeys: the service always exists (the APIs manage stored passkeys); the pages
 * offer passkey sign-in and registration only with `passkeys.enabled`.
 *
 * @internal
 */
export function installPasskeys(assembly: Assembly, o: PasskeySettings): InstalledPasskeys {
  const service = new PasskeyService({
    store: assembly.store,
    challengeKey: assembly.secret('passkey-challenge'),
    relyingParty: relyingParty({ ...o, title: o.interactions.title }),
    findAccount: (accountId) => o.accounts.findAccount(accountId),
    phases: assembly,
    emit: assembly.emit,
  });
  return {
    service,
    management: {
      list: (accountId) => service.list(accountId),
      get: (credentialId) => service.get(credentialId),
      remove: (credentialId) => service.remove(credentialId, 'api'),
    },
  };
}
