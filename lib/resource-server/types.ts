import type { Store } from '../storage/store.js';

/**
 * The parts of an HTTP request that `verify` reads. Build it from whatever framework the API
 * uses; Node's `IncomingMessage` headers fit `headers` as they are.
 *
 * @group Resource server
 */
export interface ProtectedResourceRequest {
  /** The HTTP method, e.g. `GET` (compared with a DPoP proof's `htm`, case-sensitively). */
  method: string;
  /**
   * The absolute URL of the request as the client called it, e.g.
   * `https://api.example.com/payments?id=1` (a DPoP proof's `htu` must equal it without query
   * and fragment, after RFC 3986 §6.2.2 normalisation of both). Build it from the API's
   * configured public URL and the request path, not from the `Host` header: a client chooses
   * that header, and with it the URL its proof is checked against.
   */
  url: string;
  /**
   * The request headers; names in any case. A value that is not a string (or an array of
   * strings) is refused, never read.
   */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /**
   * The client certificate (PEM) when TLS terminates in this process, for certificate-bound
   * tokens (RFC 8705 §3). Ignored when `mtls.trustedProxyHeader` is set.
   */
  clientCertificate?: string | undefined;
}

/**
 * Options of one `verify` call.
 *
 * @group Resource server
 */
export interface VerifyOptions {
  /**
   * Asks the authorization server whether the token is still active (RFC 7662), bypassing the
   * introspection cache, even for a JWT: for high-value routes. Without it a JWT is accepted
   * until its `exp`, whatever happened to it since it was issued, and an opaque token until its
   * cached introspection result expires. Needs `introspection` configured. An authorization
   * server that cannot introspect the token (mobile-oidc-provider refuses to introspect JWT
   * access tokens) makes the request fail with `invalid_token`: give such routes an API whose
   * `accessTokenFormat` is `opaque`.
   *
   * @default false
   */
  checkRevocation?: boolean;
}

/**
 * What a verified token says.
 *
 * @group Resource server
 */
export interface VerifiedToken {
  /** The subject: the user's account id (or, per RFC 9068, the client for a client's own token). */
  sub: string;
  /** The client (app install) the token was issued to. */
  clientId: string;
  /** The token's scopes. */
  scope: string[];
  /** The install's client assurance level (`cal`), when the token carries one. */
  cal?: string;
  /**
   * The user's sign-in's authentication context class (`acr`), when the token carries one: for
   * a first-party sign-in, the step that gave it (see `requireAuthentication`).
   */
  acr?: string;
  /** When the user signed in (`auth_time`), in seconds since the epoch, when the token carries it. */
  authTime?: number;
  /**
   * Every claim of the JWT, or every member of the introspection response: a copy with a `null`
   * prototype at every level, without `__proto__`, `constructor` and `prototype` keys.
   */
  claims: Readonly<Record<string, unknown>>;
  /** `DPoP` for a DPoP-bound token (proven by the request's proof), `Bearer` otherwise. */
  tokenType: 'Bearer' | 'DPoP';
  /** `jwt` when verified offline (RFC 9068), `opaque` when introspected (RFC 7662). */
  format: 'jwt' | 'opaque';
  /** What the token is bound to, and the request proved it holds; absent for a bearer token. */
  boundTo?: TokenBinding;
}

/**
 * What a sender-constrained token is bound to (its `cnf` claim, RFC 7800).
 *
 * @group Resource server
 */
export interface TokenBinding {
  /** The RFC 7638 thumbprint of the DPoP key (`cnf.jkt`, RFC 9449 §6). */
  jkt?: string;
  /** The base64url SHA-256 of the client certificate's DER (`cnf["x5t#S256"]`, RFC 8705 §3.1). */
  x5tS256?: string;
}

/**
 * Verifies the access tokens sent to one API.
 *
 * @group Resource server
 */
export interface TokenVerifier {
  /**
   * Verifies the request's access token and, for a bound token, its proof of possession.
   *
   * @returns what the token says.
   * @throws TokenVerificationError when the request must be refused (its `status` and
   *   `wwwAuthenticate()` make the answer).
   *   A request whose parts have the wrong types (a header that is not a string, a
   *   `url` that is not an absolute http(s) URL) is refused with 400 `invalid_request`.
   * @throws ConfigurationError for `checkRevocation` without `introspection` configured.
   */
  verify(request: ProtectedResourceRequest, options?: VerifyOptions): Promise<VerifiedToken>;
}

/**
 * Where a DPoP proof's `jti` is remembered until the proof is too old to be accepted: a
 * mobile-oidc-provider `Store` (the Redis store for an API running in several processes)
 * or anything with the same `takeUse`.
 *
 * @group Resource server
 */
export type ReplayStore = Pick<Store, 'takeUse'>;

/**
 * Options of `createTokenVerifier`.
 *
 * @group Resource server
 */
export interface TokenVerifierOptions {
  /**
   * The authorization server's issuer, exactly as its discovery document and tokens spell it,
   * e.g. `https://login.example.com/oidc`.
   */
  issuer: string;
  /** This API's resource indicator (RFC 8707), e.g. `https://api.example.com/`: the `aud` tokens must carry. */
  audience: string;
  /**
   * The access token signing algorithms accepted; asymmetric ones only (`none` and `HS*` are
   * refused at start-up).
   *
   * @default ['RS256', 'ES256', 'PS256', 'EdDSA']
   */
  algorithms?: string[];
  /**
   * Seconds of clock difference tolerated on `exp`, `nbf` and a DPoP proof's `iat`.
   *
   * @default 30
   */
  clockSkewSeconds?: number;
  /**
   * Accept an `http://` issuer, `jwks_uri` and introspection endpoint: for development and
   * tests only, as keys and answers fetched without TLS can be swapped by anyone on the path.
   *
   * @default false
   */
  allowHttp?: boolean;
  /**
   * The authorization server, when this API runs in the same process: opaque tokens are then
   * looked up in its store directly, with no HTTP and no cache (a revocation counts at once).
   * Pass the `AuthServer` that `createAuthServer` made. JWTs are still verified with its keys.
   */
  server?: LocalAuthorizationServer;
  /**
   * Introspection (RFC 7662) of opaque tokens, with this API's own client credential at the
   * authorization server (a client listed in its `introspection.resourceServers`). Without it
   * opaque tokens are refused.
   */
  introspection?: IntrospectionOptions;
  /** DPoP proof checks (RFC 9449) for DPoP-bound tokens. */
  dpop?: DpopOptions;
  /** Certificate-bound tokens (RFC 8705 §3) behind a TLS-terminating proxy. */
  mtls?: MtlsOptions;
  /**
   * The fetch used for discovery, keys and introspection; tests inject one to count or fail
   * requests.
   *
   * @default globalThis.fetch
   */
  fetch?: typeof globalThis.fetch;
  /**
   * Milliseconds each request to the authorization server may take before it is aborted.
   *
   * @default 5000
   */
  timeoutMs?: number;
  /**
   * Milliseconds that must pass after a fetch of the key set before a token naming an unknown
   * key makes the verifier fetch it again, so that made-up key ids cannot make the API fetch per
   * request (a rotation is picked up at most this late). The set is also fetched again
   * once it is 10 minutes old, so keys the issuer removed stop being trusted; when that fetch
   * fails, the last good set stays in use.
   *
   * @default 30000
   */
  jwksCooldownMs?: number;
}

/**
 * Options of introspection (see {@link TokenVerifierOptions.introspection}).
 *
 * An opaque token is accepted only when the introspection response is `active`, names this
 * API in its `aud` (tokens issued without a resource, such as the ones for userinfo, carry no
 * `aud` and are refused), has not expired, and names the issuer when it has an `iss`.
 *
 * @group Resource server
 */
export interface IntrospectionOptions {
  /** The API's client id at the authorization server. */
  clientId: string;
  /** The API's client secret (sent with `client_secret_basic`). */
  clientSecret: string;
  /**
   * Seconds an active result is reused for the same token (never beyond the token's `exp`): a
   * token revoked meanwhile is still accepted for up to this long. `0` asks every time.
   *
   * @default 30
   */
  cacheTtlSeconds?: number;
  /**
   * Seconds an inactive result is reused for the same token, to absorb retries of a dead token.
   *
   * @default 2
   */
  inactiveCacheSeconds?: number;
}

/**
 * An authorization server in this process (see {@link TokenVerifierOptions.server}).
 *
 * @group Resource server
 */
export interface LocalAuthorizationServer {
  /** Introspects `token` as RFC 7662 answers a resource server allowed to see every token. */
  introspect(token: string): Promise<Record<string, unknown>>;
}

/**
 * Options of DPoP (see {@link TokenVerifierOptions.dpop}). Server-provided nonces
 * (RFC 9449 §9) are not used: replay is stopped by remembering each proof's `jti`.
 *
 * @group Resource server
 */
export interface DpopOptions {
  /**
   * Where proofs' `jti`s are remembered. Give every process of the API the same store (the
   * Redis store), or a proof replayed at another process is accepted there.
   *
   * @default an in-memory store (one process only)
   */
  store?: ReplayStore;
  /**
   * Seconds a proof is accepted after its `iat`.
   *
   * @default 60
   */
  maxAgeSeconds?: number;
  /**
   * The proof signing algorithms accepted; asymmetric ones only.
   *
   * @default ['ES256', 'EdDSA', 'Ed25519', 'RS256', 'PS256']
   */
  algorithms?: string[];
}

/**
 * Options of certificate-bound tokens (see {@link TokenVerifierOptions.mtls}).
 *
 * @group Resource server
 */
export interface MtlsOptions {
  /**
   * The request header in which a TLS-terminating proxy passes the client certificate (PEM or
   * URL-encoded PEM), e.g. `x-ssl-client-cert`. Set it only when the proxy always overwrites
   * the header: a client could otherwise send any certificate in it. When set,
   * `request.clientCertificate` is ignored.
   */
  trustedProxyHeader?: string;
}
