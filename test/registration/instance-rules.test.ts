// The built-in native-app rules for instance client metadata, one case per rule, each test
// naming the RFC section it checks: RFC 8252 (native apps), RFC 6749, RFC 9700 (security BCP),
// RFC 7591 (dynamic registration). Over HTTP they are exercised by instance-metadata.test.ts.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { RegistrationPolicyError } from '../../lib/core/errors.js';
import type { InstanceAuthMethod } from '../../lib/options/types.js';
import {
  applyInstanceRules,
  type InstanceRuleSettings,
  redirectUriProblem,
} from '../../lib/registration/instance-rules.js';

const SETTINGS: InstanceRuleSettings = {
  allowedScopes: ['openid', 'profile', 'offline_access'],
  authMethods: ['client_secret_basic', 'private_key_jwt'],
};

function withMethods(...authMethods: InstanceAuthMethod[]): InstanceRuleSettings {
  return { ...SETTINGS, authMethods };
}

/** Applies the rules to a copy of `metadata` and returns the result. */
function apply(metadata: Record<string, unknown>, settings = SETTINGS): Record<string, unknown> {
  const copy = structuredClone(metadata);
  applyInstanceRules(copy, settings);
  return copy;
}

/** The RegistrationPolicyError the rules throw for `metadata`; fails when they accept it. */
function refusal(metadata: Record<string, unknown>, settings = SETTINGS): RegistrationPolicyError {
  try {
    apply(metadata, settings);
  } catch (error) {
    assert.ok(error instanceof RegistrationPolicyError, String(error));
    return error;
  }
  assert.fail('the metadata was accepted');
}

function assertRefused(
  metadata: Record<string, unknown>,
  code: RegistrationPolicyError['code'],
  message: RegExp,
  settings = SETTINGS,
) {
  const error = refusal(metadata, settings);
  assert.equal(error.code, code, error.message);
  assert.match(error.message, message);
}

const base = { redirect_uris: ['com.example.app:/callback'] };

let ecPublic: JWK;
let ecPrivate: JWK;
before(async () => {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  ecPublic = { ...(await exportJWK(publicKey)), kid: 'k1' };
  ecPrivate = { ...(await exportJWK(privateKey)), kid: 'k1' };
});

describe('redirect URIs', () => {
  for (const [uri, rfc] of [
    ['com.example.app:/cb', 'RFC 8252 §7.1 private-use scheme'],
    ['io.example.app://callback', 'RFC 8252 §7.1 private-use scheme'],
    ['http://127.0.0.1:8080/cb', 'RFC 8252 §7.3 loopback'],
    ['http://127.0.0.1/cb', 'RFC 8252 §7.3 loopback'],
    ['http://[::1]:5000/cb', 'RFC 8252 §7.3 loopback'],
    ['https://app.example.com/cb', 'RFC 8252 §7.2 claimed https'],
  ] as const) {
    it(`${rfc}: accepts ${uri}`, () => {
      assert.equal(redirectUriProblem(uri), undefined);
      assert.deepEqual(apply({ redirect_uris: [uri] }).redirect_uris, [uri]);
    });
  }

  for (const [uri, rfc, reason] of [
    ['http://example.com/cb', 'RFC 8252 §7.3', /loopback/],
    ['http://localhost:8080/cb', 'RFC 8252 §8.3', /loopback/],
    ['myapp:/cb', 'RFC 8252 §7.1', /reverse-domain/],
    ['https://app.example.com/cb#frag', 'RFC 6749 §3.1.2', /fragment/],
    ['https://*.example.com/cb', 'RFC 9700 §4.1.1', /wildcard/],
    ['javascript:alert(1)', 'RFC 9700 §4.1.1', /javascript:/],
    ['data:text/html,x', 'RFC 9700 §4.1.1', /data:/],
    ['not-a-uri', 'RFC 6749 §3.1.2', /absolute URI/],
    [' com.example.app:/cb', 'RFC 3986 §2 (no whitespace)', /whitespace/],
    ['com.example.app:/cb\n', 'RFC 3986 §2 (no control characters)', /control characters/],
  ] as const) {
    it(`${rfc}: refuses ${uri} with invalid_redirect_uri`, () => {
      assert.match(redirectUriProblem(uri) ?? '(accepted)', reason);
      assertRefused(
        { redirect_uris: ['com.example.app:/ok', uri] },
        'invalid_redirect_uri',
        new RegExp(`^redirect_uris '${uri.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}' `),
      );
    });
  }

  it('RFC 7591 §2: refuses an empty redirect_uris list with invalid_redirect_uri', () => {
    assertRefused({ redirect_uris: [] }, 'invalid_redirect_uri', /^redirect_uris must list/);
  });

  it('RFC 7591 §2: refuses missing redirect_uris with invalid_redirect_uri', () => {
    assertRefused({ client_name: 'x' }, 'invalid_redirect_uri', /^redirect_uris must list/);
  });

  it('RFC 7591 §2: refuses redirect_uris that are not an array of strings', () => {
    assertRefused(
      { redirect_uris: 'com.example.app:/cb' },
      'invalid_client_metadata',
      /^redirect_uris must be an array of strings/,
    );
  });

  it('RFC 8252 §7.3: refuses a bad post_logout_redirect_uris entry with invalid_redirect_uri', () => {
    assertRefused(
      { ...base, post_logout_redirect_uris: ['http://example.com/out'] },
      'invalid_redirect_uri',
      /^post_logout_redirect_uris 'http:\/\/example\.com\/out' /,
    );
    assert.deepEqual(
      apply({ ...base, post_logout_redirect_uris: ['com.example.app:/out'] })
        .post_logout_redirect_uris,
      ['com.example.app:/out'],
    );
  });
});

describe('grant_types (RFC 9700 §2.1.2, §2.4)', () => {
  it('RFC 7591 §2: default to authorization_code and refresh_token', () => {
    assert.deepEqual(apply(base).grant_types, ['authorization_code', 'refresh_token']);
  });

  it('RFC 9700 §2.1.2: authorization_code alone is accepted', () => {
    assert.deepEqual(apply({ ...base, grant_types: ['authorization_code'] }).grant_types, [
      'authorization_code',
    ]);
  });

  for (const [grant, rfc] of [
    ['client_credentials', 'RFC 6749 §4.4'],
    ['implicit', 'RFC 9700 §2.1.2'],
    ['password', 'RFC 9700 §2.4'],
  ] as const) {
    it(`${rfc}: refuses the ${grant} grant, naming it`, () => {
      assertRefused(
        { ...base, grant_types: ['authorization_code', grant] },
        'invalid_client_metadata',
        new RegExp(`^grant_types '${grant}' is not allowed`),
      );
    });
  }

  it('RFC 9700 §2.1.2: grant_types must include authorization_code', () => {
    assertRefused(
      { ...base, grant_types: ['refresh_token'] },
      'invalid_client_metadata',
      /^grant_types must include 'authorization_code'/,
    );
  });
});

describe('response_types (RFC 9700 §2.1.2)', () => {
  it("RFC 7591 §2: default to ['code']", () => {
    assert.deepEqual(apply(base).response_types, ['code']);
  });

  for (const types of [['token'], ['code id_token'], ['code', 'token']]) {
    it(`RFC 9700 §2.1.2: refuses response_types ${JSON.stringify(types)}`, () => {
      assertRefused(
        { ...base, response_types: types },
        'invalid_client_metadata',
        /^response_types must be \['code'\]/,
      );
    });
  }
});

describe('token_endpoint_auth_method (RFC 7591 §2, RFC 8252 §8.5)', () => {
  it('RFC 7591 §2: defaults to the first of settings.authMethods', () => {
    assert.equal(apply(base).token_endpoint_auth_method, 'client_secret_basic');
    assert.equal(
      apply(
        { ...base, jwks: { keys: [ecPublic] } },
        withMethods('private_key_jwt', 'client_secret_basic'),
      ).token_endpoint_auth_method,
      'private_key_jwt',
    );
  });

  for (const method of ['none', 'client_secret_post', 'client_secret_jwt', 'tls_client_auth']) {
    it(`RFC 8252 §8.5: refuses ${method}`, () => {
      assertRefused(
        { ...base, token_endpoint_auth_method: method },
        'invalid_client_metadata',
        /^token_endpoint_auth_method must be one of client_secret_basic, private_key_jwt/,
      );
    });
  }

  it('RFC 7591 §2: refuses a method not in settings.authMethods', () => {
    assertRefused(
      { ...base, token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [ecPublic] } },
      'invalid_client_metadata',
      /^token_endpoint_auth_method must be one of client_secret_basic$/,
      withMethods('client_secret_basic'),
    );
    assertRefused(
      { ...base, token_endpoint_auth_method: 'client_secret_basic' },
      'invalid_client_metadata',
      /^token_endpoint_auth_method must be one of private_key_jwt$/,
      withMethods('private_key_jwt'),
    );
  });

  it('RFC 7523 §2.2: private_key_jwt with a public key is accepted', () => {
    const m = apply({
      ...base,
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [ecPublic] },
    });
    assert.equal(m.token_endpoint_auth_method, 'private_key_jwt');
    assert.deepEqual(m.jwks, { keys: [ecPublic] });
  });

  const badKeySets: [string, () => unknown][] = [
    ['missing jwks', () => undefined],
    ['an empty key set', () => ({ keys: [] })],
    ['an oct key', () => ({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] })],
    ['a private EC key (has d)', () => ({ keys: [ecPrivate] })],
  ];
  for (const [name, jwks] of badKeySets) {
    it(`RFC 7591 §2: private_key_jwt refuses ${name}`, () => {
      const metadata: Record<string, unknown> = {
        ...base,
        token_endpoint_auth_method: 'private_key_jwt',
      };
      const set = jwks();
      if (set !== undefined) metadata.jwks = set;
      assertRefused(metadata, 'invalid_client_metadata', /^jwks /);
    });
  }

  it('RFC 7591 §2: refuses jwks with client_secret_basic', () => {
    assertRefused(
      { ...base, token_endpoint_auth_method: 'client_secret_basic', jwks: { keys: [ecPublic] } },
      'invalid_client_metadata',
      /^jwks is only used with private_key_jwt, not client_secret_basic/,
    );
  });
});

describe('scope (RFC 7591 §2, RFC 6749 §3.3)', () => {
  it('RFC 7591 §2: defaults to the allowed scopes, space-separated', () => {
    assert.equal(apply(base).scope, 'openid profile offline_access');
  });

  it('RFC 6749 §3.3: a subset of the allowed scopes is accepted as sent', () => {
    assert.equal(apply({ ...base, scope: 'openid offline_access' }).scope, 'openid offline_access');
  });

  for (const scope of ['dcr', 'admin']) {
    it(`RFC 6749 §3.3: refuses scope '${scope}', naming it`, () => {
      assertRefused(
        { ...base, scope: `openid ${scope}` },
        'invalid_client_metadata',
        new RegExp(`^scope '${scope}' is not allowed for instance clients`),
      );
    });
  }
});

describe('other metadata (RFC 7591 §2)', () => {
  for (const field of [
    'jwks_uri',
    'sector_identifier_uri',
    'request_uris',
    'backchannel_logout_uri',
    'software_statement',
  ]) {
    it(`RFC 7591 §2: refuses ${field} by name with invalid_client_metadata`, () => {
      assertRefused(
        { ...base, [field]: field === 'request_uris' ? ['https://a.test/r'] : 'https://a.test/x' },
        'invalid_client_metadata',
        new RegExp(`^${field} may not be set by instance clients`),
      );
    });
  }

  it('RFC 7591 §2: silently drops extension fields it does not understand', () => {
    const m = apply({ ...base, foo_bar: 1, 'x-custom': { a: 1 } });
    assert.equal('foo_bar' in m, false);
    assert.equal('x-custom' in m, false);
  });

  it("RFC 8252 §8.4, OIDC Registration §2: application_type defaults to 'native'", () => {
    assert.equal(apply(base).application_type, 'native');
    assert.equal(apply({ ...base, application_type: 'native' }).application_type, 'native');
  });

  it("RFC 8252 §8.4, OIDC Registration §2: refuses application_type 'web'", () => {
    assertRefused(
      { ...base, application_type: 'web' },
      'invalid_client_metadata',
      /^application_type must be 'native'/,
    );
  });

  it('RFC 7591 §2: a valid full metadata object passes unchanged', () => {
    const metadata = {
      client_name: 'Phone of Alice',
      client_uri: 'https://app.example.com',
      logo_uri: 'https://app.example.com/logo.png',
      policy_uri: 'https://app.example.com/privacy',
      tos_uri: 'https://app.example.com/tos',
      contacts: ['support@example.com'],
      application_type: 'native',
      redirect_uris: ['com.example.app:/cb', 'http://127.0.0.1/cb', 'https://app.example.com/cb'],
      post_logout_redirect_uris: ['com.example.app:/logout'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256',
      jwks: { keys: [ecPublic] },
      scope: 'openid offline_access',
      software_id: 'com.example.app',
      software_version: '1.2.3',
      id_token_signed_response_alg: 'RS256',
      dpop_bound_access_tokens: true,
      default_max_age: 3600,
      require_auth_time: true,
    };
    assert.deepEqual(apply(metadata), metadata);
  });

  it('RFC 7591 §2: a minimal metadata object gets only the defaults added', () => {
    const metadata = { ...base, client_name: 'Phone', software_version: '1.0' };
    assert.deepEqual(apply(metadata), {
      ...metadata,
      application_type: 'native',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'openid profile offline_access',
    });
  });
});
