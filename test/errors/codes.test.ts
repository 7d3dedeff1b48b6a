// Every error the library throws on purpose shares one base class and carries a stable `code`,
// so callers test codes, not messages.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AttestationError,
  ConfigurationError,
  MobileOidcProviderError,
  RegistrationPolicyError,
  StorageUnavailableError,
} from 'mobile-oidc-provider';
import { errors as oidcProviderErrors } from 'oidc-provider';

describe('public errors carry stable codes', () => {
  it('ConfigurationError, RegistrationPolicyError and AttestationError share the base class', () => {
    const errors = [
      [new ConfigurationError(['options.issuer is required']), 'invalid_configuration'],
      [new RegistrationPolicyError('invalid_redirect_uri', 'no'), 'invalid_redirect_uri'],
      [new AttestationError('chain_untrusted', 'no', { cause: new Error('x') }), 'chain_untrusted'],
    ] as const;
    for (const [error, code] of errors) {
      assert.ok(error instanceof MobileOidcProviderError);
      assert.ok(error instanceof Error);
      assert.equal(error.code, code);
      assert.equal(error.name, error.constructor.name);
    }
    assert.deepEqual((errors[0][0] as ConfigurationError).problems, ['options.issuer is required']);
    assert.ok((errors[2][0] as AttestationError).cause instanceof Error);
  });

  it('StorageUnavailableError has the code storage_unavailable (a 503 for the client)', () => {
    const error = new StorageUnavailableError(new Error('ECONNREFUSED'));
    assert.equal(error.code, 'storage_unavailable');
    assert.equal(error.statusCode, 503);
    assert.equal(error.error, 'temporarily_unavailable');
    assert.equal(error.expose, true);
    assert.ok((error.cause as Error).message === 'ECONNREFUSED', 'the cause is kept for logs');
  });

  it("StorageUnavailableError shares the library's base class, not oidc-provider's", () => {
    const error = new StorageUnavailableError(new Error('ECONNREFUSED'));
    assert.ok(error instanceof MobileOidcProviderError);
    assert.ok(!(error instanceof oidcProviderErrors.OIDCProviderError));
  });
});
