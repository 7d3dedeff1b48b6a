import type { EventEmitter } from 'node:events';
import type Koa from 'koa';
import type { Context, Middleware } from 'koa';
import type Provider from 'oidc-provider';
import { errorFields, type Logger, loggablePath, requestIdFrom } from '../core/logger.js';

/** The response (and request) header that carries the request id. */
export const REQUEST_ID_HEADER = 'X-Request-Id';

/**
 * One id per request, for log entries and the `X-Request-Id` response header: the incoming
 * `X-Request-Id` when it is short and safe (1–128 of `A–Z a–z 0–9 . _ : + = / -`), an id the
 * host app already set on the response, or a new random UUID.
 *
 * @internal
 */
export class RequestIds {
  // Keyed by context: an embedding app's own `ctx.state` stays untouched.
  readonly #ids = new WeakMap<object, string>();

  /** Gives each request its id and answers with it in `X-Request-Id`. */
  middleware(): Middleware {
    return async (ctx, next) => {
      this.of(ctx);
      await next();
    };
  }

  /** The request's id, given now if it has none yet (and sent back while headers can be). */
  of(ctx: Context): string {
    let id = this.#ids.get(ctx);
    if (!id) {
      id = requestIdFrom(ctx.response.get(REQUEST_ID_HEADER) || ctx.get(REQUEST_ID_HEADER));
      this.#ids.set(ctx, id);
    }
    if (!ctx.headerSent && ctx.response.get(REQUEST_ID_HEADER) !== id) {
      ctx.set(REQUEST_ID_HEADER, id);
    }
    return id;
  }
}

/**
 * oidc-provider's `*.error` events: a request it refused with an OAuth error (4xx, and 503 while
 * storage is down — the outage itself is logged once).
 */
const REFUSAL_EVENTS = [
  'authorization.error',
  'backchannel_authentication.error',
  'challenge.error',
  'code_verification.error',
  'credential.error',
  'device_authorization.error',
  'device_resume.error',
  'discovery.error',
  'end_session.error',
  'end_session_confirm.error',
  'end_session_success.error',
  'grant.error',
  'introspection.error',
  'jwks.error',
  'openid_credential_issuer.error',
  'pushed_authorization_request.error',
  'registration_create.error',
  'registration_delete.error',
  'registration_read.error',
  'registration_update.error',
  'revocation.error',
  'userinfo.error',
] as const;

/** A client going away mid-response: not the server's failure. */
const DISCONNECT_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

type OidcView = { oidc?: { route?: unknown; client?: { clientId?: unknown } } };

/** Which request an entry is about: never its query, headers, cookies or body. */
function requestFields(requestIds: RequestIds, ctx: unknown): Record<string, unknown> {
  if (typeof ctx !== 'object' || ctx === null || !('req' in ctx)) return {};
  const koa = ctx as Context & OidcView;
  const fields: Record<string, unknown> = {
    requestId: requestIds.of(koa),
    method: koa.method,
    path: loggablePath(koa.path),
  };
  try {
    const route = koa.oidc?.route;
    if (typeof route === 'string') fields.route = route;
    const clientId = koa.oidc?.client?.clientId;
    if (typeof clientId === 'string') fields.clientId = clientId;
  } catch {
    // No oidc-provider context for this request.
  }
  return fields;
}

/**
 * Logs what oidc-provider and the library report: `server_error` (an unexpected failure, the
 * client got a 500) at `error`; a request refused with an OAuth error at `debug`; a failed
 * back-channel logout at `warn`; an error that escaped every handler (Koa's `error` event, which
 * would otherwise print to the console) at `error`, or `debug` when the client went away.
 *
 * @internal
 */
export function logProviderEvents(provider: Provider, logger: Logger, requestIds: RequestIds) {
  provider.on('server_error', (ctx: unknown, error: unknown) => {
    logger.error(
      { ...requestFields(requestIds, ctx), error: errorFields(error) },
      'unexpected error',
    );
  });
  // oidc-provider's type map leaves these events out; they are emitted as listed.
  const emitter = provider as unknown as EventEmitter;
  for (const event of REFUSAL_EVENTS) {
    emitter.on(event, (ctx: unknown, error: unknown) => {
      const refusal = error as {
        statusCode?: unknown;
        error?: unknown;
        error_description?: unknown;
      };
      logger.debug(
        {
          ...requestFields(requestIds, ctx),
          status: refusal?.statusCode,
          error: refusal?.error,
          description: refusal?.error_description,
        },
        'request refused',
      );
    });
  }
  provider.on('backchannel.error', (ctx: unknown, error: unknown, client: unknown) => {
    const clientId = (client as { clientId?: unknown } | undefined)?.clientId;
    logger.warn(
      {
        ...requestFields(requestIds, ctx),
        ...(typeof clientId === 'string' ? { logoutClientId: clientId } : {}),
        error: errorFields(error, false),
      },
      'back-channel logout failed',
    );
  });
  logAppErrors(provider, logger, requestIds);
}

/**
 * Logs a Koa app's `error` events (errors no middleware handled, failed response streams)
 * through `logger`, instead of Koa's default print to the console.
 *
 * @internal
 */
export function logAppErrors(app: Koa, logger: Logger, requestIds: RequestIds) {
  app.on('error', (error: unknown, ctx: unknown) => {
    const { code, status, expose } = (error ?? {}) as {
      code?: unknown;
      status?: unknown;
      expose?: unknown;
    };
    // What Koa itself leaves unprinted: not-found and client errors.
    if (status === 404 || expose === true) return;
    const fields = { ...requestFields(requestIds, ctx), error: errorFields(error) };
    if (typeof code === 'string' && DISCONNECT_CODES.has(code)) {
      logger.debug(fields, 'response not completed: the client went away');
    } else {
      logger.error(fields, 'unhandled error');
    }
  });
}
