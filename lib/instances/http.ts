import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context, Middleware } from 'koa';
import { bearerToken, HttpProblem, sendJson as send, sendProblem } from '../http/problem.js';
import { routed } from '../http/routed.js';
import type { PasskeyService } from '../passkeys/service.js';
import {
  type PresentedToken,
  type ProviderBridge,
  protocolFailure,
  serverError,
} from '../provider/bridge.js';
import { type InstanceManager, InvalidPageRequest } from './manager.js';

/** What the admin API accepts as credentials. @internal */
export interface AdminAuthSettings {
  adminClients: ReadonlySet<string>;
  adminScope: string;
  adminSecret: string | undefined;
  realm: string;
}

function bearer(ctx: Context): string {
  return bearerToken(
    ctx,
    () => new HttpProblem(401, 'invalid_request', 'an access token is required', true),
    () => new HttpProblem(401, 'invalid_token', 'send the token as Authorization: Bearer <token>'),
  );
}

// A random per-process key: the digests below are never stored or shown, only compared.
const SECRET_DIGEST_KEY = randomBytes(32);
const secretDigest = (value: string) =>
  createHmac('sha256', SECRET_DIGEST_KEY).update(value, 'utf8').digest();

/**
 * Compares fixed-length HMAC-SHA256 digests in constant time, so neither the comparison nor an
 * early length check tells a caller how long the admin secret is. An unset secret matches nothing.
 */
function secretMatches(given: string, expected: string | undefined): boolean {
  if (!expected) return false;
  return timingSafeEqual(secretDigest(given), secretDigest(expected));
}

/** Refuses a missing or sender-constrained token: this endpoint cannot check DPoP or mTLS proofs. */
function usableToken(token: PresentedToken | undefined): PresentedToken {
  if (!token) {
    throw new HttpProblem(401, 'invalid_token', 'the access token is unknown, expired or revoked');
  }
  if (token.senderConstrained) {
    throw new HttpProblem(401, 'invalid_token', 'sender-constrained tokens are not accepted here');
  }
  return token;
}

async function authorizeAdmin(ctx: Context, provider: ProviderBridge, auth: AdminAuthSettings) {
  const value = bearer(ctx);
  if (secretMatches(value, auth.adminSecret)) return;
  const token = usableToken(await provider.findToken(value, ['client']));
  if (!token.clientId || !auth.adminClients.has(token.clientId)) {
    throw new HttpProblem(
      401,
      'invalid_token',
      'the access token was not issued to an admin client',
    );
  }
  if (!token.scopes.includes(auth.adminScope)) {
    throw new HttpProblem(
      403,
      'insufficient_scope',
      `the access token lacks the '${auth.adminScope}' scope`,
    );
  }
}

/**
 * Decodes one id from the path. Bad percent-encoding (RFC 3986 §2.1: a '%' without two hex
 * digits, or octets that are not UTF-8) is the caller's mistake: 400, never a 500.
 */
function pathSegment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HttpProblem(
      400,
      'invalid_request',
      'the path is not valid percent-encoding (RFC 3986 §2.1) of a UTF-8 id',
    );
  }
}

/**
 * Finds the route for the request. The returned function decodes the ids only when it runs, so
 * the caller checks the credential first and a malformed path cannot skip authentication.
 */
/** A route: method, path pattern, and the handler of the ids the pattern captures. */
type Route = [string, RegExp, (...ids: string[]) => Promise<void>];

function matchRoute(ctx: Context, routes: readonly Route[]) {
  for (const [method, pattern, handler] of routes) {
    const match = pattern.exec(ctx.path);
    if (match && ctx.method === method) return () => handler(...match.slice(1).map(pathSegment));
  }
  return undefined;
}

const notFound = () => new HttpProblem(404, 'not_found', 'no such instance');
const noPasskey = () => new HttpProblem(404, 'not_found', 'no such passkey');

/**
 * Answers one page of an account's instances, `{ devices, next_cursor? }` (the field keeps its
 * first name, so existing clients read it unchanged), read from `?limit=`
 * (1–100, default 50) and `?cursor=` (the previous page's `next_cursor`). A bad or repeated value
 * of either, or a cursor issued for another account, is 400 invalid_request.
 */
async function sendPage(ctx: Context, instances: InstanceManager, accountId: string) {
  const { limit, cursor } = ctx.query;
  if (Array.isArray(limit) || Array.isArray(cursor)) {
    throw new HttpProblem(400, 'invalid_request', 'give limit and cursor at most once each');
  }
  if (limit !== undefined && !/^[1-9]\d{0,2}$/.test(limit)) {
    throw new HttpProblem(400, 'invalid_request', 'limit must be an integer from 1 to 100');
  }
  try {
    const page = await instances.page(accountId, {
      ...(limit !== undefined ? { limit: Number(limit) } : {}),
      ...(cursor !== undefined ? { cursor } : {}),
    });
    send(ctx, 200, {
      devices: page.devices,
      ...(page.nextCursor ? { next_cursor: page.nextCursor } : {}),
    });
  } catch (error) {
    if (error instanceof InvalidPageRequest) {
      throw new HttpProblem(400, 'invalid_request', error.message);
    }
    throw error;
  }
}

/** Renders what a route threw: its problem, a store outage as 503, anything else as a bare 500. */
function renderFailure(ctx: Context, provider: ProviderBridge, realm: string, error: unknown) {
  if (error instanceof HttpProblem) return sendProblem(ctx, realm, error);
  const failure = protocolFailure(error);
  if (!failure) provider.reportError(ctx, error);
  const { status, body } = failure ?? serverError();
  send(ctx, status, body);
}

/**
 * The admin API, as Koa middleware to mount where administrators reach it:
 * `GET /accounts/:accountId/instances`, `DELETE /accounts/:accountId/instances`,
 * `GET /instances/:clientId`, `DELETE /instances/:clientId` (each also answers at its former
 * `devices` path, the same handler), and with `passkeys`
 * `GET /accounts/:accountId/passkeys`, `GET /passkeys/:credentialId`,
 * `DELETE /passkeys/:credentialId`. Every request needs an admin client's
 * access token with the admin scope, or the admin secret. Lists come in pages (see `sendPage`).
 *
 * @internal
 */
export function createAdminApi(
  provider: ProviderBridge,
  instances: InstanceManager,
  auth: AdminAuthSettings,
  passkeys?: PasskeyService,
): Middleware {
  return async function adminApi(ctx, next) {
    const route = matchRoute(ctx, [
      [
        'GET',
        /^\/accounts\/([^/]+)\/(?:instances|devices)\/?$/,
        async (accountId) => {
          await sendPage(ctx, instances, accountId);
        },
      ],
      [
        'DELETE',
        /^\/accounts\/([^/]+)\/(?:instances|devices)\/?$/,
        async (accountId) => {
          send(ctx, 200, { revoked: await instances.revokeAll(accountId, 'admin') });
        },
      ],
      [
        'GET',
        /^\/(?:instances|devices)\/([^/]+)\/?$/,
        async (clientId) => {
          const instance = await instances.get(clientId);
          if (!instance) throw notFound();
          send(ctx, 200, instance);
        },
      ],
      [
        'DELETE',
        /^\/(?:instances|devices)\/([^/]+)\/?$/,
        async (clientId) => {
          const instance = await instances.revoke(clientId, 'admin');
          if (!instance) throw notFound();
          send(ctx, 200, instance);
        },
      ],
      // Passkeys: an account's list, one by credential id, and removing one.
      ...(passkeys
        ? ([
            [
              'GET',
              /^\/accounts\/([^/]+)\/passkeys\/?$/,
              async (accountId) => {
                send(ctx, 200, { passkeys: await passkeys.list(accountId) });
              },
            ],
            [
              'GET',
              /^\/passkeys\/([^/]+)\/?$/,
              async (credentialId) => {
                const passkey = await passkeys.get(credentialId);
                if (!passkey) throw noPasskey();
                send(ctx, 200, passkey);
              },
            ],
            [
              'DELETE',
              /^\/passkeys\/([^/]+)\/?$/,
              async (credentialId) => {
                const passkey = await passkeys.remove(credentialId, 'admin');
                if (!passkey) throw noPasskey();
                send(ctx, 200, passkey);
              },
            ],
          ] as Route[])
        : []),
    ]);
    if (!route) return next();
    try {
      await authorizeAdmin(ctx, provider, auth);
      await route();
    } catch (error) {
      renderFailure(ctx, provider, auth.realm, error);
    }
  };
}

/** The paths self-service answers under; any other request passes on at once. */
const SELF_SERVICE_PATH = /^\/(?:instances|devices|passkeys)(?:\/|$)/;

/**
 * The self-service endpoint, installed with `provider.use()`: `GET /instances` lists the
 * signed-in user's instances (a page at a time, see `sendPage`), `DELETE /instances/:clientId`
 * revokes one of them (both also at their former `/devices` paths); with `passkeys`,
 * `GET /passkeys` and `DELETE /passkeys/:credentialId` do the same for passkeys. Needs the user's
 * own access token with the self-service scope; another user's instance or passkey is `404`, as
 * if it did not exist.
 *
 * @internal
 */
export function createSelfService(
  provider: ProviderBridge,
  instances: InstanceManager,
  settings: { scope: string; realm: string; passkeys?: PasskeyService },
): Middleware {
  const { passkeys } = settings;
  return routed(
    (ctx) => SELF_SERVICE_PATH.test(ctx.path),
    async function selfService(ctx, next) {
      // The signed-in user's account, set once the token is checked (before any id is decoded).
      let accountId = '';
      const authorize = async () => {
        const token = usableToken(await provider.findToken(bearer(ctx), ['user']));
        if (!token.scopes.includes(settings.scope)) {
          throw new HttpProblem(
            403,
            'insufficient_scope',
            `the access token lacks the '${settings.scope}' scope`,
          );
        }
        accountId = token.accountId as string;
      };
      const route = matchRoute(ctx, [
        [
          'GET',
          /^\/(?:instances|devices)\/?$/,
          async () => {
            await sendPage(ctx, instances, accountId);
          },
        ],
        [
          'DELETE',
          /^\/(?:instances|devices)\/([^/]+)\/?$/,
          async (clientId) => {
            const instance = await instances.get(clientId);
            if (instance?.accountId !== accountId) throw notFound();
            send(ctx, 200, await instances.revoke(clientId, 'user'));
          },
        ],
        // The user's own passkeys; another account's passkey is 404, as if it did not exist.
        ...(passkeys
          ? ([
              [
                'GET',
                /^\/passkeys\/?$/,
                async () => {
                  send(ctx, 200, { passkeys: await passkeys.list(accountId) });
                },
              ],
              [
                'DELETE',
                /^\/passkeys\/([^/]+)\/?$/,
                async (credentialId) => {
                  const passkey = await passkeys.remove(credentialId, 'user', accountId);
                  if (!passkey) throw noPasskey();
                  send(ctx, 200, passkey);
                },
              ],
            ] as Route[])
          : []),
      ]);
      if (!route) return next();
      try {
        await authorize();
        await route();
      } catch (error) {
        renderFailure(ctx, provider, settings.realm, error);
      }
    },
  );
}
