// An app install is one account's app. An install registered with a user's DCR token, or bound
// to the first account that signed in through it, signs in only that account: another account's
// authorization through it ends at the redirect URI with access_denied (RFC 6749 §4.1.2.1) and
// no code, so a user-registered install with a lookalike name and a redirect URI its registrant
// controls cannot phish another user's tokens. Templates for shared devices opt out.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuthServerOptions } from 'mobile-oidc-provider';
import * as oidc from 'openid-client';
import {
  APP_REDIRECT_URI,
  insecure,
  type RunningServer,
  registrationClient,
  startExample,
} from '../helpers/example.js';
import {
  APP_SOFTWARE_ID,
  appTemplate,
  FALLBACK_CLIENT_ID,
  FALLBACK_CLIENT_SECRET,
  FALLBACK_SOFTWARE_ID,
} from '../helpers/fixture.js';
import { PhasedIssuer } from '../helpers/phased-issuer.js';
import { instanceConfiguration, isOAuthError, postRegistration } from '../helpers/registration.js';
import {
  codeForInstance,
  obtainDcrToken,
  SignInBrowser,
  type SignInChoices,
  signIn,
  signInUntilConsent,
  submitAndFollow,
} from '../helpers/sign-in.js';

const OTHER = { username: 'otheruser', password: 'Password2' };
const ATTACKER_REDIRECT = 'https://attacker.example/callback';
const SHARED_SOFTWARE_ID = 'io.example.shared-tablet';

/** An authorization URL for `instance`, as its registrant would hand it to a victim. */
async function authorizationUrl(instance: oidc.Configuration, redirectUri = APP_REDIRECT_URI) {
  const verifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(instance, {
    redirect_uri: redirectUri,
    scope: 'openid profile',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  });
  return { url, verifier };
}

/** Registers an instance with the DCR token `who` earns by signing in. */
async function registerAs(
  server: { issuer: string },
  who: SignInChoices,
  metadata: Record<string, unknown>,
) {
  const { tokens } = await obtainDcrToken(
    await registrationClient(server.issuer),
    new SignInBrowser(),
    who,
  );
  const registered = await postRegistration(server.issuer, metadata, tokens.access_token);
  assert.equal(registered.status, 201, JSON.stringify(registered.body));
  return registered.body;
}

describe('an instance signs in only its own account', () => {
  let server: RunningServer;

  before(async () => {
    server = await startExample(
      (o): AuthServerOptions => ({
        ...o,
        registration: {
          ...o.registration,
          templates: [
            ...(o.registration?.templates ?? []),
            { ...appTemplate, software_id: SHARED_SOFTWARE_ID, sharedDevices: true },
          ],
        },
      }),
    );
  });
  after(() => server.close());

  it("the phishing attack: another user's sign-in through a user-registered install ends with access_denied and no code", async () => {
    // demouser registers a lookalike install whose redirect URI demouser controls.
    const registered = await registerAs(
      server,
      {},
      {
        client_name: 'Example App',
        redirect_uris: [ATTACKER_REDIRECT],
      },
    );
    const instance = await instanceConfiguration(server.issuer, registered);
    const { url } = await authorizationUrl(instance, ATTACKER_REDIRECT);

    // otheruser follows the link and signs in.
    const victim = await signIn(new SignInBrowser(), url, OTHER);
    assert.equal(victim.callback.origin + victim.callback.pathname, ATTACKER_REDIRECT);
    assert.equal(victim.callback.searchParams.get('code'), null);
    assert.equal(victim.callback.searchParams.get('error'), 'access_denied');
    assert.match(victim.callback.searchParams.get('error_description') ?? '', /another account/);
    assert.deepEqual(victim.pages, ['login'], 'no consent page is shown for the refused account');

    // Control: the install's own account gets a code and its tokens.
    const { url: ownUrl, verifier } = await authorizationUrl(instance, ATTACKER_REDIRECT);
    const own = await signIn(new SignInBrowser(), ownUrl);
    assert.ok(own.callback.searchParams.get('code'));
    const tokens = await oidc.authorizationCodeGrant(instance, own.callback, {
      pkceCodeVerifier: verifier,
    });
    assert.equal(tokens.claims()?.sub, 'demouser');
  });

  it('a user already signed in (SSO) is refused without any page', async () => {
    const registered = await registerAs(
      server,
      {},
      { software_id: APP_SOFTWARE_ID, software_version: '1.0.0' },
    );
    const instance = await instanceConfiguration(server.issuer, registered);
    // otheruser has a session: they just obtained a DCR token of their own.
    const victimBrowser = new SignInBrowser();
    await obtainDcrToken(await registrationClient(server.issuer), victimBrowser, OTHER);
    const { url } = await authorizationUrl(instance);
    const result = await signIn(victimBrowser, url, OTHER);
    assert.deepEqual(result.pages, []);
    assert.equal(result.callback.searchParams.get('error'), 'access_denied');
    assert.equal(result.callback.searchParams.get('code'), null);
  });

  describe('an install registered without a user (fallback client)', () => {
    async function fallbackInstall() {
      const fallback = await oidc.discovery(
        new URL(server.issuer),
        FALLBACK_CLIENT_ID,
        undefined,
        oidc.ClientSecretBasic(FALLBACK_CLIENT_SECRET),
        insecure,
      );
      const { access_token } = await oidc.clientCredentialsGrant(fallback, { scope: 'dcr' });
      const registered = await postRegistration(
        server.issuer,
        { software_id: FALLBACK_SOFTWARE_ID },
        access_token,
      );
      assert.equal(registered.status, 201);
      return {
        clientId: registered.body.client_id as string,
        instance: await instanceConfiguration(server.issuer, registered.body),
      };
    }

    it('shows the consent page on its first sign-in, binds on Allow, then refuses other accounts', async () => {
      const { clientId, instance } = await fallbackInstall();
      const browser = new SignInBrowser();
      const first = await signIn(browser, (await authorizationUrl(instance)).url);
      assert.deepEqual(first.pages, ['login', 'consent']);
      assert.ok(first.callback.searchParams.get('code'));
      assert.equal((await server.auth.devices.get(clientId))?.accountId, 'demouser');

      // The owner's next sign-in is silent (SSO, own app: no second consent).
      const again = await signIn(browser, (await authorizationUrl(instance)).url);
      assert.deepEqual(again.pages, []);
      assert.ok(again.callback.searchParams.get('code'));

      const other = await signIn(
        new SignInBrowser(),
        (await authorizationUrl(instance)).url,
        OTHER,
      );
      assert.equal(other.callback.searchParams.get('error'), 'access_denied');
      assert.equal(other.callback.searchParams.get('code'), null);
    });

    it('a user who denies consent does not claim it; the next account to allow does', async () => {
      const { clientId, instance } = await fallbackInstall();
      const denied = await signIn(new SignInBrowser(), (await authorizationUrl(instance)).url, {
        consent: false,
      });
      assert.equal(denied.callback.searchParams.get('error'), 'access_denied');
      assert.equal((await server.auth.devices.get(clientId))?.accountId, undefined);

      const other = await signIn(
        new SignInBrowser(),
        (await authorizationUrl(instance)).url,
        OTHER,
      );
      assert.deepEqual(other.pages, ['login', 'consent']);
      assert.ok(other.callback.searchParams.get('code'));
      assert.equal((await server.auth.devices.get(clientId))?.accountId, 'otheruser');
    });

    it('of two accounts on the consent page at once, the first to allow owns it; the other is refused', async () => {
      const { clientId, instance } = await fallbackInstall();
      // Both reach the consent page before either allows.
      const [mine, theirs] = await Promise.all(
        [{}, OTHER].map(async (who) => {
          const browser = new SignInBrowser();
          const url = (await authorizationUrl(instance)).url;
          return { browser, allow: await signInUntilConsent(browser, url, who) };
        }),
      );
      assert.ok(mine && theirs);
      const first = await submitAndFollow(mine.browser, mine.allow);
      assert.ok(first.searchParams.get('code'));
      const second = await submitAndFollow(theirs.browser, theirs.allow);
      assert.equal(second.searchParams.get('error'), 'access_denied');
      assert.equal(second.searchParams.get('code'), null);
      assert.equal((await server.auth.devices.get(clientId))?.accountId, 'demouser');
    });
  });

  it('a template with sharedDevices lets another account sign in after its own consent; the owner stays', async () => {
    const registered = await registerAs(
      server,
      {},
      { software_id: SHARED_SOFTWARE_ID, software_version: '1.0.0' },
    );
    const instance = await instanceConfiguration(server.issuer, registered);
    const { url, verifier } = await authorizationUrl(instance);
    const other = await signIn(new SignInBrowser(), url, OTHER);
    assert.deepEqual(other.pages, ['login', 'consent']);
    const tokens = await oidc.authorizationCodeGrant(instance, other.callback, {
      pkceCodeVerifier: verifier,
    });
    assert.equal(tokens.claims()?.sub, 'otheruser');
    assert.equal((await server.auth.devices.get(registered.client_id))?.accountId, 'demouser');
  });
});

describe('the token endpoint holds the binding too (RFC 6749 §6)', () => {
  const shared = (sharedDevices: boolean) => (o: AuthServerOptions) => ({
    ...o,
    registration: {
      ...o.registration,
      templates: [
        ...(o.registration?.templates ?? []),
        { ...appTemplate, software_id: SHARED_SOFTWARE_ID, sharedDevices },
      ],
    },
  });
  let phased: PhasedIssuer;
  before(async () => {
    phased = await PhasedIssuer.start();
  });
  after(() => phased.close());

  it("when a template stops sharing installs, another account's refresh token no longer works through them; the owner's does", async () => {
    await phased.phase(shared(true));
    const registered = await registerAs(
      phased,
      {},
      { software_id: SHARED_SOFTWARE_ID, software_version: '1.0.0' },
    );
    const instance = await instanceConfiguration(phased.issuer, registered);
    const signInAs = async (who: SignInChoices) => {
      const { callback, checks } = await codeForInstance(
        new SignInBrowser(),
        instance,
        'openid offline_access',
        who,
      );
      return oidc.authorizationCodeGrant(instance, callback, checks);
    };
    const theirs = await signInAs(OTHER);
    const mine = await signInAs({});

    await phased.phase(shared(false));
    await assert.rejects(
      oidc.refreshTokenGrant(instance, theirs.refresh_token as string),
      isOAuthError('invalid_grant'),
    );
    const refreshed = await oidc.refreshTokenGrant(instance, mine.refresh_token as string);
    assert.equal(refreshed.claims()?.sub, 'demouser');

    // The refused refresh consumed nothing: sharing on again, the same token works.
    await phased.phase(shared(true));
    const again = await oidc.refreshTokenGrant(instance, theirs.refresh_token as string);
    assert.equal(again.claims()?.sub, 'otheruser');
  });
});
