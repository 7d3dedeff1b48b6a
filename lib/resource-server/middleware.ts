import { X509Certificate } from 'node:crypto';
import { TLSSocket } from 'node:tls';
import { ConfigurationError } from '../core/errors.js';
import { TokenVerificationError } from './errors.js';
import type { ProtectedResourceRequest, TokenVerifier, VerifiedToken } from './types.js';

/**
 * Options of {@link koaAuth} and {@link expressAuth}.
 *
 * @group Resource server
 */
export interface AuthMiddlewareOptions {
  /**
   * The route's checks of the verified token, e.g.
   * `(token) => requireScopes(requireCal(token, 'by-provisioned-key'), 'payments')`. A
   * `TokenVerificationError` it throws is answered like a failed verification; any other error
   * goes to the framework's error handling. A promise it returns is awaited; its value is
   * ignored (the requirement functions return the token only so that they chain).
   *
   * @default no checks beyond a valid token
   */
  requirements?: (token: VerifiedToken) => unknown;
  /**
   * The protection space named in the challenge (`WWW-Authenticate: Bearer realm="…"`).
   *
   * @default no realm
   */
  realm?: string;
  /**
   * Asks the authorization server on every request whether the token is still active (see
   * `VerifyOptions.checkRevocation`); needs `introspection` in the verifier's options.
   *
   * @default false
   */
  checkRevocation?: boolean;
  /**
   * The API's external base URL, e.g. `https://api.example.com` (a path prefix is kept:
   * `https://example.com/api`). A DPoP proof's `htu` is compared with this base followed by the
   * request's original path, whatever `Host` or forwarding headers the request carries.
   * One of `publicUrl` and `trustHostHeader` is required.
   *
   * @default none: `trustHostHeader` must then be `true`
   */
  publicUrl?: string;
  /**
   * Builds the URL a DPoP proof's `htu` is compared with from the protocol and host the
   * framework reports: the `Host` header, or, with `app.proxy = true` (Koa) or
   * `app.set('trust proxy', …)` (Express), the proxy's `X-Forwarded-Proto` and
   * `X-Forwarded-Host`. Set it only when what is in front guarantees that value is one of the
   * API's own names (a proxy that sets it, a server that answers no other name): a client
   * chooses the `Host` header, so a token and proof captured at another host would otherwise
   * pass here, sent with that host's name. Prefer `publicUrl`.
   *
   * @default false
   */
  trustHostHeader?: boolean;
  /**
   * Called with every refusal before it is answered: for logs and metrics, e.g. the `cause` of
   * a 503 (the authorization server unreachable), which the answer never shows.
   *
   * @default none
   */
  onRefusal?: (error: TokenVerificationError) => void;
}

/**
 * What a refusal is answered with (RFC 6750 §3, RFC 9449 §7.1): built by
 * {@link refusalResponse}, for frameworks other than Koa and Express.
 *
 * @group Resource server
 */
export interface RefusalResponse {
  /** The HTTP status: 400, 401, 403 or 503. */
  status: number;
  /**
   * `WWW-Authenticate` (absent for a 503, which is no authentication failure),
   * `Cache-Control: no-store` and the JSON content type.
   */
  headers: Record<string, string>;
  /**
   * `{ error, error_description }`, with `scope` for `insufficient_scope`, `acr_values` and
   * `max_age` (as strings) for `insufficient_user_authentication`; `{}` for a request
   * without a token (RFC 6750 §3.1: no error information then).
   */
  body: Record<string, string>;
}

/**
 * The answer to a refused request: status, headers and JSON body. A 503
 * (`temporarily_unavailable`) gets no `Retry-After`: the API cannot know when the authorization
 * server will be back, and one fixed delay would bring every client back at the same moment.
 *
 * @param error - the refusal `verify` or a requirement threw.
 * @param realm - the protection space named in the challenge.
 * @group Resource server
 */
export function refusalResponse(error: TokenVerificationError, realm?: string): RefusalResponse {
  const challenge = error.wwwAuthenticate(realm);
  const body: Record<string, string> = {};
  if (error.error) {
    body.error = error.error;
    if (error.error_description) body.error_description = error.error_description;
    if (error.scope) body.scope = error.scope;
    if (error.acrValues?.length) body.acr_values = error.acrValues.join(' ');
    if (error.maxAge !== undefined) body.max_age = String(error.maxAge);
  }
  return {
    status: error.status,
    headers: {
      ...(challenge ? { 'WWW-Authenticate': challenge } : {}),
      'Cache-Control': 'no-store',
      'Content-Type': 'application/json; charset=utf-8',
    },
    body,
  };
}

/**
 * What {@link koaAuth} puts on `ctx.state`: declare it as the app's state type
 * (`new Koa<AuthState>()`) to read `ctx.state.auth` typed.
 *
 * @group Resource server
 */
export interface AuthState {
  /** The verified token of the request. */
  auth: VerifiedToken;
}

/**
 * The parts of a Koa context {@link koaAuth} reads and writes (a structural type: Koa itself
 * is not loaded).
 *
 * @group Resource server
 */
export interface KoaAuthContext {
  /** The HTTP method, compared with a DPoP proof's `htm`. */
  method: string;
  /** The request target before any router or mount stripped a prefix. */
  originalUrl: string;
  /** `http` or `https` (the forwarded one with `app.proxy`). */
  protocol: string;
  /** The host with its port (the forwarded one with `app.proxy`). */
  host: string;
  /** The request headers, names in lower case as Node parses them. */
  headers: ProtectedResourceRequest['headers'];
  /** Node's request. */
  req?: {
    /** The connection: a TLS socket gives the client certificate. */
    socket?: unknown;
  };
  /** Where the verified token goes, as `auth`. */
  state: object;
  /** The response status, set for a refusal. */
  status: number;
  /** The response body, set for a refusal. */
  body: unknown;
  /** Sets a response header. */
  set(field: string, value: string): void;
}

/**
 * The parts of an Express request {@link expressAuth} reads and writes (a structural type:
 * Express itself is not loaded).
 *
 * @group Resource server
 */
export interface ExpressAuthRequest {
  /** The HTTP method, compared with a DPoP proof's `htm`. */
  method: string;
  /** The request target before any router or mount stripped a prefix. */
  originalUrl: string;
  /** `http` or `https` (the forwarded one with `trust proxy`). */
  protocol: string;
  /** The host with its port, as Express 5 reports it (the forwarded one with `trust proxy`). */
  host?: string | undefined;
  /** The request headers, names in lower case as Node parses them. */
  headers: ProtectedResourceRequest['headers'];
  /** The connection: a TLS socket gives the client certificate. */
  socket?: unknown;
  /** The verified token, once {@link expressAuth} accepted the request. */
  auth?: VerifiedToken;
}

/**
 * The parts of an Express (or Node) response {@link expressAuth} writes to.
 *
 * @group Resource server
 */
export interface ExpressAuthResponse {
  /** The response status, set for a refusal. */
  statusCode: number;
  /** Sets a response header. */
  setHeader(name: string, value: string): unknown;
  /** Sends the body and ends the response. */
  end(body: string): unknown;
}

/**
 * A Koa middleware: what `app.use` and routers take.
 *
 * @group Resource server
 */
export type KoaAuthMiddleware = (
  ctx: KoaAuthContext,
  next: () => Promise<unknown>,
) => Promise<void>;

/**
 * An Express middleware: what `app.use` and route handlers take.
 *
 * @group Resource server
 */
export type ExpressAuthMiddleware = (
  req: ExpressAuthRequest,
  res: ExpressAuthResponse,
  next: (error?: unknown) => void,
) => void;

/**
 * Koa middleware that verifies the request's access token with `verifier`, runs the route's
 * `requirements`, and puts the token on `ctx.state.auth` for the next middleware. A refused
 * request is answered here (see {@link refusalResponse}) and goes no further; any other error
 * is thrown to Koa's error handling.
 *
 * Set `publicUrl` (or, behind a proxy that sets the host, `trustHostHeader` with
 * `app.proxy = true`), so that DPoP proofs are checked against the URL the client called.
 *
 * @example
 * ```ts
 * const app = new Koa<AuthState>();
 * router.get('/payments', koaAuth(verifier, {
 *   requirements: (token) => requireScopes(requireCal(token, 'by-provisioned-key'), 'payments'),
 *   publicUrl: 'https://api.example.com',
 * }), (ctx) => { ctx.body = { sub: ctx.state.auth.sub }; });
 * ```
 *
 * @throws ConfigurationError for invalid options, or neither `publicUrl` nor `trustHostHeader`.
 * @group Resource server
 */
export function koaAuth(
  verifier: TokenVerifier,
  options: AuthMiddlewareOptions = {},
): KoaAuthMiddleware {
  const settings = resolveMiddlewareOptions(verifier, options);
  return async (ctx, next) => {
    let token: VerifiedToken;
    try {
      token = await authenticate(verifier, settings, {
        method: ctx.method,
        originalUrl: ctx.originalUrl,
        protocol: ctx.protocol,
        host: ctx.host,
        headers: ctx.headers,
        socket: ctx.req?.socket,
      });
    } catch (error) {
      if (!(error instanceof TokenVerificationError)) throw error;
      settings.onRefusal?.(error);
      const refusal = refusalResponse(error, settings.realm);
      ctx.status = refusal.status;
      for (const [name, value] of Object.entries(refusal.headers)) ctx.set(name, value);
      ctx.body = refusal.body;
      return;
    }
    (ctx.state as Partial<AuthState>).auth = token;
    // Outside the try: a refusal-shaped error from later middleware is not this one's to answer.
    await next();
  };
}

/**
 * Express middleware that verifies the request's access token with `verifier`, runs the route's
 * `requirements`, and puts the token on `req.auth` for the next handler. A refused request is
 * answered here (see {@link refusalResponse}) and goes no further; any other error goes to
 * `next(error)`, Express's error handling.
 *
 * Set `publicUrl` (or, behind a proxy that sets the host, `trustHostHeader` with
 * `app.set('trust proxy', …)`), so that DPoP proofs are checked against the URL the client
 * called. With `trustHostHeader` the host comes from Express 5's `req.host`; Express 4 drops
 * the port there, so set `publicUrl` with it.
 *
 * To read `req.auth` typed, the app declares it once:
 * `declare global { namespace Express { interface Request { auth?: VerifiedToken } } }`.
 *
 * @example
 * ```ts
 * app.get('/payments', expressAuth(verifier, {
 *   requirements: (token) => requireScopes(requireCal(token, 'by-provisioned-key'), 'payments'),
 *   publicUrl: 'https://api.example.com',
 * }), (req, res) => { res.json({ sub: req.auth?.sub }); });
 * ```
 *
 * @throws ConfigurationError for invalid options, or neither `publicUrl` nor `trustHostHeader`.
 * @group Resource server
 */
export function expressAuth(
  verifier: TokenVerifier,
  options: AuthMiddlewareOptions = {},
): ExpressAuthMiddleware {
  const settings = resolveMiddlewareOptions(verifier, options);
  return (req, res, next) => {
    authenticate(verifier, settings, {
      method: req.method,
      originalUrl: req.originalUrl,
      protocol: req.protocol,
      host: req.host,
      headers: req.headers,
      socket: req.socket,
    }).then(
      (token) => {
        req.auth = token;
        next();
      },
      (error: unknown) => {
        if (!(error instanceof TokenVerificationError)) {
          next(error);
          return;
        }
        try {
          settings.onRefusal?.(error);
        } catch (hookError) {
          // A failing hook is the app's bug, as in Koa: its error handling answers.
          next(hookError);
          return;
        }
        const refusal = refusalResponse(error, settings.realm);
        res.statusCode = refusal.status;
        for (const [name, value] of Object.entries(refusal.headers)) res.setHeader(name, value);
        res.end(JSON.stringify(refusal.body));
      },
    );
  };
}

/** The options with the public base URL parsed once. */
interface MiddlewareSettings {
  requirements: AuthMiddlewareOptions['requirements'];
  realm: string | undefined;
  checkRevocation: boolean;
  /** Origin and path prefix, without a trailing slash. */
  publicBase: string | undefined;
  onRefusal: AuthMiddlewareOptions['onRefusal'];
}

function resolveMiddlewareOptions(
  verifier: TokenVerifier,
  options: AuthMiddlewareOptions,
): MiddlewareSettings {
  const problems: string[] = [];
  if (typeof (verifier as Partial<TokenVerifier> | undefined)?.verify !== 'function') {
    problems.push('verifier must be a TokenVerifier (createTokenVerifier)');
  }
  const o = (options ?? {}) as Partial<AuthMiddlewareOptions>;
  if (o.requirements !== undefined && typeof o.requirements !== 'function') {
    problems.push('options.requirements must be a function');
  }
  if (o.onRefusal !== undefined && typeof o.onRefusal !== 'function') {
    problems.push('options.onRefusal must be a function');
  }
  if (o.realm !== undefined && typeof o.realm !== 'string') {
    problems.push('options.realm must be a string');
  }
  if (o.checkRevocation !== undefined && typeof o.checkRevocation !== 'boolean') {
    problems.push('options.checkRevocation must be a boolean');
  }
  let publicBase: string | undefined;
  if (o.publicUrl !== undefined) {
    const url =
      typeof o.publicUrl === 'string' && URL.canParse(o.publicUrl) && new URL(o.publicUrl);
    if (
      !url ||
      (url.protocol !== 'https:' && url.protocol !== 'http:') ||
      url.search ||
      url.hash ||
      url.username ||
      url.password
    ) {
      problems.push(
        'options.publicUrl must be an absolute http(s) URL without query, fragment or credentials',
      );
    } else {
      publicBase = `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
    }
  }
  if (o.trustHostHeader !== undefined && typeof o.trustHostHeader !== 'boolean') {
    problems.push('options.trustHostHeader must be a boolean');
  } else if (o.publicUrl === undefined && o.trustHostHeader !== true) {
    // Checked here, not per request: an API that never sees a DPoP token would otherwise learn
    // of it only from the first one.
    problems.push(
      "options.publicUrl is required (the API's external URL, which DPoP proofs must name), unless options.trustHostHeader is true",
    );
  } else if (o.publicUrl !== undefined && o.trustHostHeader === true) {
    problems.push('options.publicUrl and options.trustHostHeader exclude each other: set one');
  }
  if (problems.length > 0) throw new ConfigurationError(problems);
  return {
    requirements: o.requirements,
    realm: o.realm,
    checkRevocation: o.checkRevocation === true,
    publicBase,
    onRefusal: o.onRefusal,
  };
}

/** What both frameworks report about a request. */
interface FrameworkRequest {
  method: string;
  originalUrl: string;
  protocol: string;
  host: string | undefined;
  headers: ProtectedResourceRequest['headers'];
  socket: unknown;
}

/**
 * Verifies the request and runs the requirements.
 *
 * @throws TokenVerificationError to answer; anything else is the framework's.
 */
async function authenticate(
  verifier: TokenVerifier,
  settings: MiddlewareSettings,
  request: FrameworkRequest,
): Promise<VerifiedToken> {
  const clientCertificate = tlsClientCertificate(request.socket);
  const token = await verifier.verify(
    {
      method: request.method,
      url: requestUrl(request, settings.publicBase),
      headers: request.headers,
      ...(clientCertificate ? { clientCertificate } : {}),
    },
    { checkRevocation: settings.checkRevocation },
  );
  await settings.requirements?.(token);
  return token;
}

const malformed = (description: string) =>
  new TokenVerificationError({ error: 'invalid_request', description });

/**
 * The absolute URL the client called, for the DPoP `htu` check.
 *
 * @throws TokenVerificationError `invalid_request` when no URL can be made of the request.
 */
function requestUrl(request: FrameworkRequest, publicBase: string | undefined): string {
  let path: unknown = request.originalUrl;
  // Frameworks give a string; an adapter or hand-built context might not.
  if (typeof path !== 'string') throw malformed('the request target is not a path');
  if (!path.startsWith('/')) {
    // RFC 9112 §3.2.2: a server must accept the absolute form of the request target too.
    if (!URL.canParse(path)) throw malformed('the request target is not a path');
    const absolute = new URL(path);
    path = `${absolute.pathname}${absolute.search}`;
  }
  let base = publicBase;
  if (base === undefined) {
    // Only with trustHostHeader: publicUrl or it is required.
    const { protocol, host } = request;
    if (!host) throw malformed('the request has no Host header');
    // A path, query or userinfo in the Host would move the URL elsewhere: refused, not guessed at.
    if (/[\s/\\?#@]/.test(host)) throw malformed('the request Host header is malformed');
    if (protocol !== 'http' && protocol !== 'https') {
      throw malformed('the request protocol is neither http nor https');
    }
    base = `${protocol}://${host}`;
  }
  const url = `${base}${path}`;
  if (!URL.canParse(url)) throw malformed('the request URL is malformed');
  return url;
}

/** The PEM of the client certificate TLS received in this process, if any. */
function tlsClientCertificate(socket: unknown): string | undefined {
  if (!(socket instanceof TLSSocket)) return undefined;
  const raw = socket.getPeerCertificate()?.raw;
  return raw ? new X509Certificate(raw).toString() : undefined;
}
