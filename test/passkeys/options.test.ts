// The `passkeys` options: off by default; the RP ID, name and origins derived from the issuer
// and the title; an RP ID that is not the issuer's host or a domain above it, an origin off the
// RP ID or over http in production, a malformed Android origin, or origins without the issuer's
// own (where the pages run) fail at start-up with their paths.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair } from 'jose';
import type { JWK } from 'oidc-provider';
import { ConfigurationError } from '../../lib/core/errors.js';
import type { AuthServerOptions, PasskeyOptions } from '../../lib/index.js';
import { resolveOptions } from '../../lib/options/validate.js';
import { relyingParty } from '../../lib/passkeys/settings.js';

let rsaKey: JWK;
before(async () => {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  rsaKey = { ...(await exportJWK(privateKey)), kid: 'k1', alg: 'RS256' } as JWK;
});

const APK_ORIGIN = `android:apk-key-hash:${Buffer.alloc(32, 9).toString('base64url')}`;

function options(passkeys?: PasskeyOptions, issuer = 'https://login.example.com/oidc') {
  return {
    issuer,
    jwks: { keys: [rsaKey] },
    cookieKeys: ['x'.repeat(32)],
    accounts: { authenticate: async () => undefined, findAccount: async () => undefined },
    interactions: { title: 'Photo Print' },
    ...(passkeys ? { passkeys } : {}),
  } satisfies AuthServerOptions;
}

function problems(passkeys: PasskeyOptions, issuer?: string): readonly string[] {
  try {
    resolveOptions(options(passkeys, issuer));
  } catch (error) {
    assert.ok(error instanceof ConfigurationError, String(error));
    return error.problems;
  }
  assert.fail('the options were accepted');
}

const partyOf = (o: AuthServerOptions) => {
  const r = resolveOptions(o);
  return relyingParty({
    issuer: r.issuer,
    development: r.development,
    title: r.interactions.title,
    passkeys: r.passkeys,
  });
};

describe('passkeys options', () => {
  it('are off by default, with the relying party derived from the issuer and the title', () => {
    const resolved = resolveOptions(options());
    assert.deepEqual(resolved.passkeys, { enabled: false });
    assert.deepEqual(partyOf(options({ enabled: true })), {
      rpId: 'login.example.com',
      rpName: 'Photo Print',
      origins: ['https://login.example.com'],
    });
  });

  it('take an RP ID above the issuer’s host, and an app’s Android origin', () => {
    assert.deepEqual(
      partyOf(
        options({
          enabled: true,
          rpId: 'example.com',
          rpName: 'Example',
          origins: ['https://login.example.com', 'https://www.example.com', APK_ORIGIN],
        }),
      ),
      {
        rpId: 'example.com',
        rpName: 'Example',
        origins: ['https://login.example.com', 'https://www.example.com', APK_ORIGIN],
      },
    );
  });

  it('refuse an RP ID that is not the issuer’s host or a domain above it', () => {
    assert.deepEqual(problems({ rpId: 'other.example' }), [
      "options.passkeys.rpId 'other.example' must be the issuer's host name 'login.example.com' or a domain above it",
    ]);
    assert.deepEqual(problems({ rpId: 'ample.com' }), [
      "options.passkeys.rpId 'ample.com' must be the issuer's host name 'login.example.com' or a domain above it",
    ]);
    assert.deepEqual(problems({ rpId: 'com' }), [
      "options.passkeys.rpId 'com' is not a domain passkeys can be bound to",
    ]);
  });

  it('refuse origins off the RP ID, over http in production, malformed, or without the issuer’s', () => {
    assert.deepEqual(
      problems({
        origins: [
          'https://login.example.com',
          'https://evil.example',
          'http://login.example.com',
          'https://login.example.com/path',
          'android:apk-key-hash:short',
        ],
      }),
      [
        "options.passkeys.origins[1] 'https://evil.example' is not on the relying party id 'login.example.com'",
        "options.passkeys.origins[2] 'http://login.example.com' must use https (http only with options.development)",
        "options.passkeys.origins[3] 'https://login.example.com/path' must be an origin (scheme, host, port) or android:apk-key-hash:<hash>",
        "options.passkeys.origins[4] 'android:apk-key-hash:short' must be an origin (scheme, host, port) or android:apk-key-hash:<hash>",
      ],
    );
    assert.deepEqual(problems({ origins: [APK_ORIGIN] }), [
      "options.passkeys.origins must include the issuer's origin 'https://login.example.com': the pages run there",
    ]);
  });

  it('refuse unknown keys and a userVerification setting (it is always required)', () => {
    const refused = problems({ userVerification: 'preferred' } as PasskeyOptions);
    assert.equal(refused.length, 1);
    assert.match(refused[0] as string, /^options\.passkeys\.userVerification /);
  });
});
