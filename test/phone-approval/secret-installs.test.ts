// Installs that authenticate with a secret (the provisioned-key fallback's usual template) approve
// too when their template allows approvals: each registers a key of its own at registration
// (issue #30), signs its answers with it, and can never change it by an RFC 7592 update, so a
// registration access token alone cannot make a device an approver.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair } from 'jose';
import { MemoryStore } from 'mobile-oidc-provider';
import {
  answerTo,
  PHONE_SECRET_SOFTWARE_ID,
  type PhoneInstall,
  type PhoneServer,
  pendingFor,
  startPhoneApproval,
} from '../helpers/phone-approval.js';
import { postRegistration } from '../helpers/registration.js';
import { freshDcrToken } from '../helpers/sign-in.js';

describe('phone approval by installs that authenticate with a secret', { timeout: 60_000 }, () => {
  let phone: PhoneServer;
  let install: PhoneInstall;

  before(async () => {
    phone = await startPhoneApproval(new MemoryStore());
    install = await phone.install('demouser', 'Password1', PHONE_SECRET_SOFTWARE_ID);
  });
  after(async () => {
    await phone?.close();
  });

  const update = (jwks: unknown) =>
    fetch(install.management.uri, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${install.management.token}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        client_id: install.clientId,
        client_secret: install.secret,
        software_id: PHONE_SECRET_SOFTWARE_ID,
        ...(jwks === undefined ? {} : { jwks }),
      }),
    });

  it('registers with a secret and its own key, lists with its secret, approves with its key', async () => {
    assert.equal(typeof install.secret, 'string');
    const started = await phone.backchannel({
      scope: 'openid',
      login_hint: 'demouser',
      binding_message: 'SECRET-1',
    });
    assert.equal(started.status, 200, JSON.stringify(started.body));
    const listed = await pendingFor(phone, install, 'SECRET-1');
    const answered = await phone.answer(
      install,
      listed.approval_id,
      await answerTo(install, listed, 'approve'),
    );
    assert.equal(answered.status, 200, JSON.stringify(answered.body));
    assert.equal((await phone.poll(started.body.auth_req_id)).status, 200);
  });

  it('its key cannot be replaced or dropped by an update; control: an update keeping it', async () => {
    const { publicKey } = await generateKeyPair('ES256');
    const other = { keys: [{ ...(await exportJWK(publicKey)), alg: 'ES256' }] };
    for (const jwks of [other, undefined]) {
      const res = await update(jwks);
      const body = (await res.json()) as Record<string, string>;
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(body.error, 'invalid_client_metadata');
      assert.match(body.error_description ?? '', /jwks cannot change/);
    }
    const kept = await update({ keys: [install.jwk] });
    const body = (await kept.json()) as Record<string, string>;
    assert.equal(kept.status, 200, JSON.stringify(body));
    install.management.token = body.registration_access_token as string;
  });

  it('an install registered without a key cannot add one by an update (it never approves)', async () => {
    const registered = await phone.register({ software_id: PHONE_SECRET_SOFTWARE_ID });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    const { publicKey } = await generateKeyPair('ES256');
    const res = await fetch(registered.body.registration_client_uri, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${registered.body.registration_access_token}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        client_id: registered.body.client_id,
        client_secret: registered.body.client_secret,
        software_id: PHONE_SECRET_SOFTWARE_ID,
        jwks: { keys: [{ ...(await exportJWK(publicKey)), alg: 'ES256' }] },
      }),
    });
    const body = (await res.json()) as Record<string, string>;
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.match(body.error_description ?? '', /jwks cannot change/);
  });

  it('a template without approvals still refuses jwks from a secret install', async () => {
    const { publicKey } = await generateKeyPair('ES256');
    const registered = await postRegistration(
      phone.issuer,
      {
        software_id: 'io.example.app',
        software_version: '1.0.0',
        jwks: { keys: [await exportJWK(publicKey)] },
      },
      await freshDcrToken(phone.issuer),
    );
    assert.equal(registered.status, 400, JSON.stringify(registered.body));
    assert.equal(registered.body.error, 'invalid_client_metadata');
  });
});
