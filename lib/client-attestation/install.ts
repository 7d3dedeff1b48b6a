import type { KoaContextWithOIDC } from 'oidc-provider';
import type { InstalledAttestation } from '../attestation/install.js';
import type { ResolvedAttestationOptions } from '../attestation/options.js';
import type { ClientAttestationEvents } from '../attestation/types.js';
import type { InstanceRecord } from '../core/instance-record.js';
import type { Template } from '../core/template-types.js';
import type { InstanceGuard } from '../instances/instance-guard.js';
import type { Assembly, Emit } from '../provider/assembly.js';
import { instanceRecordOf } from '../provider/loaded-client.js';
import { popChallenges } from '../provider/pop-challenges.js';
import { ATTEST_AUTH_METHODS, type TemplateSource } from '../registration/templates.js';
import { appAttestAssertionCheck } from './app-attest-assertions.js';
import { attestClientAuthFeature, attestedLevel } from './attest-client-auth.js';
import { createClientAttester } from './attester.js';
import { AttesterKeys } from './attester-keys.js';
import type { ResolvedAttesterOptions } from './options.js';

/** The options client attestation reads. @internal */
export interface ClientAttestationSettings {
  issuer: string;
  attestation: Omit<ResolvedAttestationOptions, 'attester'> & { attester: ResolvedAttesterOptions };
  registration: { templates: readonly Template[] };
  ttl: { grant: number };
  oidcProvider: { features?: { dPoP?: { nonceSecret?: Buffer } & Record<string, unknown> } };
}

/**
 * Installs attestation-based client authentication (the IETF draft): oidc-provider's
 * `attestClientAuth` with this server's Client Attester, and the App Attest assertions that
 * `private_key_jwt` may require.
 *
 * @internal
 */
export async function installClientAttestation(
  assembly: Assembly,
  o: ClientAttestationSettings,
  templates: TemplateSource,
  attestation: InstalledAttestation,
  guard: InstanceGuard,
): Promise<void> {
  if (o.attestation.requireAppAttestAssertions) {
    assembly.checkClientAssertion(appAttestAssertionCheck(assembly.store, o.ttl.grant));
  }
  const attester = o.attestation.attester;
  if (!(attester.enabled ?? o.registration.templates.some((t) => t.attestClientAuth))) return;

  const keys = await AttesterKeys.create(attester.keys, assembly.keys.cookieKeys);
  // Stateless PoP challenges: every process derives the same secret from the cookie keys.
  const challengeSecret = assembly.secret('oauth-client-attestation-pop-challenge');
  const url = assembly.url(attester.path);
  const dPoP = o.oidcProvider.features?.dPoP;
  assembly.clientAuthMethods.push(...ATTEST_AUTH_METHODS);
  assembly.features.attestClientAuth = attestClientAuthFeature({
    issuer: o.issuer,
    keys,
    templates,
    challengeSecret,
    phases: assembly,
  });
  // Combined mode's DPoP proofs need server nonces, the same in every process.
  assembly.features.dPoP = {
    ...dPoP,
    nonceSecret: dPoP?.nonceSecret ?? assembly.secret('dpop-nonce'),
  };
  assembly.discovery.client_attestation_endpoint = url;
  assembly.discovery.client_attester_jwks_uri = assembly.url(attester.jwksPath);
  attestation.serveChallenges();

  // A Client Attestation's cal may lower the instance's level: the token's scope must still fit.
  const attestedScopes = (ctx: KoaContextWithOIDC, record: InstanceRecord, scope?: string) => {
    const cal = attestedLevel(ctx, record);
    if (cal !== (record.cal ?? 'none')) {
      guard.assertScopes({ ...record, cal }, (scope ?? '').split(' ').filter(Boolean));
    }
    return cal;
  };
  assembly.tokenClaims(async (ctx, token) => {
    const record = instanceRecordOf(ctx.oidc.client);
    return record ? { cal: attestedScopes(ctx, record, token.scope) } : undefined;
  });
  assembly.checkRefresh((ctx) => {
    const record = instanceRecordOf(ctx.oidc.client);
    if (record) attestedScopes(ctx, record, ctx.oidc.entities.RefreshToken?.scope);
  });

  const emit: Emit<ClientAttestationEvents> = assembly.emit;
  assembly.use((provider) =>
    createClientAttester({
      provider,
      issuer: o.issuer,
      path: attester.path,
      url,
      jwksPath: attester.jwksPath,
      keys,
      ttl: attester.ttl,
      store: assembly.store,
      rateLimit: attester.rateLimit,
      challenges: attestation.challenges,
      templates,
      appAttestCounterTtl: o.ttl.grant,
      nextPopChallenge: popChallenges(challengeSecret),
      phases: assembly,
      ...(attester.allowWithoutEvidence
        ? { allowWithoutEvidence: attester.allowWithoutEvidence }
        : {}),
      emit,
    }),
  );
}
