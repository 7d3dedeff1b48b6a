// Phone approvals in the metrics (issue #30): with an OpenTelemetry SDK registered, an approval on
// the user's phone counts as a sign-in `{method: 'phone', outcome: 'success'}`, a denial as
// `failure`, and the web client's tokens under the CIBA grant type; no label carries the binding
// message, an id or the account.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MemoryStore } from 'mobile-oidc-provider';
import {
  answerTo,
  type PhoneInstall,
  type PhoneServer,
  pendingFor,
  startPhoneApproval,
} from '../helpers/phone-approval.js';
import { everyAttribute, pointValue, TestSdk } from '../helpers/telemetry.js';

describe('phone approval metrics', { timeout: 60_000 }, () => {
  let sdk: TestSdk;
  let phone: PhoneServer;
  let install: PhoneInstall;

  before(async () => {
    sdk = new TestSdk().register({ traces: false });
    phone = await startPhoneApproval(new MemoryStore());
    install = await phone.install('demouser', 'Password1');
  });
  after(async () => {
    await phone?.close();
    await sdk?.unregister();
  });

  it('counts approvals and denials as phone sign-ins, and the tokens by the CIBA grant', async () => {
    for (const decision of ['approve', 'deny'] as const) {
      const started = await phone.backchannel({
        scope: 'openid',
        login_hint: 'demouser',
        binding_message: `METRIC-${decision}`,
      });
      assert.equal(started.status, 200, JSON.stringify(started.body));
      const listed = await pendingFor(phone, install, `METRIC-${decision}`);
      await phone.answer(install, listed.approval_id, await answerTo(install, listed, decision));
      await phone.poll(started.body.auth_req_id);
    }
    const collected = await sdk.metrics();
    const signIns = (outcome: string) =>
      pointValue(collected, 'mobile_oidc.sign_ins', { method: 'phone', outcome });
    assert.equal(signIns('success'), 1);
    assert.equal(signIns('failure'), 1);
    assert.equal(
      pointValue(collected, 'mobile_oidc.tokens_issued', {
        grant_type: 'urn:openid:params:grant-type:ciba',
      }),
      1,
    );
    const labels = everyAttribute(collected, []).join(' ');
    for (const secret of ['METRIC-', 'demouser', install.clientId]) {
      assert.ok(!labels.includes(secret), `${secret} in a metric label`);
    }
  });
});
