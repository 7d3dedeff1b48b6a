// The server as Client Attester for its own instances: an instance that authenticates with its
// registered key and presents fresh platform evidence gets a Client Attestation JWT for
// attestation-based client authentication at the token endpoint.
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import {
  decodeJwt,
  decodeProtectedHeader,
  importJWK,
  type JWK,
  type JWTPayload,
  errors as joseErrors,
  jwtVerify,
} from 'jose';
import type { Context, Middleware } from 'koa';
import type Provider from 'oidc-provider';
import { platformOfFormat } from '../attestation/built-in.js';
import type { AttestationChallenges } from '../attestation/challenges.js';
import type {
  ClientAttestationEvents,
  ClientAttestationIssuedEvent,
  ClientAttesterPolicy,
} from '../attestation/types.js';
import { verifyPlayIntegrityToken } from '../attestation/verifiers/play-integrity.js';
import { AttestationError } from '../core/errors.js';
import type { EvidenceSummary, InstanceRecord } from '../core/instance-record.js';
import { clientAddress } from '../http/client-address.js';
import { HttpProblem, sendJson, sendProblem, tooManyAttempts } from '../http/problem.js';
import { routed, routerPath } from '../http/routed.js';
import { instanceRecordOf } from '../provider/loaded-client.js';
import type { Phases } from '../provider/phases.js';
import type { ResolvedTemplate, TemplateSource } from '../registration/templates.js';
import type { RateLimitWindow, Store } from '../storage/store.js';
import { APP_ATTEST_ASSERTION_HEADER, checkInstanceAssertion } from './app-attest-assertions.js';
import { CLIENT_ATTESTATION_CHALLENGE_HEADER } from './attest-client-auth.js';
import type { AttesterKeys } from './attester-keys.js';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
// A client assertion, an App Attest assertion and a Play Integrity token fit well within this.
const MAX_BODY_BYTES = 64 * 1024;
// The longest a client assertion may live: its jti is remembered that long.
const MAX_ASSERTION_LIFETIME = 600;
const CLOCK_TOLERANCE = 30;
const SIGNING_ALGORITHMS = [
  'ES256',
  'ES384',
  'ES512',
  'PS256',
  'PS384',
  'PS512',
  'RS256',
  'RS384',
  'RS512',
  'EdDSA',
];

/** What the attester needs. @internal */
export interface ClientAttesterSettings {
  provider: Provider;
  issuer: string;
  /** The attester endpoint's path and absolute URL (the client assertion's `aud`). */
  path: string;
  url: string;
  /** Where the attester's public keys are served. */
  jwksPath: string;
  keys: AttesterKeys;
  /** Seconds an attestation is valid. */
  ttl: number;
  store: Store;
  rateLimit: RateLimitWindow;
  /** The single-use challenges platform evidence answers (the registration's). */
  challenges: AttestationChallenges;
  templates: TemplateSource;
  /** How long App Attest counters are kept. */
  appAttestCounterTtl: number;
  /** The next PoP challenge of the token endpoint. */
  nextPopChallenge: () => string;
  allowWithoutEvidence?: ClientAttesterPolicy;
  /** Runs the evidence checks and the app's policy as phases of their request. */
  phases: Phases;
  emit: <E extends keyof ClientAttestationEvents>(
    event: E,
    payload: ClientAttestationEvents[E],
  ) => void;
}

/** A refused attester request; `code` is the reason its `attestation.refused` event names. */
class Refusal extends HttpProblem {
  constructor(status: number, error: string, description: string, code: string) {
    super(status, error, description, false, undefined, code);
  }
}

const invalidClient = (description: string, reason = 'invalid_client') =>
  new Refusal(401, 'invalid_client', description, reason);
const invalidRequest = (description: string, reason = 'malformed') =>
  new Refusal(400, 'invalid_request', description, reason);
const badEvidence = (description: string, reason: string) =>
  new Refusal(403, 'invalid_client_attestation', description, reason);

const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest('base64url');

/** Reads an `application/x-www-form-urlencoded` body of at most {@link MAX_BODY_BYTES}. */
async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (!type.startsWith('application/x-www-form-urlencoded')) {
    throw invalidRequest('send the request as application/x-www-form-urlencoded');
  }
  const tooLarge = () =>
    new Refusal(413, 'invalid_request', 'the request body is too large', 'malformed');
  if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer | string>) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw tooLarge();
    chunks.push(buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** The only value of form parameter `name`, or `undefined`; a repeated one is malformed. */
function single(form: URLSearchParams, name: string): string | undefined {
  const values = form.getAll(name);
  if (values.length > 1) throw invalidRequest(`${name} must be sent once`);
  return values[0] || undefined;
}

/** A public JWK's public members only (what `cnf.jwk` carries). */
function publicMembers(jwk: JWK): JWK {
  const { kty, crv, x, y, n, e } = jwk;
  return Object.fromEntries(
    Object.entries({ kty, crv, x, y, n, e }).filter(([, value]) => value !== undefined),
  ) as JWK;
}

/**
 * Verifies the client assertion with the instance's registered keys (RFC 7523: `iss` = `sub` =
 * client id, `aud` the attester endpoint, a near `exp`, a `jti`); resolves the key that signed it.
 */
async function verifiedKey(
  settings: ClientAttesterSettings,
  clientId: string,
  registered: unknown,
  assertion: string,
): Promise<JWK> {
  const keys = (registered as { keys?: unknown } | undefined)?.keys;
  let alg: string | undefined;
  try {
    alg = decodeProtectedHeader(assertion).alg;
  } catch {
    throw invalidRequest('client_assertion is not a JWT');
  }
  if (!alg || !SIGNING_ALGORITHMS.includes(alg)) {
    throw invalidClient('the client assertion must be signed with an asymmetric algorithm');
  }
  for (const jwk of Array.isArray(keys) ? (keys as JWK[]) : []) {
    if (jwk.alg !== undefined && jwk.alg !== alg) continue;
    let key: Awaited<ReturnType<typeof importJWK>>;
    try {
      key = await importJWK(jwk, alg);
    } catch {
      continue;
    }
    try {
      await jwtVerify(assertion, key, {
        algorithms: [alg],
        issuer: clientId,
        subject: clientId,
        audience: settings.url,
        requiredClaims: ['exp', 'jti'],
        clockTolerance: CLOCK_TOLERANCE,
      });
      return jwk;
    } catch (error) {
      if (error instanceof joseErrors.JWSSignatureVerificationFailed) continue;
      const reason = error instanceof joseErrors.JOSEError ? error.message : 'it is invalid';
      throw invalidClient(`the client assertion is refused: ${reason}`);
    }
  }
  throw invalidClient('the client assertion is not signed by a key this app install registered');
}

/**
 * Checks the fresh platform evidence an instance presents, by the evidence it registered with.
 * Each kind signs or embeds the request's own client assertion, which carries the challenge.
 *
 * @returns the format checked, or `undefined` when the instance has no evidence the attester
 *   can check again (it registered without evidence, or with a format of custom verifiers).
 */
async function freshEvidence(
  settings: ClientAttesterSettings,
  ctx: Context,
  form: URLSearchParams,
  clientId: string,
  record: InstanceRecord,
  template: ResolvedTemplate,
  assertion: string,
): Promise<string | undefined> {
  const evidence: EvidenceSummary | undefined = record.registered_by?.evidence;
  // A format the template no longer accepts proves nothing any more.
  if (!evidence || !template.attestation?.formats.includes(evidence.format)) return undefined;
  const refused = (error: unknown, what: string) => {
    if (!(error instanceof AttestationError)) return error;
    return badEvidence(`${what} refused: ${error.message}`, error.code);
  };
  if (evidence.format === 'apple-appattest' && evidence.assertion_key) {
    const header = ctx.get(APP_ATTEST_ASSERTION_HEADER);
    if (!header) {
      throw badEvidence(
        `an App Attest assertion over SHA-256(client_assertion) is required (${APP_ATTEST_ASSERTION_HEADER})`,
        'evidence_missing',
      );
    }
    try {
      await checkInstanceAssertion(
        settings.store,
        settings.appAttestCounterTtl,
        clientId,
        { ...evidence, assertion_key: evidence.assertion_key },
        header,
        assertion,
      );
    } catch (error) {
      throw refused(error, 'App Attest assertion');
    }
    return evidence.format;
  }
  // The registered key is the hardware key Android attested (it changes only with fresh
  // evidence): the client assertion it signed is the fresh proof.
  if (evidence.format === 'android-key') return evidence.format;
  const playIntegrity = template.attestation.playIntegrity;
  if (evidence.format === 'play-integrity' && playIntegrity) {
    const token = single(form, 'integrity_token');
    if (!token) {
      throw badEvidence(
        'a Play Integrity token whose nonce is base64url(SHA-256(client_assertion)) is required (integrity_token)',
        'evidence_missing',
      );
    }
    try {
      await verifyPlayIntegrityToken({ ...playIntegrity, token, nonce: sha256(assertion) });
    } catch (error) {
      throw refused(error, 'Play Integrity token');
    }
    return evidence.format;
  }
  return undefined;
}

/** Checks one attester request; resolves the attestation and what it attests. */
async function attest(
  settings: ClientAttesterSettings,
  ctx: Context,
  identified: (clientId: string) => void,
): Promise<ClientAttestationIssuedEvent & { jwt: string }> {
  const form = await readForm(ctx.req);
  if (single(form, 'client_assertion_type') !== ASSERTION_TYPE) {
    throw invalidRequest(`client_assertion_type must be ${ASSERTION_TYPE}`);
  }
  const assertion = single(form, 'client_assertion');
  if (!assertion) throw invalidRequest('client_assertion is required');
  let claims: JWTPayload;
  try {
    claims = decodeJwt(assertion);
  } catch {
    throw invalidRequest('client_assertion is not a JWT');
  }
  const clientId = claims.sub;
  if (typeof clientId !== 'string' || clientId === '') {
    throw invalidClient('the client assertion names no client (sub)');
  }
  const named = single(form, 'client_id');
  if (named !== undefined && named !== clientId) throw invalidRequest('client_id mismatch');
  identified(clientId);

  // Through the Client adapter: a revoked instance or a disabled template is no client.
  const client = await settings.provider.Client.find(clientId);
  const record = instanceRecordOf(client);
  if (!client || !record) throw invalidClient('no app install has this client id');
  // Authenticated first: only the install itself learns what its template allows.
  const key = await verifiedKey(settings, clientId, client.metadata().jwks, assertion);
  const template = record.template
    ? await settings.templates.find(record.template, { purpose: 'load' })
    : undefined;
  if (!template?.attestClientAuth) {
    throw new Refusal(
      403,
      'unauthorized_client',
      'this app does not use attestation-based client authentication',
      'not_allowed',
    );
  }
  const now = Math.floor(Date.now() / 1000);
  const exp = Number(claims.exp);
  if (exp - now > MAX_ASSERTION_LIFETIME) {
    throw invalidClient(
      `the client assertion must expire within ${MAX_ASSERTION_LIFETIME} seconds`,
    );
  }
  // Atomic, across processes: of two requests with one assertion exactly one gets on.
  const jti = `client-attester-jti:${sha256(`${clientId}\n${String(claims.jti)}`)}`;
  if (!(await settings.store.raiseCounter(jti, 0, Math.max(1, exp - now + CLOCK_TOLERANCE)))) {
    throw invalidClient('the client assertion was already used', 'assertion_replayed');
  }
  const challenge = claims.challenge;
  if (typeof challenge !== 'string') {
    throw invalidRequest(
      'the client assertion must carry a challenge claim: an attestation_challenge from the challenge endpoint',
      'challenge_missing',
    );
  }
  const problem = await settings.challenges.take(challenge);
  if (problem) {
    throw badEvidence(
      problem === 'used'
        ? 'the attestation challenge was already used: request a new one'
        : 'the attestation challenge is unknown or expired: request a new one',
      `challenge_${problem}`,
    );
  }

  const cal = record.cal ?? 'none';
  // Without registered evidence there is nothing to check again: no phase.
  const registered = record.registered_by?.evidence?.format;
  const fresh = registered
    ? await settings.phases.phase(
        'client_attester.verify_evidence',
        () => freshEvidence(settings, ctx, form, clientId, record, template, assertion),
        { platform: platformOfFormat(registered) },
      )
    : undefined;
  const { allowWithoutEvidence } = settings;
  if (!fresh) {
    const method = record.registered_by?.method ?? 'user-token';
    const format = record.registered_by?.evidence?.format;
    const fallbackClientId = record.registered_by?.fallback_client_id;
    let allowed = false;
    try {
      const input = {
        clientId,
        softwareId: template.software_id,
        cal,
        method,
        ip: clientAddress(ctx).address,
        ...(format ? { format } : {}),
        ...(fallbackClientId ? { fallbackClientId } : {}),
        ...(record.account_id ? { accountId: record.account_id } : {}),
      };
      allowed =
        allowWithoutEvidence !== undefined &&
        (await settings.phases.phase('client_attester.policy', () =>
          allowWithoutEvidence(input),
        )) === true;
    } catch (error) {
      if (!(error instanceof AttestationError)) throw error;
      throw new Refusal(403, 'access_denied', error.message, error.code);
    }
    if (!allowed) {
      throw new Refusal(
        403,
        'access_denied',
        'this app install has no platform evidence to present again, and the attester does not attest it without',
        'no_evidence',
      );
    }
  }
  const jwt = await settings.keys.sign({
    iss: settings.issuer,
    sub: clientId,
    iat: now,
    exp: now + settings.ttl,
    cnf: { jwk: publicMembers(key) },
    cal,
  });
  return {
    jwt,
    clientId,
    softwareId: template.software_id,
    cal,
    evidence: fresh ?? 'none',
    expiresAt: now + settings.ttl,
  };
}

/**
 * The Client Attester, installed with `provider.use()`: `POST <path>` (form-encoded, with a
 * `private_key_jwt`-style client assertion carrying an attestation challenge, and the fresh
 * evidence) answers `{"client_attestation": "…", "expires_in": N}` and the next PoP challenge in
 * `OAuth-Client-Attestation-Challenge`; `GET <jwksPath>` serves the attester's public keys.
 *
 * @internal
 */
export function createClientAttester(settings: ClientAttesterSettings): Middleware {
  const path = settings.path.toLowerCase();
  const jwksPath = settings.jwksPath.toLowerCase();
  const matchPath = (ctx: Context) => {
    const requested = routerPath(ctx);
    return (requested === jwksPath || requested === path) && requested;
  };
  return routed(matchPath, async function clientAttester(ctx, _next, requested) {
    if (requested === jwksPath) {
      if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
        ctx.set('Allow', 'GET, HEAD');
        return sendJson(ctx, 405, { error: 'invalid_request', error_description: 'use GET' });
      }
      ctx.status = 200;
      ctx.set('Cache-Control', 'public, max-age=300');
      ctx.body = settings.keys.publicJwks;
      return;
    }
    if (ctx.method !== 'POST') {
      ctx.set('Allow', 'POST');
      return sendJson(ctx, 405, { error: 'invalid_request', error_description: 'use POST' });
    }
    const decision = await settings.store.consumeRate(
      `client-attester-ip:${clientAddress(ctx).rateKey}`,
      settings.rateLimit,
    );
    if (!decision.allowed) {
      return sendProblem(
        ctx,
        '',
        tooManyAttempts(decision.retryAfterSeconds, 'attestation requests'),
      );
    }
    let clientId: string | undefined;
    try {
      const { jwt, ...issued } = await attest(settings, ctx, (id) => {
        clientId = id;
      });
      ctx.set(CLIENT_ATTESTATION_CHALLENGE_HEADER, settings.nextPopChallenge());
      sendJson(ctx, 200, { client_attestation: jwt, expires_in: settings.ttl });
      settings.emit('attestation.issued', issued);
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      settings.emit('attestation.refused', {
        reason: error.code,
        ip: clientAddress(ctx).address,
        ...(clientId ? { clientId } : {}),
      });
      sendJson(ctx, error.status, { error: error.error, error_description: error.description });
    }
  });
}
