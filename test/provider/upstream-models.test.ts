// The library revokes a client's grants model by model (RFC 7009 §2.1 cascade, RFC 7592 §2.3
// delete): its list of grant-bound models is copied from oidc-provider. This fails if an
// upgrade of oidc-provider adds or removes a model that can be revoked by grant id.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Provider from 'oidc-provider';
import { GRANT_BOUND_MODELS } from '../../lib/storage/provider-adapter.js';

/** The model classes of a provider whose records oidc-provider revokes by grant id. */
function grantBoundModels(provider: Provider): string[] {
  const names = new Set<string>();
  for (let o: object | null = provider; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    // Model classes are the provider's capitalised members (AccessToken, Grant, …).
    for (const name of Object.getOwnPropertyNames(o)) if (/^[A-Z]/.test(name)) names.add(name);
  }
  return [...names]
    .filter((name) => {
      const model = (provider as unknown as Record<string, unknown>)[name];
      return (
        typeof model === 'function' &&
        typeof (model as { revokeByGrantId?: unknown }).revokeByGrantId === 'function'
      );
    })
    .sort();
}

describe("oidc-provider's grant-bound models", () => {
  it('are exactly the models the library revokes with a grant', () => {
    const provider = new Provider('https://as.example.com', {});
    assert.deepEqual(grantBoundModels(provider), [...GRANT_BOUND_MODELS].sort());
  });
});
