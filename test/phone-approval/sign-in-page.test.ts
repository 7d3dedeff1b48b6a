// "Approve on your phone" on the browser sign-in page (issue #30), over real HTTP on memory and on
// Redis: an authorization request's login page starts an approval for the username typed, the
// user's install lists it with the binding message the page shows and approves it with its key,
// and the page's continue link finishes that interaction: the app gets a code and tokens with acr
// urn:mobile-oidc:phone. Then the attacks, each with its control: denial, expiry, another browser
// on this interaction's status and continue URLs, an approval for another interaction, push
// bombing beyond the limit and the sign-in throttle, an unknown user that looks the same.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MemoryStore, PHONE_APPROVAL_ACR } from 'mobile-oidc-provider';
import * as oidc from 'openid-client';
import { Browser, formOf } from '../helpers/browser.js';
import { APP_REDIRECT_URI, startExample } from '../helpers/example.js';
import { FIRST_PARTY_STORES } from '../helpers/first-party.js';
import { ModelOutageStore } from '../helpers/outage-store.js';
import {
  answerTo,
  PHONE_SECRET_SOFTWARE_ID,
  type PhoneInstall,
  type PhoneServer,
  pendingFor,
  startPhoneApproval,
} from '../helpers/phone-approval.js';
import {
  continueToApp,
  continueUrl,
  loginPage,
  pressPhone,
  statusOf,
  statusUrl,
  toApp,
  waiting,
} from '../helpers/phone-page.js';
import { registerInstance } from '../helpers/sign-in.js';

/** A generous throttle, so the suite's many starts from one address are not what it tests. */
const roomy = { points: 1000, duration: 900 };

for (const [name, open] of FIRST_PARTY_STORES) {
  describe(`"Approve on your phone" on the sign-in page (${name})`, { timeout: 120_000 }, () => {
    let phone: PhoneServer;
    let close: () => Promise<void>;
    let install: PhoneInstall;
    let other: PhoneInstall;

    before(async () => {
      const opened = await open();
      close = opened.close;
      phone = await startPhoneApproval(opened.store, (o) => ({
        ...o,
        interactions: {
          ...o.interactions,
          signInRateLimit: { perAccount: roomy, perIp: roomy, perUsername: roomy },
        },
      }));
      install = await phone.install('demouser', 'Password1');
      other = await phone.install('otheruser', 'Password2');
    });
    after(async () => {
      await phone?.close();
      await close?.();
    });

    it('the page asks the phone, the install approves with its key, the app gets tokens with acr urn:mobile-oidc:phone', async () => {
      const page = await loginPage(phone.issuer);
      assert.match(page.html, /Approve on your phone/);
      const noticesBefore = phone.notices.length;
      const shown = await waiting(page, 'demouser');
      assert.match(shown.binding, /^\d{4}$/);
      assert.match(shown.html, /Waiting for your phone/);
      assert.match(shown.html, /I approved it — continue/);
      // The script polls: its CSP lets it connect to this origin, and nothing else loads.
      assert.match(shown.csp, /connect-src 'self'/);
      assert.match(shown.csp, /script-src 'nonce-/);
      // The install was notified with the opaque id only, as for a CIBA request.
      const notices = phone.notices.slice(noticesBefore);
      assert.equal(notices.length, 1);
      assert.deepEqual(Object.keys(notices[0] ?? {}).sort(), [
        'accountId',
        'approvalId',
        'clientId',
      ]);
      assert.equal(notices[0]?.clientId, install.clientId);
      assert.ok(!JSON.stringify(notices).includes(shown.binding));

      assert.deepEqual((await statusOf(page.browser, page)).body, { status: 'pending' });
      // Without an answer the continue link shows the waiting page again.
      const early = await page.browser.get(continueUrl(page));
      assert.equal(early.status, 200);
      assert.match(await early.text(), new RegExp(`>${shown.binding}<`));

      const listed = await pendingFor(phone, install, shown.binding);
      assert.equal(listed.client_name, 'Example App');
      const answered = await phone.answer(
        install,
        listed.approval_id as string,
        await answerTo(install, listed, 'approve', { uv: true }),
      );
      assert.equal(answered.status, 200, JSON.stringify(answered.body));
      assert.deepEqual((await statusOf(page.browser, page)).body, { status: 'done' });

      const callback = await continueToApp(page);
      // The code carries the sign-in: the install's key (pop), the user verified on it (mfa).
      const code = await phone.server.auth.provider.AuthorizationCode.find(
        callback.searchParams.get('code') as string,
      );
      assert.equal(code?.acr, PHONE_APPROVAL_ACR);
      assert.deepEqual(code?.amr, ['pop', 'mfa']);
      const tokens = await oidc.authorizationCodeGrant(page.client, callback, {
        pkceCodeVerifier: page.verifier,
      });
      const introspected = await phone.server.auth.introspect(tokens.access_token);
      assert.equal(introspected.active, true);
      assert.equal(introspected.sub, 'demouser');
      assert.equal(introspected.acr, PHONE_APPROVAL_ACR);
      assert.equal(PHONE_APPROVAL_ACR, 'urn:mobile-oidc:phone');
      // The DCR token registers the app, whose own sign-in on this browser is silent (SSO) and
      // whose ID token says how the session signed in.
      const app = await registerInstance(phone.issuer, tokens.access_token);
      const verifier = oidc.randomPKCECodeVerifier();
      const nonce = oidc.randomNonce();
      const appCallback = await toApp(
        page.browser,
        await page.browser.get(
          oidc.buildAuthorizationUrl(app, {
            redirect_uri: APP_REDIRECT_URI,
            scope: 'openid',
            // Step-up to this acr: the phone session meets it, so no sign-in again.
            acr_values: PHONE_APPROVAL_ACR,
            nonce,
            code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
            code_challenge_method: 'S256',
          }),
        ),
      );
      const appTokens = await oidc.authorizationCodeGrant(app, appCallback, {
        pkceCodeVerifier: verifier,
        expectedNonce: nonce,
      });
      const claims = appTokens.claims();
      assert.equal(claims?.sub, 'demouser');
      assert.equal(claims?.acr, PHONE_APPROVAL_ACR);
      assert.ok(
        phone.events.some(
          (e) =>
            e.name === 'phone_approval.approved' &&
            (e.payload as { installClientId: string }).installClientId === install.clientId,
        ),
      );
      // Taken once: the continue link does nothing more for this interaction.
      const again = await page.browser.get(continueUrl(page));
      assert.notEqual(again.status, 303);
    });

    it('denial: back to the login page with a message; control: approval continues', async () => {
      const page = await loginPage(phone.issuer);
      const shown = await waiting(page, 'demouser');
      const listed = await pendingFor(phone, install, shown.binding);
      await phone.answer(
        install,
        listed.approval_id as string,
        await answerTo(install, listed, 'deny'),
      );
      const denied = await page.browser.get(continueUrl(page));
      const html = await denied.text();
      assert.equal(denied.status, 401);
      assert.match(html, /declined on your phone/);
      assert.ok(formOf(html, page.url, '/login'), 'the login page again');
      // Control: the same interaction asks again and is approved.
      const retry = await waiting({ ...page, html }, 'demouser');
      const relisted = await pendingFor(phone, install, retry.binding);
      await phone.answer(
        install,
        relisted.approval_id as string,
        await answerTo(install, relisted, 'approve'),
      );
      await continueToApp(page);
    });

    it('another browser can neither poll nor continue this interaction; control: its own browser', async () => {
      const page = await loginPage(phone.issuer);
      const shown = await waiting(page, 'demouser');
      const listed = await pendingFor(phone, install, shown.binding);
      await phone.answer(
        install,
        listed.approval_id as string,
        await answerTo(install, listed, 'approve'),
      );
      // The attacker knows the URLs but holds no interaction cookie of it.
      const thief = new Browser();
      const stolen = await statusOf(thief, page);
      assert.equal(stolen.status, 400);
      const continued = await thief.get(continueUrl(page));
      assert.equal(continued.status, 400);
      assert.equal(continued.headers.get('location'), null);
      // Nor with an interaction of its own (the cookie names another uid).
      const own = await loginPage(phone.issuer, thief);
      assert.notEqual(own.url, page.url);
      assert.equal((await thief.get(continueUrl(page))).status, 400);
      // Control: the browser that started it continues.
      assert.deepEqual((await statusOf(page.browser, page)).body, { status: 'done' });
      await continueToApp(page);
    });

    it("an approval for another interaction does not finish this one; control: this one's own", async () => {
      const mine = await loginPage(phone.issuer);
      const theirs = await loginPage(phone.issuer);
      const shownMine = await waiting(mine, 'demouser');
      const shownTheirs = await waiting(theirs, 'demouser');
      const listedTheirs = await pendingFor(phone, install, shownTheirs.binding);
      await phone.answer(
        install,
        listedTheirs.approval_id as string,
        await answerTo(install, listedTheirs, 'approve'),
      );
      assert.deepEqual((await statusOf(mine.browser, mine)).body, { status: 'pending' });
      const still = await mine.browser.get(continueUrl(mine));
      assert.equal(still.status, 200);
      assert.match(await still.text(), /Waiting for your phone/);
      // Control: its own approval finishes it.
      const listedMine = await pendingFor(phone, install, shownMine.binding);
      await phone.answer(
        install,
        listedMine.approval_id as string,
        await answerTo(install, listedMine, 'approve'),
      );
      await continueToApp(mine);
      await continueToApp(theirs);
    });

    it('acr_values=urn:mobile-oidc:phone: in discovery, the page offers only the phone, and it signs in', async () => {
      const discovery = (await (
        await fetch(`${phone.issuer}/.well-known/openid-configuration`)
      ).json()) as { acr_values_supported: string[] };
      assert.ok(discovery.acr_values_supported.includes(PHONE_APPROVAL_ACR));
      // acr_values needs openid: an app install (secret-authenticated, no key) signs in.
      const registered = await phone.register({ software_id: PHONE_SECRET_SOFTWARE_ID });
      assert.equal(registered.status, 201, JSON.stringify(registered.body));
      const app = await oidc.discovery(
        new URL(phone.issuer),
        registered.body.client_id as string,
        undefined,
        oidc.ClientSecretBasic(registered.body.client_secret as string),
        { execute: [oidc.allowInsecureRequests] },
      );
      const page = await loginPage(
        phone.issuer,
        new Browser(),
        { scope: 'openid', acr_values: PHONE_APPROVAL_ACR },
        app,
      );
      assert.doesNotMatch(page.html, /type="password"/);
      assert.ok(formOf(page.html, page.url, '/phone'), 'a username form of its own');
      // A password posted anyway is not checked.
      const csrf = formOf(page.html, page.url, '/phone').hidden;
      const refused = await page.browser.postForm(`${page.url}/login`, {
        ...csrf,
        username: 'demouser',
        password: 'Password1',
      });
      assert.equal(refused.status, 400);
      const form = formOf(page.html, page.url, '/phone');
      const started = await page.browser.postForm(form.action, {
        ...form.hidden,
        username: 'demouser',
      });
      const followed = await page.browser.follow(started);
      const binding = /id="binding-message"><strong>([^<]+)</.exec(
        await followed.response.text(),
      )?.[1] as string;
      const listed = await pendingFor(phone, install, binding);
      await phone.answer(
        install,
        listed.approval_id as string,
        await answerTo(install, listed, 'approve'),
      );
      const callback = await continueToApp(page);
      const code = await phone.server.auth.provider.AuthorizationCode.find(
        callback.searchParams.get('code') as string,
      );
      assert.equal(code?.acr, PHONE_APPROVAL_ACR);
      assert.deepEqual(code?.amr, ['pop']);

      // The app is demouser's now (bound on Allow): otheruser approving on their own phone does
      // not sign otheruser in through it, as with a password (account binding).
      const intruder = await loginPage(
        phone.issuer,
        new Browser(),
        { scope: 'openid', acr_values: PHONE_APPROVAL_ACR },
        app,
      );
      const theirs = await waiting(intruder, 'otheruser');
      const listedTheirs = await pendingFor(phone, other, theirs.binding);
      await phone.answer(
        other,
        listedTheirs.approval_id as string,
        await answerTo(other, listedTheirs, 'approve'),
      );
      const refusedApp = await intruder.browser.follow(
        await intruder.browser.get(continueUrl(intruder)),
        { callbackPrefix: APP_REDIRECT_URI },
      );
      assert.ok(refusedApp.location, 'back to the app');
      const answer = new URL(refusedApp.location);
      assert.equal(answer.searchParams.get('error'), 'access_denied');
      assert.equal(answer.searchParams.get('code'), null);
    });

    it('an unknown user gets the same waiting page, and nobody is asked', async () => {
      const noticesBefore = phone.notices.length;
      const known = await waiting(await loginPage(phone.issuer), 'demouser');
      const unknownPage = await loginPage(phone.issuer);
      const unknown = await waiting(unknownPage, 'nobody-here');
      // The same page but for the code and the per-response values (nonce, interaction uid).
      const shape = (html: string, binding: string) =>
        html
          .replaceAll(binding, 'CODE')
          .replace(/nonce="[^"]+"/g, 'nonce')
          .replace(/\/interaction\/[\w-]+/g, '/interaction/UID');
      assert.equal(shape(unknown.html, unknown.binding), shape(known.html, known.binding));
      assert.equal(phone.notices.length, noticesBefore + 1, 'only the known account was asked');
      assert.deepEqual((await statusOf(unknownPage.browser, unknownPage)).body, {
        status: 'pending',
      });
    });

    it('push bombing: more than maxPendingPerAccount waiting requests are refused, for any username alike', async () => {
      const before = phone.notices.length;
      for (let i = 0; i < 3; i++) await waiting(await loginPage(phone.issuer), 'otheruser');
      assert.equal(phone.notices.length, before + 3);
      const fourth = await pressPhone(await loginPage(phone.issuer), 'otheruser');
      assert.equal(fourth.status, 429);
      assert.match(await fourth.text(), /Too many sign-in requests are waiting/);
      assert.equal(phone.notices.length, before + 3, 'the fourth asks nobody');
      // An unknown username answers the same at its fourth.
      for (let i = 0; i < 3; i++) await waiting(await loginPage(phone.issuer), 'ghost-user');
      assert.equal((await pressPhone(await loginPage(phone.issuer), 'ghost-user')).status, 429);
      // Control: one answered makes room for one more.
      const listed = (await phone.list(other)).body.approvals as Array<Record<string, string>>;
      const first = listed[0] as Record<string, string>;
      await phone.answer(other, first.approval_id as string, await answerTo(other, first, 'deny'));
      await waiting(await loginPage(phone.issuer), 'otheruser');
    });
  });
}

describe('"Approve on your phone": expiry and the sign-in throttle', { timeout: 90_000 }, () => {
  let phone: PhoneServer;
  let store: MemoryStore;
  let install: PhoneInstall;

  before(async () => {
    store = new MemoryStore();
    phone = await startPhoneApproval(store, (o) => ({
      ...o,
      phoneApproval: { ...o.phoneApproval, clients: o.phoneApproval?.clients ?? [], maxExpiry: 3 },
      interactions: {
        ...o.interactions,
        signInRateLimit: {
          perAccount: { points: 2, duration: 900 },
          perIp: roomy,
          perUsername: roomy,
        },
      },
    }));
    install = await phone.install('demouser', 'Password1');
  });
  after(async () => {
    await phone?.close();
    await store?.close();
  });

  it('an expired request: the page says so and the late approval is refused; control: before expiry', async () => {
    const page = await loginPage(phone.issuer);
    const shown = await waiting(page, 'demouser');
    const listed = await pendingFor(phone, install, shown.binding);
    assert.ok((listed.expires_in as number) <= 3);
    await sleep(4000);
    assert.deepEqual((await statusOf(page.browser, page)).body, { status: 'done' });
    const late = await phone.answer(
      install,
      listed.approval_id as string,
      await answerTo(install, listed, 'approve'),
    );
    assert.equal(late.status, 400);
    const expired = await page.browser.get(continueUrl(page));
    assert.equal(expired.status, 401);
    assert.match(await expired.text(), /No approval arrived in time/);
    // Control: answered in time, a sign-in continues.
    const next = await loginPage(phone.issuer, page.browser);
    const retry = await waiting(next, 'demouser');
    const relisted = await pendingFor(phone, install, retry.binding);
    await phone.answer(
      install,
      relisted.approval_id as string,
      await answerTo(install, relisted, 'approve'),
    );
    await continueToApp(next);
  });

  it('each start counts against the sign-in throttle: beyond it, 429 and nobody is asked', async () => {
    const before = phone.notices.length;
    // The expiry test above started two for demouser from this address: the limit (2) is reached.
    const refused = await pressPhone(await loginPage(phone.issuer), 'demouser');
    assert.equal(refused.status, 429);
    assert.ok(refused.headers.get('retry-after'));
    assert.equal(phone.notices.length, before);
    // Control: another username from this address is not held up.
    await waiting(await loginPage(phone.issuer), 'otheruser');
  });
});

describe('"Approve on your phone": off without phone approval, and a store outage', {
  timeout: 60_000,
}, () => {
  it('phone approval off: no button, and the phone URLs are not found', async () => {
    const server = await startExample();
    try {
      const page = await loginPage(server.issuer);
      assert.doesNotMatch(page.html, /Approve on your phone/);
      assert.doesNotMatch(page.html, /formaction=/);
      const res = await page.browser.get(statusUrl(page));
      assert.equal(res.status, 404);
    } finally {
      await server.close();
    }
  });

  it('asking the installs fails: 503, nothing kept (no waiting request, no slot taken); control: back up', async () => {
    const store = new ModelOutageStore('PhoneApproval');
    const phone = await startPhoneApproval(store);
    try {
      const install = await phone.install('demouser', 'Password1');
      store.down = true;
      const page = await loginPage(phone.issuer);
      const failed = await pressPhone(page, 'demouser');
      assert.equal(failed.status, 503);
      assert.doesNotMatch(await failed.text(), /at |Error/);
      assert.deepEqual((await statusOf(page.browser, page)).body, { status: 'done' });
      store.down = false;
      // Control: back up, all three places of the pending limit are free and the phone is asked.
      for (let i = 0; i < 3; i++) {
        const shown = await waiting(await loginPage(phone.issuer), 'demouser');
        await pendingFor(phone, install, shown.binding);
      }
    } finally {
      await phone.close();
      await store.close();
    }
  });
});
