// Phone approval against the example server (`npm start`) as its own process (issue #30's
// done-when, first part): with WEB_PORTAL_SECRET set, the static web client `web-portal` starts
// CIBA for demouser; demouser's provisioned-key install (registered with a key of its own) lists
// the request, approves it with its key, and the web client gets demouser's tokens.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CompactSign, exportJWK, generateKeyPair } from 'jose';
import * as oidc from 'openid-client';
import { insecure } from '../helpers/example.js';
import { challengeOf, type Install, type Json, verifier } from '../helpers/first-party.js';
import { FALLBACK_PKI_CLIENT_ID, FALLBACK_SOFTWARE_ID } from '../helpers/fixture.js';
import { postRegistration } from '../helpers/registration.js';
import { type SpawnedExample, spawnExample } from '../helpers/spawn.js';

const WEB_SECRET = 'web-portal-secret-for-the-example-0123456789';
const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

describe('phone approval with the example server', { timeout: 120_000 }, () => {
  let server: SpawnedExample;
  let issuer: string;

  before(async () => {
    const pki = await generateKeyPair('ES256');
    server = await spawnExample('examples/server/main.ts', {
      FALLBACK_CLIENT_JWKS: JSON.stringify({
        keys: [{ ...(await exportJWK(pki.publicKey)), alg: 'ES256' }],
      }),
      WEB_PORTAL_SECRET: WEB_SECRET,
      LOG_LEVEL: 'silent',
    });
    issuer = `http://localhost:${server.port}`;
    installKey = await generateKeyPair('ES256');
    const config = await oidc.discovery(
      new URL(issuer),
      FALLBACK_PKI_CLIENT_ID,
      undefined,
      oidc.PrivateKeyJwt(pki.privateKey),
      insecure,
    );
    const dcr = await oidc.clientCredentialsGrant(config, { scope: 'dcr' });
    const registered = await postRegistration(
      issuer,
      {
        software_id: FALLBACK_SOFTWARE_ID,
        jwks: { keys: [{ ...(await exportJWK(installKey.publicKey)), alg: 'ES256' }] },
      },
      dcr.access_token,
    );
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    install = registered.body as unknown as Install;
  });
  after(async () => {
    await server?.stop();
  });

  let install: Install;
  let installKey: Awaited<ReturnType<typeof generateKeyPair>>;

  async function post(path: string, authorization: string, body: Record<string, string>) {
    const res = await fetch(`${issuer}${path}`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(body),
    });
    return { status: res.status, body: (await res.json()) as Json };
  }

  it('the web portal starts CIBA for demouser, the install approves, the portal gets tokens', async () => {
    const asInstall = basic(install.client_id, install.client_secret);
    const web = basic('web-portal', WEB_SECRET);
    // The install is demouser's once demouser signed in through it (first-party, no browser).
    const signedIn = await post('/authorize-challenge', asInstall, {
      scope: 'openid',
      code_challenge: challengeOf(verifier()),
      code_challenge_method: 'S256',
      username: 'demouser',
      password: 'Password1',
    });
    assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));

    const started = await post('/backchannel', web, {
      scope: 'openid profile',
      login_hint: 'demouser',
      binding_message: 'EXAMPLE-1',
    });
    assert.equal(started.status, 200, JSON.stringify(started.body));
    const listed = await post('/approvals', asInstall, {});
    const [approval] = listed.body.approvals as Json[];
    assert.equal(approval?.binding_message, 'EXAMPLE-1', JSON.stringify(listed.body));
    assert.equal(approval?.client_name, 'Web Portal');
    const answer = await new CompactSign(
      new TextEncoder().encode(
        JSON.stringify({
          approval_id: approval?.approval_id,
          binding_message: approval?.binding_message,
          challenge: approval?.challenge,
          decision: 'approve',
        }),
      ),
    )
      .setProtectedHeader({ alg: 'ES256' })
      .sign(installKey.privateKey);
    const answered = await post(`/approvals/${approval?.approval_id}`, asInstall, { answer });
    assert.equal(answered.status, 200, JSON.stringify(answered.body));

    const tokens = await post('/token', web, {
      grant_type: 'urn:openid:params:grant-type:ciba',
      auth_req_id: started.body.auth_req_id as string,
    });
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    const userinfo = await fetch(`${issuer}/me`, {
      headers: { authorization: `Bearer ${tokens.body.access_token}` },
    });
    assert.equal(((await userinfo.json()) as Json).sub, 'demouser');
  });
});
