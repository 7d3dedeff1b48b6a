// Defence in depth for `assurance.minimumLevels`: besides the scope filter applied when an
// instance loads, every issuing step refuses a token whose scope is above the instance's level
// (RFC 6749 §5.2 invalid_scope), whatever the instance's grant or stored metadata says. The
// realistic way to hold such a grant: it was issued before the deployment raised a minimum.
// Each scenario runs one issuer whose configuration changes between phases, on one store.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuthServerOptions } from 'mobile-oidc-provider';
import * as oidc from 'openid-client';
import { APP_REDIRECT_URI, registrationClient } from '../helpers/example.js';
import { PhasedIssuer } from '../helpers/phased-issuer.js';
import { instanceConfiguration, isOAuthError, postRegistration } from '../helpers/registration.js';
import { codeForInstance, obtainDcrToken, SignInBrowser, signIn } from '../helpers/sign-in.js';

const SCOPE = 'openid offline_access payments';

const NO_MINIMUM = (o: AuthServerOptions) => ({ ...o, assurance: { minimumLevels: {} } });
const PAYMENTS_NEED_KEY = (o: AuthServerOptions) => ({
  ...o,
  assurance: { minimumLevels: { payments: 'by-provisioned-key' as const } },
});

describe('a scope above the instance level is refused wherever tokens are issued', () => {
  let phased: PhasedIssuer;
  let instance: oidc.Configuration;
  let browser: SignInBrowser;

  before(async () => {
    phased = await PhasedIssuer.start();
    await phased.phase(NO_MINIMUM);
    browser = new SignInBrowser();
    const { tokens } = await obtainDcrToken(await registrationClient(phased.issuer), browser);
    // A user-token instance: cal=none, allowed payments while no minimum applied.
    const registered = await postRegistration(
      phased.issuer,
      { redirect_uris: [APP_REDIRECT_URI], scope: SCOPE },
      tokens.access_token,
    );
    assert.equal(registered.status, 201);
    assert.equal(registered.body.cal, 'none');
    instance = await instanceConfiguration(phased.issuer, registered.body);
  });
  after(() => phased.close());

  it('refresh (RFC 6749 §6): refused with invalid_scope before the refresh token is consumed', async () => {
    await phased.phase(NO_MINIMUM);
    const { callback, checks } = await codeForInstance(browser, instance, SCOPE);
    const tokens = await oidc.authorizationCodeGrant(instance, callback, checks);
    assert.equal(tokens.scope, SCOPE);
    const refreshToken = tokens.refresh_token as string;

    await phased.phase(PAYMENTS_NEED_KEY);
    await assert.rejects(
      oidc.refreshTokenGrant(instance, refreshToken),
      isOAuthError('invalid_scope'),
    );

    // Control: the refused refresh consumed nothing; with the minimum lifted again it works.
    await phased.phase(NO_MINIMUM);
    const refreshed = await oidc.refreshTokenGrant(instance, refreshToken);
    assert.equal(refreshed.scope, SCOPE);
  });

  it('code exchange (RFC 6749 §4.1.3): a code granted before the minimum rose yields no token', async () => {
    await phased.phase(NO_MINIMUM);
    const { callback, checks } = await codeForInstance(browser, instance, SCOPE);

    await phased.phase(PAYMENTS_NEED_KEY);
    await assert.rejects(
      oidc.authorizationCodeGrant(instance, callback, checks),
      isOAuthError('invalid_scope'),
    );
    // Control: a code for scopes within the level is exchanged.
    const within = await codeForInstance(browser, instance, 'openid offline_access');
    const tokens = await oidc.authorizationCodeGrant(instance, within.callback, within.checks);
    assert.equal(tokens.scope, 'openid offline_access');
  });

  it('authorization (RFC 6749 §4.1.2.1): the request ends at the redirect URI with invalid_scope and no code', async () => {
    await phased.phase(PAYMENTS_NEED_KEY);
    // Signed in at this phase's server (its cookie keys are its own): an error for an install
    // whose redirect URI its registrant chose goes there only for a signed-in user (#25).
    await obtainDcrToken(await registrationClient(phased.issuer), browser);
    const { callback } = await signIn(
      browser,
      oidc.buildAuthorizationUrl(instance, {
        redirect_uri: APP_REDIRECT_URI,
        scope: SCOPE,
        code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
      }),
    );
    assert.equal(callback.searchParams.get('error'), 'invalid_scope');
    assert.equal(callback.searchParams.get('code'), null);
  });
});
