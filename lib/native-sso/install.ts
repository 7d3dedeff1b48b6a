// OpenID Connect Native SSO's install: the device_sso scope, device secrets on code exchanges,
// the exchange at the token endpoint, and the end of device sessions with their installs.
import type Provider from 'oidc-provider';
import type { Adapter } from 'oidc-provider';
import type { AccountClaims } from '../core/accounts.js';
import { instanceRecord } from '../core/instance-record.js';
import { errorFields } from '../core/logger.js';
import type { Template } from '../core/template-types.js';
import { TOKEN_EXCHANGE, withTokenExchangeGrant } from '../federation/token-exchange.js';
import { delegateAdapter } from '../provider/adapter.js';
import type { Assembly, Emit } from '../provider/assembly.js';
import { instanceRecordOf, type LoadedClient } from '../provider/loaded-client.js';
import { addTokenExchangeProfile } from '../provider/token-exchange-profiles.js';
import type { InstalledRegistration } from '../registration/install.js';
import type { TemplateSource } from '../registration/templates.js';
import { DEVICE_SSO_SCOPE, deviceSecretOnCodeExchange } from './code-exchange.js';
import { type DeviceSecretRecord, DeviceSecrets } from './device-secrets.js';
import { isNativeSsoExchange, nativeSsoExchange } from './exchange.js';
import { OwnIdTokens } from './id-tokens.js';
import type { NativeSsoEvents, NativeSsoManagement, NativeSsoSession } from './types.js';

/** The options Native SSO reads. @internal */
export interface NativeSsoSettings {
  issuer: string;
  ttl: { session: number };
  accounts: { findAccount(accountId: string): Promise<AccountClaims | undefined> };
  registration: { templates: readonly Template[] };
}

/** What Native SSO gives the server. @internal */
export interface InstalledNativeSso {
  /** `server.nativeSso`. */
  readonly management: NativeSsoManagement;
  /** Whether a template takes part: the device page lists device sessions then. */
  readonly enabled: boolean;
}

const withoutDeviceSso = (scope: unknown): string | undefined =>
  typeof scope === 'string'
    ? scope
        .split(' ')
        .filter((s) => s && s !== DEVICE_SSO_SCOPE)
        .join(' ')
    : undefined;

/**
 * Installs OpenID Connect Native SSO (draft 07) when a configured template declares
 * `nativeSso`: the `device_sso` scope for the installs of such templates, device secrets on
 * their code exchanges, and the exchange of an ID token and device secret at the token endpoint
 * (RFC 8693). `management` works either way (it finds no device session when it is off).
 *
 * @internal
 */
export function installNativeSso(
  assembly: Assembly,
  o: NativeSsoSettings,
  templates: TemplateSource,
  registration: InstalledRegistration,
  bindInstance: (clientId: string, accountId: string) => Promise<string | undefined>,
): InstalledNativeSso {
  const secrets = new DeviceSecrets(assembly.store);
  let provider: Provider | undefined;
  const live = async (record: DeviceSecretRecord) => {
    const session = provider && (await provider.Session.findByUid(record.sessionUid));
    return session?.accountId === record.accountId;
  };
  const management: NativeSsoManagement = {
    async list(accountId) {
      const records = await secrets.list(accountId);
      const alive = await Promise.all(records.map(live));
      return records.filter((_, i) => alive[i]).map(asSession);
    },
    revoke: (accountId, sid) =>
      secrets.revoke(accountId, sid === undefined ? undefined : (r) => r.sid === sid),
  };
  // Opt-in: only a configured template turns it on (then a resolver's templates may join too).
  if (!o.registration.templates.some((t) => t.nativeSso)) return { management, enabled: false };

  const groupOf = async (client: LoadedClient) => {
    const softwareId = instanceRecordOf(client)?.template;
    if (!softwareId) return undefined;
    return (await templates.find(softwareId, { purpose: 'load' }))?.nativeSso?.group;
  };
  const groupOfPayload = async (payload: Record<string, unknown>) => {
    const softwareId = instanceRecord(payload)?.template;
    if (!softwareId) return undefined;
    return (await templates.find(softwareId, { purpose: 'load' }))?.nativeSso?.group;
  };

  assembly.scopes.push(DEVICE_SSO_SCOPE);
  // Installs of a group's templates may ask for device_sso: added as each is loaded, never
  // stored, like the exchange grant (a template that leaves its group takes it back at once).
  assembly.wrapAdapter('Client', (clients: Adapter) =>
    delegateAdapter(clients, {
      async find(id) {
        const payload = await clients.find(id);
        if (!payload || typeof payload.scope !== 'string') return payload;
        if (!(await groupOfPayload(payload))) return payload;
        return { ...payload, scope: `${withoutDeviceSso(payload.scope)} ${DEVICE_SSO_SCOPE}` };
      },
      upsert(id, payload, expiresIn) {
        if (!instanceRecord(payload)) return clients.upsert(id, payload, expiresIn);
        if (typeof payload.scope !== 'string') return clients.upsert(id, payload, expiresIn);
        return clients.upsert(
          id,
          { ...payload, scope: withoutDeviceSso(payload.scope) },
          expiresIn,
        );
      },
    }),
  );
  // The exchange grant for registration clients and installs, unless federation gave it already.
  if (!registration.serverGrants.includes(TOKEN_EXCHANGE)) {
    const { registrationClientIds } = registration.dcrToken;
    assembly.wrapAdapter('Client', withTokenExchangeGrant);
    registration.serverGrants.push(TOKEN_EXCHANGE);
    assembly.changeStaticClients((clients) =>
      clients.map((c) =>
        registrationClientIds.has(c.client_id)
          ? { ...c, grant_types: [...(c.grant_types ?? []), TOKEN_EXCHANGE] }
          : c,
      ),
    );
  }
  const emit: Emit<NativeSsoEvents> = assembly.emit;
  const { dcrToken } = registration;
  assembly.onProvider((built) => {
    provider = built;
    const idTokens = new OwnIdTokens(o.issuer, assembly.keys.jwks);
    addTokenExchangeProfile(built, {
      matches: isNativeSsoExchange,
      handle: (ctx) =>
        nativeSsoExchange(built, ctx, {
          secrets,
          idTokens,
          groupOf,
          registrationClientIds: dcrToken.registrationClientIds,
          dcr: { resource: dcrToken.resource, scope: dcrToken.scope, ttl: dcrToken.ttl },
          findAccount: (accountId) => o.accounts.findAccount(accountId),
          bindInstance,
          report: (outcome) =>
            emit(outcome.refused ? 'native_sso.refused' : 'native_sso.exchanged', outcome),
        }),
      parameters: [
        'subject_token',
        'subject_token_type',
        'actor_token',
        'actor_token_type',
        'requested_token_type',
        'audience',
        'scope',
      ],
    });
  });
  assembly.use((built) =>
    deviceSecretOnCodeExchange(built, {
      secrets,
      groupOf,
      ttl: o.ttl.session,
      onUnavailable: (clientId) =>
        assembly.logger.warn(
          { clientId },
          'Native SSO: no device secret for this sign-in, the store is unavailable',
        ),
    }),
  );
  // A revoked or deleted install (a stolen phone) ends the device sessions it took part in, so
  // the device secret in that phone's keychain cannot bring a new install in.
  const endSessionsOf = (event: { clientId: string; accountId?: string }) => {
    const { clientId, accountId } = event;
    if (!accountId) return;
    secrets
      .revoke(accountId, (r) => r.clientIds.includes(clientId))
      .catch((error: unknown) =>
        assembly.logger.warn(
          { clientId, error: errorFields(error, false) },
          'Native SSO: the device sessions of a revoked install could not be ended',
        ),
      );
  };
  assembly.events.on('instance.revoked', endSessionsOf);
  assembly.events.on('instance.deleted', endSessionsOf);
  return { management, enabled: true };
}

const asSession = (r: DeviceSecretRecord): NativeSsoSession => ({
  sid: r.sid,
  group: r.group,
  clientId: r.clientId,
  clientIds: [...r.clientIds],
  createdAt: r.createdAt,
  issuedAt: r.issuedAt,
  expiresAt: r.expiresAt,
});
