// The example server with NATIVE_SSO_GROUP: demouser signs in to the example app once, and the
// notes app of the same group signs in with its ID token and device secret, no login page.
// Without the variable, Native SSO is off.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type AuthServer, createAuthServer } from 'mobile-oidc-provider';
import * as oidc from 'openid-client';
import { APP_SOFTWARE_ID, exampleOptions } from '../../examples/server/app.js';
import { NOTES_SOFTWARE_ID } from '../../examples/server/native-sso.js';
import { registrationClient } from '../helpers/example.js';
import { json } from '../helpers/json.js';
import { type Listening, listen } from '../helpers/listen.js';
import { instanceConfiguration, postRegistration } from '../helpers/registration.js';
import { codeForInstance, obtainDcrToken, SignInBrowser } from '../helpers/sign-in.js';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

async function startExampleServer(env: Record<string, string>) {
  const http = await listen();
  const warn = console.warn;
  console.warn = () => {}; // development-key warnings are expected here
  let auth: AuthServer;
  try {
    auth = await createAuthServer(
      await exampleOptions({ ...env, ISSUER: http.url, LOG_LEVEL: 'silent' }),
    );
  } finally {
    console.warn = warn;
  }
  http.handle(auth.callback());
  return { http, auth };
}

describe('the example server with NATIVE_SSO_GROUP', () => {
  let http: Listening;
  let auth: AuthServer;
  before(async () => {
    ({ http, auth } = await startExampleServer({ NATIVE_SSO_GROUP: 'ABCDE12345' }));
  });
  after(async () => {
    await http.close();
    await auth.close();
  });

  async function install(softwareId: string, dcrToken: string, body = {}) {
    const registered = await postRegistration(
      http.url,
      { software_id: softwareId, ...body },
      dcrToken,
    );
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    return instanceConfiguration(http.url, registered.body);
  }

  it('the notes app signs demouser in with the example app’s ID token and device secret', async () => {
    const reg = await registrationClient(http.url);
    const browser = new SignInBrowser();
    const { tokens: dcr } = await obtainDcrToken(reg, browser);
    const app = await install(APP_SOFTWARE_ID, dcr.access_token, { software_version: '1.0.0' });
    const code = await codeForInstance(browser, app, 'openid offline_access device_sso');
    const first = await oidc.authorizationCodeGrant(app, code.callback, code.checks);
    assert.ok(first.device_secret);

    const exchange = (config: oidc.Configuration, pair: Record<string, unknown>, extra = {}) =>
      oidc.genericGrantRequest(config, TOKEN_EXCHANGE, {
        subject_token: pair.id_token as string,
        subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
        actor_token: pair.device_secret as string,
        actor_token_type: 'urn:openid:params:token-type:device-secret',
        ...extra,
      });
    const notesDcr = await exchange(reg, first);
    const notes = await install(NOTES_SOFTWARE_ID, notesDcr.access_token);
    const tokens = await exchange(notes, notesDcr, { scope: 'openid profile offline_access' });
    const userinfo = await oidc.fetchUserInfo(notes, tokens.access_token, 'demouser');
    assert.equal(userinfo.name, 'Demo User');
    assert.equal(
      (await auth.instances.get(notes.clientMetadata().client_id))?.accountId,
      'demouser',
    );
  });
});

describe('the example server without NATIVE_SSO_GROUP', () => {
  it('offers no device_sso scope and no notes app', async () => {
    const { http, auth } = await startExampleServer({});
    try {
      const metadata = await json(await fetch(`${http.url}/.well-known/openid-configuration`));
      assert.ok(!(metadata.scopes_supported as string[]).includes('device_sso'));
      const options = await exampleOptions({});
      assert.ok(
        !(options.registration?.templates ?? []).some((t) => t.software_id === NOTES_SOFTWARE_ID),
      );
    } finally {
      await http.close();
      await auth.close();
    }
  });
});
