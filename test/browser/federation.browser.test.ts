// "Continue with Google" in a real browser (headless Chromium): the sign-in page's button leads to
// a real upstream OpenID provider (a second oidc-provider on loopback, its own login and consent
// pages), back through the callback, and the sign-in finishes as with a password: the app gets a
// DCR token for the account the identity is linked to.
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
import { dcrAuthorizationUrl } from '../helpers/sign-in.js';
import { startUpstreamIdp, type UpstreamIdp } from '../helpers/upstream-idp.js';

const chromium = useChromium();
const GOOGLE_CLIENT_ID = 'browser-test.apps.googleusercontent.example';
const GOOGLE_CLIENT_SECRET = 'browser-test-upstream-secret-0123456789';

describe('Continue with Google, in Chromium', () => {
  let google: UpstreamIdp;
  let server: RunningServer;
  let client: oidc.Configuration;
  const seen: string[] = [];

  before(async () => {
    google = await startUpstreamIdp({ quirks: 'google' });
    server = await startExample((o) => ({
      ...o,
      accounts: {
        ...o.accounts,
        async federated(identity) {
          seen.push(identity.subject);
          return identity.subject === 'g-demo' ? 'demouser' : undefined;
        },
      },
      federation: {
        providers: [
          {
            name: 'google',
            issuer: google.issuer,
            quirks: 'google',
            browser: { clientId: GOOGLE_CLIENT_ID, clientSecret: GOOGLE_CLIENT_SECRET },
          },
        ],
      },
    }));
    google.setClients([
      {
        client_id: GOOGLE_CLIENT_ID,
        client_secret: GOOGLE_CLIENT_SECRET,
        redirect_uris: [`${server.issuer}/federation/callback/google`],
        token_endpoint_auth_method: 'client_secret_basic',
        response_types: ['code'],
        grant_types: ['authorization_code'],
      },
    ]);
    client = await registrationClient(server.issuer);
  });
  after(async () => {
    await server.close();
    await google.close();
  });

  /** Signs in at the upstream's own pages (oidc-provider's development login and consent). */
  async function signInUpstream(page: import('playwright-core').Page, login: string) {
    await page.locator('input[name="login"]').fill(login);
    await page.locator('input[name="password"]').fill('any password');
    await page.locator('button[type="submit"]').click();
    await page.waitForLoadState();
    const consent = page.locator('button[type="submit"]', { hasText: /continue/i });
    if (await consent.count()) await consent.click();
  }

  it('the button leads to the provider and back; the app gets a DCR token for the linked account', async () => {
    const page = await chromium.newPage({ viewport: 'phone' });
    const verifier = oidc.randomPKCECodeVerifier();
    await page.goto((await dcrAuthorizationUrl(client, verifier)).href);
    const button = page.getByRole('button', { name: 'Continue with Google' });
    await button.waitFor();
    assert.deepEqual(await seriousAxeViolations(page), []);

    await button.click();
    await page.waitForURL((url) => url.href.startsWith(google.issuer));
    await signInUpstream(page, 'g-demo');
    const allow = page.getByRole('button', { name: 'Allow', exact: true });
    await allow.waitFor();
    const callback = await appRedirect(page, APP_REDIRECT_URI, () => allow.click());
    const tokens = await oidc.authorizationCodeGrant(client, callback, {
      pkceCodeVerifier: verifier,
    });
    assert.equal(tokens.scope, 'dcr');
    assert.equal(seen.at(-1), 'g-demo');
  });

  it('an identity the hook refuses comes back to the sign-in page with a message, and no code', async () => {
    const page = await chromium.newPage({ viewport: 'desktop' });
    const verifier = oidc.randomPKCECodeVerifier();
    await page.goto((await dcrAuthorizationUrl(client, verifier)).href);
    await page.getByRole('button', { name: 'Continue with Google' }).click();
    await page.waitForURL((url) => url.href.startsWith(google.issuer));
    const redirected: string[] = [];
    page.on('request', (request) => {
      if (request.url().startsWith(APP_REDIRECT_URI)) redirected.push(request.url());
    });
    await signInUpstream(page, 'g-stranger');
    await page.waitForURL((url) => url.href.startsWith(server.issuer));
    await page.getByRole('alert').waitFor();
    assert.match(await page.getByRole('alert').innerText(), /\S/);
    assert.ok(await page.getByLabel('Username').isVisible(), 'the sign-in page again');
    assert.deepEqual(redirected, []);
    assert.equal(seen.at(-1), 'g-stranger');
  });
});
