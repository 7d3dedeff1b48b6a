/**
 * Verifying access tokens in an API (a resource server), standalone: it loads neither
 * oidc-provider nor the authorization server, only jose.
 *
 * ```ts
 * const verifier = createTokenVerifier({
 *   issuer: 'https://login.example.com/oidc',
 *   audience: 'https://api.example.com/',
 *   introspection: { clientId: 'payments-api', clientSecret: process.env.API_SECRET! },
 * });
 * try {
 *   const token = await verifier.verify({ method, url, headers });
 *   requireCal(requireScopes(token, 'payments'), 'by-provisioned-key');
 * } catch (error) {
 *   if (!(error instanceof TokenVerificationError)) throw error;
 *   // answer error.status, with WWW-Authenticate: error.wwwAuthenticate('api') when defined
 * }
 * ```
 *
 * What it decides, and why:
 * - **JWT access tokens** (RFC 9068) are verified offline with the issuer's keys: they cannot
 *   be revoked for this API and stay valid until `exp`. Keep their lifetime short, and give
 *   routes that must see revocations at once an opaque API with `checkRevocation`.
 * - **Opaque tokens** are introspected (RFC 7662) and accepted only when the response names this
 *   API in `aud`: tokens issued without a resource (for userinfo), DCR tokens and refresh tokens
 *   are refused. An active result is reused for `cacheTtlSeconds` (never beyond `exp`), so a
 *   revoked token may pass for that long; an inactive one for `inactiveCacheSeconds`.
 * - **DPoP-bound tokens** (`cnf.jkt`) need the DPoP scheme and a fresh proof (RFC 9449); a
 *   proof's `jti` is remembered in `dpop.store` (in memory by default: share a store between
 *   the API's processes). A proof sent beside an unbound token with the Bearer scheme is not
 *   checked: that token is a bearer token, and the proof adds nothing.
 * - **Certificate-bound tokens** (`cnf["x5t#S256"]`, RFC 8705) need the certificate, from TLS or
 *   a trusted proxy header. A binding of any other kind is refused, never ignored.
 * - **Assurance**: `requireCal` refuses a level below the route's with 403
 *   `insufficient_assurance`, naming the level: a new token would not help, a more strongly
 *   proven install would.
 * - **The authorization server unreachable** (discovery, keys, introspection) is 503
 *   `temporarily_unavailable` without a challenge, the failure kept as `cause` for logs.
 *
 * @packageDocumentation
 * @module mobile-oidc-provider/resource-server
 */
// The base classes, so an API can test errors without loading the authorization server's entry.
export { ConfigurationError, MobileOidcProviderError } from '../core/errors.js';
// The shape a DPoP replay store takes: the library's stores fit it.
export type { Store } from '../storage/store.js';
export {
  type TokenErrorCode,
  type TokenScheme,
  TokenVerificationError,
  type TokenVerificationErrorDetails,
} from './errors.js';
export { ASSURANCE_LEVELS, type AssuranceLevel } from './levels.js';
export {
  type AuthMiddlewareOptions,
  type AuthState,
  type ExpressAuthMiddleware,
  type ExpressAuthRequest,
  type ExpressAuthResponse,
  expressAuth,
  type KoaAuthContext,
  type KoaAuthMiddleware,
  koaAuth,
  type RefusalResponse,
  refusalResponse,
} from './middleware.js';
export {
  type AuthenticationRequirement,
  requireAnyScope,
  requireAuthentication,
  requireCal,
  requireClaim,
  requireScopes,
} from './requirements.js';
export type {
  DpopOptions,
  IntrospectionOptions,
  LocalAuthorizationServer,
  MtlsOptions,
  ProtectedResourceRequest,
  ReplayStore,
  TokenBinding,
  TokenVerifier,
  TokenVerifierOptions,
  VerifiedToken,
  VerifyOptions,
} from './types.js';
export { createTokenVerifier } from './verifier.js';
