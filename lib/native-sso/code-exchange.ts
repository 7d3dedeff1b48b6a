// The first app's side of Native SSO (draft 07 §3): a code exchange with `device_sso` granted
// answers a new device secret, and its ID token carries `ds_hash` and `sid`.
import { randomBytes } from 'node:crypto';
import type { Middleware } from 'koa';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { LoadedClient } from '../provider/loaded-client.js';
import { StorageUnavailableError } from '../storage/guard.js';
import type { DeviceSecrets } from './device-secrets.js';
import { dsHash } from './id-tokens.js';

/** The scope by which an app asks for a device secret (draft 07 §3.1). @internal */
export const DEVICE_SSO_SCOPE = 'device_sso';

/** What the code exchange needs. @internal */
export interface CodeExchangeSettings {
  secrets: DeviceSecrets;
  /** The group of apps a client belongs to; `undefined` for a client in none. */
  groupOf(client: LoadedClient): Promise<string | undefined>;
  /** Seconds a device session lasts at most. */
  ttl: number;
  /** Reports a code exchange answered without a device secret: the store was unavailable. */
  onUnavailable(clientId: string): void;
}

// Claims JWT.sign sets itself, and hashes oidc-provider would hash again (none at /token).
const RESIGNED = new Set(['iss', 'aud', 'exp', 'at_hash', 'c_hash', 's_hash']);

/**
 * Token endpoint middleware: after a code exchange whose code has `device_sso` for an install of
 * a Native SSO group, signed in through a browser session still alive, issues a device secret
 * (`device_secret` in the response) and re-issues the response's ID token with its `ds_hash` and
 * the device session's `sid`. oidc-provider has no hook for a token response member or an ID
 * token claim outside the account's scope-masked claims, hence the answer is completed here.
 *
 * @internal
 */
export function deviceSecretOnCodeExchange(
  provider: Provider,
  settings: CodeExchangeSettings,
): Middleware {
  return async function nativeSsoCodeExchange(koa, next) {
    await next();
    const ctx = koa as unknown as KoaContextWithOIDC;
    const { oidc } = ctx;
    if (oidc?.route !== 'token' || ctx.status !== 200) return;
    if (
      (oidc.params as { grant_type?: unknown } | undefined)?.grant_type !== 'authorization_code'
    ) {
      return;
    }
    const code = oidc.entities.AuthorizationCode;
    const client = oidc.client;
    const body = ctx.body as Record<string, unknown> | undefined;
    if (!code || !client || !code.scopes.has(DEVICE_SSO_SCOPE)) return;
    if (typeof body?.id_token !== 'string' || !code.sessionUid || !code.accountId) return;
    const group = await settings.groupOf(client);
    if (!group) return;
    // A signed (not encrypted) ID token of the browser session the user is still signed in to.
    const parts = body.id_token.split('.');
    if (parts.length !== 3) return;
    const session = await provider.Session.findByUid(code.sessionUid);
    if (!session || session.accountId !== code.accountId) return;

    const header = JSON.parse(Buffer.from(parts[0] as string, 'base64url').toString('utf8')) as {
      alg: string;
    };
    const claims = JSON.parse(
      Buffer.from(parts[1] as string, 'base64url').toString('utf8'),
    ) as Record<string, unknown>;
    // oidc-provider's sid when the client asked for one (back-channel logout), else our own.
    const sid = typeof claims.sid === 'string' ? claims.sid : randomBytes(16).toString('base64url');
    let secret: string;
    try {
      ({ secret } = await settings.secrets.issue(
        {
          accountId: code.accountId,
          sid,
          sessionUid: code.sessionUid,
          group,
          clientId: client.clientId,
          ...(typeof code.authTime === 'number' ? { authTime: code.authTime } : {}),
        },
        settings.ttl,
      ));
    } catch (error) {
      // The code is spent and the tokens are issued: the app keeps them, without Native SSO.
      if (!(error instanceof StorageUnavailableError)) throw error;
      settings.onUnavailable(client.clientId);
      return;
    }

    const idToken = new provider.IdToken({}, { ctx });
    for (const [name, value] of Object.entries(claims)) {
      if (!RESIGNED.has(name)) idToken.set(name, value);
    }
    idToken.set('sid', sid);
    idToken.set('ds_hash', dsHash(secret, header.alg));
    body.id_token = await idToken.issue({
      use: 'idtoken',
      ...(typeof claims.exp === 'number' ? { expiresAt: claims.exp } : {}),
    });
    body.device_secret = secret;
  };
}
