// Every error class a package entry point exports is a MobileOidcProviderError with a stable
// string `code`; the feature-internal ones too, with `code` as their one discriminator.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as main from 'mobile-oidc-provider';
import * as redis from 'mobile-oidc-provider/adapters/redis';
import * as attestation from 'mobile-oidc-provider/attestation';
import * as resourceServer from 'mobile-oidc-provider/resource-server';
import * as testing from 'mobile-oidc-provider/testing';
import { RegistrationDenied } from '../../lib/attestation/authorize.js';
import { BrowserSignInError } from '../../lib/federation/browser.js';
import { UpstreamIdTokenError } from '../../lib/federation/id-token.js';
import { UpstreamUnavailableError } from '../../lib/federation/jwks.js';
import { UnknownIdentityProblem } from '../../lib/federation/sign-in.js';
import { HttpProblem, tooManyAttempts } from '../../lib/http/problem.js';
import { FormTooLarge } from '../../lib/interactions/form.js';

const { MobileOidcProviderError } = main;

const ENTRY_POINTS = {
  'mobile-oidc-provider': main,
  'mobile-oidc-provider/adapters/redis': redis,
  'mobile-oidc-provider/attestation': attestation,
  'mobile-oidc-provider/resource-server': resourceServer,
  'mobile-oidc-provider/testing': testing,
};

type ErrorClass = abstract new (...args: never[]) => Error;
type MobileOidcProviderErrorLike = InstanceType<typeof MobileOidcProviderError>;

/** One representative instance of each exported error class, with the code it must carry. */
const EXAMPLES: Record<string, () => [Error, string]> = {
  MobileOidcProviderError: () => [new main.MobileOidcProviderError('custom', 'why'), 'custom'],
  ConfigurationError: () => [
    new main.ConfigurationError(['options.issuer is required']),
    'invalid_configuration',
  ],
  RegistrationPolicyError: () => [
    new main.RegistrationPolicyError('invalid_redirect_uri', 'use a private-use scheme'),
    'invalid_redirect_uri',
  ],
  AttestationError: () => [
    new attestation.AttestationError('chain_untrusted', 'unknown root', { cause: new Error('x') }),
    'chain_untrusted',
  ],
  AlreadyConsumedError: () => [new main.AlreadyConsumedError(), 'already_consumed'],
  StorageUnavailableError: () => [
    new main.StorageUnavailableError(new Error('ECONNREFUSED')),
    'storage_unavailable',
  ],
  TokenVerificationError: () => [
    new resourceServer.TokenVerificationError({ error: 'invalid_token', description: 'expired' }),
    'invalid_token',
  ],
};

/** Every exported class whose instances are errors, by export name, from every entry point. */
function exportedErrorClasses(): Map<string, ErrorClass> {
  const found = new Map<string, ErrorClass>();
  for (const [entry, exports] of Object.entries(ENTRY_POINTS)) {
    for (const [name, value] of Object.entries(exports)) {
      if (typeof value !== 'function' || !(value.prototype instanceof Error)) continue;
      const seen = found.get(name);
      assert.ok(!seen || seen === value, `${entry} exports another class named ${name}`);
      found.set(name, value as ErrorClass);
    }
  }
  return found;
}

describe('one base class for every error', () => {
  it('every error class of every entry point is a MobileOidcProviderError with a string code', () => {
    const classes = exportedErrorClasses();
    assert.deepEqual(
      [...classes.keys()].sort(),
      Object.keys(EXAMPLES).sort(),
      'each exported error class has an example here, and each example is exported',
    );
    for (const [name, ErrorClass] of classes) {
      const [error, code] = (EXAMPLES[name] as () => [Error, string])();
      assert.ok(error instanceof ErrorClass, name);
      assert.ok(error instanceof MobileOidcProviderError, `${name} extends the base`);
      const { code: actual } = error as InstanceType<typeof MobileOidcProviderError>;
      assert.equal(typeof actual, 'string', `${name} has a string code`);
      assert.equal(actual, code, `${name}'s code`);
      assert.equal(error.name, name, `${name} names itself`);
    }
  });

  it('the resource server shares the base class of the main entry point', () => {
    assert.equal(resourceServer.MobileOidcProviderError, MobileOidcProviderError);
    assert.equal(resourceServer.ConfigurationError, main.ConfigurationError);
    const missing = new resourceServer.TokenVerificationError({});
    assert.equal(missing.code, 'missing_token');
    assert.equal(missing.error, undefined, 'no challenge error for a request without a token');
  });

  it("the library's internal refusals extend the base, with code as their discriminator", () => {
    const problem = new HttpProblem(400, 'invalid_request', 'the body is malformed');
    assert.equal(problem.code, 'invalid_request', 'an HTTP problem is coded by its OAuth error');
    assert.equal(problem.error, 'invalid_request');
    assert.equal(problem.message, 'the body is malformed');
    const limited = tooManyAttempts(30, 'sign-in attempts');
    assert.equal(limited.code, 'temporarily_unavailable');
    assert.equal(limited.retryAfterSeconds, 30);

    const denied = new RegistrationDenied(403, 'access_denied', 'no evidence', 'evidence_missing');
    assert.equal(denied.code, 'evidence_missing', "coded by its event's reason");
    assert.equal(denied.error, 'access_denied', 'the wire error stays');
    assert.equal(denied.status, 403);
    assert.equal(new UnknownIdentityProblem().code, 'invalid_grant');

    const browser = new BrowserSignInError('denied', 'the user cancelled');
    assert.equal(browser.code, 'denied');
    assert.equal(browser.reason, 'denied', 'the old name reads the code');

    const internal: [MobileOidcProviderErrorLike, string][] = [
      [problem, 'invalid_request'],
      [denied, 'evidence_missing'],
      [browser, 'denied'],
      [new FormTooLarge('form body too large'), 'form_too_large'],
      [new UpstreamIdTokenError('aud', 'wrong audience'), 'invalid_upstream_id_token'],
      [new UpstreamUnavailableError('https://a.example', 'down'), 'upstream_unavailable'],
    ];
    for (const [error, code] of internal) {
      assert.ok(error instanceof MobileOidcProviderError, error.name);
      assert.equal(error.code, code, error.name);
      assert.equal(error.name, error.constructor.name);
    }
  });
});
