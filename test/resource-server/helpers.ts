// What the resource-server tests share: the test server with APIs, an app that signs in and
// gets tokens for them with openid-client, a small API on loopback that verifies requests like a
// real one would, and a local issuer whose keys and answers the tests control.
import { randomUUID, type webcrypto } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';
import type { AuthServerOptions } from 'mobile-oidc-provider';
import * as oidc from 'openid-client';
import {
  type ProtectedResourceRequest,
  TokenVerificationError,
} from '../../lib/resource-server/index.js';
import {
  APP_REDIRECT_URI,
  RESOURCE_SERVER_SECRET,
  registrationClient,
} from '../helpers/example.js';
import { RESOURCE_SERVER_ID } from '../helpers/fixture.js';
import { listen } from '../helpers/listen.js';
import { instanceConfiguration, postRegistration } from '../helpers/registration.js';
import { obtainDcrToken, SignInBrowser, signIn } from '../helpers/sign-in.js';

export { RESOURCE_SERVER_ID, RESOURCE_SERVER_SECRET };

/** An API whose tokens are JWTs (RFC 9068). */
export const JWT_API = 'https://api.example.com/';
/** Another API with JWTs: its tokens must not pass at {@link JWT_API}. */
export const OTHER_API = 'https://other-api.example.com/';
/** An API whose tokens are opaque (introspected). */
export const OPAQUE_API = 'https://opaque-api.example.com/';
/** An opaque API whose tokens live 3 seconds. */
export const SHORT_API = 'https://short-api.example.com/';
/** The scopes an instance registers with. */
export const INSTANCE_SCOPE = 'openid offline_access email payments';

/** The test server's options with the four APIs, and `payments` open to every install. */
export function withApis(o: AuthServerOptions): AuthServerOptions {
  return {
    ...o,
    apis: [
      { resource: JWT_API, scope: 'payments email', accessTokenFormat: 'jwt' },
      { resource: OTHER_API, scope: 'payments email', accessTokenFormat: 'jwt' },
      { resource: OPAQUE_API, scope: 'payments email', accessTokenFormat: 'opaque' },
      { resource: SHORT_API, scope: 'payments', accessTokenFormat: 'opaque', accessTokenTTL: 3 },
    ],
    assurance: { minimumLevels: {} },
  };
}

/** An app install signed in at the test server, getting tokens like the app would. */
export class App {
  private constructor(
    readonly issuer: string,
    readonly instance: oidc.Configuration,
    readonly browser: SignInBrowser,
  ) {}

  /** Registers an install of demouser's (with a DCR token from a fresh sign-in). */
  static async install(issuer: string): Promise<App> {
    const browser = new SignInBrowser();
    const { tokens } = await obtainDcrToken(await registrationClient(issuer), browser);
    const registered = await postRegistration(
      issuer,
      { redirect_uris: [APP_REDIRECT_URI], scope: INSTANCE_SCOPE },
      tokens.access_token,
    );
    if (registered.status !== 201) throw new Error(`registration failed: ${registered.status}`);
    return new App(issuer, await instanceConfiguration(issuer, registered.body), browser);
  }

  /**
   * A code flow (PKCE) for `resource` (none: a token for userinfo), bound to `dpop`'s key when
   * given: the token response.
   */
  async tokens(
    options: { resource?: string; scope?: string; dpop?: oidc.DPoPHandle } = {},
  ): Promise<oidc.TokenEndpointResponse> {
    const { resource, scope = 'openid payments email', dpop } = options;
    const pkceCodeVerifier = oidc.randomPKCECodeVerifier();
    const { callback } = await signIn(
      this.browser,
      oidc.buildAuthorizationUrl(this.instance, {
        redirect_uri: APP_REDIRECT_URI,
        scope,
        // OpenID Connect Core §11: offline_access yields a refresh token only with consent.
        prompt: 'consent',
        ...(resource ? { resource } : {}),
        code_challenge: await oidc.calculatePKCECodeChallenge(pkceCodeVerifier),
        code_challenge_method: 'S256',
      }),
    );
    return oidc.authorizationCodeGrant(
      this.instance,
      callback,
      { pkceCodeVerifier },
      resource ? { resource } : undefined,
      dpop ? { DPoP: dpop } : undefined,
    );
  }

  /** An access token for `resource` (see {@link App.tokens}). */
  async accessToken(resource?: string, dpop?: oidc.DPoPHandle, scope?: string): Promise<string> {
    return (
      await this.tokens({
        ...(resource ? { resource } : {}),
        ...(dpop ? { dpop } : {}),
        ...(scope ? { scope } : {}),
      })
    ).access_token;
  }
}

/** An API on loopback that runs `handle` on every request, as a real one would. */
export interface TestApi {
  url: string;
  close(): Promise<void>;
}

/** What the test API answers: 200 with the handler's result, or the refusal and its challenge. */
export async function startApi(
  handle: (request: ProtectedResourceRequest) => Promise<unknown>,
  realm = 'api',
): Promise<TestApi> {
  const http = await listen();
  http.handle((req: IncomingMessage, res: ServerResponse) => {
    const request = {
      method: req.method ?? 'GET',
      url: new URL(req.url ?? '/', http.url).href,
      headers: req.headers,
    };
    handle(request).then(
      (body) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      },
      (error: unknown) => {
        if (!(error instanceof TokenVerificationError)) {
          res.writeHead(500).end(String(error));
          return;
        }
        const challenge = error.wwwAuthenticate(realm);
        res.writeHead(error.status, {
          'content-type': 'application/json',
          ...(challenge ? { 'www-authenticate': challenge } : {}),
        });
        res.end(JSON.stringify({ error: error.error, error_description: error.error_description }));
      },
    );
  });
  return { url: http.url, close: () => http.close() };
}

/** A signing key of the local issuer. */
export interface LocalKey {
  kid: string;
  alg: string;
  privateKey: webcrypto.CryptoKey;
  jwk: JWK;
}

/** Makes a signing key for the local issuer. */
export async function localKey(alg = 'ES256', kid = randomUUID()): Promise<LocalKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/**
 * An issuer the tests control, on loopback: discovery, a JWKS they rotate or break, and an
 * optional introspection endpoint answering what they say.
 */
export class LocalIssuer {
  /** What the JWKS endpoint serves. */
  keys: LocalKey[] = [];
  /** Requests to each path so far. */
  readonly requests = new Map<string, number>();
  /** A status to answer every request with instead (an outage). */
  failWith: number | undefined;
  /** The `issuer` the discovery document names. @default the real one */
  advertisedIssuer: string | undefined;
  /** Answers introspection requests (the token's value in, the JSON body out). */
  introspect: ((token: string) => Record<string, unknown>) | undefined;

  private constructor(
    readonly issuer: string,
    private readonly closeHttp: () => Promise<void>,
  ) {}

  static async start(): Promise<LocalIssuer> {
    const http = await listen();
    const local = new LocalIssuer(http.url, () => http.close());
    local.keys = [await localKey()];
    http.handle((req, res) => local.answer(req, res));
    return local;
  }

  /** How many times `path` was requested. */
  count(path: string): number {
    return this.requests.get(path) ?? 0;
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', this.issuer).pathname;
    this.requests.set(path, this.count(path) + 1);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (this.failWith) {
      send(this.failWith, { error: 'server_error' });
      return;
    }
    if (path === '/.well-known/openid-configuration') {
      send(200, {
        issuer: this.advertisedIssuer ?? this.issuer,
        jwks_uri: `${this.issuer}/jwks`,
        introspection_endpoint: `${this.issuer}/introspect`,
      });
    } else if (path === '/jwks') {
      send(200, { keys: this.keys.map((key) => key.jwk) });
    } else if (path === '/introspect' && this.introspect) {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const token = new URLSearchParams(Buffer.concat(chunks).toString()).get('token') ?? '';
        send(200, (this.introspect as (token: string) => unknown)(token));
      });
    } else {
      send(404, { error: 'not_found' });
    }
  }

  /** The claims of a valid access token for `audience`, overridden by `claims`. */
  claims(audience: string, claims: JWTPayload = {}): JWTPayload {
    const now = Math.floor(Date.now() / 1000);
    return {
      iss: this.issuer,
      aud: audience,
      sub: 'alice',
      client_id: 'install-1',
      scope: 'payments',
      iat: now,
      exp: now + 300,
      jti: randomUUID(),
      ...claims,
    };
  }

  /**
   * A JWT access token for `audience` signed with `key` (the first served key by default), with
   * `claims` over the valid ones and `header` over `typ: at+jwt`.
   */
  mint(
    audience: string,
    claims: JWTPayload = {},
    options: { key?: LocalKey; header?: Record<string, unknown> } = {},
  ): Promise<string> {
    const key = options.key ?? (this.keys[0] as LocalKey);
    return new SignJWT(this.claims(audience, claims))
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...options.header })
      .sign(key.privateKey);
  }

  close(): Promise<void> {
    return this.closeHttp();
  }
}

/** A request to `url` with these headers, as `verify` takes it. */
export function requestTo(
  url: string,
  headers: Record<string, string> = {},
  method = 'GET',
): ProtectedResourceRequest {
  return { method, url, headers };
}

/** The refusal `verify` (or a requirement) threw: fails when it resolved. */
export async function refusal(
  promise: Promise<unknown> | (() => unknown),
): Promise<TokenVerificationError> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    if (error instanceof TokenVerificationError) return error;
    throw error;
  }
  throw new Error('the request was accepted');
}

/** Waits `ms` milliseconds. */
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
