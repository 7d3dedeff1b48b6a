// An install registered (RFC 7591) that never obtained a token — its app crashed, or the server
// was killed mid-registration, before the app kept its credentials — is `pending`, never
// `active`: in the library API, the admin API, the self-service API and the device page. Its
// first token makes it active; revoking it, from any state, makes it revoked and never active.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DeviceInfo } from 'mobile-oidc-provider';
import * as oidc from 'openid-client';
import {
  APP_REDIRECT_URI,
  type RunningServer,
  registrationClient,
  startExample,
} from '../helpers/example.js';
import { APP_SOFTWARE_ID } from '../helpers/fixture.js';
import { json } from '../helpers/json.js';
import { type Listening, listen } from '../helpers/listen.js';
import { postForm } from '../helpers/passkeys.js';
import {
  instanceConfiguration,
  postRegistration,
  rawTokenRequest,
} from '../helpers/registration.js';
import { codeForInstance, formsOf, obtainDcrToken, SignInBrowser } from '../helpers/sign-in.js';

const ADMIN_SECRET = 'pending-installs-admin-secret-0123456789abcdef';
const UNUSED_TTL = 86400;

describe('installs that never obtained a token', () => {
  let server: RunningServer;
  let admin: Listening;

  before(async () => {
    server = await startExample((o) => ({
      ...o,
      devices: { ...o.devices, adminSecret: ADMIN_SECRET },
    }));
    admin = await listen();
    admin.handle(server.auth.adminCallback());
  });
  after(async () => {
    await admin.close();
    await server.close();
  });

  /** Registers an install from the app's template with a DCR token `browser` signs in for. */
  async function register(browser: SignInBrowser, name: string) {
    const { tokens } = await obtainDcrToken(await registrationClient(server.issuer), browser);
    const res = await postRegistration(
      server.issuer,
      { software_id: APP_SOFTWARE_ID, software_version: '1.0.0', client_name: name },
      tokens.access_token,
    );
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return { clientId: res.body.client_id as string, registered: res.body };
  }

  /** The install's first token: a code flow, signed in through `browser`. */
  async function firstToken(browser: SignInBrowser, registered: Record<string, unknown>) {
    const instance = await instanceConfiguration(server.issuer, registered);
    const { callback, checks } = await codeForInstance(
      browser,
      instance,
      'openid offline_access devices',
    );
    return { instance, tokens: await oidc.authorizationCodeGrant(instance, callback, checks) };
  }

  /** A code exchange with a made-up code, authenticated with the install's credentials. */
  async function tokenRequest(registered: Record<string, unknown>) {
    return rawTokenRequest(await instanceConfiguration(server.issuer, registered), {
      grant_type: 'authorization_code',
      code: 'made-up-code',
      redirect_uri: APP_REDIRECT_URI,
      code_verifier: oidc.randomPKCECodeVerifier(),
    });
  }

  /** demouser's devices through the admin API, by client id. */
  async function adminList(): Promise<Map<string, DeviceInfo>> {
    const res = await fetch(`${admin.url}/accounts/demouser/devices`, {
      headers: { authorization: `Bearer ${ADMIN_SECRET}` },
    });
    assert.equal(res.status, 200);
    const { devices } = (await json(res)) as { devices: DeviceInfo[] };
    return new Map(devices.map((d) => [d.clientId, d]));
  }

  /** The device page's list item of the install `name`, and its revoke form if it has one. */
  async function pageItem(browser: SignInBrowser, clientId: string, name: string) {
    const url = `${server.issuer}/account/devices`;
    const res = await browser.request(url, { headers: { 'accept-language': 'en' } });
    assert.equal(res.status, 200);
    const html = await res.text();
    const item = html.split('<li>').find((li) => li.startsWith(`<strong>${name}</strong>`));
    const revoke = formsOf(html, url).find((f) =>
      f.action.endsWith(`/account/devices/${clientId}/revoke`),
    );
    return { html, item, revoke };
  }

  it('one registered but never used is pending (with unusedUntil) in every list; its first token makes it active', async () => {
    const browser = new SignInBrowser();
    const before = Math.floor(Date.now() / 1000);
    // The registration answered, but the app never kept its credentials.
    const { clientId, registered } = await register(browser, 'Half-registered phone');

    const info = await server.auth.devices.get(clientId);
    assert.equal(info?.status, 'pending');
    assert.ok(
      info?.unusedUntil !== undefined &&
        info.unusedUntil >= before + UNUSED_TTL &&
        info.unusedUntil <= before + UNUSED_TTL + 5,
    );
    const listed = (await server.auth.devices.list('demouser')).find(
      (d) => d.clientId === clientId,
    );
    assert.equal(listed?.status, 'pending');
    assert.equal((await server.auth.devices.page('demouser')).devices.at(-1)?.status, 'pending');
    assert.equal((await adminList()).get(clientId)?.status, 'pending');

    // The device page marks it, says when it goes, and lets the user revoke it; no "last used".
    const page = await pageItem(browser, clientId, 'Half-registered phone');
    assert.ok(page.item, page.html);
    assert.match(page.item, /Half-registered phone/);
    assert.match(
      page.item,
      /Not set up: removed <time datetime="[^"]+Z">[^<]+<\/time> unless it signs in/,
    );
    assert.doesNotMatch(page.item, /Last used|Not used yet/);
    assert.ok(page.revoke?.fields.csrf);

    // Control: its first token makes it active everywhere.
    const { tokens } = await firstToken(browser, registered);
    const used = await server.auth.devices.get(clientId);
    assert.equal(used?.status, 'active');
    assert.equal(used?.unusedUntil, undefined);
    assert.equal((await adminList()).get(clientId)?.status, 'active');
    const after = await pageItem(browser, clientId, 'Half-registered phone');
    assert.ok(after.item);
    assert.doesNotMatch(after.item, /Not set up/);
    assert.match(after.item, /Last used <time/);

    // The self-service API, with the install's own token, shows it active and another,
    // registered now and never used, pending.
    const other = await register(browser, 'Another half-registered phone');
    const res = await fetch(`${server.issuer}/devices`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    assert.equal(res.status, 200);
    const mine = new Map(
      ((await json(res)).devices as DeviceInfo[]).map((d) => [d.clientId, d.status]),
    );
    assert.equal(mine.get(clientId), 'active');
    assert.equal(mine.get(other.clientId), 'pending');
  });

  it('attack: a pending install revoked from the device page is revoked, never active, and its credentials get invalid_client', async () => {
    const browser = new SignInBrowser();
    const { clientId, registered } = await register(browser, 'Unknown phone');
    const { revoke } = await pageItem(browser, clientId, 'Unknown phone');
    assert.ok(revoke);
    const res = await postForm(browser, revoke.action, revoke.fields);
    assert.equal(res.status, 303);
    const info = await server.auth.devices.get(clientId);
    assert.equal(info?.status, 'revoked');
    assert.equal((await adminList()).get(clientId)?.status, 'revoked');
    const page = await pageItem(browser, clientId, 'Unknown phone');
    assert.ok(page.item);
    assert.match(page.item, /Revoked <time/);
    assert.doesNotMatch(page.item, /Not set up/);
    assert.equal(page.revoke, undefined);
    // Whoever kept its credentials cannot authenticate with them (RFC 6749 §5.2).
    const refused = await tokenRequest(registered);
    assert.equal(refused.status, 401);
    assert.equal((await json(refused)).error, 'invalid_client');
    assert.equal((await server.auth.devices.get(clientId))?.status, 'revoked');
    // Control: a pending install not revoked authenticates (its code is what is wrong).
    const kept = await register(browser, 'Kept phone');
    const answered = await tokenRequest(kept.registered);
    assert.equal(answered.status, 400);
    assert.equal((await json(answered)).error, 'invalid_grant');
    assert.equal((await server.auth.devices.get(kept.clientId))?.status, 'pending');
  });

  it('revokeAll revokes pending installs too; a used one, revoked, stays revoked', async () => {
    const browser = new SignInBrowser();
    const pending = await register(browser, 'pending');
    const used = await register(browser, 'used');
    await firstToken(browser, used.registered);
    const revoked = await server.auth.devices.revokeAll('demouser');
    const ids = revoked.map((d) => d.clientId);
    assert.ok(ids.includes(pending.clientId) && ids.includes(used.clientId));
    for (const d of await server.auth.devices.list('demouser')) {
      assert.equal(d.status, 'revoked', d.clientId);
    }
  });
});
