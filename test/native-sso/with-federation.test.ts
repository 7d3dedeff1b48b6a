// Native SSO beside native federated sign-in: both are RFC 8693 exchanges at the one token
// endpoint, told apart by the actor token (a device secret, or none). A Google sign-in's DCR token
// registers the mail app, whose browser sign-in then starts the group's device session.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Template } from 'mobile-oidc-provider';
import * as oidc from 'openid-client';
import { type RunningServer, registrationClient, startExample } from '../helpers/example.js';
import { APP_REDIRECT_URI } from '../helpers/fixture.js';
import { json } from '../helpers/json.js';
import { instanceConfiguration, postRegistration } from '../helpers/registration.js';
import { codeForInstance, SignInBrowser } from '../helpers/sign-in.js';
import { startUpstreamIdp, type UpstreamIdp } from '../helpers/upstream-idp.js';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';
const DEVICE_SECRET_TYPE = 'urn:openid:params:token-type:device-secret';
const GOOGLE_CLIENT_ID = 'android.apps.googleusercontent.example';

const ssoTemplate = (softwareId: string): Template => ({
  software_id: softwareId,
  client: {
    redirect_uris: [APP_REDIRECT_URI],
    grant_types: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: 'openid offline_access',
  },
  nativeSso: { group: 'ABCDE12345' },
});

describe('Native SSO beside native federated sign-in', () => {
  let google: UpstreamIdp;
  let server: RunningServer;
  let reg: oidc.Configuration;

  before(async () => {
    google = await startUpstreamIdp({ quirks: 'google' });
    server = await startExample((o) => ({
      ...o,
      accounts: { ...o.accounts, federated: async () => 'demouser' },
      federation: {
        providers: [
          {
            name: 'google',
            issuer: google.issuer,
            quirks: 'google',
            audiences: [GOOGLE_CLIENT_ID],
          },
        ],
      },
      registration: {
        ...o.registration,
        templates: [
          ...(o.registration?.templates ?? []),
          ssoTemplate('io.example.mail'),
          ssoTemplate('io.example.calendar'),
        ],
      },
    }));
    reg = await registrationClient(server.issuer);
  });
  after(async () => {
    await server.close();
    await google.close();
  });

  async function install(softwareId: string, dcrToken: string) {
    const registered = await postRegistration(server.issuer, { software_id: softwareId }, dcrToken);
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    return instanceConfiguration(server.issuer, registered.body);
  }

  it('each exchange goes to its own feature, and the grant is offered once', async () => {
    const metadata = reg.serverMetadata() as Record<string, unknown>;
    const grants = metadata.grant_types_supported as string[];
    assert.equal(grants.filter((g) => g === TOKEN_EXCHANGE).length, 1);

    // Federated: a Google id_token, no actor, gives the registration client a DCR token.
    const nonce = (
      await json(await fetch(new URL('/federation/nonce', server.issuer), { method: 'POST' }))
    ).nonce as string;
    const dcr = await oidc.genericGrantRequest(reg, TOKEN_EXCHANGE, {
      subject_token: await google.mintIdToken({ sub: 'g-demo', aud: GOOGLE_CLIENT_ID, nonce }),
      subject_token_type: ID_TOKEN_TYPE,
    });
    assert.equal(dcr.scope, 'dcr');
    const mail = await install('io.example.mail', dcr.access_token);

    // The mail app's browser sign-in with device_sso starts the device session.
    const browser = new SignInBrowser();
    const code = await codeForInstance(browser, mail, 'openid offline_access device_sso');
    const tokens = await oidc.authorizationCodeGrant(mail, code.callback, code.checks);
    assert.ok(tokens.device_secret);

    // Native SSO: the device secret as actor gives the calendar app its DCR token.
    const sso = await oidc.genericGrantRequest(reg, TOKEN_EXCHANGE, {
      subject_token: tokens.id_token as string,
      subject_token_type: ID_TOKEN_TYPE,
      actor_token: tokens.device_secret as string,
      actor_token_type: DEVICE_SECRET_TYPE,
    });
    assert.equal(sso.scope, 'dcr');
    assert.ok((sso as Record<string, unknown>).device_secret);
    const calendar = await install('io.example.calendar', sso.access_token);
    assert.ok(calendar.clientMetadata().client_id);

    // A Google id_token with a device secret as actor is a Native SSO exchange (its nonce never
    // reaches federation), and refused: not an ID token of this server.
    const mixed = await oidc
      .genericGrantRequest(reg, TOKEN_EXCHANGE, {
        subject_token: await google.mintIdToken({ sub: 'g-demo', aud: GOOGLE_CLIENT_ID, nonce }),
        subject_token_type: ID_TOKEN_TYPE,
        actor_token: (sso as Record<string, unknown>).device_secret as string,
        actor_token_type: DEVICE_SECRET_TYPE,
      })
      .then(
        () => assert.fail('accepted'),
        (error: oidc.ResponseBodyError) => error.error,
      );
    assert.equal(mixed, 'invalid_grant');
  });
});
