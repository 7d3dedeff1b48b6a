// Native federated sign-in: RFC 8693 token exchange of an upstream id_token at oidc-provider's
// token endpoint, registered as an extension grant.
import Provider, { type Adapter, errors, type KoaContextWithOIDC } from 'oidc-provider';
import { instanceRecord } from '../core/instance-record.js';
import { clientAddress } from '../http/client-address.js';
import { HttpProblem } from '../http/problem.js';
import { delegateAdapter } from '../provider/adapter.js';
import {
  type DcrTokenSettings,
  exchangeSenderConstraints,
  issueExchangedTokens,
  requestedScopes,
} from '../provider/exchanged-tokens.js';
import { instanceRecordOf } from '../provider/loaded-client.js';
import { protocolError } from '../provider/protocol-error.js';
import { addTokenExchangeProfile } from '../provider/token-exchange-profiles.js';
import type { FederatedSignIn } from './sign-in.js';

/** The grant type (RFC 8693 §2.1). @internal */
export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** What the exchange needs. @internal */
export interface TokenExchangeSettings {
  federation: FederatedSignIn;
  registrationClientIds: ReadonlySet<string>;
  /** The DCR token's audience and its resource server settings. */
  dcr: DcrTokenSettings;
  /** Binds an unbound instance to `accountId`; resolves the owner it has after. */
  bindInstance(clientId: string, accountId: string): Promise<string | undefined>;
  /** Reports a refused sign-in: the id_token, its account or the instance's owner refused. */
  onRefused(clientId: string, ip: string): void;
}

/** Whether `error` refuses the sign-in (a 4xx), rather than failing it (an outage, a bug). */
function isRefusal(error: unknown): boolean {
  const status =
    error instanceof HttpProblem ? error.status : (error as { statusCode?: unknown })?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500;
}

type Ctx = KoaContextWithOIDC & { oidc: { params: Record<string, string | undefined> } };

/** A refusal of the federation layer, as the error oidc-provider renders. */
function asProviderError(error: unknown): unknown {
  if (!(error instanceof HttpProblem)) return error;
  const rendered = protocolError(error.status, error.error, error.description);
  // oidc-provider hides 5xx as server_error unless told the error is meant for the client.
  if (error.status >= 500) Object.assign(rendered, { expose: true });
  return rendered;
}

// oidc-provider's InvalidGrant keeps its fixed description; the app should learn which check failed.
const invalidGrant = (description: string) => protocolError(400, 'invalid_grant', description);

/**
 * Registers the id_token exchange on `provider`: a registration client gets a DCR token, an
 * instance client its own tokens, for the account `accounts.federated` names.
 *
 * @internal
 */
export function registerTokenExchange(provider: Provider, settings: TokenExchangeSettings): void {
  addTokenExchangeProfile(provider, {
    // Native SSO's exchange names an actor (the device secret); this one never does.
    matches: (params) => params.actor_token === undefined && params.actor_token_type === undefined,
    handle: async (ctx: KoaContextWithOIDC) => {
      try {
        await exchange(provider, ctx as Ctx, settings);
      } catch (error) {
        throw asProviderError(error);
      }
    },
    parameters: ['subject_token', 'subject_token_type', 'requested_token_type', 'scope'],
  });
}

/** The user the id_token proves, their account, and the instance bound to it; refusals reported. */
async function signedIn(
  ctx: Ctx,
  clientId: string,
  record: ReturnType<typeof instanceRecordOf>,
  settings: TokenExchangeSettings,
) {
  try {
    const identity = await settings.federation.verifyNative(
      ctx.oidc.params.subject_token as string,
    );
    const account = await settings.federation.resolveAccount(identity);
    const { accountId } = account;
    if (record) {
      if (record.account_id && record.account_id !== accountId) {
        throw invalidGrant('this app install belongs to another account');
      }
      if (!record.account_id) {
        const owner = await settings.bindInstance(clientId, accountId);
        if (owner !== accountId) throw invalidGrant('this app install belongs to another account');
      }
    }
    return { identity, account };
  } catch (error) {
    if (isRefusal(error)) settings.onRefused(clientId, clientAddress(ctx).address);
    throw error;
  }
}

async function exchange(provider: Provider, ctx: Ctx, settings: TokenExchangeSettings) {
  const { params } = ctx.oidc;
  const client = ctx.oidc.client as NonNullable<KoaContextWithOIDC['oidc']['client']>;
  for (const name of ['subject_token', 'subject_token_type'] as const) {
    if (!params[name]) throw new errors.InvalidRequest(`missing required parameter '${name}'`);
  }
  if (params.subject_token_type !== ID_TOKEN_TYPE) {
    throw new errors.InvalidRequest(`subject_token_type must be ${ID_TOKEN_TYPE}`);
  }
  if (params.requested_token_type && params.requested_token_type !== ACCESS_TOKEN_TYPE) {
    throw new errors.InvalidRequest(`requested_token_type must be ${ACCESS_TOKEN_TYPE}`);
  }
  const isRegistrationClient = settings.registrationClientIds.has(client.clientId);
  const record = instanceRecordOf(client);
  if (!isRegistrationClient && !record) {
    throw new errors.UnauthorizedClient(
      'the id_token exchange is for registration clients and app installs',
    );
  }
  // Sender constraints and scopes are checked before the id_token is spent.
  const constraints = await exchangeSenderConstraints(provider, ctx, isRegistrationClient);
  const issued = isRegistrationClient
    ? { dcr: settings.dcr }
    : { scope: requestedScopes(ctx, client.scope) };

  const { identity, account } = await signedIn(ctx, client.clientId, record, settings);
  const body = await issueExchangedTokens(provider, ctx, {
    accountId: account.accountId,
    constraints,
    ...issued,
  });
  settings.federation.reportSignIn(identity, account, client.clientId);
  ctx.body = body;
}

/** `grant_types` without the exchange: what is stored for an instance. */
const withoutExchange = (grantTypes: readonly string[]) =>
  grantTypes.filter((g) => g !== TOKEN_EXCHANGE);

/**
 * The `Client` adapter with the exchange among every instance's grant types, added as each is
 * loaded and never stored (a write drops it), so installs registered before federated sign-in
 * was configured can use it, and an RFC 7592 update that sends back what the read showed stores
 * what it stored before.
 *
 * @internal
 */
export function withTokenExchangeGrant(clients: Adapter): Adapter {
  return delegateAdapter(clients, {
    async find(id) {
      const payload = await clients.find(id);
      if (!payload || !instanceRecord(payload) || !Array.isArray(payload.grant_types)) {
        return payload;
      }
      return { ...payload, grant_types: [...withoutExchange(payload.grant_types), TOKEN_EXCHANGE] };
    },
    upsert(id, payload, expiresIn) {
      if (!instanceRecord(payload) || !Array.isArray(payload.grant_types)) {
        return clients.upsert(id, payload, expiresIn);
      }
      return clients.upsert(
        id,
        { ...payload, grant_types: withoutExchange(payload.grant_types) },
        expiresIn,
      );
    },
  });
}
