// "Approve on your phone" in a real browser (headless Chromium): the login page's button starts
// an approval, the waiting page shows the binding message, and its polling script continues by
// itself once the install approved, under the page's real CSP (nothing refused), with no serious
// axe-core violations, at desktop width and on a phone.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MemoryStore, PHONE_APPROVAL_ACR } from 'mobile-oidc-provider';
import * as oidc from 'openid-client';
import { appRedirect, seriousAxeViolations, useChromium } from '../helpers/chromium.js';
import { APP_REDIRECT_URI, registrationClient } from '../helpers/example.js';
import {
  answerTo,
  type PhoneInstall,
  type PhoneServer,
  pendingFor,
  startPhoneApproval,
} from '../helpers/phone-approval.js';
import { dcrAuthorizationUrl } from '../helpers/sign-in.js';

const chromium = useChromium();

let store: MemoryStore;
let phone: PhoneServer;
let install: PhoneInstall;
let client: oidc.Configuration;
before(async () => {
  store = new MemoryStore();
  phone = await startPhoneApproval(store);
  install = await phone.install('demouser', 'Password1');
  client = await registrationClient(phone.issuer);
});
after(async () => {
  await phone?.close();
  await store?.close();
});

for (const viewport of ['desktop', 'phone'] as const) {
  describe(`"Approve on your phone" in Chromium (${viewport})`, { timeout: 60_000 }, () => {
    it('the waiting page polls and continues by itself once the phone approved', async () => {
      const page = await chromium.newPage({ viewport });
      const refused: string[] = [];
      page.on('console', (message) => {
        if (/Content Security Policy/i.test(message.text())) refused.push(message.text());
      });
      const verifier = oidc.randomPKCECodeVerifier();
      await page.goto((await dcrAuthorizationUrl(client, verifier)).href);
      await page.getByLabel('Username').fill('demouser');
      // The password is left empty: this button does not need it.
      await page.getByRole('button', { name: 'Approve on your phone' }).click();
      const code = page.locator('#binding-message');
      await code.waitFor();
      const binding = (await code.textContent())?.trim() ?? '';
      assert.match(binding, /^\d{4}$/);
      assert.deepEqual(await seriousAxeViolations(page), []);

      // Control: unanswered, the page keeps waiting through a few polls.
      await sleep(4500);
      assert.equal((await code.textContent())?.trim(), binding);

      const listed = await pendingFor(phone, install, binding);
      const answered = await phone.answer(
        install,
        listed.approval_id as string,
        await answerTo(install, listed, 'approve'),
      );
      assert.equal(answered.status, 200, JSON.stringify(answered.body));
      // No click: the script sees the answer and follows the continue link to the consent page.
      const allow = page.getByRole('button', { name: 'Allow', exact: true });
      await allow.waitFor({ timeout: 15_000 });
      assert.deepEqual(refused, [], 'the pages CSP refused nothing (the poll included)');

      const callback = await appRedirect(page, APP_REDIRECT_URI, () => allow.click());
      assert.equal(callback.searchParams.get('error'), null);
      const tokens = await oidc.authorizationCodeGrant(client, callback, {
        pkceCodeVerifier: verifier,
      });
      const introspected = await phone.server.auth.introspect(tokens.access_token);
      assert.equal(introspected.sub, 'demouser');
      assert.equal(introspected.acr, PHONE_APPROVAL_ACR);
    });
  });
}
