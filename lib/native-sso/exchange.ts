// The Native SSO token exchange (draft 07 §4): another app of the group presents the ID token and
// the device secret an app of its group obtained, and gets tokens of its own without a sign-in.
import type Provider from 'oidc-provider';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { AccountClaims } from '../core/accounts.js';
import {
  type DcrTokenSettings,
  exchangeSenderConstraints,
  issueExchangedTokens,
  requestedScopes,
} from '../provider/exchanged-tokens.js';
import { instanceRecordOf, type LoadedClient } from '../provider/loaded-client.js';
import { protocolError } from '../provider/protocol-error.js';
import { DEVICE_SSO_SCOPE } from './code-exchange.js';
import type { DeviceSecretRecord, DeviceSecrets } from './device-secrets.js';
import { dsHash, dsHashMatches, type OwnIdTokens } from './id-tokens.js';

/** The subject token type (RFC 8693 §3). @internal */
export const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';
/** The actor token type of a device secret (Native SSO draft 07 §4.1). @internal */
export const DEVICE_SECRET_TYPE = 'urn:openid:params:token-type:device-secret';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** What the exchange needs. @internal */
export interface NativeSsoExchangeSettings {
  secrets: DeviceSecrets;
  idTokens: OwnIdTokens;
  /** The group of apps a client belongs to; `undefined` for a client in none. */
  groupOf(client: LoadedClient): Promise<string | undefined>;
  registrationClientIds: ReadonlySet<string>;
  /** The DCR token's audience and its resource server settings. */
  dcr: DcrTokenSettings;
  findAccount(accountId: string): Promise<AccountClaims | undefined>;
  /** Binds an unbound instance to `accountId`; resolves the owner it has after. */
  bindInstance(clientId: string, accountId: string): Promise<string | undefined>;
  /** Reports an exchange: granted, or refused with the reason given to the app. */
  report(outcome: NativeSsoOutcome): void;
}

/** What {@link NativeSsoExchangeSettings.report} receives. @internal */
export interface NativeSsoOutcome {
  clientId: string;
  /** The account, once the device secret named one. */
  accountId?: string;
  /** `undefined` when granted. */
  refused?: string;
}

type Ctx = KoaContextWithOIDC & { oidc: { params: Record<string, string | undefined> } };

// Every refusal of the subject or actor token is invalid_grant (draft 07 §4.3), with its reason.
const invalidGrant = (description: string) => protocolError(400, 'invalid_grant', description);

/** Whether the request is a Native SSO exchange: its actor is a device secret. @internal */
export const isNativeSsoExchange = (params: Readonly<Record<string, unknown>>) =>
  params.actor_token_type === DEVICE_SECRET_TYPE;

/**
 * Answers a Native SSO exchange on `provider`'s token endpoint: a registration client gets a DCR
 * token, an install of the group its own tokens; both get the device secret's successor and an
 * ID token bound to it.
 *
 * @internal
 */
export async function nativeSsoExchange(
  provider: Provider,
  ctx: KoaContextWithOIDC,
  settings: NativeSsoExchangeSettings,
): Promise<void> {
  const c = ctx as Ctx;
  const clientId = c.oidc.client?.clientId ?? '';
  try {
    await exchange(provider, c, settings);
  } catch (error) {
    const status = (error as { statusCode?: unknown } | undefined)?.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      const described = error as { error_description?: unknown; message?: unknown };
      settings.report({
        clientId,
        refused: String(described.error_description ?? described.message ?? 'refused'),
      });
    }
    throw error;
  }
}

async function exchange(provider: Provider, ctx: Ctx, settings: NativeSsoExchangeSettings) {
  const { params } = ctx.oidc;
  const client = ctx.oidc.client as NonNullable<KoaContextWithOIDC['oidc']['client']>;
  for (const name of ['subject_token', 'subject_token_type', 'actor_token'] as const) {
    if (!params[name]) throw new errors.InvalidRequest(`missing required parameter '${name}'`);
  }
  if (params.subject_token_type !== ID_TOKEN_TYPE) {
    throw new errors.InvalidRequest(`subject_token_type must be ${ID_TOKEN_TYPE}`);
  }
  if (params.requested_token_type && params.requested_token_type !== ACCESS_TOKEN_TYPE) {
    throw new errors.InvalidRequest(`requested_token_type must be ${ACCESS_TOKEN_TYPE}`);
  }
  // The app asks for tokens for itself (from this server); another audience is not ours to grant.
  if (
    params.audience !== undefined &&
    params.audience !== client.clientId &&
    params.audience !== provider.issuer
  ) {
    throw protocolError(
      400,
      'invalid_target',
      "audience must be the requesting client's client_id or this issuer",
    );
  }
  const isRegistrationClient = settings.registrationClientIds.has(client.clientId);
  const record = instanceRecordOf(client);
  const group = isRegistrationClient ? undefined : await settings.groupOf(client);
  if (!isRegistrationClient && !group) {
    throw new errors.UnauthorizedClient(
      'Native SSO is for registration clients and installs of an app in a Native SSO group',
    );
  }
  // Sender constraints and scopes are checked before the device secret is spent.
  const constraints = await exchangeSenderConstraints(provider, ctx, isRegistrationClient);
  const issued = isRegistrationClient
    ? { dcr: settings.dcr }
    : { scope: requestedScopes(ctx, client.scope, DEVICE_SSO_SCOPE) };

  const deviceSecret = params.actor_token as string;
  const session = await deviceSession(provider, ctx, deviceSecret, group, settings);
  const { accountId } = session;
  const account = await settings.findAccount(accountId);
  if (!account) throw invalidGrant('the account signed in on this device no longer exists');
  if (record) {
    if (record.account_id && record.account_id !== accountId) {
      throw invalidGrant('this app install belongs to another account');
    }
    if (!record.account_id) {
      const owner = await settings.bindInstance(client.clientId, accountId);
      if (owner !== accountId) throw invalidGrant('this app install belongs to another account');
    }
  }

  // Rotated before any token is issued: of parallel exchanges of one secret, one gets tokens.
  const rotated = await settings.secrets.rotate(deviceSecret, session, client.clientId);
  if (rotated === 'used') throw invalidGrant('the device secret was already used');

  const tokens = await issueExchangedTokens(provider, ctx, { accountId, constraints, ...issued });

  // The ID token the next app of the group presents with the new secret (draft 07 §4.4).
  // Its claims as set: the account's other claims are the userinfo endpoint's.
  const idToken = new provider.IdToken({}, { ctx });
  idToken.set('sub', accountId);
  idToken.set('sid', rotated.record.sid);
  idToken.set('ds_hash', dsHash(rotated.secret, client.idTokenSignedResponseAlg as string));
  if (rotated.record.authTime !== undefined) idToken.set('auth_time', rotated.record.authTime);

  settings.report({ clientId: client.clientId, accountId });
  // RFC 8693 §2.2.1, with Native SSO's id_token and device_secret.
  ctx.body = {
    ...tokens,
    id_token: await idToken.issue({ use: 'idtoken' }),
    device_secret: rotated.secret,
  };
}

/**
 * The live device session the ID token and device secret prove, for a client of `group`
 * (`undefined`: a registration client, which serves every group).
 */
async function deviceSession(
  provider: Provider,
  ctx: Ctx,
  deviceSecret: string,
  group: string | undefined,
  settings: NativeSsoExchangeSettings,
): Promise<DeviceSecretRecord> {
  const idToken = await settings.idTokens.verify(ctx.oidc.params.subject_token as string);
  if (typeof idToken === 'string') throw invalidGrant(idToken);
  const found = await settings.secrets.find(deviceSecret);
  if (found === 'unknown') throw invalidGrant('the device secret is unknown, expired or revoked');
  if (found === 'used') throw invalidGrant('the device secret was already used');
  if (!dsHashMatches(idToken.dsHash, deviceSecret, idToken.alg)) {
    throw invalidGrant('the device secret does not belong to the subject_token (ds_hash)');
  }
  if (idToken.sub !== found.accountId || idToken.sid !== found.sid) {
    throw invalidGrant('the subject_token is of another device session');
  }
  if (group !== undefined && group !== found.group) {
    throw invalidGrant('the device secret belongs to another group of apps');
  }
  // The device session lasts as long as the browser session the first app signed in with.
  const session = await provider.Session.findByUid(found.sessionUid);
  if (!session || session.accountId !== found.accountId) {
    await settings.secrets.end(deviceSecret, found);
    throw invalidGrant('the sign-in session of this device has ended');
  }
  return found;
}
