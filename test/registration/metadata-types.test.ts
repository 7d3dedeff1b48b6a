// Malformed metadata is a 4xx, never a 5xx (issue #13). RFC 7591 §2 gives every client metadata
// field a JSON type; a registration or RFC 7592 update whose field has another type (an object,
// a number, an array, a nested array, null) is refused with 400 invalid_client_metadata naming
// the field (RFC 7591 §3.2.2), before the templates, software_version, attestation or the
// built-in rules read it, and no client is stored. Found before: `software_version: {…}` → 500
// (a template's minimum-version check), a JWK whose `kty` is an object → 500 (the rules).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { RegistrationPolicyError } from '../../lib/core/errors.js';
import { checkMetadataTypes } from '../../lib/registration/instance-rules.js';
import { ClientCountingStore } from '../helpers/client-counter.js';
import { APP_REDIRECT_URI, type RunningServer, startExample } from '../helpers/example.js';
import { type JsonBody, json } from '../helpers/json.js';
import { postRegistration } from '../helpers/registration.js';
import { freshDcrToken } from '../helpers/sign-in.js';

// An object whose toString is not callable: String() of it throws, as a careless
// template literal or regular expression test would.
const UNPRINTABLE = { toString: 1, valueOf: 1 };

const STRING_FIELDS = [
  'client_name',
  'client_uri',
  'logo_uri',
  'policy_uri',
  'tos_uri',
  'software_id',
  'software_version',
  'token_endpoint_auth_method',
  'token_endpoint_auth_signing_alg',
  'id_token_signed_response_alg',
  'application_type',
  'scope',
];
const STRING_ARRAY_FIELDS = [
  'contacts',
  'redirect_uris',
  'post_logout_redirect_uris',
  'grant_types',
  'response_types',
];
const BOOLEAN_FIELDS = ['dpop_bound_access_tokens', 'require_auth_time'];

/** Every field with the wrong-typed values it is tried with. */
const WRONG: Array<[field: string, values: unknown[]]> = [
  ...STRING_FIELDS.map((field): [string, unknown[]] => [
    field,
    [{}, UNPRINTABLE, 5, ['x'], [['x']], true, null],
  ]),
  ...STRING_ARRAY_FIELDS.map((field): [string, unknown[]] => [
    field,
    [{}, UNPRINTABLE, 5, 'com.example.app:/cb', [['x']], [5], [{}], [UNPRINTABLE], [null], null],
  ]),
  ...BOOLEAN_FIELDS.map((field): [string, unknown[]] => [
    field,
    ['true', 1, 0, {}, [true], [[true]], null],
  ]),
  ['default_max_age', ['60', -1, 1.5, 1e300, {}, UNPRINTABLE, [60], [[60]], true, null]],
  [
    'jwks',
    [
      'x',
      5,
      [],
      [[]],
      {},
      { keys: 'x' },
      { keys: {} },
      { keys: [[]] },
      { keys: [5] },
      { keys: [null] },
      { keys: [{}] },
      { keys: [{ kty: UNPRINTABLE }] },
      { keys: [{ kty: ['EC'] }] },
      { keys: [{ kty: 'EC', crv: {} }] },
      { keys: [{ kty: 'EC', kid: 5 }] },
      { keys: [{ kty: 'EC', x5c: 'x' }] },
      { keys: [{ kty: 'EC', key_ops: [1] }] },
      null,
    ],
  ],
];

describe('checkMetadataTypes (RFC 7591 §2)', () => {
  for (const [field, values] of WRONG) {
    it(`refuses ${field} of the wrong type, naming it`, () => {
      for (const value of values) {
        assert.throws(
          () => checkMetadataTypes({ [field]: value }),
          (error: unknown) =>
            error instanceof RegistrationPolicyError &&
            error.code === 'invalid_client_metadata' &&
            error.message.startsWith(field),
          `${field}: ${JSON.stringify(value)}`,
        );
      }
    });
  }

  it('accepts well-typed values, absent fields, and leaves fields it does not know alone', () => {
    checkMetadataTypes({
      client_name: 'Phone',
      redirect_uris: ['com.example.app:/cb'],
      contacts: [],
      require_auth_time: false,
      default_max_age: 0,
      jwks: { keys: [] },
      software_version: undefined,
      userinfo_signed_response_alg: UNPRINTABLE,
      unknown_extension: [[{}]],
    });
  });
});

describe('metadata types over HTTP (RFC 7591 §3.2.2, RFC 7592 §2.2)', () => {
  let server: RunningServer;
  let store: ClientCountingStore;
  let token: string;
  let serverErrors: unknown[];
  let publicJwk: JWK;

  const freshToken = () => freshDcrToken(server.issuer);

  before(async () => {
    store = new ClientCountingStore();
    server = await startExample((o) => ({ ...o, store }));
    serverErrors = [];
    server.auth.provider.on('server_error', (_ctx: unknown, error: unknown) => {
      serverErrors.push(error);
    });
    token = await freshToken();
    const { publicKey } = await generateKeyPair('ES256');
    publicJwk = { ...(await exportJWK(publicKey)), alg: 'ES256', kid: 'k1' };
  });
  after(async () => {
    await server.close();
    await store.close();
  });

  function assertRefused(res: { status: number; body: JsonBody }, field: string, what: string) {
    assert.equal(res.status, 400, `${what} → ${res.status} ${JSON.stringify(res.body)}`);
    assert.equal(res.body.error, 'invalid_client_metadata', what);
    assert.ok(
      res.body.error_description.startsWith(field),
      `${what}: ${res.body.error_description}`,
    );
  }

  for (const [field, values] of WRONG) {
    it(`POST /reg with ${field} of the wrong type is 400 naming it, nothing stored`, async () => {
      for (const value of values) {
        const body = { redirect_uris: [APP_REDIRECT_URI], [field]: value };
        const res = await postRegistration(server.issuer, body, token);
        assertRefused(res, field, `${field}: ${JSON.stringify(value)}`);
      }
      assert.equal(store.clientWrites, 0);
    });
  }

  it('a template registration with software_version of the wrong type is 400, not 500', async () => {
    for (const value of [{}, UNPRINTABLE, 5, ['2.0.0'], null]) {
      const res = await postRegistration(
        server.issuer,
        { software_id: 'io.example.app', software_version: value },
        token,
      );
      assertRefused(res, 'software_version', `software_version: ${JSON.stringify(value)}`);
    }
    const named = await postRegistration(
      server.issuer,
      { software_id: 'io.example.app', software_version: '2.0.0', client_name: UNPRINTABLE },
      token,
    );
    assertRefused(named, 'client_name', 'client_name of a template registration');
    assert.equal(store.clientWrites, 0);
  });

  it('fields the library ignores are stripped whatever their type (RFC 7591 §2)', async () => {
    const res = await postRegistration(
      server.issuer,
      { redirect_uris: [APP_REDIRECT_URI], unknown_extension: UNPRINTABLE, other: [[{}]] },
      await freshToken(),
    );
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.unknown_extension, undefined);
    assert.equal(res.body.other, undefined);
  });

  it('algorithm members oidc-provider reads before any policy must be strings, even ones the library ignores', async () => {
    for (const [field, value] of [
      ['userinfo_signed_response_alg', UNPRINTABLE],
      ['id_token_encrypted_response_alg', [[{}]]],
    ] as const) {
      const res = await postRegistration(
        server.issuer,
        { redirect_uris: [APP_REDIRECT_URI], [field]: value },
        await freshToken(),
      );
      assert.equal(res.status, 400, `${field} → ${res.status}`);
      assert.equal(res.body.error, 'invalid_client_metadata');
      assert.match(res.body.error_description, new RegExp(`^${field} must be a string`));
    }
  });

  let registered: JsonBody;

  it('a registration with every field well-typed is 201', async () => {
    const before = store.clientWrites;
    const res = await postRegistration(
      server.issuer,
      {
        client_name: 'Alice’s phone',
        client_uri: 'https://app.example.com',
        logo_uri: 'https://app.example.com/logo.png',
        policy_uri: 'https://app.example.com/privacy',
        tos_uri: 'https://app.example.com/terms',
        contacts: ['ops@example.com'],
        application_type: 'native',
        redirect_uris: [APP_REDIRECT_URI, 'http://127.0.0.1/cb'],
        post_logout_redirect_uris: ['io.example.app:/signed-out'],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'ES256',
        jwks: { keys: [publicJwk] },
        scope: 'openid profile offline_access',
        software_version: '1.2.3',
        id_token_signed_response_alg: 'ES256',
        dpop_bound_access_tokens: false,
        default_max_age: 3600,
        require_auth_time: true,
      },
      await freshToken(),
    );
    assert.equal(res.status, 201, JSON.stringify(res.body));
    registered = res.body;
    assert.equal(registered.token_endpoint_auth_signing_alg, 'ES256');
    assert.equal(registered.default_max_age, 3600);
    assert.equal(registered.require_auth_time, true);
    assert.deepEqual(registered.contacts, ['ops@example.com']);
    assert.equal(store.clientWrites, before + 1);
  });

  it('a template registration with well-typed fields is 201', async () => {
    const res = await postRegistration(
      server.issuer,
      { software_id: 'io.example.app', software_version: '2.0.0', client_name: 'Phone' },
      await freshToken(),
    );
    assert.equal(res.status, 201, JSON.stringify(res.body));
  });

  it('RFC 7592 §2.2: an update with a field of the wrong type is 400 naming it, nothing stored', async () => {
    const {
      registration_access_token,
      registration_client_uri,
      client_secret_expires_at: _expires,
      client_id_issued_at: _issued,
      ...echo
    } = registered;
    const put = async (body: Record<string, unknown>) => {
      const res = await fetch(registration_client_uri, {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${registration_access_token}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: await json(res) };
    };
    const before = store.clientWrites;
    for (const [field, value] of [
      ['software_version', { a: 1 }],
      ['software_version', UNPRINTABLE],
      ['client_name', 5],
      ['contacts', [['ops@example.com']]],
      ['redirect_uris', [UNPRINTABLE]],
      ['default_max_age', '3600'],
      ['require_auth_time', 'yes'],
      ['jwks', { keys: [{ ...publicJwk, kty: UNPRINTABLE }] }],
      ['token_endpoint_auth_signing_alg', ['ES256']],
      ['scope', ['openid']],
    ] as const) {
      assertRefused(await put({ ...echo, [field]: value }), field, `PUT ${field}`);
    }
    assert.equal(store.clientWrites, before);
  });

  it('none of these requests reached the server_error path', () => {
    assert.deepEqual(serverErrors, []);
  });

  // oidc-provider's registration endpoint calls Client.needsSecret(properties) before any
  // registration policy runs. For a client that authenticates without a secret
  // (private_key_jwt), it tests every signing and encryption algorithm field with a regular
  // expression, and an object whose toString is not callable throws there. The library wraps
  // that call (lib/provider/client-metadata-guard.ts); this fails if an upgrade moves it.
  it('an unprintable algorithm field with private_key_jwt is 400 invalid_client_metadata, before oidc-provider reads it', async () => {
    for (const field of [
      'token_endpoint_auth_signing_alg',
      'id_token_signed_response_alg',
      'userinfo_signed_response_alg',
      'id_token_encrypted_response_alg',
    ]) {
      const res = await postRegistration(
        server.issuer,
        {
          redirect_uris: [APP_REDIRECT_URI],
          token_endpoint_auth_method: 'private_key_jwt',
          jwks: { keys: [publicJwk] },
          [field]: UNPRINTABLE,
        },
        token,
      );
      assert.equal(res.status, 400, `${field} → ${res.status}`);
      assert.equal(res.body.error, 'invalid_client_metadata');
      assert.match(res.body.error_description, new RegExp(`^${field} must be a string`));
    }
  });
});
