// Phone approval (issue #30, DESIGN flow 12), end to end over real HTTP on memory and on Redis: a
// static web client starts CIBA for demouser, demouser's installs are notified, one lists the
// request and approves it with its registered key, and the web client gets demouser's tokens by
// polling the token endpoint, or is pinged first.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { FIRST_PARTY_STORES } from '../helpers/first-party.js';
import {
  answerTo,
  type PhoneInstall,
  type PhoneServer,
  PING_CLIENT,
  pendingFor,
  startPhoneApproval,
  WEB_CLIENT,
} from '../helpers/phone-approval.js';

for (const [name, open] of FIRST_PARTY_STORES) {
  describe(`phone approval end to end (${name})`, { timeout: 60_000 }, () => {
    let phone: PhoneServer;
    let close: () => Promise<void>;
    let install: PhoneInstall;
    let second: PhoneInstall;

    before(async () => {
      const opened = await open();
      close = opened.close;
      phone = await startPhoneApproval(opened.store);
      install = await phone.install('demouser', 'Password1');
      second = await phone.install('demouser', 'Password1');
    });
    after(async () => {
      await phone?.close();
      await close?.();
    });

    it('advertises the backchannel authentication endpoint, poll and ping', async () => {
      const res = await fetch(`${phone.issuer}/.well-known/openid-configuration`);
      const metadata = (await res.json()) as Record<string, unknown>;
      assert.equal(metadata.backchannel_authentication_endpoint, `${phone.issuer}/backchannel`);
      assert.deepEqual(metadata.backchannel_token_delivery_modes_supported, ['poll', 'ping']);
      assert.ok(
        (metadata.grant_types_supported as string[]).includes('urn:openid:params:grant-type:ciba'),
      );
    });

    it('the web client polls, the install approves with its key, the client gets tokens', async () => {
      const noticesBefore = phone.notices.length;
      const started = await phone.backchannel({
        scope: 'openid profile',
        login_hint: 'demouser',
        binding_message: 'WEB-4711',
      });
      assert.equal(started.status, 200, JSON.stringify(started.body));
      assert.equal(typeof started.body.auth_req_id, 'string');
      assert.ok(started.body.expires_in > 0 && started.body.expires_in <= 120);

      // Both installs of demouser were notified, with an opaque id only.
      const notices = phone.notices.slice(noticesBefore);
      assert.deepEqual(
        notices.map((n) => n.clientId).sort(),
        [install.clientId, second.clientId].sort(),
      );
      for (const notice of notices) {
        assert.deepEqual(Object.keys(notice).sort(), ['accountId', 'approvalId', 'clientId']);
        assert.equal(notice.accountId, 'demouser');
        assert.ok(!JSON.stringify(notice).includes('WEB-4711'));
        assert.ok(!JSON.stringify(notice).includes(started.body.auth_req_id));
      }

      const pending = await phone.poll(started.body.auth_req_id);
      assert.equal(pending.body.error, 'authorization_pending');

      const listed = await pendingFor(phone, install, 'WEB-4711');
      assert.equal(listed.client_name, 'Web Portal');
      assert.equal(listed.scope, 'openid profile');
      assert.ok(listed.expires_in > 0 && listed.expires_in <= 120);
      assert.equal(typeof listed.challenge, 'string');
      assert.ok(
        notices.some((n) => n.approvalId === listed.approval_id),
        'the notice names the approval the install lists',
      );

      const answered = await phone.answer(
        install,
        listed.approval_id,
        await answerTo(install, listed, 'approve'),
      );
      assert.equal(answered.status, 200, JSON.stringify(answered.body));
      assert.equal(answered.body.decision, 'approve');

      const tokens = await phone.poll(started.body.auth_req_id);
      assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
      assert.equal(typeof tokens.body.access_token, 'string');
      const idToken = decodeJwt(tokens.body.id_token);
      assert.equal(idToken.sub, 'demouser');
      assert.equal(idToken.aud, WEB_CLIENT.id);
      // The access token says how the user signed in (RFC 9068 §2.2.1 names, via introspection).
      const introspected = await fetch(`${phone.issuer}/token/introspection`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${WEB_CLIENT.id}:${WEB_CLIENT.secret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ token: tokens.body.access_token }),
      });
      const claims = (await introspected.json()) as Record<string, unknown>;
      assert.equal(claims.active, true, JSON.stringify(claims));
      assert.equal(claims.sub, 'demouser');
      assert.equal(claims.acr, 'urn:mobile-oidc:phone');
      assert.equal(typeof claims.auth_time, 'number');

      // The other install's approval was withdrawn.
      const others = await phone.list(second);
      assert.deepEqual(
        (others.body.approvals as Array<{ binding_message: string }>).filter(
          (a) => a.binding_message === 'WEB-4711',
        ),
        [],
      );
      // The request is spent once tokens were issued.
      const again = await phone.poll(started.body.auth_req_id);
      assert.equal(again.body.error, 'invalid_grant');

      // The ID token names the user of a later request (id_token_hint instead of login_hint).
      const hinted = await phone.backchannel({
        scope: 'openid',
        id_token_hint: tokens.body.id_token,
        binding_message: 'HINT-1',
      });
      assert.equal(hinted.status, 200, JSON.stringify(hinted.body));
      const byHint = await pendingFor(phone, install, 'HINT-1');
      const deny = await phone.answer(
        install,
        byHint.approval_id,
        await answerTo(install, byHint, 'deny'),
      );
      assert.equal(deny.status, 200, JSON.stringify(deny.body));

      const events = phone.events.map((e) => e.name);
      assert.ok(events.includes('phone_approval.requested'));
      const approved = phone.events.find((e) => e.name === 'phone_approval.approved');
      assert.deepEqual(approved?.payload, {
        clientId: WEB_CLIENT.id,
        accountId: 'demouser',
        installClientId: install.clientId,
        userVerified: false,
      });
    });

    it('ping mode: the client is notified at its endpoint, then fetches the tokens', async () => {
      const started = await phone.backchannel(
        {
          scope: 'openid',
          login_hint: 'demouser',
          binding_message: 'PING-1',
          client_notification_token: 'notification-token-0123456789',
        },
        PING_CLIENT,
      );
      assert.equal(started.status, 200, JSON.stringify(started.body));
      assert.equal(phone.pings.length, 0);
      const listed = await pendingFor(phone, second, 'PING-1');
      const answered = await phone.answer(
        second,
        listed.approval_id,
        await answerTo(second, listed, 'approve'),
      );
      assert.equal(answered.status, 200, JSON.stringify(answered.body));
      assert.deepEqual(phone.pings, [
        {
          authorization: 'Bearer notification-token-0123456789',
          body: { auth_req_id: started.body.auth_req_id },
        },
      ]);
      const tokens = await phone.poll(started.body.auth_req_id, PING_CLIENT);
      assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
      assert.equal(decodeJwt(tokens.body.id_token).sub, 'demouser');
    });
  });
}
