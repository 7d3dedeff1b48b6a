import type { KoaContextWithOIDC } from 'oidc-provider';
import { errors } from 'oidc-provider';
import { verifyAppAttestAssertion } from '../attestation/verifiers/app-attest.js';
import { AttestationError } from '../errors.js';
import type { Store } from '../storage/store.js';
import { instanceRecordOf } from './instance-guard.js';

/** The request header that carries an App Attest assertion. */
export const APP_ATTEST_ASSERTION_HEADER = 'App-Attest-Assertion';

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
    if (ctx.oidc.route !== 'token' || !client) return;
    const evidence = instanceRecordOf(client)?.registered_by?.evidence;
    if (evidence?.format !== 'apple-appattest' || !evidence.assertion_key) return;
    const header = ctx.get(APP_ATTEST_ASSERTION_HEADER);
    if (!header) {
      throw new errors.InvalidClientAuth(
        `an App Attest assertion is required (${APP_ATTEST_ASSERTION_HEADER})`,
      );
    }
    const clientAssertion = String(ctx.oidc.params?.client_assertion ?? '');
    let signCount: number;
    try {
      ({ signCount } = await verifyAppAttestAssertion({
        assertion: Buffer.from(header, 'base64'),
        clientData: Buffer.from(clientAssertion, 'utf8'),
        publicKeyJwk: evidence.assertion_key,
        appId: evidence.app_id,
        previousSignCount: 0,
      }));
    } catch (error) {
      if (!(error instanceof AttestationError)) throw error;
      throw new errors.InvalidClientAuth(`App Attest assertion refused: ${error.message}`);
    }
    // Per key: an update with fresh evidence brings a new App Attest key, counting from zero.
    const counter = `app-attest:${client.clientId}:${evidence.key_id ?? ''}`;
    if (!(await store.raiseCounter(counter, signCount, counterTtl))) {
      throw new errors.InvalidClientAuth(
        'App Attest assertion refused: its counter did not increase (replayed or cloned key)',
      );
    }
  };
}
