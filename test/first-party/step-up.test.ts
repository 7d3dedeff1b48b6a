// Step-up authentication (RFC 9470) end to end: an API refuses a token from a password sign-in
// where it needs a passkey, with `insufficient_user_authentication` and `acr_values`; the app
// runs the Authorization Challenge Endpoint again with those acr_values, which does not take a
// password for them, signs in with a passkey and gets a token the API accepts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FIRST_PARTY_ACR } from 'mobile-oidc-provider';
import {
  createTokenVerifier,
  requireAuthentication,
  type TokenVerifier,
} from '../../lib/resource-server/index.js';
import {
  challengeOf,
  type FirstPartyServer,
  type Install,
  startFirstParty,
  verifier,
} from '../helpers/first-party.js';
import { enrolledAuthenticator } from '../helpers/passkeys.js';
import type { SoftwareAuthenticator } from '../helpers/software-authenticator.js';
import { JWT_API, OPAQUE_API, refusal, requestTo } from '../resource-server/helpers.js';

const PASSKEY = FIRST_PARTY_ACR.passkey;
const PASSWORD = FIRST_PARTY_ACR.password;

describe('first-party step-up: acr_values and max_age at the Authorization Challenge Endpoint', () => {
  let fp: FirstPartyServer;
  let authenticator: SoftwareAuthenticator;
  const verifiers = new Map<string, TokenVerifier>();

  before(async () => {
    fp = await startFirstParty(
      (o) => ({
        ...o,
        passkeys: { enabled: true, origins: [new URL(o.issuer).origin] },
        apis: [
          { resource: JWT_API, scope: 'payments', accessTokenFormat: 'jwt' },
          { resource: OPAQUE_API, scope: 'payments', accessTokenFormat: 'opaque' },
        ],
      }),
      { unthrottled: true },
    );
    const { issuer } = fp.server;
    authenticator = await enrolledAuthenticator(issuer);
    for (const api of [JWT_API, OPAQUE_API]) {
      verifiers.set(
        api,
        createTokenVerifier({ issuer, audience: api, allowHttp: true, server: fp.server.auth }),
      );
    }
  });
  after(() => fp.close());

  /** Starts a request for `api` with `extra` parameters (acr_values, max_age); its answer. */
  const start = (install: Install, v: string, api: string, extra: Record<string, string> = {}) =>
    fp.challenge(install, {
      scope: 'openid payments',
      resource: api,
      code_challenge: challengeOf(v),
      code_challenge_method: 'S256',
      ...extra,
    });

  /** The code's access token for `api`, verified as the API verifies it. */
  async function apiToken(install: Install, code: unknown, v: string, api: string) {
    const tokens = await fp.token(install, {
      grant_type: 'authorization_code',
      code: code as string,
      code_verifier: v,
      resource: api,
    });
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    const at = tokens.body.access_token as string;
    return (verifiers.get(api) as TokenVerifier).verify(
      requestTo(`${api}pay`, { authorization: `Bearer ${at}` }),
    );
  }

  async function passwordToken(install: Install, api: string) {
    const v = verifier();
    const done = await start(install, v, api, { username: 'demouser', password: 'Password1' });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    return apiToken(install, done.body.authorization_code, v, api);
  }

  for (const api of [JWT_API, OPAQUE_API]) {
    const format = api === JWT_API ? 'JWT' : 'opaque';
    it(`a password token is refused where a passkey is needed; the app steps up with a passkey and is served (${format})`, async () => {
      const install = await fp.install();
      const before = Math.floor(Date.now() / 1000);
      const weak = await passwordToken(install, api);
      // The access token carries the sign-in: its acr and its time.
      assert.equal(weak.acr, PASSWORD);
      assert.ok((weak.authTime ?? 0) >= before, String(weak.authTime));
      const refused = await refusal(() => requireAuthentication(weak, { acrValues: [PASSKEY] }));
      assert.equal(refused.status, 401);
      const challenge = refused.wwwAuthenticate() ?? '';
      assert.match(challenge, /^Bearer error="insufficient_user_authentication"/);
      const acrValues = /acr_values="([^"]*)"/.exec(challenge)?.[1];
      assert.equal(acrValues, PASSKEY);

      // The app runs the endpoint again with the challenge's acr_values.
      const v = verifier();
      // Attack: a password for a passkey acr is not taken; the answer names the passkey step.
      const withPassword = await start(install, v, api, {
        acr_values: acrValues as string,
        username: 'demouser',
        password: 'Password1',
      });
      assert.equal(withPassword.status, 400, JSON.stringify(withPassword.body));
      assert.equal(withPassword.body.error, 'insufficient_authorization');
      assert.equal(withPassword.body.authorization_code, undefined);
      assert.deepEqual(withPassword.body.required, ['method']);
      const asked = await fp.challenge(install, {
        auth_session: withPassword.body.auth_session as string,
        method: 'passkey',
      });
      assert.deepEqual(asked.body.required, ['passkey_assertion'], JSON.stringify(asked.body));
      const done = await fp.challenge(install, {
        auth_session: asked.body.auth_session as string,
        passkey_assertion: JSON.stringify(authenticator.get(asked.body.passkey_options as object)),
      });
      assert.equal(done.status, 200, JSON.stringify(done.body));
      const strong = await apiToken(install, done.body.authorization_code, v, api);
      assert.equal(strong.acr, PASSKEY);
      assert.equal(requireAuthentication(strong, { acrValues: [PASSKEY], maxAge: 60 }), strong);
    });
  }

  it('refresh: the refreshed access token keeps the sign-in acr and auth_time (a passkey stays accepted, a password stays refused)', async () => {
    const refreshed = async (install: Install, extra: Record<string, string>) => {
      const v = verifier();
      const scope = 'openid offline_access payments';
      let done = await start(install, v, JWT_API, { scope, ...extra });
      if (done.body.error === 'insufficient_authorization') {
        const asked = await fp.challenge(install, {
          auth_session: done.body.auth_session as string,
          method: 'passkey',
        });
        done = await fp.challenge(install, {
          auth_session: asked.body.auth_session as string,
          passkey_assertion: JSON.stringify(
            authenticator.get(asked.body.passkey_options as object),
          ),
        });
      }
      assert.equal(done.status, 200, JSON.stringify(done.body));
      const first = await fp.token(install, {
        grant_type: 'authorization_code',
        code: done.body.authorization_code as string,
        code_verifier: v,
        resource: JWT_API,
      });
      assert.equal(first.status, 200, JSON.stringify(first.body));
      const original = await (verifiers.get(JWT_API) as TokenVerifier).verify(
        requestTo(`${JWT_API}pay`, { authorization: `Bearer ${first.body.access_token}` }),
      );
      const next = await fp.token(install, {
        grant_type: 'refresh_token',
        refresh_token: first.body.refresh_token as string,
        resource: JWT_API,
      });
      assert.equal(next.status, 200, JSON.stringify(next.body));
      assert.notEqual(next.body.access_token, first.body.access_token);
      const token = await (verifiers.get(JWT_API) as TokenVerifier).verify(
        requestTo(`${JWT_API}pay`, { authorization: `Bearer ${next.body.access_token}` }),
      );
      assert.equal(token.authTime, original.authTime);
      return token;
    };
    const strong = await refreshed(await fp.install(), { acr_values: PASSKEY });
    assert.equal(strong.acr, PASSKEY);
    assert.equal(requireAuthentication(strong, { acrValues: [PASSKEY], maxAge: 300 }), strong);
    const weak = await refreshed(await fp.install(), {
      username: 'demouser',
      password: 'Password1',
    });
    assert.equal(weak.acr, PASSWORD);
    const refused = await refusal(() => requireAuthentication(weak, { acrValues: [PASSKEY] }));
    assert.equal(refused.status, 401);
  });

  it('the first answer for a passkey acr asks for the passkey; control: without acr_values, the password', async () => {
    const install = await fp.install();
    const stepUp = await start(install, verifier(), JWT_API, { acr_values: PASSKEY });
    assert.equal(stepUp.body.error, 'insufficient_authorization');
    assert.deepEqual(stepUp.body.required, ['method']);
    const plain = await start(install, verifier(), JWT_API);
    assert.deepEqual(plain.body.required, ['username', 'password']);
    // A list that accepts the password takes it.
    const either = await start(install, verifier(), JWT_API, {
      acr_values: `${PASSKEY} ${PASSWORD}`,
      username: 'demouser',
      password: 'Password1',
    });
    assert.equal(either.status, 200, JSON.stringify(either.body));
  });

  it('acr_values naming no acr this server gives is invalid_request; control: a known one among unknown ones', async () => {
    const install = await fp.install();
    const unknown = await start(install, verifier(), JWT_API, { acr_values: 'urn:example:loa4' });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error, 'invalid_request');
    assert.match(String(unknown.body.error_description), /acr_values/);
    const mixed = await start(install, verifier(), JWT_API, {
      acr_values: `urn:example:loa4 ${PASSWORD}`,
      username: 'demouser',
      password: 'Password1',
    });
    assert.equal(mixed.status, 200, JSON.stringify(mixed.body));
  });

  it('acr_values and max_age are bound to the auth_session: a later step cannot drop or change them', async () => {
    const install = await fp.install();
    const started = await start(install, verifier(), JWT_API, {
      acr_values: PASSKEY,
      max_age: '300',
    });
    const session = started.body.auth_session as string;
    const changed = await fp.challenge(install, {
      auth_session: session,
      acr_values: PASSWORD,
      username: 'demouser',
      password: 'Password1',
    });
    assert.equal(changed.body.error, 'invalid_request');
    assert.match(String(changed.body.error_description), /acr_values cannot change/);
    // Control: repeating them is fine; leaving them out keeps them (the password is still refused).
    const again = await start(install, verifier(), JWT_API, {
      acr_values: PASSKEY,
      max_age: '300',
    });
    const omitted = await fp.challenge(install, {
      auth_session: again.body.auth_session as string,
      username: 'demouser',
      password: 'Password1',
    });
    assert.equal(omitted.body.error, 'insufficient_authorization');
    assert.deepEqual(omitted.body.required, ['method']);
  });

  it('acr_values or max_age without the openid scope is invalid_request, as at the authorization endpoint redirect_to_web continues at; control: with openid', async () => {
    const install = await fp.install();
    const extras: Record<string, string>[] = [{ acr_values: PASSWORD }, { max_age: '300' }];
    for (const extra of extras) {
      const refused = await fp.challenge(install, {
        scope: 'payments',
        resource: JWT_API,
        code_challenge: challengeOf(verifier()),
        code_challenge_method: 'S256',
        username: 'demouser',
        password: 'Password1',
        ...extra,
      });
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
      assert.equal(refused.body.error, 'invalid_request');
      assert.match(String(refused.body.error_description), /openid/);
      assert.equal(refused.body.auth_session, undefined);
      assert.equal(refused.body.authorization_code, undefined);
      const control = await start(install, verifier(), JWT_API, {
        ...extra,
        username: 'demouser',
        password: 'Password1',
      });
      assert.equal(control.status, 200, JSON.stringify(control.body));
    }
  });

  it('max_age: a malformed one is invalid_request; control: a fresh sign-in satisfies max_age=0', async () => {
    const install = await fp.install();
    const bad = await start(install, verifier(), JWT_API, { max_age: '-1' });
    assert.equal(bad.body.error, 'invalid_request');
    const v = verifier();
    const done = await start(install, v, JWT_API, {
      max_age: '0',
      username: 'demouser',
      password: 'Password1',
    });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    const token = await apiToken(install, done.body.authorization_code, v, JWT_API);
    assert.ok(Math.abs((token.authTime ?? 0) - Date.now() / 1000) < 60);
    requireAuthentication(token, { maxAge: 60 });
  });
});
