// Options are validated at start-up: every problem is reported with the option's path, and a
// valid object gets every documented default.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair } from 'jose';
import {
  type AuthServerOptions,
  ConfigurationError,
  createAuthServer,
  MemoryStore,
} from 'mobile-oidc-provider';
import type { JWK } from 'oidc-provider';
import { resolveOptions } from '../../lib/options/index.js';

let rsaKey: JWK;
before(async () => {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  rsaKey = { ...(await exportJWK(privateKey)), kid: 'k1', alg: 'RS256' } as JWK;
});

function valid(): AuthServerOptions {
  return {
    issuer: 'https://login.example.com',
    jwks: { keys: [rsaKey] },
    cookieKeys: ['k'.repeat(32)],
    accounts: { authenticate: async () => undefined, findAccount: async () => undefined },
  };
}

/** The problems resolveOptions reports for `options`, or fails when it accepts them. */
function problems(options: unknown): readonly string[] {
  try {
    resolveOptions(options as AuthServerOptions);
  } catch (error) {
    assert.ok(error instanceof ConfigurationError);
    assert.equal(error.code, 'invalid_configuration');
    return error.problems;
  }
  assert.fail('the options were accepted');
}

function assertProblem(options: unknown, expected: string) {
  const found = problems(options);
  assert.ok(found.includes(expected), `expected "${expected}" among:\n${found.join('\n')}`);
}

describe('options validation', () => {
  it('fills in every documented default and leaves the caller’s object alone', () => {
    const input = valid();
    const before = JSON.stringify(input);
    const o = resolveOptions(input);
    assert.equal(JSON.stringify(input), before);
    assert.equal(o.development, false);
    assert.equal(o.proxy, false);
    assert.deepEqual(o.scopes, ['openid', 'profile', 'email', 'offline_access']);
    assert.deepEqual(o.ttl, {
      accessToken: 900,
      authorizationCode: 60,
      idToken: 3600,
      refreshToken: 2592000,
      grant: 15552000,
      session: 1209600,
      interaction: 600,
    });
    assert.deepEqual(o.registration.dcrToken, { scope: 'dcr', ttl: 300, maxUses: 1 });
    assert.deepEqual(o.registration.instances, {
      allowedScopes: ['openid', 'profile', 'email', 'offline_access'],
      authMethods: ['client_secret_basic', 'private_key_jwt'],
    });
    assert.deepEqual(o.registration.policies, []);
    assert.deepEqual(o.registrationClients, []);
    assert.deepEqual(o.introspection.resourceServers, []);
    assert.equal(o.interactions.title, 'Sign in');
    assert.deepEqual(o.claims.email, ['email', 'email_verified']);
  });

  for (const ttl of [0, -1, 1.5, '300']) {
    it(`registration.dcrToken.ttl ${JSON.stringify(ttl)} is refused by path`, () => {
      assertProblem(
        { ...valid(), registration: { dcrToken: { ttl } } },
        'options.registration.dcrToken.ttl must be a positive integer no greater than 3600',
      );
    });
  }

  it('a DCR token lifetime over an hour is refused', () => {
    assertProblem(
      { ...valid(), registration: { dcrToken: { ttl: 3601 } } },
      'options.registration.dcrToken.ttl must be a positive integer no greater than 3600',
    );
  });

  it('a TTL that is not a positive integer is refused by path', () => {
    assertProblem(
      { ...valid(), ttl: { refreshToken: 0 } },
      'options.ttl.refreshToken must be a positive integer',
    );
  });

  it('unknown options are refused, at any depth', () => {
    assertProblem({ ...valid(), foo: 1 }, 'options.foo is not a known option');
    assertProblem(
      { ...valid(), registration: { dcrToken: { uses: 2 } } },
      'options.registration.dcrToken.uses is not a known option',
    );
  });

  it('required options are named when missing', () => {
    const { issuer: _issuer, accounts: _accounts, ...rest } = valid();
    const found = problems(rest);
    assert.ok(found.includes('options.issuer is required'));
    assert.ok(found.includes('options.accounts is required'));
    assertProblem(
      { ...valid(), accounts: { findAccount: async () => undefined } },
      'options.accounts.authenticate is required',
    );
    assertProblem(
      { ...valid(), accounts: { authenticate: async () => undefined, findAccount: 'x' } },
      'options.accounts.findAccount must be a function',
    );
  });

  it('a store must be a store', () => {
    const found = problems({ ...valid(), store: { adapter() {} } });
    assert.ok(found.some((p) => p.startsWith('options.store must be a store')));
    assert.doesNotThrow(() => resolveOptions({ ...valid(), store: new MemoryStore() }));
  });

  it('the issuer must be an absolute https URL without query or fragment', () => {
    assertProblem(
      { ...valid(), issuer: 'http://login.example.com' },
      'options.issuer must use https (http is allowed only with options.development)',
    );
    assertProblem(
      { ...valid(), issuer: 'https://login.example.com/#x' },
      'options.issuer must not have a query or fragment',
    );
    assertProblem(
      { ...valid(), issuer: 'https://login.example.com/?a=b' },
      'options.issuer must not have a query or fragment',
    );
    assertProblem(
      { ...valid(), issuer: 'login.example.com' },
      'options.issuer must be an absolute http(s) URL',
    );
  });

  it('development mode allows an http issuer and generated keys; production requires keys', () => {
    const { jwks: _jwks, cookieKeys: _cookieKeys, ...keyless } = valid();
    assert.doesNotThrow(() =>
      resolveOptions({ ...keyless, issuer: 'http://localhost:3000', development: true }),
    );
    const found = problems(keyless);
    assert.ok(
      found.includes('options.jwks is required (generated keys only with options.development)'),
    );
    assert.ok(
      found.includes(
        'options.cookieKeys is required (generated keys only with options.development)',
      ),
    );
  });

  it('cookie keys are at least 32 characters', () => {
    assertProblem(
      { ...valid(), cookieKeys: ['short'] },
      'options.cookieKeys[0] must NOT have fewer than 32 characters',
    );
  });

  it('the dcr scope belongs to registration clients only', () => {
    assertProblem(
      { ...valid(), scopes: ['openid', 'dcr'] },
      "options.scopes must not include the DCR token scope 'dcr'",
    );
    assertProblem(
      {
        ...valid(),
        clients: [
          {
            client_id: 'web',
            client_secret: 's',
            redirect_uris: ['https://a.example/cb'],
            scope: 'openid dcr',
          },
        ],
      },
      "options.clients[0].scope must not include 'dcr': only registration clients may obtain it",
    );
  });

  it('instance scopes must be offered scopes', () => {
    assertProblem(
      { ...valid(), registration: { instances: { allowedScopes: ['openid', 'admin'] } } },
      "options.registration.instances.allowedScopes[1] 'admin' is not in options.scopes",
    );
  });

  it('client ids are unique across registration and other clients', () => {
    assertProblem(
      {
        ...valid(),
        registrationClients: [{ client_id: 'app', redirect_uris: ['com.example.app:/cb'] }],
        clients: [
          { client_id: 'app', client_secret: 's', redirect_uris: ['https://a.example/cb'] },
        ],
      },
      "options.clients[0].client_id 'app' is used by another client",
    );
  });

  it('registration client redirect URIs follow RFC 8252', () => {
    const found = problems({
      ...valid(),
      registrationClients: [{ client_id: 'app', redirect_uris: ['http://example.com/cb'] }],
    });
    assert.ok(
      found.some((p) =>
        p.startsWith(
          "options.registrationClients[0].redirect_uris 'http://example.com/cb' may use http only",
        ),
      ),
    );
  });

  it('resource servers must be known confidential clients', () => {
    assertProblem(
      { ...valid(), introspection: { resourceServers: ['api'] } },
      "options.introspection.resourceServers[0] 'api' is not in options.clients",
    );
    assertProblem(
      {
        ...valid(),
        clients: [
          {
            client_id: 'api',
            token_endpoint_auth_method: 'none',
            redirect_uris: ['https://a.example/cb'],
          },
        ],
        introspection: { resourceServers: ['api'] },
      },
      "options.introspection.resourceServers[0] 'api' must be a confidential client",
    );
  });

  for (const [setting, value] of [
    ['pkce', { required: () => false }],
    ['adapter', () => ({})],
    ['ttl', { AccessToken: 1 }],
    ['responseTypes', ['code token']],
  ] as const) {
    it(`oidcProvider.${setting} cannot weaken the library’s settings`, () => {
      const found = problems({ ...valid(), oidcProvider: { [setting]: value } });
      assert.ok(
        found.some((p) => p.startsWith(`options.oidcProvider.${setting} cannot be set`)),
        found.join('\n'),
      );
    });
  }

  it('nested locked oidc-provider settings are refused too', () => {
    const found = problems({
      ...valid(),
      oidcProvider: {
        features: { registration: { enabled: true }, devInteractions: { enabled: true } },
        cookies: { keys: ['x'] },
      },
    });
    assert.ok(
      found.some((p) => p.startsWith('options.oidcProvider.features.registration cannot be set')),
    );
    assert.ok(
      found.some((p) =>
        p.startsWith('options.oidcProvider.features.devInteractions cannot be set'),
      ),
    );
    assert.ok(found.some((p) => p.startsWith('options.oidcProvider.cookies.keys cannot be set')));
  });

  it('other oidc-provider settings pass through', () => {
    const o = resolveOptions({
      ...valid(),
      oidcProvider: {
        features: { dPoP: { enabled: true } },
        routes: { registration: '/register' },
      },
    });
    assert.equal(o.oidcProvider.routes?.registration, '/register');
  });

  it('several problems are all reported at once', () => {
    const found = problems({ ...valid(), issuer: 42, ttl: { accessToken: 0 }, bogus: true });
    assert.ok(found.length >= 3, found.join('\n'));
  });

  it('createAuthServer fails fast with the same error', async () => {
    await assert.rejects(
      createAuthServer({ ...valid(), registration: { dcrToken: { maxUses: 0 } } }),
      (error: Error) => {
        assert.ok(error instanceof ConfigurationError);
        assert.match(
          error.message,
          /options\.registration\.dcrToken\.maxUses must be a positive integer/,
        );
        return true;
      },
    );
  });
});
