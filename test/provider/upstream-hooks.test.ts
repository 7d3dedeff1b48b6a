// The library extends, rather than replaces, oidc-provider's default
// assertJwtClientAuthClaimsAndHeader (RFC 7523 §3 client assertions; FAPI 2.0 §5.3.2.1 audience).
// It reaches that default through oidc-provider's unexported defaults module: these tests fail if
// an upgrade moves the module or changes what the default checks.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { resolveKeys } from '../../lib/keys/index.js';
import { resolveOptions } from '../../lib/options/validate.js';
import { upstreamDefaults } from '../../lib/provider/upstream-defaults.js';
import { buildProviderConfiguration } from '../../lib/server/provider-configuration.js';
import { testAccounts } from '../helpers/fixture.js';

const ISSUER = 'https://as.example.com';

/** The slice of a token request context the hook reads. */
function tokenRequest(fapi2: boolean) {
  return {
    oidc: { isFapi: (...profiles: string[]) => fapi2 && profiles.includes('2.0'), issuer: ISSUER },
  } as unknown as KoaContextWithOIDC;
}

async function configuredHook(checkClientAssertion: () => Promise<void>) {
  const o = resolveOptions({
    issuer: ISSUER,
    development: true,
    accounts: testAccounts(),
    registrationClients: [{ client_id: 'app', redirect_uris: ['io.example.app:/cb'] }],
  });
  const configuration = buildProviderConfiguration(o, {
    adapter: () => {
      throw new Error('not used');
    },
    keys: await resolveKeys(o, () => {}),
    registrationResource: `${ISSUER}/reg`,
    interactionUrl: (uid) => `/interaction/${uid}`,
    instancePolicy: async () => {},
    checkClientAssertion,
  });
  const hook = configuration.assertJwtClientAuthClaimsAndHeader;
  assert.ok(hook);
  return hook;
}

describe("oidc-provider's default client assertion checks still run", () => {
  it('the upstream default refuses a FAPI 2.0 client assertion whose aud is not the issuer', async () => {
    await assert.rejects(
      async () =>
        upstreamDefaults.assertJwtClientAuthClaimsAndHeader(
          tokenRequest(true),
          { aud: `${ISSUER}/token` },
          { alg: 'ES256' },
          undefined as never,
        ),
      errors.InvalidClientAuth,
    );
    // Control: the issuer as audience passes.
    await upstreamDefaults.assertJwtClientAuthClaimsAndHeader(
      tokenRequest(true),
      { aud: ISSUER },
      { alg: 'ES256' },
      undefined as never,
    );
  });

  it("the library's hook runs the upstream default first, then its own App Attest check", async () => {
    const calls: string[] = [];
    const hook = await configuredHook(async () => {
      calls.push('app-attest');
    });
    await assert.rejects(
      async () =>
        hook(tokenRequest(true), { aud: `${ISSUER}/token` }, { alg: 'ES256' }, undefined as never),
      errors.InvalidClientAuth,
    );
    assert.deepEqual(calls, [], 'the upstream refusal comes before the library check');
    await hook(
      tokenRequest(false),
      { aud: `${ISSUER}/token` },
      { alg: 'ES256' },
      undefined as never,
    );
    assert.deepEqual(calls, ['app-attest']);
  });
});
