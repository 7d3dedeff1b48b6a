import type { KoaContextWithOIDC, MTLSGetCertificate, default as Provider } from 'oidc-provider';
// oidc-provider runs these sender-constraint steps (RFC 9449 DPoP, RFC 8705 mTLS) in its built-in
// grants but exports them from no public module; it has no exports map, so the module is
// reachable (types in oidc-provider-internals.d.ts). This is the one place that imports it:
// test/provider/sender-constraints.test.ts fails if an upgrade moves or reshapes these steps.
// Named imports, so a step an upgrade renames fails when the module loads, not on a request.
import {
  applyRefreshTokenBindings as upstreamApplyRefreshTokenBindings,
  checkDpopReplay as upstreamCheckDpopReplay,
  checkDpopRequired as upstreamCheckDpopRequired,
  checkMtlsCert as upstreamCheckMtlsCert,
  validateDpop as upstreamValidateDpop,
} from 'oidc-provider/lib/helpers/grants.js';

/** A verified DPoP proof (RFC 9449 §4.3): its key's RFC 7638 thumbprint, `jti` and `iat`. @internal */
export interface DpopProof {
  thumbprint: string;
  jti: string;
  iat: number;
}

/** An error class oidc-provider's steps throw, such as `errors.InvalidDpopProof`. @internal */
export type ProtocolErrorClass = new (description: string) => Error;

/** An access token being issued, as the binding steps read it. @internal */
type IssuedAccessToken = InstanceType<Provider['AccessToken']>;

/** A refresh token being issued, as the binding steps write it. @internal */
type IssuedRefreshToken = InstanceType<Provider['RefreshToken']>;

/**
 * The request's DPoP proof, checked as the token endpoint checks one: signature, `typ`, `htm`,
 * `htu` against `ctx.oidc.urlFor(ctx.oidc.route)`, `iat` or the server's nonce. `undefined`
 * without a proof (or with DPoP off); a bad proof throws `invalid_dpop_proof` or
 * `use_dpop_nonce`. Not a replay check: see {@link checkDpopReplay}.
 *
 * @internal
 */
export const validateDpop: (
  provider: Provider,
  ctx: KoaContextWithOIDC,
) => Promise<DpopProof | undefined> = upstreamValidateDpop;

/**
 * Throws `ErrorClass` (default `invalid_grant`) when `proof` was already used by `clientId`
 * within oidc-provider's replay window (its `ReplayDetection` model); nothing without a proof.
 *
 * @internal
 */
export const checkDpopReplay: (
  provider: Provider,
  ctx: KoaContextWithOIDC,
  proof: DpopProof | undefined,
  clientId: string,
  ErrorClass?: ProtocolErrorClass,
) => Promise<void> = upstreamCheckDpopReplay;

/**
 * Throws `invalid_grant` when the request's client registered `dpop_bound_access_tokens` and
 * `proof` is `undefined`.
 *
 * @internal
 */
export const checkDpopRequired: (
  provider: Provider,
  ctx: KoaContextWithOIDC,
  proof: DpopProof | undefined,
) => void = upstreamCheckDpopRequired;

/**
 * The client certificate of the request when its client registered
 * `tls_client_certificate_bound_access_tokens` (as `features.mTLS.getCertificate` gives it);
 * `invalid_grant` when such a client sent none; `undefined` for any other client.
 *
 * @internal
 */
export const checkMtlsCert: (
  provider: Provider,
  ctx: KoaContextWithOIDC,
) => ReturnType<MTLSGetCertificate> = upstreamCheckMtlsCert;

/**
 * Binds `refreshToken` as oidc-provider binds one it issues with `accessToken`: a public client's
 * to the access token's DPoP key and certificate, an attestation-authenticated client's to its
 * Client Attestation key; nothing for other clients.
 *
 * @internal
 */
export const applyRefreshTokenBindings: (
  provider: Provider,
  ctx: KoaContextWithOIDC,
  accessToken: IssuedAccessToken,
  refreshToken: IssuedRefreshToken,
) => Promise<void> = upstreamApplyRefreshTokenBindings;
