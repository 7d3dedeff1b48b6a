// The private instance record (owner, registration client, proof, evidence summary) never leaves
// the server. Walks every endpoint that answers with client metadata or device data (RFC 7591
// §3.2.1, RFC 7592 §2.1–2.3, RFC 6749 §5.1, RFC 7662 §2.2, OpenID Connect Core §5.3, the device
// APIs), and checks that the one place that strips it fails closed for any other response shape.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Koa from 'koa';
import * as oidc from 'openid-client';
import { INSTANCE_FIELD } from '../../lib/core/instance-record.js';
import {
  type RunningServer,
  registrationClient,
  resourceServer,
  startExample,
} from '../helpers/example.js';
import { APP_SOFTWARE_ID } from '../helpers/fixture.js';
import { type Listening, listen } from '../helpers/listen.js';
import { instanceConfiguration } from '../helpers/registration.js';
import { codeForInstance, obtainDcrToken, SignInBrowser } from '../helpers/sign-in.js';

const ADMIN_SECRET = 'record-privacy-admin-secret-0123456789abcdef';
// What only the private record holds: its field name and its members.
const PRIVATE = [INSTANCE_FIELD, 'registered_by', 'registration_client_id', 'created_ms'];

function assertNoRecord(label: string, text: string) {
  for (const secret of PRIVATE) {
    assert.ok(!text.includes(secret), `${label} reveals ${secret}: ${text}`);
  }
}

describe('the private instance record never leaves the server', () => {
  let server: RunningServer;
  let admin: Listening;
  const seen: Array<[string, string]> = [];

  /** Fetches and remembers the raw response text of an endpoint. */
  async function call(label: string, url: string, init: RequestInit = {}) {
    const res = await fetch(url, init);
    const text = await res.text();
    seen.push([label, text]);
    return { status: res.status, text, body: text ? JSON.parse(text) : undefined };
  }

  before(async () => {
    server = await startExample(undefined, { ADMIN_SECRET });
    admin = await listen();
    admin.handle(server.auth.adminCallback());
  });
  after(async () => {
    await admin.close();
    await server.close();
  });

  it('registration, RFC 7592 read, update and delete show only cal', async () => {
    const browser = new SignInBrowser();
    const { tokens } = await obtainDcrToken(await registrationClient(server.issuer), browser);
    const created = await call('POST /reg', `${server.issuer}/reg`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${tokens.access_token}`,
      },
      body: JSON.stringify({ software_id: APP_SOFTWARE_ID, software_version: '1.2.0' }),
    });
    assert.equal(created.status, 201);
    assert.equal(created.body.cal, 'none');
    const { client_id, registration_client_uri } = created.body;
    let rat = created.body.registration_access_token;
    const read = await call('GET /reg/:id', registration_client_uri, {
      headers: { authorization: `Bearer ${rat}` },
    });
    assert.equal(read.status, 200);
    assert.equal(read.body.cal, 'none');
    const updated = await call('PUT /reg/:id', registration_client_uri, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${rat}` },
      body: JSON.stringify({ client_id, software_id: APP_SOFTWARE_ID, software_version: '1.3.0' }),
    });
    assert.equal(updated.status, 200, updated.text);
    assert.equal(updated.body.cal, 'none');
    rat = updated.body.registration_access_token;

    // The install's tokens, userinfo, introspection and the device APIs.
    const instance = await instanceConfiguration(server.issuer, created.body);
    const { callback, checks } = await codeForInstance(
      browser,
      instance,
      'openid offline_access devices',
    );
    const issued = await oidc.authorizationCodeGrant(instance, callback, checks);
    seen.push(['token (code)', JSON.stringify(issued)]);
    const refreshed = await oidc.refreshTokenGrant(instance, issued.refresh_token as string);
    seen.push(['token (refresh)', JSON.stringify(refreshed)]);
    const bearer = { authorization: `Bearer ${refreshed.access_token}` };
    await call('userinfo', `${server.issuer}/me`, { headers: bearer });
    const introspected = await oidc.tokenIntrospection(
      await resourceServer(server.issuer),
      refreshed.access_token,
    );
    assert.equal(introspected.active, true);
    seen.push(['introspection', JSON.stringify(introspected)]);
    const mine = await call('GET /devices', `${server.issuer}/devices`, { headers: bearer });
    assert.equal(mine.status, 200, mine.text);
    const adminAuth = { authorization: `Bearer ${ADMIN_SECRET}` };
    const listed = await call('admin list', `${admin.url}/accounts/demouser/devices`, {
      headers: adminAuth,
    });
    assert.equal(listed.status, 200);
    assert.ok(listed.text.includes(client_id));
    await call('admin get', `${admin.url}/devices/${client_id}`, { headers: adminAuth });
    await call('discovery', `${server.issuer}/.well-known/openid-configuration`);

    const deleted = await call('DELETE /reg/:id', registration_client_uri, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${rat}` },
    });
    assert.equal(deleted.status, 204);
    assert.ok(seen.length >= 12);
    for (const [label, text] of seen) assertNoRecord(label, text);
  });

  it('any other response that would carry the record is replaced by a 500 (fail closed)', async (t) => {
    // A middleware added after the library's, as a deployment might through the provider.
    server.auth.provider.use(async (ctx, next) => {
      if (ctx.path === '/leaky-object') {
        ctx.body = { page: [{ client: { [INSTANCE_FIELD]: { account_id: 'demouser' } } }] };
        return;
      }
      if (ctx.path === '/leaky-text') {
        ctx.type = 'html';
        ctx.body = `<pre>{"${INSTANCE_FIELD}":{"account_id":"demouser"}}</pre>`;
        return;
      }
      if (ctx.path === '/harmless') {
        ctx.body = { page: [{ client: { client_name: 'fine' } }] };
        return;
      }
      await next();
    });
    // Koa composes middleware when the handler is made: serve a handler made after the use().
    const app = new Koa();
    app.use(server.auth.koa());
    const leaky = await listen();
    leaky.handle(app.callback());
    t.after(() => leaky.close());
    for (const path of ['/leaky-object', '/leaky-text']) {
      const res = await call(path, `${leaky.url}${path}`);
      assert.equal(res.status, 500);
      assert.equal(res.body.error, 'server_error');
      assertNoRecord(path, res.text);
    }
    // Control: the same shape without the record passes untouched.
    const harmless = await call('/harmless', `${leaky.url}/harmless`);
    assert.equal(harmless.status, 200);
    assert.equal(harmless.body.page[0].client.client_name, 'fine');
  });
});
