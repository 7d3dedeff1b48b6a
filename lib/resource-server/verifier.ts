import { ConfigurationError } from '../core/errors.js';
import { tokenFacts } from './claims.js';
import { IssuerDiscovery } from './discovery.js';
import { MemoryReplayStore, proofRefusal, verifyDpopProof } from './dpop.js';
import { type TokenScheme, TokenVerificationError } from './errors.js';
import { Introspector } from './introspection.js';
import { IssuerKeys } from './jwks.js';
import { tokenShape, verifyJwtAccessToken } from './jwt.js';
import { verifyCertificateBinding } from './mtls.js';
import { resolveVerifierOptions } from './options.js';
import { headerValues, presentedToken } from './request.js';
import type {
  ProtectedResourceRequest,
  TokenVerifier,
  TokenVerifierOptions,
  VerifiedToken,
  VerifyOptions,
} from './types.js';

/**
 * Creates the verifier of the access tokens sent to one API, for an authorization server run
 * by mobile-oidc-provider (or any OpenID provider issuing RFC 9068 JWTs or introspectable
 * tokens). It needs nothing of the server's code: it discovers the issuer
 * (`/.well-known/openid-configuration`) on first use, verifies JWT access tokens offline with the
 * issuer's keys, and introspects opaque ones with the API's own credential.
 *
 * A DPoP-bound token (`cnf.jkt`) must come with the DPoP scheme and a valid proof; a token
 * bound to a certificate (`cnf["x5t#S256"]`) with that certificate. A DPoP proof sent with an
 * unbound token under the Bearer scheme is not checked: the token is a bearer token.
 *
 * A JWT cannot be revoked for an API that only verifies it offline: it is accepted until its
 * `exp` (keep JWT lifetimes short). Routes that must see revocations at once pass
 * `checkRevocation` and use opaque tokens (see {@link VerifyOptions.checkRevocation}).
 *
 * @example
 * ```ts
 * const verifier = createTokenVerifier({
 *   issuer: 'https://login.example.com/oidc',
 *   audience: 'https://api.example.com/',
 * });
 * const token = requireScopes(await verifier.verify(request), 'payments');
 * ```
 *
 * @throws ConfigurationError naming every invalid option.
 * @group Resource server
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const settings = resolveVerifierOptions(options);
  const discovery = new IssuerDiscovery(settings);
  const keys = new IssuerKeys(discovery, settings);
  const introspector =
    settings.introspection || settings.server ? new Introspector(discovery, settings) : undefined;
  const dpop = { ...settings.dpop, store: settings.dpop.store ?? new MemoryReplayStore() };

  /** The claims of a token whose signature or introspection says it is live and for this API. */
  async function liveClaims(token: string, checkRevocation: boolean) {
    const shape = tokenShape(token);
    if (shape === 'jwe') throw invalidToken('encrypted access tokens are not accepted');
    if (shape === 'jws') {
      const claims = await verifyJwtAccessToken(token, keys, settings);
      if (checkRevocation) await (introspector as Introspector).introspect(token, true);
      return { claims, format: 'jwt' as const };
    }
    if (!introspector) {
      throw invalidToken(
        'this API accepts JWT access tokens only (opaque tokens need introspection)',
      );
    }
    return {
      claims: await introspector.introspect(token, checkRevocation),
      format: 'opaque' as const,
    };
  }

  return {
    async verify(request: ProtectedResourceRequest, verifyOptions: VerifyOptions = {}) {
      const checkRevocation = verifyOptions?.checkRevocation === true;
      if (checkRevocation && !introspector) {
        throw new ConfigurationError([
          'verify(…, { checkRevocation: true }) needs options.introspection',
        ]);
      }
      const url = checkedRequest(request);
      const presented = presentedToken(request.headers);
      if (!presented) throw new TokenVerificationError({});
      const { scheme, token } = presented;
      let facts: ReturnType<typeof tokenFacts>;
      let format: VerifiedToken['format'];
      try {
        const live = await liveClaims(token, checkRevocation);
        facts = tokenFacts(live.claims);
        format = live.format;
      } catch (error) {
        throw inScheme(error, scheme, dpop.algorithms);
      }
      if (facts.jkt !== undefined) {
        if (scheme !== 'DPoP') {
          // RFC 9449 §7.2: a DPoP-bound token is never accepted as a bearer token.
          throw new TokenVerificationError({
            error: 'invalid_token',
            description: 'the token is DPoP-bound: send it with the DPoP scheme and a DPoP proof',
            scheme: 'DPoP',
            algs: dpop.algorithms,
          });
        }
        await verifyDpopProof({
          proofs: headerValues(request.headers, 'dpop', (description) =>
            proofRefusal(description, dpop.algorithms),
          ),
          method: request.method,
          url,
          accessToken: token,
          jkt: facts.jkt,
          settings: { ...dpop, clockSkewSeconds: settings.clockSkewSeconds },
        });
      } else if (scheme === 'DPoP') {
        // RFC 9449 §7.1: the DPoP scheme promises a binding this token does not have.
        throw invalidToken('the token is not DPoP-bound: send it with the Bearer scheme');
      }
      if (facts.x5tS256 !== undefined) {
        const certificates = settings.trustedProxyHeader
          ? headerValues(request.headers, settings.trustedProxyHeader, invalidToken)
          : request.clientCertificate
            ? [request.clientCertificate]
            : [];
        try {
          verifyCertificateBinding(certificates, facts.x5tS256);
        } catch (error) {
          throw inScheme(error, facts.jkt ? 'DPoP' : 'Bearer', dpop.algorithms);
        }
      }
      const boundTo = {
        ...(facts.jkt !== undefined ? { jkt: facts.jkt } : {}),
        ...(facts.x5tS256 !== undefined ? { x5tS256: facts.x5tS256 } : {}),
      };
      return {
        sub: facts.sub,
        clientId: facts.clientId,
        scope: facts.scope,
        ...(facts.cal !== undefined ? { cal: facts.cal } : {}),
        ...(facts.acr !== undefined ? { acr: facts.acr } : {}),
        ...(facts.authTime !== undefined ? { authTime: facts.authTime } : {}),
        claims: facts.claims,
        tokenType: facts.jkt !== undefined ? 'DPoP' : 'Bearer',
        format,
        ...(Object.keys(boundTo).length > 0 ? { boundTo } : {}),
      };
    },
  };
}

const invalidToken = (description: string) =>
  new TokenVerificationError({ error: 'invalid_token', description });

const malformed = (description: string) =>
  new TokenVerificationError({ error: 'invalid_request', description });

/**
 * The request's URL, once its parts have the types `verify` needs: a request built by hand (or
 * from a framework that passed something odd) is refused with 400, never a `TypeError`.
 *
 * @throws TokenVerificationError `invalid_request`.
 */
function checkedRequest(request: ProtectedResourceRequest): URL {
  const parts = request as Partial<Record<keyof ProtectedResourceRequest, unknown>> | null;
  if (typeof parts !== 'object' || parts === null) throw malformed('the request is not an object');
  if (typeof parts.method !== 'string' || parts.method === '') {
    throw malformed('the request method is missing');
  }
  const { headers } = parts;
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
    throw malformed('the request headers are not an object');
  }
  let url: URL | undefined;
  try {
    // Parsed once (no canParse first): this runs on every request.
    url = typeof parts.url === 'string' ? new URL(parts.url) : undefined;
  } catch {}
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw malformed('the request URL is not an absolute http(s) URL');
  }
  return url;
}

/** The same refusal, challenging with the scheme the request used (RFC 9449 §7.1). */
function inScheme(error: unknown, scheme: TokenScheme, algs: readonly string[]): unknown {
  if (!(error instanceof TokenVerificationError) || error.scheme === scheme) return error;
  if (error.error === 'temporarily_unavailable') return error;
  return new TokenVerificationError(
    {
      ...(error.error ? { error: error.error } : {}),
      ...(error.error_description ? { description: error.error_description } : {}),
      ...(error.scope ? { scope: error.scope } : {}),
      scheme,
      ...(scheme === 'DPoP' ? { algs } : {}),
    },
    error.cause === undefined ? undefined : { cause: error.cause },
  );
}
