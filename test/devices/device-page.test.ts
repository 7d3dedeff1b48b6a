// The device page (issue #18): `<issuer>/account/devices` in the browser of a signed-in user
// (oidc-provider's session cookie) lists the user's app installs — name, version, registered,
// last used, assurance level, how it registered — and revokes one with a form that carries a
// CSRF token bound to the session. The bearer-token JSON API for apps is unchanged.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DevicesView, RevocationEvent } from 'mobile-oidc-provider';
import * as oidc from 'openid-client';
import { type RunningServer, startExample } from '../helpers/example.js';
import { APP_SOFTWARE_ID } from '../helpers/fixture.js';
import { postForm } from '../helpers/passkeys.js';
import { browserInstall, formsOf, SignInBrowser } from '../helpers/sign-in.js';

let server: RunningServer;
const revocations: RevocationEvent[] = [];

before(async () => {
  server = await startExample();
  server.auth.on('instance.revoked', (e) => revocations.push(e));
});
after(() => server.close());

/** An install of the test app registered and used by `username` in `browser` (left signed in). */
const install = (
  browser: SignInBrowser,
  name: string,
  username = 'demouser',
  on: RunningServer = server,
) => browserInstall(on.issuer, browser, { name, username });

/** The device page in `browser`, and the revoke form of `clientId` when it has one. */
async function devicePage(browser: SignInBrowser, clientId?: string, query = '') {
  const url = `${server.issuer}/account/devices${query}`;
  const res = await browser.request(url, { headers: { 'accept-language': 'en' } });
  const html = await res.text();
  const revoke = clientId
    ? formsOf(html, url).find((f) => f.action.endsWith(`/account/devices/${clientId}/revoke`))
    : undefined;
  return { res, html, revoke };
}

describe('the device page', () => {
  it('says so, with 401, to a browser that is not signed in', async () => {
    const { res, html } = await devicePage(new SignInBrowser());
    assert.equal(res.status, 401);
    assert.match(html, /You are not signed in/);
    assert.match(html, /Sign in through the app first/);
  });

  it('lists the install: name, version, registered, last used, assurance and how it registered', async () => {
    const browser = new SignInBrowser();
    const phone = await install(browser, "Alice's <phone>");
    const { res, html, revoke } = await devicePage(browser, phone.clientId);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.match(html, /<strong>Alice&#39;s &#60;phone&#62;<\/strong>/, 'escaped');
    assert.match(html, /Version 1\.4\.2/);
    assert.match(html, /Registered <time datetime="[^"]+Z">[^<]+UTC<\/time>/);
    assert.match(html, /Last used <time datetime=/);
    assert.match(html, /Assurance: basic/);
    assert.match(html, /Registered when you signed in/);
    assert.match(html, /<a href="\/account\/devices" aria-current="page">Devices<\/a>/);
    assert.doesNotMatch(html, /account\/passkeys/, 'no passkey link with passkeys off');
    assert.ok(revoke?.fields.csrf, 'a revoke form with its CSRF field');
  });

  it('shows only the signed-in user’s installs', async () => {
    const demo = new SignInBrowser();
    const mine = await install(demo, 'demo phone');
    const other = new SignInBrowser();
    const theirs = await install(other, 'other phone', 'otheruser');
    const page = await devicePage(other);
    assert.ok(page.html.includes(theirs.clientId));
    assert.ok(!page.html.includes(mine.clientId));
  });

  it('revokes an install with the CSRF field: signed out at once, listed as revoked', async () => {
    const browser = new SignInBrowser();
    const phone = await install(browser, 'to revoke');
    const { revoke } = await devicePage(browser, phone.clientId);
    assert.ok(revoke);
    const res = await postForm(browser, revoke.action, revoke.fields);
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/account/devices?done=revoked');
    assert.equal((await server.auth.devices.get(phone.clientId))?.status, 'revoked');
    assert.deepEqual(revocations.at(-1), {
      clientId: phone.clientId,
      accountId: 'demouser',
      softwareId: APP_SOFTWARE_ID,
      by: 'user',
    });
    await assert.rejects(
      oidc.refreshTokenGrant(phone.instance, phone.tokens.refresh_token as string),
      'the install can no longer authenticate',
    );
    const after = await devicePage(browser, phone.clientId, '?done=revoked');
    assert.match(after.html, /The install was revoked/);
    assert.match(after.html, /Revoked <time/);
    assert.equal(after.revoke, undefined, 'no revoke button on a revoked install');
  });

  it('refuses to revoke without the CSRF field, or with another session’s (403)', async () => {
    const browser = new SignInBrowser();
    const phone = await install(browser, 'kept');
    const { revoke } = await devicePage(browser, phone.clientId);
    assert.ok(revoke);
    const missing = await postForm(browser, revoke.action, {});
    assert.equal(missing.status, 403);
    assert.match(await missing.text(), /The form was not sent from this page/);
    const otherSession = new SignInBrowser();
    const otherPhone = await install(otherSession, 'another session');
    const { revoke: theirs } = await devicePage(otherSession, otherPhone.clientId);
    assert.ok(theirs);
    const foreign = await postForm(browser, revoke.action, theirs.fields);
    assert.equal(foreign.status, 403);
    await foreign.body?.cancel();
    // A cross-site form post: the browser sends no SameSite=Lax session cookie, nor the token.
    const crossSite = await postForm(new SignInBrowser(), revoke.action, revoke.fields);
    assert.equal(crossSite.status, 401);
    await crossSite.body?.cancel();
    assert.equal((await server.auth.devices.get(phone.clientId))?.status, 'active');
  });

  it('does not revoke another user’s install: 404, as if it did not exist', async () => {
    const demo = new SignInBrowser();
    const phone = await install(demo, 'demo’s');
    const other = new SignInBrowser();
    const otherPhone = await install(other, 'other’s', 'otheruser');
    const { revoke: ownForm } = await devicePage(other, otherPhone.clientId);
    assert.ok(ownForm);
    const res = await postForm(
      other,
      `${server.issuer}/account/devices/${phone.clientId}/revoke`,
      ownForm.fields,
    );
    assert.equal(res.status, 404);
    await res.body?.cancel();
    assert.equal((await server.auth.devices.get(phone.clientId))?.status, 'active');
  });

  it('takes a bad cursor for the first page, and a GET of an action is 405', async () => {
    const browser = new SignInBrowser();
    const phone = await install(browser, 'paged');
    const page = await devicePage(browser, phone.clientId, '?cursor=not-a-cursor');
    assert.equal(page.res.status, 200);
    assert.ok(page.revoke);
    const get = await browser.request(`${server.issuer}/account/devices/${phone.clientId}/revoke`);
    assert.equal(get.status, 405);
    await get.body?.cancel();
  });

  it('goes through the product’s `devices` hook with the view model, in German too', async () => {
    let hooked: DevicesView | undefined;
    const hooking = await startExample((o) => ({
      ...o,
      interactions: {
        ...o.interactions,
        pages: {
          devices: (view) => {
            hooked = view;
            return `<!doctype html><p>${view.messages.devicesHeading}</p>`;
          },
        },
      },
    }));
    try {
      const browser = new SignInBrowser();
      const phone = await install(browser, 'hooked', 'demouser', hooking);
      const res = await browser.request(`${hooking.issuer}/account/devices`, {
        headers: { 'accept-language': 'de-DE,de;q=0.9' },
      });
      assert.equal(res.status, 200);
      assert.equal(await res.text(), '<!doctype html><p>Ihre Geräte</p>');
      assert.equal(res.headers.get('content-language'), 'de');
      assert.equal(hooked?.page, 'devices');
      assert.equal(hooked?.accountId, 'demouser');
      const item = hooked?.devices.find((d) => d.clientId === phone.clientId);
      assert.ok(item);
      assert.equal(item.name, 'hooked');
      assert.equal(item.version, '1.4.2');
      assert.equal(item.cal, 'none');
      assert.equal(item.registeredBy, 'user-token');
      assert.equal(item.status, 'active');
      assert.match(item.revoke?.action ?? '', /\/account\/devices\/.+\/revoke$/);
      assert.deepEqual(hooked?.links, { devices: '/account/devices' });
    } finally {
      await hooking.close();
    }
  });
});
