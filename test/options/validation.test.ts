// Options are validated at start-up: every problem is reported with the option's path, and a
// valid object gets every documented default (the TSDoc `@default` tags of lib/options/types.ts).
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair } from 'jose';
import type { ClientMetadata, JWK } from 'oidc-provider';
import { MemoryStore } from '../../adapters/memory.js';
import { ConfigurationError } from '../../lib/core/errors.js';
import type { Template } from '../../lib/core/template-types.js';
import { createAuthServer } from '../../lib/index.js';
import type { AuthServerOptions } from '../../lib/options/types.js';
import { resolveOptions } from '../../lib/options/validate.js';

const DEFAULT_SCOPES = ['openid', 'profile', 'email', 'offline_access'];

let rsaKey: JWK;
before(async () => {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  rsaKey = { ...(await exportJWK(privateKey)), kid: 'k1', alg: 'RS256' } as JWK;
});

const authenticate = async (_username: string, _password: string) => undefined;
const findAccount = async (_accountId: string) => undefined;

function valid(): AuthServerOptions {
  return {
    issuer: 'https://login.example.com',
    jwks: { keys: [rsaKey] },
    cookieKeys: ['x'.repeat(32)],
    accounts: { authenticate, findAccount },
  };
}

/** The problems resolveOptions reports for `options`; fails when it accepts them. */
function problems(options: unknown): readonly string[] {
  try {
    resolveOptions(options as AuthServerOptions);
  } catch (error) {
    assert.ok(error instanceof ConfigurationError, String(error));
    assert.equal(error.code, 'invalid_configuration');
    for (const problem of error.problems) {
      assert.ok(problem.startsWith('options'), `"${problem}" does not start with a path`);
      assert.ok(error.message.includes(problem), 'the message lists every problem');
    }
    return error.problems;
  }
  assert.fail('the options were accepted');
}

/** Asserts that `expected` is exactly one of the reported problems. */
function assertProblem(options: unknown, expected: string) {
  const found = problems(options);
  assert.ok(found.includes(expected), `expected "${expected}" among:\n${found.join('\n')}`);
}

/** Asserts that some reported problem starts with `prefix` (a path and the start of a reason). */
function assertProblemStartingWith(options: unknown, prefix: string) {
  const found = problems(options);
  assert.ok(
    found.some((p) => p.startsWith(prefix)),
    `expected a problem starting "${prefix}" among:\n${found.join('\n')}`,
  );
}

describe('resolveOptions: defaults', () => {
  it('resolves a minimal valid object and fills in every documented default', () => {
    const input = valid();
    const o = resolveOptions(input);

    assert.equal(o.issuer, 'https://login.example.com');
    assert.deepEqual(o.jwks, { keys: [rsaKey] });
    assert.deepEqual(o.cookieKeys, ['x'.repeat(32)]);
    assert.equal(o.accounts.authenticate, authenticate);
    assert.equal(o.accounts.findAccount, findAccount);

    assert.equal(o.development, false);
    assert.equal(o.store, undefined, 'no store: createAuthServer makes a MemoryStore');
    assert.equal(o.proxy, false);
    assert.deepEqual(o.scopes, DEFAULT_SCOPES);
    assert.deepEqual(o.claims, {
      openid: ['sub'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username', 'updated_at'],
      email: ['email', 'email_verified'],
    });
    assert.deepEqual(o.registrationClients, []);
    assert.deepEqual(o.clients, []);
    assert.deepEqual(o.ttl, {
      accessToken: 900,
      authorizationCode: 60,
      idToken: 3600,
      refreshToken: 2592000,
      refreshTokenReuseGrace: 30,
      refreshTokenReuseLimit: 3,
      grant: 15552000,
      session: 1209600,
      interaction: 600,
    });
    assert.deepEqual(o.registration.dcrToken, { scope: 'dcr', ttl: 300, maxUses: 1 });
    assert.deepEqual(o.registration.instances, {
      allowedScopes: DEFAULT_SCOPES,
      authMethods: ['client_secret_basic', 'private_key_jwt'],
      unusedTtl: 86400,
      cacheSize: 10000,
    });
    assert.deepEqual(o.registration.policies, []);
    assert.deepEqual(o.introspection, { resourceServers: [] });
    assert.deepEqual(o.interactions, {
      title: 'Sign in',
      defaultLanguage: 'en',
      signInRateLimit: {
        perAccount: { points: 10, duration: 900 },
        perIp: { points: 100, duration: 900 },
        perUsername: { points: 20, duration: 300 },
      },
    });
    assert.deepEqual(o.oidcProvider, {});
  });

  it('instances.allowedScopes defaults to the configured scopes, not the default ones', () => {
    const o = resolveOptions({ ...valid(), scopes: ['openid', 'api'] });
    assert.deepEqual(o.registration.instances.allowedScopes, ['openid', 'api']);
    assert.notEqual(o.registration.instances.allowedScopes, o.scopes, 'a copy, not an alias');
  });

  it('fills defaults beside the values given, at every depth', () => {
    const o = resolveOptions({
      ...valid(),
      ttl: { accessToken: 60 },
      registration: { dcrToken: { maxUses: 3 }, instances: { authMethods: ['private_key_jwt'] } },
    });
    assert.equal(o.ttl.accessToken, 60);
    assert.equal(o.ttl.refreshToken, 2592000);
    assert.deepEqual(o.registration.dcrToken, { scope: 'dcr', ttl: 300, maxUses: 3 });
    assert.deepEqual(o.registration.instances.authMethods, ['private_key_jwt']);
    assert.deepEqual(o.registration.instances.allowedScopes, DEFAULT_SCOPES);
  });

  it('does not mutate the input object', () => {
    const store = new MemoryStore();
    const ttl = { accessToken: 60 };
    const dcrToken = { maxUses: 2 };
    const registration = { dcrToken };
    const features = { dPoP: { enabled: true } };
    const oidcProvider = { features };
    const clients = [
      { client_id: 'web', client_secret: 's', redirect_uris: ['https://a.test/cb'] },
    ];
    const input: AuthServerOptions = {
      ...valid(),
      store,
      ttl,
      registration,
      oidcProvider,
      clients,
    };
    const keysBefore = Object.keys(input);
    const snapshot = JSON.stringify(input);

    const o = resolveOptions(input);

    assert.equal(JSON.stringify(input), snapshot);
    assert.deepEqual(Object.keys(input), keysBefore);
    assert.deepEqual(Object.keys(ttl), ['accessToken']);
    assert.deepEqual(Object.keys(registration), ['dcrToken']);
    assert.deepEqual(Object.keys(dcrToken), ['maxUses']);
    assert.deepEqual(Object.keys(features), ['dPoP']);
    assert.equal(input.registration, registration);
    assert.notEqual(o.ttl, ttl);
    assert.notEqual(o.registration, registration);
    assert.equal(o.store, store, 'a store is kept as it is, not copied');
  });

  it('does not mutate a null-prototype options object either', () => {
    // Objects from Object.create(null) (or another realm) are not copied before ajv fills
    // defaults into them.
    const registration = Object.create(null) as Record<string, unknown>;
    resolveOptions({ ...valid(), registration });
    assert.deepEqual(Object.keys(registration), [], 'ajv filled defaults into the caller’s object');
  });
});

describe('resolveOptions: schema problems, by path', () => {
  for (const ttl of [0, -1, 1.5, '300']) {
    it(`registration.dcrToken.ttl ${JSON.stringify(ttl)} is not a positive integer`, () => {
      const found = problems({ ...valid(), registration: { dcrToken: { ttl } } });
      assert.equal(found.length, 1, found.join('\n'));
      assert.ok(
        found[0]?.startsWith('options.registration.dcrToken.ttl must be a positive integer'),
        found[0],
      );
    });
  }

  it('registration.dcrToken.ttl over 3600 is refused; 3600 is accepted', () => {
    assertProblem(
      { ...valid(), registration: { dcrToken: { ttl: 3601 } } },
      'options.registration.dcrToken.ttl must be a positive integer no greater than 3600',
    );
    assert.equal(
      resolveOptions({ ...valid(), registration: { dcrToken: { ttl: 3600 } } }).registration
        .dcrToken.ttl,
      3600,
    );
  });

  it('other lifetimes must be positive integers', () => {
    assertProblem(
      { ...valid(), ttl: { refreshToken: 0 } },
      'options.ttl.refreshToken must be a positive integer',
    );
    assertProblem(
      { ...valid(), registration: { dcrToken: { maxUses: 0 } } },
      'options.registration.dcrToken.maxUses must be a positive integer',
    );
  });

  it('the refresh token reuse limit is a count from 0 (the grace window off) to 20', () => {
    assertProblem(
      { ...valid(), ttl: { refreshTokenReuseLimit: 21 } },
      'options.ttl.refreshTokenReuseLimit must be <= 20',
    );
    assertProblem(
      { ...valid(), ttl: { refreshTokenReuseLimit: 1.5 } },
      'options.ttl.refreshTokenReuseLimit must be integer',
    );
    assert.equal(
      resolveOptions({ ...valid(), ttl: { refreshTokenReuseLimit: 0 } }).ttl.refreshTokenReuseLimit,
      0,
    );
  });

  it('an unknown top-level option is refused', () => {
    assert.deepEqual(problems({ ...valid(), foo: 1 }), ['options.foo is not a known option']);
  });

  it('an unknown nested option is refused with its full path', () => {
    assertProblem(
      { ...valid(), registration: { dcrToken: { uses: 2 } } },
      'options.registration.dcrToken.uses is not a known option',
    );
    assertProblem(
      { ...valid(), ttl: { accesToken: 60 } },
      'options.ttl.accesToken is not a known option',
    );
    assertProblem(
      { ...valid(), registrationClients: [{ client_id: 'a', redirect_uris: ['a.b:/c'], x: 1 }] },
      'options.registrationClients[0].x is not a known option',
    );
  });

  it('a missing issuer is named', () => {
    const { issuer: _issuer, ...rest } = valid();
    assert.deepEqual(problems(rest), ['options.issuer is required']);
  });

  it('missing accounts are named', () => {
    const { accounts: _accounts, ...rest } = valid();
    assert.deepEqual(problems(rest), ['options.accounts is required']);
  });

  it('a missing accounts.authenticate is named', () => {
    assert.deepEqual(problems({ ...valid(), accounts: { findAccount } }), [
      'options.accounts.authenticate is required',
    ]);
  });

  it('accounts.findAccount must be a function', () => {
    assert.deepEqual(problems({ ...valid(), accounts: { authenticate, findAccount: 'x' } }), [
      'options.accounts.findAccount must be a function',
    ]);
  });

  it('a store must be a store', () => {
    for (const store of [{}, { adapter() {} }, 'redis://localhost', null]) {
      assertProblemStartingWith(
        { ...valid(), store },
        'options.store must be a store (an object with adapter, takeUse',
      );
    }
    assert.doesNotThrow(() => resolveOptions({ ...valid(), store: new MemoryStore() }));
  });

  it('cookie keys are at least 32 characters', () => {
    assertProblem(
      { ...valid(), cookieKeys: ['x'.repeat(31)] },
      'options.cookieKeys[0] must NOT have fewer than 32 characters',
    );
    assertProblem(
      { ...valid(), cookieKeys: ['x'.repeat(32), 'short'] },
      'options.cookieKeys[1] must NOT have fewer than 32 characters',
    );
  });
});

describe('resolveOptions: the issuer', () => {
  it('an http issuer is refused without development', () => {
    assert.deepEqual(problems({ ...valid(), issuer: 'http://login.example.com' }), [
      'options.issuer must use https (http is allowed only with options.development)',
    ]);
  });

  for (const issuer of ['https://login.example.com/#x', 'https://login.example.com/?a=b']) {
    it(`an issuer with a query or fragment is refused: ${issuer}`, () => {
      assert.deepEqual(problems({ ...valid(), issuer }), [
        'options.issuer must not have a query or fragment',
      ]);
    });
  }

  for (const issuer of ['https://login.example.com/#', 'https://login.example.com/?']) {
    it(`an issuer with an empty query or fragment is refused too (RFC 8414 §2): ${issuer}`, () => {
      assertProblem({ ...valid(), issuer }, 'options.issuer must not have a query or fragment');
    });
  }

  for (const issuer of ['login.example.com', 'ftp://login.example.com', '/oidc']) {
    it(`a non-http(s)-URL issuer is refused: ${issuer}`, () => {
      assert.deepEqual(problems({ ...valid(), issuer }), [
        'options.issuer must be an absolute http(s) URL',
      ]);
    });
  }

  it('an issuer that is not a string is refused by path', () => {
    assertProblemStartingWith({ ...valid(), issuer: 42 }, 'options.issuer must be string');
  });

  it('an https issuer with a path prefix is accepted', () => {
    const issuer = 'https://login.example.com/oidc';
    assert.equal(resolveOptions({ ...valid(), issuer }).issuer, issuer);
  });
});

describe('resolveOptions: development mode and keys', () => {
  it('development allows an http issuer and no jwks or cookieKeys', () => {
    const { jwks: _jwks, cookieKeys: _cookieKeys, ...keyless } = valid();
    const o = resolveOptions({ ...keyless, issuer: 'http://localhost:3000', development: true });
    assert.equal(o.development, true);
    assert.equal(o.jwks, undefined);
    assert.equal(o.cookieKeys, undefined);
  });

  it('without development, jwks and cookieKeys are required', () => {
    const { jwks: _jwks, cookieKeys: _cookieKeys, ...keyless } = valid();
    assert.deepEqual(problems(keyless), [
      'options.jwks is required (generated keys only with options.development)',
      'options.cookieKeys is required (generated keys only with options.development)',
    ]);
    const { jwks: _j, ...noJwks } = valid();
    assert.deepEqual(problems(noJwks), [
      'options.jwks is required (generated keys only with options.development)',
    ]);
    const { cookieKeys: _c, ...noCookieKeys } = valid();
    assert.deepEqual(problems(noCookieKeys), [
      'options.cookieKeys is required (generated keys only with options.development)',
    ]);
  });
});

describe('resolveOptions: scopes and clients', () => {
  it('scopes may not include the dcr scope', () => {
    assert.deepEqual(problems({ ...valid(), scopes: ['openid', 'dcr'] }), [
      "options.scopes must not include the DCR token scope 'dcr'",
    ]);
    assertProblem(
      {
        ...valid(),
        scopes: ['openid', 'register'],
        registration: { dcrToken: { scope: 'register' } },
      },
      "options.scopes must not include the DCR token scope 'register'",
    );
  });

  it('instance allowedScopes must be among the scopes', () => {
    assert.deepEqual(
      problems({
        ...valid(),
        registration: { instances: { allowedScopes: ['openid', 'admin'] } },
      }),
      ["options.registration.instances.allowedScopes[1] 'admin' is not in options.scopes"],
    );
  });

  it('a static client may not have the dcr scope', () => {
    assert.deepEqual(
      problems({
        ...valid(),
        clients: [
          {
            client_id: 'web',
            client_secret: 's',
            redirect_uris: ['https://a.example/cb'],
            scope: 'openid dcr',
          },
        ],
      }),
      ["options.clients[0].scope must not include 'dcr': only registration clients may obtain it"],
    );
  });

  it('client ids are unique across registrationClients and clients', () => {
    assert.deepEqual(
      problems({
        ...valid(),
        registrationClients: [{ client_id: 'app', redirect_uris: ['com.example.app:/cb'] }],
        clients: [
          { client_id: 'app', client_secret: 's', redirect_uris: ['https://a.example/cb'] },
        ],
      }),
      ["options.clients[0].client_id 'app' is used by another client"],
    );
  });

  it('a registration client redirect URI must follow RFC 8252: http://example.com/cb', () => {
    assertProblemStartingWith(
      {
        ...valid(),
        registrationClients: [{ client_id: 'app', redirect_uris: ['http://example.com/cb'] }],
      },
      "options.registrationClients[0].redirect_uris 'http://example.com/cb' may use http only",
    );
  });

  it('a registration client with native redirect URIs is accepted', () => {
    const registrationClients = [
      { client_id: 'app', redirect_uris: ['com.example.app:/cb', 'http://127.0.0.1/cb'] },
    ];
    assert.deepEqual(
      resolveOptions({ ...valid(), registrationClients }).registrationClients,
      registrationClients,
    );
  });

  it('a resource server must be a known client', () => {
    assert.deepEqual(problems({ ...valid(), introspection: { resourceServers: ['api'] } }), [
      "options.introspection.resourceServers[0] 'api' is not in options.clients",
    ]);
  });

  it('a resource server must be a confidential client', () => {
    assert.deepEqual(
      problems({
        ...valid(),
        clients: [
          {
            client_id: 'api',
            token_endpoint_auth_method: 'none',
            redirect_uris: ['https://a.example/cb'],
          },
        ],
        introspection: { resourceServers: ['api'] },
      }),
      ["options.introspection.resourceServers[0] 'api' must be a confidential client"],
    );
  });

  it('a confidential resource server is accepted', () => {
    const o = resolveOptions({
      ...valid(),
      clients: [{ client_id: 'api', client_secret: 's', redirect_uris: [] }],
      introspection: { resourceServers: ['api'] },
    });
    assert.deepEqual(o.introspection.resourceServers, ['api']);
  });
});

describe('resolveOptions: the oidcProvider passthrough', () => {
  for (const [path, oidcProvider] of [
    ['pkce', { pkce: { required: () => false } }],
    ['features.registration', { features: { registration: { enabled: true } } }],
    ['adapter', { adapter: () => ({}) }],
    ['cookies.keys', { cookies: { keys: ['k'.repeat(32)] } }],
    ['ttl', { ttl: { AccessToken: 1 } }],
  ] as const) {
    it(`oidcProvider.${path} cannot be set`, () => {
      const found = problems({ ...valid(), oidcProvider });
      assert.equal(found.length, 1, found.join('\n'));
      assert.ok(found[0]?.startsWith(`options.oidcProvider.${path} cannot be set`), found[0]);
    });
  }

  it('a locked setting is refused in a null-prototype oidcProvider object too', () => {
    const oidcProvider = Object.assign(Object.create(null) as Record<string, unknown>, {
      pkce: { required: () => false },
    });
    assertProblemStartingWith(
      { ...valid(), oidcProvider },
      'options.oidcProvider.pkce cannot be set',
    );
  });

  it('oidcProvider.features.dPoP and oidcProvider.routes are accepted', () => {
    const o = resolveOptions({
      ...valid(),
      oidcProvider: {
        features: { dPoP: { enabled: true } },
        routes: { registration: '/register' },
      },
    });
    assert.deepEqual(o.oidcProvider.features?.dPoP, { enabled: true });
    assert.equal(o.oidcProvider.routes?.registration, '/register');
  });

  // Everything not on the allow-list is refused by its full dotted path: settings that admit
  // clients past the registration rules, weaken security, or that oidc-provider adds later.
  for (const [path, oidcProvider] of [
    [
      'features.clientIdMetadataDocument',
      { features: { clientIdMetadataDocument: { enabled: true } } },
    ],
    ['features.attestClientAuth', { features: { attestClientAuth: { enabled: true } } }],
    ['features.deviceFlow', { features: { deviceFlow: { enabled: true } } }],
    ['features.ciba', { features: { ciba: { enabled: true } } }],
    ['features.fapi', { features: { fapi: { enabled: true, profile: '2.0' } } }],
    ['features.claimsParameter', { features: { claimsParameter: { enabled: true } } }],
    ['features.madeUpFeature', { features: { madeUpFeature: { enabled: true } } }],
    ['features.dPoP.allowReplay', { features: { dPoP: { allowReplay: true } } }],
    [
      'features.pushedAuthorizationRequests.allowUnregisteredRedirectUris',
      { features: { pushedAuthorizationRequests: { allowUnregisteredRedirectUris: true } } },
    ],
    ['features.rpInitiatedLogout.enabled', { features: { rpInitiatedLogout: { enabled: false } } }],
    ['clientAuthMethods', { clientAuthMethods: ['none'] }],
    ['loadExistingGrant', { loadExistingGrant: async () => undefined }],
    ['acceptQueryParamAccessTokens', { acceptQueryParamAccessTokens: true }],
    ['expiresWithSession', { expiresWithSession: async () => false }],
    ['enableHttpPostMethods', { enableHttpPostMethods: true }],
    ['cookies.long.httpOnly', { cookies: { long: { httpOnly: false } } }],
    ['cookies.short.sameSite', { cookies: { short: { sameSite: 'none' } } }],
    ['cookies.long.maxAge', { cookies: { long: { maxAge: 1000 } } }],
    ['clientBasedCORS', { clientBasedCORS: () => true }],
    ['aMadeUpSetting', { aMadeUpSetting: true }],
  ] as const) {
    it(`oidcProvider.${path} is not an allowed passthrough setting`, () => {
      const found = problems({ ...valid(), oidcProvider });
      assert.equal(found.length, 1, found.join('\n'));
      assert.ok(
        found[0]?.startsWith(
          `options.oidcProvider.${path} is not an allowed passthrough setting: `,
        ),
        found[0],
      );
    });
  }

  it('names the reason for a refused setting, or the allow-list in general', () => {
    assert.deepEqual(
      problems({
        ...valid(),
        oidcProvider: {
          acceptQueryParamAccessTokens: true,
          features: { deviceFlow: { enabled: true }, pkce: {} },
          cookies: { long: { httpOnly: false, maxAge: 1000 } },
        },
      }),
      [
        'options.oidcProvider.acceptQueryParamAccessTokens is not an allowed passthrough setting: bearer tokens never travel in URLs (RFC 6750 §5.3)',
        'options.oidcProvider.features.deviceFlow is not an allowed passthrough setting: only settings that can neither admit clients nor weaken security pass through (see the documentation of options.oidcProvider)',
        'options.oidcProvider.features.pkce is not an allowed passthrough setting: only settings that can neither admit clients nor weaken security pass through (see the documentation of options.oidcProvider)',
        'options.oidcProvider.cookies.long.httpOnly is not an allowed passthrough setting: the session and interaction cookies keep the attributes oidc-provider gives them (httpOnly, sameSite=lax)',
        'options.oidcProvider.cookies.long.maxAge is not an allowed passthrough setting: oidc-provider ignores it (the session cookie lasts as long as options.ttl.session)',
      ],
    );
  });

  it('a refused setting is found in null-prototype objects at any depth', () => {
    const features = Object.assign(Object.create(null) as Record<string, unknown>, {
      deviceFlow: { enabled: true },
    });
    const oidcProvider = Object.assign(Object.create(null) as Record<string, unknown>, {
      features,
    });
    assert.deepEqual(
      problems({ ...valid(), oidcProvider }).map((p) => p.split(':')[0]),
      ['options.oidcProvider.features.deviceFlow is not an allowed passthrough setting'],
    );
  });

  it('refuses a class instance where the allow-list looks inside an object', () => {
    // Its prototype's getters would reach oidc-provider unchecked.
    class Features {
      get deviceFlow() {
        return { enabled: true };
      }
    }
    class Passthrough {
      features = {};
    }
    assert.deepEqual(problems({ ...valid(), oidcProvider: { features: new Features() } }), [
      'options.oidcProvider.features must be a plain object',
    ]);
    assert.deepEqual(problems({ ...valid(), oidcProvider: new Passthrough() }), [
      'options.oidcProvider must be a plain object',
    ]);
  });

  it('checks the values the library relies on', () => {
    assert.deepEqual(
      problems({
        ...valid(),
        oidcProvider: {
          routes: { registration: '//evil.example/reg', token: 42 },
          renderError: '<html>',
          features: {
            dPoP: { enabled: false },
            clientCredentials: { enabled: 'yes' },
            userinfo: { enabled: 1 },
            rpInitiatedLogout: { logoutSource: 'page' },
          },
        },
      }),
      [
        "options.oidcProvider.routes.registration must be a path starting with a single '/'",
        "options.oidcProvider.routes.token must be a path starting with a single '/'",
        'options.oidcProvider.renderError must be a function',
        'options.oidcProvider.features.dPoP.enabled must be true: with DPoP off oidc-provider drops the dpop_bound_access_tokens templates and instances ask for',
        'options.oidcProvider.features.clientCredentials.enabled must be a boolean',
        'options.oidcProvider.features.userinfo.enabled must be a boolean',
        'options.oidcProvider.features.rpInitiatedLogout.logoutSource must be a function',
      ],
    );
  });

  it('an undefined setting changes nothing and is not refused', () => {
    resolveOptions({ ...valid(), oidcProvider: { pkce: undefined, features: undefined } });
  });

  const page = async () => 'page';
  for (const [path, oidcProvider] of [
    ['routes.registration', { routes: { registration: '/register' } }],
    ['discovery.service_documentation', { discovery: { service_documentation: 'https://d.test' } }],
    ['renderError', { renderError: async () => undefined }],
    ['extraParams', { extraParams: ['ui_hint'] }],
    ['acrValues', { acrValues: ['urn:mace:incommon:iap:silver'] }],
    ['conformIdTokenClaims', { conformIdTokenClaims: false }],
    ['cookies.names.session', { cookies: { names: { session: '__Host-session' } } }],
    ['features.dPoP.enabled', { features: { dPoP: { enabled: true } } }],
    ['features.dPoP.nonceSecret', { features: { dPoP: { nonceSecret: Buffer.alloc(32, 1) } } }],
    ['features.dPoP.requireNonce', { features: { dPoP: { requireNonce: () => true } } }],
    [
      'features.pushedAuthorizationRequests',
      {
        features: {
          pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: true },
        },
      },
    ],
    ['features.userinfo.enabled', { features: { userinfo: { enabled: false } } }],
    ['features.jwtUserinfo.enabled', { features: { jwtUserinfo: { enabled: true } } }],
    ['features.jwtIntrospection.enabled', { features: { jwtIntrospection: { enabled: true } } }],
    ['features.jwtResponseModes.enabled', { features: { jwtResponseModes: { enabled: true } } }],
    ['features.encryption.enabled', { features: { encryption: { enabled: true } } }],
    ['features.backchannelLogout.enabled', { features: { backchannelLogout: { enabled: true } } }],
    [
      'features.rpInitiatedLogout.logoutSource',
      { features: { rpInitiatedLogout: { logoutSource: page } } },
    ],
    [
      'features.rpInitiatedLogout.postLogoutSuccessSource',
      { features: { rpInitiatedLogout: { postLogoutSuccessSource: page } } },
    ],
    ['features.clientCredentials.enabled', { features: { clientCredentials: { enabled: true } } }],
  ] as const) {
    it(`oidcProvider.${path} is an allowed passthrough setting`, () => {
      const o = resolveOptions({ ...valid(), oidcProvider } as AuthServerOptions);
      assert.deepEqual(o.oidcProvider, oidcProvider);
    });
  }
});

describe('resolveOptions: several problems', () => {
  it('reports every schema problem at once', () => {
    const found = problems({
      ...valid(),
      ttl: { accessToken: 0 },
      registration: { dcrToken: { ttl: 4000 } },
      accounts: { authenticate },
      bogus: true,
    });
    for (const expected of [
      'options.ttl.accessToken must be a positive integer',
      'options.registration.dcrToken.ttl must be a positive integer no greater than 3600',
      'options.accounts.findAccount is required',
      'options.bogus is not a known option',
    ]) {
      assert.ok(found.includes(expected), `expected "${expected}" among:\n${found.join('\n')}`);
    }
  });

  it('reports every cross-option problem at once', () => {
    const { jwks: _jwks, ...noJwks } = valid();
    const found = problems({
      ...noJwks,
      issuer: 'http://login.example.com',
      scopes: ['openid', 'dcr'],
      introspection: { resourceServers: ['api'] },
      oidcProvider: { pkce: {} },
    });
    assert.deepEqual(found, [
      'options.issuer must use https (http is allowed only with options.development)',
      'options.jwks is required (generated keys only with options.development)',
      "options.scopes must not include the DCR token scope 'dcr'",
      "options.introspection.resourceServers[0] 'api' is not in options.clients",
      'options.oidcProvider.pkce cannot be set: PKCE S256 is required for every client',
    ]);
  });

  it('reports schema and cross-option problems together', () => {
    // resolveOptions promises to name every offending path.
    const found = problems({
      ...valid(),
      issuer: 'http://login.example.com',
      ttl: { accessToken: 0 },
    });
    assert.ok(found.includes('options.ttl.accessToken must be a positive integer'));
    assert.ok(
      found.includes(
        'options.issuer must use https (http is allowed only with options.development)',
      ),
      found.join('\n'),
    );
  });

  it('createAuthServer fails fast with the same error', async () => {
    await assert.rejects(
      createAuthServer({ ...valid(), registration: { dcrToken: { maxUses: 0 } } }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigurationError);
        assert.deepEqual(error.problems, [
          'options.registration.dcrToken.maxUses must be a positive integer',
        ]);
        return true;
      },
    );
  });
});

/** A template that passes every rule; `overrides` replace its top-level fields. */
function template(overrides: Partial<Template> = {}): Template {
  return {
    software_id: 'com.example.app',
    client: { redirect_uris: ['com.example.app:/cb'] },
    ...overrides,
  };
}

/** A static client that may be an admin client. */
function adminClient(overrides: Partial<ClientMetadata> = {}): ClientMetadata {
  return {
    client_id: 'ops',
    client_secret: 's'.repeat(32),
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['client_credentials'],
    scope: 'devices:admin',
    redirect_uris: [],
    ...overrides,
  };
}

describe('resolveOptions: registration templates', () => {
  it('accepts templates and fills their defaults', () => {
    const o = resolveOptions({
      ...valid(),
      registration: {
        templates: [
          template(),
          template({
            software_id: 'com.example.other',
            client: {
              redirect_uris: ['com.example.other:/cb', 'https://app.example.com/cb'],
              scope: 'openid profile',
              client_name: 'Other',
            },
            instanceFields: ['client_name', 'scope', 'redirect_uris'],
            disabled: true,
            minimumSoftwareVersion: '2.4',
            allowedScopes: ['openid'],
            allowedRedirectSchemes: ['com.example.other'],
            ttl: { accessToken: 300, refreshToken: 86400 },
          }),
        ],
      },
    });
    const [first, second] = o.registration.templates;
    assert.equal(first?.software_id, 'com.example.app');
    assert.deepEqual(first?.instanceFields, ['client_name', 'software_version']);
    assert.equal(first?.disabled, false);
    assert.deepEqual(first?.client.redirect_uris, ['com.example.app:/cb']);
    assert.deepEqual(second?.instanceFields, ['client_name', 'scope', 'redirect_uris']);
    assert.equal(second?.disabled, true);
    assert.equal(second?.minimumSoftwareVersion, '2.4');
    assert.deepEqual(second?.allowedScopes, ['openid']);
    assert.deepEqual(second?.allowedRedirectSchemes, ['com.example.other']);
    assert.deepEqual(second?.ttl, { accessToken: 300, refreshToken: 86400 });
    assert.equal(o.registration.templatesOnly, false);
  });

  it('defaults to no templates, no resolver and not templatesOnly', () => {
    const o = resolveOptions(valid());
    assert.deepEqual(o.registration.templates, []);
    assert.equal(o.registration.templateResolver, undefined);
    assert.equal(o.registration.templatesOnly, false);
    assert.equal(o.registration.maxInstancesPerAccount, undefined);
    assert.equal(o.registration.rateLimit, undefined);
  });

  it('refuses a software_id used by another template', () => {
    assert.deepEqual(
      problems({ ...valid(), registration: { templates: [template(), template()] } }),
      [
        "options.registration.templates[1].software_id 'com.example.app' is used by another template",
      ],
    );
  });

  it('refuses a template client that breaks the instance redirect URI rules', () => {
    assert.deepEqual(
      problems({
        ...valid(),
        registration: {
          templates: [template({ client: { redirect_uris: ['http://example.com/cb'] } })],
        },
      }),
      [
        "options.registration.templates[0].client redirect_uris 'http://example.com/cb' may use http only for the loopback addresses 127.0.0.1 and [::1] (RFC 8252 §7.3)",
      ],
    );
  });

  it('refuses a template client scope outside instances.allowedScopes', () => {
    assert.deepEqual(
      problems({
        ...valid(),
        registration: {
          templates: [
            template({ client: { redirect_uris: ['com.example.app:/cb'], scope: 'openid admin' } }),
          ],
        },
      }),
      [
        "options.registration.templates[0].client scope 'admin' is not allowed for instance clients",
      ],
    );
  });

  it('refuses private_key_jwt without jwks in instanceFields', () => {
    assertProblem(
      {
        ...valid(),
        registration: {
          templates: [
            template({
              client: {
                redirect_uris: ['com.example.app:/cb'],
                token_endpoint_auth_method: 'private_key_jwt',
              },
            }),
          ],
        },
      },
      "options.registration.templates[0].instanceFields must include 'jwks' with private_key_jwt",
    );
  });

  it('refuses jwks in instanceFields without private_key_jwt, unless the template allows approvals', () => {
    assert.deepEqual(
      problems({
        ...valid(),
        registration: { templates: [template({ instanceFields: ['client_name', 'jwks'] })] },
      }),
      [
        "options.registration.templates[0].instanceFields may include 'jwks' only with private_key_jwt or approvals",
      ],
    );
    // The key an install signs phone approvals with (lib/phone-approval).
    resolveOptions({
      ...valid(),
      registration: {
        templates: [template({ instanceFields: ['client_name', 'jwks'], approvals: true })],
      },
    });
  });

  // Fails today: templateProblems (lib/registration/templates.ts:47) runs applyInstanceRules on
  // the template client, whose checkAuthMethod requires client.jwks for private_key_jwt, but the
  // template schema does not allow jwks in a template client (each instance brings its own key).
  it('accepts a private_key_jwt template whose instances bring their jwks', () => {
    const o = resolveOptions({
      ...valid(),
      registration: {
        templates: [
          template({
            client: {
              redirect_uris: ['com.example.app:/cb'],
              token_endpoint_auth_method: 'private_key_jwt',
            },
            instanceFields: ['client_name', 'jwks'],
          }),
        ],
      },
    });
    assert.equal(o.registration.templates[0]?.client.token_endpoint_auth_method, 'private_key_jwt');
  });

  it('refuses templatesOnly without templates or a resolver', () => {
    assert.deepEqual(problems({ ...valid(), registration: { templatesOnly: true } }), [
      'options.registration.templatesOnly needs options.registration.templates or a templateResolver',
    ]);
  });

  it('accepts templatesOnly with templates, or with a resolver', () => {
    const templateResolver = () => undefined;
    const withResolver = resolveOptions({
      ...valid(),
      registration: { templatesOnly: true, templateResolver },
    });
    assert.equal(withResolver.registration.templatesOnly, true);
    assert.equal(withResolver.registration.templateResolver, templateResolver);
    const withTemplates = resolveOptions({
      ...valid(),
      registration: { templatesOnly: true, templates: [template()] },
    });
    assert.equal(withTemplates.registration.templates.length, 1);
  });

  it('refuses a templateResolver that is not a function', () => {
    assert.deepEqual(problems({ ...valid(), registration: { templateResolver: 'db' } }), [
      'options.registration.templateResolver must be a function',
    ]);
  });
});

describe('resolveOptions: instance limits and rate limits', () => {
  it('accepts maxInstancesPerAccount, onLimit defaulting to reject', () => {
    const o = resolveOptions({ ...valid(), registration: { maxInstancesPerAccount: { max: 3 } } });
    assert.deepEqual(o.registration.maxInstancesPerAccount, { max: 3, onLimit: 'reject' });
    const revoking = resolveOptions({
      ...valid(),
      registration: { maxInstancesPerAccount: { max: 1, onLimit: 'revoke-oldest' } },
    });
    assert.deepEqual(revoking.registration.maxInstancesPerAccount, {
      max: 1,
      onLimit: 'revoke-oldest',
    });
  });

  it('refuses a bad maxInstancesPerAccount', () => {
    assert.deepEqual(
      problems({
        ...valid(),
        registration: { maxInstancesPerAccount: { max: 3, onLimit: 'evict' } },
      }),
      ['options.registration.maxInstancesPerAccount.onLimit must be one of reject, revoke-oldest'],
    );
    assertProblem(
      { ...valid(), registration: { maxInstancesPerAccount: { max: 0 } } },
      'options.registration.maxInstancesPerAccount.max must be a positive integer',
    );
    assertProblem(
      { ...valid(), registration: { maxInstancesPerAccount: {} } },
      'options.registration.maxInstancesPerAccount.max is required',
    );
  });

  it('accepts rateLimit perAccount and perIp', () => {
    const rateLimit = {
      perAccount: { points: 10, duration: 3600 },
      perIp: { points: 5, duration: 60 },
    };
    const o = resolveOptions({ ...valid(), registration: { rateLimit } });
    assert.deepEqual(o.registration.rateLimit, rateLimit);
  });

  it('refuses a bad rateLimit window', () => {
    assertProblem(
      { ...valid(), registration: { rateLimit: { perIp: { points: 0, duration: 60 } } } },
      'options.registration.rateLimit.perIp.points must be a positive integer',
    );
    assertProblem(
      { ...valid(), registration: { rateLimit: { perAccount: { points: 5 } } } },
      'options.registration.rateLimit.perAccount.duration is required',
    );
    assertProblem(
      { ...valid(), registration: { rateLimit: { perClient: { points: 5, duration: 60 } } } },
      'options.registration.rateLimit.perClient is not a known option',
    );
  });

  it('accepts interactions.signInRateLimit windows, false to turn one off, and fills the other', () => {
    const o = resolveOptions({
      ...valid(),
      interactions: { signInRateLimit: { perAccount: { points: 3, duration: 60 }, perIp: false } },
    });
    assert.deepEqual(o.interactions.signInRateLimit, {
      perAccount: { points: 3, duration: 60 },
      perIp: false,
      perUsername: { points: 20, duration: 300 },
    });
    const onlyIp = resolveOptions({
      ...valid(),
      interactions: { signInRateLimit: { perAccount: false } },
    });
    assert.deepEqual(onlyIp.interactions.signInRateLimit, {
      perAccount: false,
      perIp: { points: 100, duration: 900 },
      perUsername: { points: 20, duration: 300 },
    });
  });

  it("names the forms an option of several allows, without its branches' type errors", () => {
    const options = {
      ...valid(),
      registration: { templates: [template({ approvals: 'yes' as never })] },
    };
    assertProblem(
      options,
      'options.registration.templates[0].approvals must be a boolean or an object',
    );
    assert.ok(
      !problems(options).some((p) => / must be (boolean|object)$/.test(p)),
      problems(options).join('\n'),
    );
  });

  it('refuses a bad interactions.signInRateLimit', () => {
    assertProblem(
      { ...valid(), interactions: { signInRateLimit: { perIp: { points: 0, duration: 60 } } } },
      'options.interactions.signInRateLimit.perIp.points must be a positive integer',
    );
    assertProblem(
      { ...valid(), interactions: { signInRateLimit: { perAccount: true } } },
      'options.interactions.signInRateLimit.perAccount must be a rate limit ({ points, duration }) or false',
    );
    assertProblem(
      { ...valid(), interactions: { signInRateLimit: { perUser: { points: 5, duration: 60 } } } },
      'options.interactions.signInRateLimit.perUser is not a known option',
    );
  });

  it('accepts instances.allowedRedirectSchemes', () => {
    const o = resolveOptions({
      ...valid(),
      registration: { instances: { allowedRedirectSchemes: ['com.example.app', 'https'] } },
    });
    assert.deepEqual(o.registration.instances.allowedRedirectSchemes, ['com.example.app', 'https']);
  });
});

describe('resolveOptions: devices', () => {
  it('fills the device defaults', () => {
    assert.deepEqual(resolveOptions(valid()).instances, {
      adminClients: [],
      adminScope: 'devices:admin',
      keepRevokedFor: 2592000,
    });
  });

  it('accepts an admin client, an admin secret and a self-service scope', () => {
    const o = resolveOptions({
      ...valid(),
      scopes: ['openid', 'devices'],
      clients: [adminClient()],
      devices: {
        adminClients: ['ops'],
        adminSecret: 'a'.repeat(32),
        selfServiceScope: 'devices',
        keepRevokedFor: 86400,
      },
    });
    assert.deepEqual(o.instances, {
      adminClients: ['ops'],
      adminScope: 'devices:admin',
      adminSecret: 'a'.repeat(32),
      selfServiceScope: 'devices',
      keepRevokedFor: 86400,
    });
  });

  it('accepts a custom adminScope on a private_key_jwt admin client', () => {
    const o = resolveOptions({
      ...valid(),
      clients: [
        adminClient({
          token_endpoint_auth_method: 'private_key_jwt',
          client_secret: undefined,
          scope: 'ops:admin',
        }),
      ],
      devices: { adminClients: ['ops'], adminScope: 'ops:admin' },
    });
    assert.equal(o.instances.adminScope, 'ops:admin');
  });

  it('refuses the admin scope in options.scopes', () => {
    assert.deepEqual(problems({ ...valid(), scopes: ['openid', 'devices:admin'] }), [
      "options.scopes must not include the admin scope 'devices:admin'",
    ]);
  });

  it('refuses an admin client that is not in options.clients', () => {
    assert.deepEqual(problems({ ...valid(), devices: { adminClients: ['ops'] } }), [
      "options.devices.adminClients[0] 'ops' is not in options.clients",
    ]);
  });

  it('refuses an admin client without client_credentials, the admin scope or a secret', () => {
    assert.deepEqual(
      problems({
        ...valid(),
        clients: [
          adminClient({
            token_endpoint_auth_method: 'none',
            grant_types: ['authorization_code'],
            scope: 'openid',
          }),
        ],
        devices: { adminClients: ['ops'] },
      }),
      [
        "options.devices.adminClients[0] 'ops' must have the client_credentials grant type",
        "options.devices.adminClients[0] 'ops' must have the scope 'devices:admin'",
        "options.devices.adminClients[0] 'ops' must be a confidential client",
      ],
    );
  });

  // Fails today: deviceOptionProblems (lib/options/validate.ts:308) calls a client without
  // token_endpoint_auth_method public, but oidc-provider's default is client_secret_basic (and
  // the introspection check at validate.ts:256 treats only 'none' as public).
  it("accepts an admin client with a client_secret and oidc-provider's default auth method", () => {
    const o = resolveOptions({
      ...valid(),
      clients: [adminClient({ token_endpoint_auth_method: undefined })],
      devices: { adminClients: ['ops'] },
    });
    assert.deepEqual(o.instances.adminClients, ['ops']);
  });

  it('refuses the admin scope on a client that is not an admin client', () => {
    assert.deepEqual(
      problems({
        ...valid(),
        clients: [adminClient(), adminClient({ client_id: 'web', scope: 'openid devices:admin' })],
        devices: { adminClients: ['ops'] },
      }),
      [
        "options.clients[1].scope must not include 'devices:admin': only admin clients may obtain it",
      ],
    );
  });

  it('refuses a selfServiceScope that is not in options.scopes', () => {
    assert.deepEqual(problems({ ...valid(), devices: { selfServiceScope: 'devices' } }), [
      "options.devices.selfServiceScope 'devices' is not in options.scopes",
    ]);
  });

  it('refuses an adminSecret shorter than 32 characters, and bad device settings', () => {
    assert.deepEqual(problems({ ...valid(), devices: { adminSecret: 'a'.repeat(31) } }), [
      'options.devices.adminSecret must NOT have fewer than 32 characters',
    ]);
    assertProblem(
      { ...valid(), devices: { keepRevokedFor: 0 } },
      'options.devices.keepRevokedFor must be a positive integer',
    );
    assertProblem(
      { ...valid(), devices: { adminScope: 'devices admin' } },
      'options.devices.adminScope must be a valid scope token (RFC 6749 §3.3)',
    );
    assertProblem(
      { ...valid(), devices: { admins: ['ops'] } },
      'options.devices.admins is not a known option',
    );
  });
});

describe('resolveOptions: a store has the whole Store interface', () => {
  // A store missing a method would otherwise be accepted and fail only when a request needs it.
  it('refuses a store without removeFromIndex, consumeRate, raiseCounter, claim, claimHolder or replaceClaim', () => {
    const full = new MemoryStore();
    const methods = {
      adapter: full.adapter.bind(full),
      takeUse: full.takeUse.bind(full),
      returnUse: full.returnUse.bind(full),
      addToIndex: full.addToIndex.bind(full),
      removeFromIndex: full.removeFromIndex.bind(full),
      readIndex: full.readIndex.bind(full),
      deleteIndex: full.deleteIndex.bind(full),
      consumeRate: full.consumeRate.bind(full),
      raiseCounter: full.raiseCounter.bind(full),
      claim: full.claim.bind(full),
      claimHolder: full.claimHolder.bind(full),
      replaceClaim: full.replaceClaim.bind(full),
      close: full.close.bind(full),
    };
    const missings = [
      'removeFromIndex',
      'consumeRate',
      'raiseCounter',
      'claim',
      'claimHolder',
      'replaceClaim',
    ];
    for (const missing of missings as (keyof typeof methods)[]) {
      const { [missing]: _left, ...store } = methods;
      assertProblemStartingWith({ ...valid(), store }, 'options.store must be a store');
    }
    assert.doesNotThrow(() => resolveOptions({ ...valid(), store: methods }));
  });
});

describe('resolveOptions: attestation, fallback clients, assurance and mTLS', () => {
  const fallbackClient: ClientMetadata = {
    client_id: 'fallback',
    client_secret: 's'.repeat(32),
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
  };
  const fallbackTemplate = (extra: Partial<Template> = {}): Template => ({
    software_id: 'app',
    client: { redirect_uris: ['com.example.app:/cb'] },
    fallbackClients: ['fallback'],
    ...extra,
  });
  const verifier = async () => ({
    platform: 'test',
    appId: 'app',
    binding: 'client-data' as const,
  });

  it('fills the attestation and assurance defaults; fallback clients default to those templates name', () => {
    const o = resolveOptions({
      ...valid(),
      clients: [fallbackClient],
      registration: { templates: [fallbackTemplate()] },
    });
    assert.deepEqual(o.attestation.verifiers, {});
    assert.deepEqual(o.attestation.challenge, {
      path: '/attestation/challenge',
      ttl: 300,
      rateLimit: { points: 60, duration: 60 },
    });
    assert.deepEqual(o.assurance.minimumLevels, {});
    assert.deepEqual(o.registration.fallbackClients, ['fallback']);
    assert.equal(o.mtls, undefined);
  });

  it('refuses a fallback client that is missing, public, without client_credentials, or mTLS without options.mtls', () => {
    assert.deepEqual(
      problems({
        ...valid(),
        clients: [
          { ...fallbackClient, client_id: 'public', token_endpoint_auth_method: 'none' },
          { ...fallbackClient, client_id: 'code-only', grant_types: ['authorization_code'] },
          {
            ...fallbackClient,
            client_id: 'cert',
            token_endpoint_auth_method: 'tls_client_auth',
            tls_client_auth_subject_dn: 'CN=x',
          },
        ],
        registration: { fallbackClients: ['missing', 'public', 'code-only', 'cert'] },
      }),
      [
        "options.registration.fallbackClients[0] 'missing' is not in options.clients",
        "options.registration.fallbackClients[1] 'public' must be a confidential client",
        "options.registration.fallbackClients[2] 'code-only' must have the client_credentials grant type",
        "options.registration.fallbackClients[3] 'cert' authenticates with tls_client_auth, which needs options.mtls",
      ],
    );
  });

  it('refuses a template naming a client outside registration.fallbackClients', () => {
    assert.deepEqual(
      problems({
        ...valid(),
        clients: [fallbackClient],
        registration: { fallbackClients: [], templates: [fallbackTemplate()] },
      }),
      [
        "options.registration.templates[0].fallbackClients[0] 'fallback' is not in options.registration.fallbackClients",
      ],
    );
  });

  it('refuses an attestation template without a verifier for its format, or without private_key_jwt', () => {
    assert.deepEqual(
      problems({
        ...valid(),
        registration: {
          templates: [
            {
              software_id: 'app',
              client: { redirect_uris: ['com.example.app:/cb'] },
              attestation: { formats: ['apple-appattest'] },
            },
          ],
        },
      }),
      [
        "options.registration.templates[0].attestation needs client.token_endpoint_auth_method 'private_key_jwt': evidence is bound to the key each instance registers",
        "options.registration.templates[0].attestation.formats[0] 'apple-appattest' needs options.registration.templates[0].attestation.appleAppAttest",
      ],
    );
  });

  it('a built-in format needs its settings on the template, unless a custom verifier takes the name', () => {
    const attested = (attestation: Template['attestation']): Template => ({
      software_id: 'app',
      client: {
        redirect_uris: ['com.example.app:/cb'],
        token_endpoint_auth_method: 'private_key_jwt',
      },
      instanceFields: ['jwks'],
      attestation,
    });
    assert.deepEqual(
      problems({
        ...valid(),
        registration: { templates: [attested({ formats: ['android-key'] })] },
      }),
      [
        "options.registration.templates[0].attestation.formats[0] 'android-key' needs options.registration.templates[0].attestation.androidKey",
      ],
    );
    resolveOptions({
      ...valid(),
      registration: {
        templates: [
          attested({
            formats: ['android-key', 'apple-appattest', 'play-integrity'],
            androidKey: { packageNames: ['io.example.app'], signingCertDigests: ['ab'.repeat(32)] },
            appleAppAttest: { appId: 'TEAMID1234.io.example.app' },
            playIntegrity: {
              packageName: 'io.example.app',
              certificateSha256Digests: ['ab'.repeat(32)],
              decryptionKey: 'AAAA',
              verificationKey: 'AAAA',
            },
          }),
        ],
      },
    });
    resolveOptions({
      ...valid(),
      attestation: { verifiers: { 'android-key': verifier } },
      registration: { templates: [attested({ formats: ['android-key'] })] },
    });
    assert.deepEqual(
      problems({
        ...valid(),
        registration: {
          templates: [
            attested({ formats: ['android-key'], androidKey: { packageNames: [] } } as never),
          ],
        },
      }),
      [
        'options.registration.templates[0].attestation.androidKey.signingCertDigests is required',
        'options.registration.templates[0].attestation.androidKey.packageNames must NOT have fewer than 1 items',
      ],
    );
  });

  it('accepts an attestation template with its verifier, and fills attestation.user', () => {
    const o = resolveOptions({
      ...valid(),
      attestation: { verifiers: { 'test-ca': verifier } },
      registration: {
        templates: [
          {
            software_id: 'app',
            client: {
              redirect_uris: ['com.example.app:/cb'],
              token_endpoint_auth_method: 'private_key_jwt',
            },
            instanceFields: ['jwks'],
            attestation: { formats: ['test-ca'] },
          },
        ],
      },
    });
    assert.equal(o.registration.templates[0]?.attestation?.user, 'optional');
  });

  it('refuses a bad verifier map, challenge settings, minimum levels and mTLS headers', () => {
    assert.deepEqual(
      problems({
        ...valid(),
        attestation: {
          verifiers: { x: 'not a function' },
          challenge: { path: 'challenge', ttl: 0 },
        },
        assurance: { minimumLevels: { payments: 'high', openid: 'none' } },
      }),
      [
        'options.attestation.verifiers.x must be a function',
        "options.attestation.challenge.path must be a path starting with '/'",
        'options.attestation.challenge.ttl must be a positive integer no greater than 3600',
        'options.assurance.minimumLevels.payments must be one of none, by-provisioned-key, by-policy',
      ],
    );
    assert.deepEqual(
      problems({
        ...valid(),
        assurance: { minimumLevels: { payments: 'by-policy' } },
        mtls: { verifiedHeader: 'x-verify' },
      }),
      [
        'options.mtls.verifiedHeader needs options.mtls.certificateHeader',
        'options.assurance.minimumLevels.payments names a scope not in options.scopes',
      ],
    );
  });

  it('refuses features.mTLS through the passthrough', () => {
    assert.deepEqual(
      problems({ ...valid(), oidcProvider: { features: { mTLS: { enabled: true } } } }),
      ['options.oidcProvider.features.mTLS cannot be set: use options.mtls'],
    );
  });
});

describe('resolveOptions: apis (RFC 8707 resource servers)', () => {
  it('defaults to none, and fills accessTokenFormat jwt', () => {
    assert.deepEqual(resolveOptions(valid()).apis, []);
    const o = resolveOptions({
      ...valid(),
      apis: [{ resource: 'https://api.example.com/', scope: 'email' }],
    });
    assert.deepEqual(o.apis, [
      { resource: 'https://api.example.com/', scope: 'email', accessTokenFormat: 'jwt' },
    ]);
  });

  it('refuses a relative, fragment or http resource, a duplicate, and a scope outside options.scopes', () => {
    assert.deepEqual(
      problems({
        ...valid(),
        apis: [
          { resource: '/api', scope: 'email' },
          { resource: 'https://api.example.com/#x', scope: 'email' },
          { resource: 'http://api.example.com/', scope: 'email' },
          { resource: 'https://a.example.com/', scope: 'email payments' },
          { resource: 'https://a.example.com/', scope: 'email' },
        ],
      }),
      [
        'options.apis[0].resource must be an absolute URI without a fragment (RFC 8707 §2)',
        'options.apis[1].resource must be an absolute URI without a fragment (RFC 8707 §2)',
        'options.apis[2].resource must use https (http only with options.development)',
        "options.apis[3].scope 'payments' is not in options.scopes",
        "options.apis[4].resource 'https://a.example.com/' is listed twice",
      ],
    );
  });
});
