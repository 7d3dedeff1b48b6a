// options.jwks is checked at start-up: every key is a private key, one RSA key signs RS256 (the
// default ID token algorithm, OpenID Connect Core §15.1, and that of JWT access tokens), and each
// algorithm a static client asks its responses signed with has a key. A JWKS that fails is
// refused by createAuthServer with the library's ConfigurationError naming what is missing —
// not started to fail every sign-in later (`id_token_signed_response_alg must be 'ES256'`), and
// not oidc-provider's own error. The control: generateKeys() output starts and signs ID tokens.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { decodeProtectedHeader, exportJWK, generateKeyPair, type JWK } from 'jose';
import {
  type AuthServerOptions,
  ConfigurationError,
  createAuthServer,
  generateKeys,
} from 'mobile-oidc-provider';
import * as oidc from 'openid-client';
import { startExample } from '../helpers/example.js';
import { testAccounts } from '../helpers/fixture.js';
import { instanceConfiguration, postRegistration } from '../helpers/registration.js';
import { codeForInstance, freshDcrToken, SignInBrowser } from '../helpers/sign-in.js';

const NO_RS256 =
  "options.jwks has no private RSA signing key for RS256, the algorithm of ID tokens (OpenID Connect's default, OpenID Connect Core §15.1) and JWT access tokens: add one (generateKeys() makes one)";

/** A private JWK of `alg`, with a kid. */
async function privateJwk(alg: string, extra: Partial<JWK> = {}): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  return { ...(await exportJWK(privateKey)), kid: `${alg}-key`, alg, use: 'sig', ...extra };
}

/** The public half of a private JWK. */
function publicHalf(jwk: JWK): JWK {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...rest } = jwk;
  return rest;
}

/** Production options (https issuer, given keys) with this `jwks`, and `extra`. */
const options = (
  keys: readonly object[],
  extra: Partial<AuthServerOptions> = {},
): AuthServerOptions => ({
  issuer: 'https://login.example.com',
  jwks: { keys: [...keys] as NonNullable<AuthServerOptions['jwks']>['keys'] },
  cookieKeys: ['c'.repeat(32)],
  accounts: testAccounts(),
  ...extra,
});

/** The problems createAuthServer refuses `input` with; fails when it starts. */
async function refusal(input: AuthServerOptions): Promise<readonly string[]> {
  try {
    const server = await createAuthServer(input);
    await server.close();
  } catch (error) {
    assert.ok(error instanceof ConfigurationError, `not the library's error: ${String(error)}`);
    assert.equal(error.code, 'invalid_configuration');
    return error.problems;
  }
  assert.fail('the server started');
}

describe('options.jwks at start-up', () => {
  let rsa: JWK;
  let ec: JWK;
  before(async () => {
    rsa = await privateJwk('RS256');
    ec = await privateJwk('ES256');
  });

  it('attack: a JWKS with only an ES256 key is refused, naming the missing RS256 key', async () => {
    assert.deepEqual(await refusal(options([ec])), [NO_RS256]);
  });

  it('attack: RSA keys that cannot sign RS256 (alg PS256, use enc, key_ops without sign) are refused', async () => {
    for (const key of [
      { ...rsa, alg: 'PS256' },
      { ...rsa, use: 'enc', alg: undefined },
      { ...rsa, key_ops: ['decrypt'] },
    ]) {
      assert.deepEqual(
        await refusal(options([key as JWK, ec])),
        [NO_RS256],
        JSON.stringify(key.alg),
      );
    }
  });

  it('attack: a public-only JWKS is refused with the library error naming each public key, not oidc-provider’s', async () => {
    const problems = await refusal(options([publicHalf(rsa), publicHalf(ec)]));
    assert.deepEqual(problems, [
      "options.jwks.keys[0] is a public key (it lacks d, p, q, dp, dq, qi): options.jwks holds the server's private signing keys, and the server publishes their public halves",
      "options.jwks.keys[1] is a public key (it lacks d): options.jwks holds the server's private signing keys, and the server publishes their public halves",
      NO_RS256,
    ]);
    // One public key beside a good RSA key is refused too.
    assert.deepEqual(await refusal(options([rsa, publicHalf(ec)])), [
      "options.jwks.keys[1] is a public key (it lacks d): options.jwks holds the server's private signing keys, and the server publishes their public halves",
    ]);
  });

  it('attack: a key that is no private key (a secret, broken members) is refused', async () => {
    const problems = await refusal(
      options([rsa, { kty: 'oct', k: 'c2VjcmV0', kid: 'hmac' }, { ...ec, x: 'AAAA', kid: 'bad' }]),
    );
    assert.equal(problems.length, 2, problems.join('\n'));
    assert.equal(
      problems[0],
      "options.jwks.keys[1] has the key type 'oct': use RSA, EC or OKP signing keys",
    );
    assert.match(problems[1] as string, /^options\.jwks\.keys\[2\] is not a valid private key \(/);
    assert.doesNotMatch(problems.join('\n'), new RegExp(String(ec.d)), 'no key material');
  });

  it('attack: a static client whose ID tokens must be ES384 is refused without an ES384 key; control: ES256 with an ES256 key starts', async () => {
    const client = (alg: string) => ({
      client_id: 'web-portal',
      client_secret: 'portal-secret-0123456789abcdef0123456789',
      redirect_uris: ['https://portal.example.com/cb'],
      id_token_signed_response_alg: alg,
    });
    assert.deepEqual(await refusal(options([rsa, ec], { clients: [client('ES384')] as never })), [
      "options.clients[0].id_token_signed_response_alg 'ES384' has no private signing key in options.jwks",
    ]);
    const server = await createAuthServer(
      options([rsa, ec], { clients: [client('ES256')] as never }),
    );
    await server.close();
  });

  it('development mode checks a JWKS it is given too', async () => {
    assert.deepEqual(
      await refusal(options([ec], { development: true, issuer: 'http://localhost:3000' })),
      [NO_RS256],
    );
  });

  it('control: generateKeys() output, and an RS256 key alone, start; an install signs in and gets an RS256 ID token', async () => {
    const generated = await generateKeys();
    const production = await createAuthServer(
      options(generated.jwks.keys, { cookieKeys: generated.cookieKeys }),
    );
    await production.close();
    const rsaOnly = await createAuthServer(options([rsa]));
    await rsaOnly.close();

    const server = await startExample((o) => ({ ...o, jwks: generated.jwks }));
    try {
      const registered = await postRegistration(
        server.issuer,
        { software_id: 'io.example.app', software_version: '1.0.0' },
        await freshDcrToken(server.issuer),
      );
      assert.equal(registered.status, 201, JSON.stringify(registered.body));
      const instance = await instanceConfiguration(server.issuer, registered.body);
      const { callback, checks } = await codeForInstance(new SignInBrowser(), instance, 'openid');
      const tokens = await oidc.authorizationCodeGrant(instance, callback, checks);
      const header = decodeProtectedHeader(tokens.id_token as string);
      assert.equal(header.alg, 'RS256');
      assert.equal(header.kid, generated.jwks.keys[0]?.kid);
    } finally {
      await server.close();
    }
  });
});
