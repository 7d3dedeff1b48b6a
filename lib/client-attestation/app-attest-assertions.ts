import type { JWK } from 'jose';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { errors } from 'oidc-provider';
import { verifyAppAttestAssertion } from '../attestation/verifiers/app-attest.js';
import { AttestationError } from '../core/errors.js';
import type { EvidenceSummary } from '../core/instance-record.js';
import { CLIENT_AUTHENTICATED_ROUTES } from '../provider/client-authenticated-endpoint.js';
import { instanceRecordOf } from '../provider/loaded-client.js';
import type { Store } from '../storage/store.js';

/** The request header that carries an App Attest assertion. */
export const APP_ATTEST_ASSERTION_HEADER = 'App-Attest-Assertion';

/**
 * Checks an App Attest assertion by an instance's App Attest key (`evidence`, what it registered
 * with) over `clientData`: its signature, RP id and a counter that must rise, atomically in the
 * store, per key (an update with fresh evidence brings a new key, counting from zero). Token
 * requests and the Client Attester share the counter, so no assertion counts twice.
 *
 * @throws AttestationError naming the failed check.
 * @internal
 */
export async function checkInstanceAssertion(
  store: Store,
  counterTtl: number,
  clientId: string,
  evidence: EvidenceSummary & { assertion_key: JWK },
  assertion: string,
  clientData: string,
): Promise<void> {
  const { signCount } = await verifyAppAttestAssertion({
    assertion: Buffer.from(assertion, 'base64'),
    clientData: Buffer.from(clientData, 'utf8'),
    publicKeyJwk: evidence.assertion_key,
    appId: evidence.app_id,
    previousSignCount: 0,
  });
  const counter = `app-attest:${clientId}:${evidence.key_id ?? ''}`;
  if (!(await store.raiseCounter(counter, signCount, counterTtl))) {
    throw new AttestationError(
      'counter_not_increasing',
      'its counter did not increase (replayed or cloned key)',
    );
  }
}

// The routes that authenticate instances as the token endpoint does: the token endpoint, and the
// library's endpoints that run the same client authentication (challenge, phone approvals).
const ASSERTED_ROUTES: ReadonlySet<string> = new Set([
  'token',
  ...Object.values(CLIENT_AUTHENTICATED_ROUTES),
]);

/**
 * The App Attest assertion check on token requests, run by oidc-provider's
 * `assertJwtClientAuthClaimsAndHeader` once an instance's `private_key_jwt` assertion verified:
 * the only hook between client authentication and the grant, with the parsed request at hand.
 * The App Attest assertion must sign the request's own client assertion, and its counter must
 * rise, atomically in the store.
 *
 * @internal
 */
export function appAttestAssertionCheck(store: Store, counterTtl: number) {
  return async function checkAppAttestAssertion(
    ctx: KoaContextWithOIDC,
    client: { clientId: string; metadata(): Record<string, unknown> } | undefined,
  ): Promise<void> {
    if (!ASSERTED_ROUTES.has(ctx.oidc.route) || !client) return;
    const evidence = instanceRecordOf(client)?.registered_by?.evidence;
    if (evidence?.format !== 'apple-appattest' || !evidence.assertion_key) return;
    const header = ctx.get(APP_ATTEST_ASSERTION_HEADER);
    if (!header) {
      throw new errors.InvalidClientAuth(
        `an App Attest assertion is required (${APP_ATTEST_ASSERTION_HEADER})`,
      );
    }
    try {
      await checkInstanceAssertion(
        store,
        counterTtl,
        client.clientId,
        { ...evidence, assertion_key: evidence.assertion_key },
        header,
        String(ctx.oidc.params?.client_assertion ?? ''),
      );
    } catch (error) {
      if (!(error instanceof AttestationError)) throw error;
      throw new errors.InvalidClientAuth(`App Attest assertion refused: ${error.message}`);
    }
  };
}
