// The built-in instance client rules, one case per rule (RFC 8252 native apps, RFC 6749,
// RFC 9700 security BCP, RFC 7591 metadata). Over HTTP they are exercised by
// instance-metadata.test.ts; here every branch is pinned.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RegistrationPolicyError } from 'mobile-oidc-provider';
import { applyInstanceRules, redirectUriProblem } from '../../lib/registration/index.js';

const SETTINGS = {
  allowedScopes: ['openid', 'profile', 'offline_access'],
  authMethods: ['client_secret_basic', 'private_key_jwt'] as const,
};

function apply(metadata: Record<string, unknown>, settings = SETTINGS) {
  const copy = structuredClone(metadata);
  applyInstanceRules(copy, { ...settings, authMethods: [...settings.authMethods] });
  return copy;
}

function refusal(metadata: Record<string, unknown>, settings = SETTINGS): RegistrationPolicyError {
  try {
    apply(metadata, settings);
  } catch (error) {
    assert.ok(error instanceof RegistrationPolicyError);
    return error;
  }
  assert.fail('the metadata was accepted');
}

const base = { redirect_uris: ['com.example.app:/callback'] };

describe('redirect URIs (RFC 8252 §7, RFC 6749 §3.1.2)', () => {
  for (const uri of [
    'com.example.app:/cb',
    'io.example.app://callback',
    'http://127.0.0.1:8080/cb',
    'http://127.0.0.1/cb',
    'http://[::1]:5000/cb',
    'https://app.example.com/cb',
  ]) {
    it(`accepts ${uri}`, () => assert.equal(redirectUriProblem(uri), undefined));
  }

  for (const [uri, reason] of [
    ['http://example.com/cb', /loopback/],
    ['http://localhost:8080/cb', /loopback/],
    ['myapp:/cb', /reverse-domain/],
    ['https://app.example.com/cb#frag', /fragment/],
    ['https://*.example.com/cb', /wildcard/],
    ['javascript:alert(1)', /javascript:/],
    ['data:text/html,x', /data:/],
    ['file:///etc/passwd', /file:/],
    ['not a uri', /absolute URI/],
  ] as const) {
    it(`refuses ${uri}`, () => {
      assert.match(redirectUriProblem(uri) ?? '', reason);
      assert.equal(refusal({ redirect_uris: [uri] }).code, 'invalid_redirect_uri');
    });
  }

  it('requires at least one redirect URI', () => {
    assert.equal(refusal({}).code, 'invalid_redirect_uri');
    assert.equal(refusal({ redirect_uris: [] }).code, 'invalid_redirect_uri');
    assert.equal(refusal({ redirect_uris: 'com.example.app:/cb' }).code, 'invalid_client_metadata');
  });

  it('applies the same rules to post_logout_redirect_uris', () => {
    const error = refusal({ ...base, post_logout_redirect_uris: ['http://example.com/out'] });
    assert.equal(error.code, 'invalid_redirect_uri');
    assert.match(error.message, /^post_logout_redirect_uris/);
  });
});

describe('grant and response types (RFC 9700 §2.1.2)', () => {
  it('default to authorization_code + refresh_token and code', () => {
    const m = apply(base);
    assert.deepEqual(m.grant_types, ['authorization_code', 'refresh_token']);
    assert.deepEqual(m.response_types, ['code']);
  });
  for (const grant of [
    'client_credentials',
    'implicit',
    'password',
    'urn:ietf:params:oauth:grant-type:device_code',
  ]) {
    it(`refuse the ${grant} grant, naming it`, () => {
      const error = refusal({ ...base, grant_types: ['authorization_code', grant] });
      assert.equal(error.code, 'invalid_client_metadata');
      assert.match(error.message, new RegExp(`grant_types '${grant}'`));
    });
  }
  it('must include authorization_code', () => {
    assert.match(
      refusal({ ...base, grant_types: ['refresh_token'] }).message,
      /must include 'authorization_code'/,
    );
  });
  for (const types of [['token'], ['code id_token'], ['code', 'token']]) {
    it(`refuse response_types ${JSON.stringify(types)}`, () => {
      assert.match(refusal({ ...base, response_types: types }).message, /^response_types/);
    });
  }
});

describe('client authentication', () => {
  const ecPublic = {
    kty: 'EC',
    crv: 'P-256',
    x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
    y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
  };
  it('defaults to the first allowed method', () => {
    assert.equal(apply(base).token_endpoint_auth_method, 'client_secret_basic');
    assert.equal(
      apply(
        { ...base, jwks: { keys: [ecPublic] } },
        { ...SETTINGS, authMethods: ['private_key_jwt'] as never },
      ).token_endpoint_auth_method,
      'private_key_jwt',
    );
  });
  for (const method of ['none', 'client_secret_post', 'client_secret_jwt', 'tls_client_auth']) {
    it(`refuses ${method}`, () => {
      assert.match(
        refusal({ ...base, token_endpoint_auth_method: method }).message,
        /^token_endpoint_auth_method/,
      );
    });
  }
  it('refuses a method the deployment did not allow', () => {
    const only = { ...SETTINGS, authMethods: ['client_secret_basic'] as never };
    assert.match(
      refusal({ ...base, token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [] } }, only)
        .message,
      /^token_endpoint_auth_method/,
    );
  });
  it('private_key_jwt with public keys is accepted', () => {
    assert.doesNotThrow(() =>
      apply({ ...base, token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [ecPublic] } }),
    );
  });
  for (const [name, jwks] of [
    ['missing jwks', undefined],
    ['an empty key set', { keys: [] }],
    ['a symmetric key', { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }],
    [
      'a private key',
      { keys: [{ ...ecPublic, d: 'jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI' }] },
    ],
  ] as const) {
    it(`private_key_jwt refuses ${name}`, () => {
      assert.match(
        refusal({ ...base, token_endpoint_auth_method: 'private_key_jwt', jwks }).message,
        /^jwks/,
      );
    });
  }
  it('refuses jwks with client_secret_basic', () => {
    assert.match(
      refusal({ ...base, jwks: { keys: [ecPublic] } }).message,
      /^jwks is only used with private_key_jwt/,
    );
  });
});

describe('scopes', () => {
  it('default to every allowed scope', () => {
    assert.equal(apply(base).scope, 'openid profile offline_access');
  });
  for (const scope of ['dcr', 'admin']) {
    it(`refuse '${scope}', naming it`, () => {
      const error = refusal({ ...base, scope: `openid ${scope}` });
      assert.equal(error.code, 'invalid_client_metadata');
      assert.match(error.message, new RegExp(`scope '${scope}' is not allowed`));
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
    it(`refuses ${field} by name`, () => {
      const error = refusal({ ...base, [field]: 'https://example.com/x' });
      assert.equal(error.code, 'invalid_client_metadata');
      assert.match(error.message, new RegExp(`^${field} may not be set`));
    });
  }
  it('ignores metadata it does not understand', () => {
    assert.equal(apply({ ...base, foo_bar: 1 }).foo_bar, undefined);
  });
  it('is always a native application', () => {
    assert.equal(apply(base).application_type, 'native');
    assert.match(refusal({ ...base, application_type: 'web' }).message, /^application_type/);
  });
  it('keeps valid metadata as sent, adding only defaults', () => {
    const metadata = {
      redirect_uris: ['com.example.app:/cb', 'http://127.0.0.1/cb'],
      client_name: 'Phone',
      grant_types: ['authorization_code'],
      scope: 'openid',
      software_id: 'app',
      software_version: '1.2.3',
    };
    assert.deepEqual(apply(metadata), {
      ...metadata,
      application_type: 'native',
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    });
  });
});
