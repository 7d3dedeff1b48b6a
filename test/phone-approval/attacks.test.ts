// Phone approval's refusals (issue #30), each with its control, on memory and on Redis: who may
// start a request, what a request needs, and every way an answer can be wrong: denied, expired,
// answered twice, by another account's install, unsigned, signed by another key, over another
// binding message, replayed, without user verification where the template requires it; and the
// per-account limit against push fatigue.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateKeyPair } from 'jose';
import { FIRST_PARTY_STORES } from '../helpers/first-party.js';
import { RESOURCE_SERVER_ID, RESOURCE_SERVER_SECRET } from '../helpers/fixture.js';
import {
  answerTo,
  PHONE_UV_SOFTWARE_ID,
  type PhoneInstall,
  type PhoneServer,
  pendingFor,
  signAnswer,
  startPhoneApproval,
} from '../helpers/phone-approval.js';

for (const [name, open] of FIRST_PARTY_STORES) {
  describe(`phone approval refusals (${name})`, { timeout: 90_000 }, () => {
    let phone: PhoneServer;
    let close: () => Promise<void>;
    let a: PhoneInstall;
    let b: PhoneInstall;
    let other: PhoneInstall | undefined;
    let counter = 0;

    before(async () => {
      const opened = await open();
      close = opened.close;
      phone = await startPhoneApproval(opened.store);
      a = await phone.install('demouser', 'Password1');
      b = await phone.install('demouser', 'Password1');
    });
    after(async () => {
      await phone?.close();
      await close?.();
    });

    /** otheruser's install, of the template that requires user verification. */
    const otherInstall = async () => {
      other ??= await phone.install('otheruser', 'Password2', PHONE_UV_SOFTWARE_ID);
      return other;
    };

    /** Starts a request for `account` with a fresh binding message; its auth_req_id and message. */
    const start = async (account = 'demouser', more: Record<string, string> = {}) => {
      counter += 1;
      const binding = `REQ-${counter}`;
      const started = await phone.backchannel({
        scope: 'openid',
        login_hint: account,
        binding_message: binding,
        ...more,
      });
      assert.equal(started.status, 200, JSON.stringify(started.body));
      return { id: started.body.auth_req_id as string, binding };
    };

    it('an account with no install that may approve: access_denied; control: one with installs', async () => {
      const refused = await phone.backchannel({
        scope: 'openid',
        login_hint: 'otheruser',
        binding_message: 'NONE-1',
      });
      assert.equal(refused.status, 400);
      assert.equal(refused.body.error, 'access_denied', JSON.stringify(refused.body));
      const unknown = await phone.backchannel({
        scope: 'openid',
        login_hint: 'nobody',
        binding_message: 'NONE-2',
      });
      assert.equal(unknown.body.error, 'unknown_user_id', JSON.stringify(unknown.body));

      const { binding } = await start();
      const listed = await pendingFor(phone, a, binding);
      const denied = await phone.answer(a, listed.approval_id, await answerTo(a, listed, 'deny'));
      assert.equal(denied.status, 200, JSON.stringify(denied.body));
    });

    it('an install, and a static client not listed, may not start CIBA: unauthorized_client', async () => {
      const byInstall = await phone.postAsInstall(a, '/backchannel', {
        scope: 'openid',
        login_hint: 'demouser',
        binding_message: 'INSTALL-1',
      });
      assert.equal(byInstall.body.error, 'unauthorized_client', JSON.stringify(byInstall.body));
      const byStatic = await phone.backchannel(
        { scope: 'openid', login_hint: 'demouser', binding_message: 'STATIC-1' },
        { id: RESOURCE_SERVER_ID, secret: RESOURCE_SERVER_SECRET },
      );
      assert.equal(byStatic.body.error, 'unauthorized_client', JSON.stringify(byStatic.body));
      // Nobody was asked.
      for (const install of [a, b]) {
        const listed = await phone.list(install);
        assert.ok(
          !JSON.stringify(listed.body).includes('INSTALL-1') &&
            !JSON.stringify(listed.body).includes('STATIC-1'),
        );
      }
      // A client that is no install may not list approvals either.
      const res = await fetch(`${phone.issuer}/approvals`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${RESOURCE_SERVER_ID}:${RESOURCE_SERVER_SECRET}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: '',
      });
      assert.equal(((await res.json()) as { error: string }).error, 'unauthorized_client');
    });

    it('binding_message is required and keeps its character rule: invalid_binding_message', async () => {
      const missing = await phone.backchannel({ scope: 'openid', login_hint: 'demouser' });
      assert.equal(missing.body.error, 'invalid_binding_message', JSON.stringify(missing.body));
      const odd = await phone.backchannel({
        scope: 'openid',
        login_hint: 'demouser',
        binding_message: 'Pay <b>now</b> to 12345678',
      });
      assert.equal(odd.body.error, 'invalid_binding_message', JSON.stringify(odd.body));
    });

    it('denial: the client gets access_denied; control: approval gives tokens', async () => {
      const denied = await start();
      const listed = await pendingFor(phone, a, denied.binding);
      const answered = await phone.answer(a, listed.approval_id, await answerTo(a, listed, 'deny'));
      assert.equal(answered.status, 200, JSON.stringify(answered.body));
      assert.equal((await phone.poll(denied.id)).body.error, 'access_denied');
      assert.ok(phone.events.some((e) => e.name === 'phone_approval.denied'));

      const approved = await start();
      const control = await pendingFor(phone, a, approved.binding);
      await phone.answer(a, control.approval_id, await answerTo(a, control, 'approve'));
      assert.equal((await phone.poll(approved.id)).status, 200);
    });

    it('expiry: an expired request is no longer listed nor answerable; control: before it expires', async () => {
      const request = await start('demouser', { requested_expiry: '2' });
      const listed = await pendingFor(phone, a, request.binding);
      assert.ok(listed.expires_in <= 2);
      await sleep(3000);
      const relisted = await phone.list(a);
      assert.ok(!JSON.stringify(relisted.body).includes(request.binding));
      const late = await phone.answer(a, listed.approval_id, await answerTo(a, listed, 'approve'));
      assert.equal(late.status, 400);
      assert.equal(late.body.error, 'invalid_request', JSON.stringify(late.body));
      // expired_token while the store still holds the request, invalid_grant once it is gone.
      const polled = await phone.poll(request.id);
      assert.ok(
        ['expired_token', 'invalid_grant'].includes(polled.body.error),
        JSON.stringify(polled.body),
      );
    });

    it('requested_expiry is bounded by maxExpiry; control: a shorter one is kept', async () => {
      const long = await phone.backchannel({
        scope: 'openid',
        login_hint: 'demouser',
        binding_message: 'LONG-1',
        requested_expiry: '86400',
      });
      assert.equal(long.body.expires_in, 120, JSON.stringify(long.body));
      const short = await phone.backchannel({
        scope: 'openid',
        login_hint: 'demouser',
        binding_message: 'SHORT-1',
        requested_expiry: '30',
      });
      assert.equal(short.body.expires_in, 30, JSON.stringify(short.body));
      for (const binding of ['LONG-1', 'SHORT-1']) {
        const listed = await pendingFor(phone, a, binding);
        await phone.answer(a, listed.approval_id, await answerTo(a, listed, 'deny'));
      }
    });

    it('a second answer to the same request is refused, by the same or the other install', async () => {
      const request = await start();
      const fromA = await pendingFor(phone, a, request.binding);
      const fromB = await pendingFor(phone, b, request.binding);
      const jws = await answerTo(a, fromA, 'approve');
      const first = await phone.answer(a, fromA.approval_id, jws);
      assert.equal(first.status, 200, JSON.stringify(first.body));
      const again = await phone.answer(a, fromA.approval_id, jws);
      assert.equal(again.status, 400);
      const otherInstall = await phone.answer(
        b,
        fromB.approval_id,
        await answerTo(b, fromB, 'deny'),
      );
      assert.equal(otherInstall.status, 400, JSON.stringify(otherInstall.body));
      // The client gets the first answer's tokens, once.
      assert.equal((await phone.poll(request.id)).status, 200);
    });

    it('two installs answering at once: exactly one answer counts', async () => {
      const request = await start();
      const fromA = await pendingFor(phone, a, request.binding);
      const fromB = await pendingFor(phone, b, request.binding);
      const results = await Promise.all([
        phone.answer(a, fromA.approval_id, await answerTo(a, fromA, 'approve')),
        phone.answer(b, fromB.approval_id, await answerTo(b, fromB, 'deny')),
      ]);
      assert.deepEqual(
        results.map((r) => r.status).sort(),
        [200, 400],
        JSON.stringify(results.map((r) => r.body)),
      );
      const winner = results[0]?.status === 200 ? 'approve' : 'deny';
      const polled = await phone.poll(request.id);
      if (winner === 'approve') assert.equal(polled.status, 200, JSON.stringify(polled.body));
      else assert.equal(polled.body.error, 'access_denied', JSON.stringify(polled.body));
    });

    it("another account's install neither sees nor answers the request; control: the account's own", async () => {
      const stranger = await otherInstall();
      const request = await start();
      const listed = await pendingFor(phone, a, request.binding);
      const seen = await phone.list(stranger);
      assert.equal(seen.status, 200, JSON.stringify(seen.body));
      assert.ok(!JSON.stringify(seen.body).includes(request.binding));
      // Even knowing the approval's id and challenge, signed with its own registered key.
      const forged = await phone.answer(
        stranger,
        listed.approval_id,
        await answerTo(stranger, listed, 'approve', { uv: true }),
      );
      assert.equal(forged.status, 400);
      assert.equal(forged.body.error, 'invalid_request', JSON.stringify(forged.body));
      assert.equal((await phone.poll(request.id)).body.error, 'authorization_pending');
      const own = await phone.answer(a, listed.approval_id, await answerTo(a, listed, 'approve'));
      assert.equal(own.status, 200, JSON.stringify(own.body));
    });

    it('unsigned, or signed by a key the install did not register: refused; control: its own key', async () => {
      const request = await start();
      const listed = await pendingFor(phone, a, request.binding);
      const payload = {
        approval_id: listed.approval_id,
        binding_message: listed.binding_message,
        challenge: listed.challenge,
        decision: 'approve',
      };
      const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const unsigned = `${b64({ alg: 'none' })}.${b64(payload)}.`;
      const { privateKey: stranger } = await generateKeyPair('ES256');
      for (const answer of [
        unsigned,
        JSON.stringify(payload),
        await signAnswer(stranger, payload),
        // The other install of the same account: its key is not this install's.
        await signAnswer(b.key, payload),
      ]) {
        const refused = await phone.answer(a, listed.approval_id, answer);
        assert.equal(refused.status, 400, answer);
        assert.equal(refused.body.error, 'invalid_request', JSON.stringify(refused.body));
      }
      assert.equal((await phone.poll(request.id)).body.error, 'authorization_pending');
      // The refusals did not spend the challenge.
      const signed = await phone.answer(a, listed.approval_id, await signAnswer(a.key, payload));
      assert.equal(signed.status, 200, JSON.stringify(signed.body));
    });

    it('an answer over another binding message is refused; control: over the one shown', async () => {
      const request = await start();
      const listed = await pendingFor(phone, a, request.binding);
      const mismatched = await phone.answer(
        a,
        listed.approval_id,
        await answerTo(a, listed, 'approve', { binding_message: 'REQ-0' }),
      );
      assert.equal(mismatched.status, 400);
      assert.equal(mismatched.body.error, 'invalid_request', JSON.stringify(mismatched.body));
      const shown = await phone.answer(a, listed.approval_id, await answerTo(a, listed, 'approve'));
      assert.equal(shown.status, 200, JSON.stringify(shown.body));
    });

    it('a replayed answer or a used challenge is refused; control: a fresh challenge', async () => {
      const first = await start();
      const listed = await pendingFor(phone, a, first.binding);
      const jws = await answerTo(a, listed, 'approve');
      assert.equal((await phone.answer(a, listed.approval_id, jws)).status, 200);

      const second = await start();
      const fresh = await pendingFor(phone, a, second.binding);
      // The first answer replayed, and the first (used) challenge signed for the new approval.
      assert.equal((await phone.answer(a, listed.approval_id, jws)).status, 400);
      const reused = await phone.answer(
        a,
        fresh.approval_id,
        await answerTo(a, fresh, 'approve', { challenge: listed.challenge }),
      );
      assert.equal(reused.status, 400);
      assert.equal(reused.body.error, 'invalid_grant', JSON.stringify(reused.body));
      // A challenge made up by the app is no better.
      const madeUp = await phone.answer(
        a,
        fresh.approval_id,
        await answerTo(a, fresh, 'approve', { challenge: 'x'.repeat(32) }),
      );
      assert.equal(madeUp.body.error, 'invalid_grant', JSON.stringify(madeUp.body));
      const control = await phone.answer(a, fresh.approval_id, await answerTo(a, fresh, 'approve'));
      assert.equal(control.status, 200, JSON.stringify(control.body));
      assert.equal((await phone.poll(second.id)).status, 200);
    });

    it('a template that requires user verification refuses an approval without uv: true', async () => {
      const install = await otherInstall();
      const request = await start('otheruser');
      const listed = await pendingFor(phone, install, request.binding);
      const without = await phone.answer(
        install,
        listed.approval_id,
        await answerTo(install, listed, 'approve'),
      );
      assert.equal(without.status, 400);
      assert.equal(without.body.error, 'invalid_request', JSON.stringify(without.body));
      const verified = await phone.answer(
        install,
        listed.approval_id,
        await answerTo(install, listed, 'approve', { uv: true }),
      );
      assert.equal(verified.status, 200, JSON.stringify(verified.body));
      const event = phone.events.findLast((e) => e.name === 'phone_approval.approved');
      assert.deepEqual(event?.payload, {
        clientId: 'web-portal',
        accountId: 'otheruser',
        installClientId: install.clientId,
        userVerified: true,
      });
      assert.equal((await phone.poll(request.id)).status, 200);
    });

    it('more than maxPendingPerAccount pending requests: access_denied until one is answered', async () => {
      const pending = [];
      for (let i = 0; i < 3; i++) pending.push(await start('demouser', { requested_expiry: '30' }));
      const fourth = await phone.backchannel({
        scope: 'openid',
        login_hint: 'demouser',
        binding_message: 'TOO-MANY',
      });
      assert.equal(fourth.body.error, 'access_denied', JSON.stringify(fourth.body));
      assert.ok(!JSON.stringify((await phone.list(a)).body).includes('TOO-MANY'));
      // Another account is not held up by demouser's.
      const install = await otherInstall();
      const elsewhere = await start('otheruser');
      const theirs = await pendingFor(phone, install, elsewhere.binding);
      await phone.answer(install, theirs.approval_id, await answerTo(install, theirs, 'deny'));
      // One answered: room for one more.
      const listed = await pendingFor(phone, a, (pending[0] as { binding: string }).binding);
      await phone.answer(a, listed.approval_id, await answerTo(a, listed, 'deny'));
      await start();
    });
  });
}
