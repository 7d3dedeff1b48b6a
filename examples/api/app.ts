import express, {
  type Express as ExpressApp,
  type NextFunction,
  type Request,
  type Response,
} from 'express';
import type { Logger } from 'mobile-oidc-provider';
import {
  createTokenVerifier,
  expressAuth,
  requireCal,
  requireScopes,
  type TokenVerificationError,
  type VerifiedToken,
} from 'mobile-oidc-provider/resource-server';

// The app declares what expressAuth puts on the request, so its handlers read `req.auth` typed.
declare global {
  namespace Express {
    interface Request {
      auth?: VerifiedToken;
    }
  }
}

/** The API's client id at the example server (enabled there by `RESOURCE_SERVER_SECRET`). */
export const API_CLIENT_ID = 'example-api';

/** Environment the example API reads. */
export interface ApiEnv {
  /** The authorization server's issuer. @default 'http://localhost:3000' (the example server's) */
  ISSUER?: string;
  /** This API's resource indicator: the `aud` its tokens carry. @default 'https://api.example.com/' */
  API_AUDIENCE?: string;
  /**
   * The secret of {@link API_CLIENT_ID} (the example server's `RESOURCE_SERVER_SECRET`): when set,
   * opaque tokens are introspected; without it only JWT access tokens are accepted.
   */
  API_INTROSPECTION_SECRET?: string;
  /**
   * The API's external base URL (e.g. `https://api.example.com`): DPoP proofs must name it.
   * @default the URL it listens on, unless `TRUST_PROXY` is `1`
   */
  API_PUBLIC_URL?: string;
  /**
   * `1` when a TLS-terminating proxy sits in front and sets `X-Forwarded-Proto` and
   * `X-Forwarded-Host`: without `API_PUBLIC_URL`, DPoP proofs must then name the forwarded URL.
   */
  TRUST_PROXY?: string;
  /** `production` refuses an `http://` issuer. */
  NODE_ENV?: string;
}

/** What `/me` answers: who the token speaks for, and what it grants. */
export interface MeResponse {
  sub: string;
  client_id: string;
  /** The token's scopes, space-separated as in the token. */
  scope: string;
  cal?: string;
}

/**
 * The example API: `GET /me` for any valid token of this API, `GET /payments` for the
 * `payments` scope from an install proven by a provisioned key (or better). Refusals are answered
 * by `expressAuth` (RFC 6750 §3 challenges); `logger` gets their causes when the authorization
 * server cannot be reached.
 *
 * @param listenUrl - where this process listens, e.g. `http://localhost:4000`: the URL DPoP
 *   proofs must name when neither `API_PUBLIC_URL` nor `TRUST_PROXY` says otherwise.
 */
export function createApiApp(env: ApiEnv, logger: Logger, listenUrl: string): ExpressApp {
  const issuer = env.ISSUER ?? 'http://localhost:3000';
  const secret = env.API_INTROSPECTION_SECRET;
  const verifier = createTokenVerifier({
    issuer,
    audience: env.API_AUDIENCE ?? 'https://api.example.com/',
    // The example server's development issuer is plain http; production needs https.
    allowHttp: env.NODE_ENV !== 'production',
    ...(secret ? { introspection: { clientId: API_CLIENT_ID, clientSecret: secret } } : {}),
    // DPoP proofs' jti are remembered in this process's memory (the default): one process only.
  });
  const trustProxy = env.TRUST_PROXY === '1';
  const shared = {
    realm: 'example-api',
    // Never the Host header alone: a client chooses it, and with it the URL its proof must name.
    ...(env.API_PUBLIC_URL || !trustProxy
      ? { publicUrl: env.API_PUBLIC_URL || listenUrl }
      : { trustHostHeader: true }),
    onRefusal(error: TokenVerificationError) {
      // A 503's cause (the authorization server unreachable) is for the logs, never the answer.
      if (error.status === 503) logger.warn({ cause: String(error.cause) }, error.message);
    },
  };
  const app = express();
  app.disable('x-powered-by');
  if (trustProxy) app.set('trust proxy', 1);

  app.get('/me', expressAuth(verifier, shared), (req, res) => {
    const { sub, clientId, scope, cal } = req.auth as VerifiedToken;
    const me: MeResponse = { sub, client_id: clientId, scope: scope.join(' '), cal };
    res.json(me);
  });

  app.get(
    '/payments',
    expressAuth(verifier, {
      ...shared,
      // The level first: a cal=none install cannot get `payments` at all, and a new token would
      // not help it, so it hears insufficient_assurance rather than insufficient_scope.
      requirements: (token) => requireScopes(requireCal(token, 'by-provisioned-key'), 'payments'),
    }),
    (req, res) => {
      res.json({ sub: (req.auth as VerifiedToken).sub, payments: [] });
    },
  );

  app.use((_req: Request, res: Response) => {
    res.status(404).json({ error: 'not_found' });
  });
  // Four parameters make it Express's error handler: a bug answers 500 without its stack.
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    logger.error({ error: String(error) }, 'the example API failed');
    res.status(500).json({ error: 'server_error' });
  });
  return app;
}
