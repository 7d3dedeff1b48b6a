// Issue #25 in a real browser (headless Chromium): a second DCR consent in the same browser lists
// "Register this device" before its Allow, and an anonymous authorization request for an install
// whose registrant chose its redirect URI stays on the server's error page instead of being sent
// to that URI. Both pages are checked for serious or critical axe-core violations.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { appRedirect, seriousAxeViolations, useChromium } from '../helpers/chromium.js';
import {
  APP_REDIRECT_URI,
  type RunningServer,
  registrationClient,
  startExample,
} from '../helpers/example.js';
import { postRegistration } from '../helpers/registration.js';
import { dcrAuthorizationUrl, freshDcrToken } from '../helpers/sign-in.js';

const chromium = useChromium();
const EVIL = 'https://evil.example/cb';

let server: RunningServer;
let client: oidc.Configuration;
before(async () => {
  server = await startExample();
  client = await registrationClient(server.issuer);
});
after(() => server.close());

describe('issue #25 in Chromium', () => {
  it('the second DCR consent in one browser lists "Register this device", and Allow issues the token', async () => {
    const page = await chromium.newPage();
    await page.goto((await dcrAuthorizationUrl(client)).href);
    await page.getByLabel('Username').fill('demouser');
    await page.getByLabel('Password', { exact: true }).fill('Password1');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    const firstAllow = page.getByRole('button', { name: 'Allow', exact: true });
    await firstAllow.waitFor();
    await appRedirect(page, APP_REDIRECT_URI, () => firstAllow.click());

    // A second tab of the same browser, signed in now: straight to the consent page. (A tab
    // whose navigation to the app's scheme was aborted once does not request it again.)
    const tab = await page.context().newPage();
    const verifier = oidc.randomPKCECodeVerifier();
    await tab.goto((await dcrAuthorizationUrl(client, verifier)).href);
    const allow = tab.getByRole('button', { name: 'Allow', exact: true });
    await allow.waitFor();
    assert.deepEqual(await tab.getByRole('listitem').allInnerTexts(), ['Register this device']);
    assert.deepEqual(await seriousAxeViolations(tab), []);

    const callback = await appRedirect(tab, APP_REDIRECT_URI, () => allow.click());
    const tokens = await oidc.authorizationCodeGrant(client, callback, {
      pkceCodeVerifier: verifier,
    });
    assert.equal(tokens.scope, 'dcr');
  });

  it('prompt=none for an install registered with https://evil.example/cb stays on the error page', async () => {
    const registered = await postRegistration(
      server.issuer,
      { client_name: 'Example App', redirect_uris: [EVIL], scope: 'openid' },
      await freshDcrToken(server.issuer),
    );
    assert.equal(registered.status, 201);
    const page = await chromium.newPage();
    const toEvil: string[] = [];
    page.on('request', (request) => {
      if (request.url().startsWith('https://evil.example')) toEvil.push(request.url());
    });
    const url = new URL(`${server.issuer}/auth`);
    url.search = new URLSearchParams({
      client_id: String(registered.body.client_id),
      redirect_uri: EVIL,
      response_type: 'code',
      scope: 'openid',
      prompt: 'none',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    }).toString();
    const response = await page.goto(url.href);
    assert.equal(response?.status(), 400);
    assert.equal(new URL(page.url()).origin, server.issuer);
    await page.getByRole('heading', { name: 'Something went wrong' }).waitFor();
    assert.match((await page.textContent('main')) ?? '', /login_required/);
    assert.deepEqual(toEvil, []);
    assert.deepEqual(await seriousAxeViolations(page), []);
  });
});
