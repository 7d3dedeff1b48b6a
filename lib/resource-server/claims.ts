import { prototypeSafeCopy } from '../http/prototype-safety.js';
import { TokenVerificationError } from './errors.js';
import { isJsonObject } from './http.js';

/** Deeper than any honest token; deeper claims are refused rather than walked. */
const MAX_DEPTH = 32;

const invalid = (description: string) =>
  new TokenVerificationError({ error: 'invalid_token', description });

/** The members of a token (its JWT claims or introspection response) the verifier acts on. @internal */
export interface TokenFacts {
  sub: string;
  clientId: string;
  scope: string[];
  cal: string | undefined;
  /** The sign-in's authentication context class (`acr`). */
  acr: string | undefined;
  /** The sign-in's time (`auth_time`), in seconds since the epoch. */
  authTime: number | undefined;
  /** `cnf.jkt`: the RFC 7638 thumbprint of the DPoP key the token is bound to. */
  jkt: string | undefined;
  /** `cnf["x5t#S256"]`: the SHA-256 thumbprint of the certificate the token is bound to. */
  x5tS256: string | undefined;
  claims: Readonly<Record<string, unknown>>;
}

/** Confirmation methods this verifier can check (RFC 9449 §6, RFC 8705 §3.1). */
const CHECKED_CONFIRMATIONS: ReadonlySet<string> = new Set(['jkt', 'x5t#S256']);

/**
 * Reads the members every access token must have (`sub`, `client_id`) and the optional ones
 * (`scope`, `cal`, `acr`, `auth_time`, `cnf`), refusing wrong types.
 *
 * @throws TokenVerificationError `invalid_token`.
 * @internal
 */
export function tokenFacts(raw: Record<string, unknown>): TokenFacts {
  const claims = prototypeSafeCopy(raw, MAX_DEPTH) as Record<string, unknown> | undefined;
  if (!claims) throw invalid('the token claims are nested too deeply');
  const { sub, client_id: clientId, scope, cal, cnf, acr, auth_time: authTime } = claims;
  if (typeof sub !== 'string' || sub === '') throw invalid('the token has no subject (sub)');
  if (typeof clientId !== 'string' || clientId === '') {
    throw invalid('the token names no client (client_id)');
  }
  if (scope !== undefined && typeof scope !== 'string')
    throw invalid('the token scope is malformed');
  if (cal !== undefined && typeof cal !== 'string') throw invalid('the token cal is malformed');
  if (acr !== undefined && typeof acr !== 'string') throw invalid('the token acr is malformed');
  if (authTime !== undefined && !(Number.isSafeInteger(authTime) && (authTime as number) >= 0)) {
    throw invalid('the token auth_time is malformed');
  }
  let jkt: unknown;
  let x5tS256: unknown;
  if (cnf !== undefined) {
    if (!isJsonObject(cnf)) throw invalid('the token cnf is malformed');
    // A token bound in a way this API cannot check must not pass as a bearer token.
    if (Object.keys(cnf).some((method) => !CHECKED_CONFIRMATIONS.has(method))) {
      throw invalid('the token is bound by a confirmation method this API does not support');
    }
    jkt = cnf.jkt;
    x5tS256 = cnf['x5t#S256'];
    if (jkt !== undefined && (typeof jkt !== 'string' || jkt === '')) {
      throw invalid('the token cnf.jkt is malformed');
    }
    if (x5tS256 !== undefined && (typeof x5tS256 !== 'string' || x5tS256 === '')) {
      throw invalid('the token cnf x5t#S256 is malformed');
    }
  }
  return {
    sub,
    clientId,
    scope: scope ? scope.split(' ').filter(Boolean) : [],
    cal,
    acr,
    authTime: authTime as number | undefined,
    jkt: jkt as string | undefined,
    x5tS256: x5tS256 as string | undefined,
    claims,
  };
}
