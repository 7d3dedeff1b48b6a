// Attestation-based client authentication (draft-ietf-oauth-attestation-based-client-auth) on
// oidc-provider's experimental `features.attestClientAuth`: which attesters are trusted, what an
// attestation must attest, and the level it carries into tokens.
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  type JSONWebKeySet,
  type JWK,
  type JWSHeaderParameters,
} from 'jose';
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { errors } from 'oidc-provider';
import type { InstanceRecord } from '../core/instance-record.js';
import { type AssuranceLevel, isAssuranceLevel, weakerLevel } from '../core/levels.js';
import { instanceRecordOf } from '../provider/loaded-client.js';
import type { Phases } from '../provider/phases.js';
import type { ResolvedTemplate, TemplateSource } from '../registration/templates.js';
import type { AttesterKeys } from './attester-keys.js';

/**
 * The draft version of oidc-provider's `attestClientAuth` this library implements, acknowledged
 * to oidc-provider: an upgrade that implements another version refuses to start until this
 * library is checked against it (test/attestation/attest-client-auth.test.ts pins it too).
 *
 * @internal
 */
export const ATTEST_CLIENT_AUTH_DRAFT = 'draft-12';

/** The response header that carries the next PoP challenge (the draft's). @internal */
export const CLIENT_ATTESTATION_CHALLENGE_HEADER = 'OAuth-Client-Attestation-Challenge';

type LoadedClient = Parameters<typeof instanceRecordOf>[0];
type FeatureConfiguration = NonNullable<NonNullable<Configuration['features']>['attestClientAuth']>;

/** What the feature needs. @internal */
export interface AttestClientAuthSettings {
  issuer: string;
  /** This server's attester keys; `undefined` when it attests nobody. */
  keys: AttesterKeys | undefined;
  templates: TemplateSource;
  /** The 32-byte secret of oidc-provider's stateless PoP challenges, the same in every process. */
  challengeSecret: Buffer;
  /** Runs the attestation's check as a phase of its request. */
  phases: Phases;
}

// A template's trusted attesters as key sets, made once per (immutable) template object.
const attesterKeySets = new WeakMap<
  ResolvedTemplate,
  Map<string, ReturnType<typeof createLocalJWKSet>>
>();

function trustedKeySet(template: ResolvedTemplate, issuer: string) {
  let sets = attesterKeySets.get(template);
  if (!sets) {
    sets = new Map(
      (template.trustedAttesters ?? []).map((attester) => [
        attester.issuer,
        createLocalJWKSet(attester.jwks as JSONWebKeySet),
      ]),
    );
    attesterKeySets.set(template, sets);
  }
  return sets.get(issuer);
}

async function templateOf(
  templates: TemplateSource,
  record: InstanceRecord | undefined,
): Promise<ResolvedTemplate | undefined> {
  return record?.template ? templates.find(record.template, { purpose: 'load' }) : undefined;
}

/** The RFC 7638 thumbprints of a client's registered keys. */
async function registeredThumbprints(client: NonNullable<LoadedClient>): Promise<string[]> {
  const keys = (client.metadata().jwks as { keys?: unknown } | undefined)?.keys;
  if (!Array.isArray(keys)) return [];
  const thumbprints = await Promise.all(
    keys.map((key) => calculateJwkThumbprint(key as JWK, 'sha256').catch(() => undefined)),
  );
  return thumbprints.filter((t): t is string => t !== undefined);
}

/**
 * oidc-provider's `features.attestClientAuth`: attestations from this server's attester or from
 * a template's trusted attesters, attesting a key the instance registered, for an instance whose
 * template allows attestation-based client authentication.
 *
 * @internal
 */
export function attestClientAuthFeature(settings: AttestClientAuthSettings): FeatureConfiguration {
  const { issuer, keys, templates } = settings;
  return {
    enabled: true,
    ack: ATTEST_CLIENT_AUTH_DRAFT,
    challengeSecret: settings.challengeSecret,
    // Errors here become 401 invalid_client (oidc-provider wraps them).
    async getAttestationSignaturePublicKey(_ctx, header, payload, client) {
      const iss = payload.iss;
      if (typeof iss !== 'string') throw new Error('the Client Attestation has no iss');
      if (iss === issuer) {
        if (!keys) throw new Error('this server attests no instances');
        return keys.verificationKey(header as JWSHeaderParameters);
      }
      const template = await templateOf(templates, instanceRecordOf(client));
      const keySet = template && trustedKeySet(template, iss);
      if (!keySet) throw new Error(`'${iss}' is not a Client Attester this app trusts`);
      return keySet(header as JWSHeaderParameters);
    },
    // Runs once both JWTs verified (signature, typ, sub = client id, exp, the PoP's aud).
    assertAttestationJwtAndPop: (_ctx, attestation, _pop, client) =>
      settings.phases.phase('client_attestation.verify', () =>
        attestedKeyRegistered(templates, issuer, attestation, client),
      ),
  };
}

/** Whether a verified Client Attestation attests a key the instance registered, with a valid cal. */
async function attestedKeyRegistered(
  templates: TemplateSource,
  issuer: string,
  attestation: { payload: Record<string, unknown> },
  client: NonNullable<LoadedClient>,
): Promise<void> {
  const record = instanceRecordOf(client);
  const template = await templateOf(templates, record);
  if (!record || !template?.attestClientAuth) {
    throw new errors.InvalidClientAuth(
      'only app installs whose template allows it authenticate with Client Attestations',
    );
  }
  const { payload } = attestation;
  const jwk = (payload.cnf as { jwk: JWK }).jwk;
  const attested = await calculateJwkThumbprint(jwk, 'sha256').catch(() => undefined);
  if (!attested || !(await registeredThumbprints(client)).includes(attested)) {
    throw new errors.InvalidClientAuth(
      'the Client Attestation attests a key this app install has not registered',
    );
  }
  const cal = payload.cal;
  if ((cal !== undefined || payload.iss === issuer) && !isAssuranceLevel(cal)) {
    throw new errors.InvalidClientAuth('the Client Attestation carries no valid cal');
  }
}

/**
 * The level a token issued in this request carries: the instance's, lowered to the `cal` of the
 * Client Attestation it authenticated with (an attestation never raises it).
 *
 * @internal
 */
export function attestedLevel(ctx: KoaContextWithOIDC, record: InstanceRecord): AssuranceLevel {
  const level = record.cal ?? 'none';
  const attestation = (
    ctx.oidc as { clientAttestation?: { attestation?: { payload?: { cal?: unknown } } } }
  ).clientAttestation;
  const cal = attestation?.attestation?.payload?.cal;
  return isAssuranceLevel(cal) ? weakerLevel(level, cal) : level;
}
