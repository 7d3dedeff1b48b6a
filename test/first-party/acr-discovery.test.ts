// The acr values this server gives (FIRST_PARTY_ACR) are listed in discovery
// (`acr_values_supported`, oidc-provider's `acrValues`): the steps the Authorization Challenge
// Endpoint takes with the methods that are enabled, and any more the integrator's passthrough
// lists. With them configured, an ID token carries the `acr` a request asked for (acr_values) and
// `auth_time` with max_age, as oidc-provider does for a browser request.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { type AuthServerOptions, FIRST_PARTY_ACR } from 'mobile-oidc-provider';
import { startExample } from '../helpers/example.js';
import {
  challengeOf,
  type FirstPartyServer,
  type Json,
  startFirstParty,
  verifier,
} from '../helpers/first-party.js';

const { password: PASSWORD, id_token: FEDERATED, passkey: PASSKEY } = FIRST_PARTY_ACR;

/** A Google provider for native id_tokens only (never contacted by these tests). */
const nativeGoogle = (o: AuthServerOptions): AuthServerOptions => ({
  ...o,
  accounts: { ...o.accounts, federated: async () => undefined },
  federation: {
    providers: [
      {
        name: 'google',
        issuer: 'https://accounts.google.example',
        quirks: 'google',
        audiences: ['android.apps.googleusercontent.example'],
      },
    ],
  },
});

async function discovery(issuer: string): Promise<Json> {
  const res = await fetch(`${issuer}/.well-known/openid-configuration`);
  assert.equal(res.status, 200);
  return (await res.json()) as Json;
}

/** The discovery document of a first-party server started with `more`. */
async function discoveryOf(more: (o: AuthServerOptions) => AuthServerOptions = (o) => o) {
  const fp = await startFirstParty(more);
  try {
    return await discovery(fp.server.issuer);
  } finally {
    await fp.close();
  }
}

const sorted = (values: unknown) => [...(values as string[])].sort();

describe('acr values in discovery: what the Authorization Challenge Endpoint gives', () => {
  it('a password-only server lists the password acr, and acr among the claims', async () => {
    const metadata = await discoveryOf();
    assert.deepEqual(metadata.acr_values_supported, [PASSWORD]);
    assert.ok((metadata.claims_supported as string[]).includes('acr'));
  });

  it('with passkeys, the passkey acr; with a native id_token provider, the federated acr', async () => {
    const withPasskeys = await discoveryOf((o) => ({ ...o, passkeys: { enabled: true } }));
    assert.deepEqual(sorted(withPasskeys.acr_values_supported), sorted([PASSWORD, PASSKEY]));
    const withGoogle = await discoveryOf(nativeGoogle);
    assert.deepEqual(sorted(withGoogle.acr_values_supported), sorted([PASSWORD, FEDERATED]));
    const withBoth = await discoveryOf((o) => ({
      ...nativeGoogle(o),
      passkeys: { enabled: true },
    }));
    assert.deepEqual(sorted(withBoth.acr_values_supported), sorted([PASSWORD, FEDERATED, PASSKEY]));
  });

  it("the passthrough's acrValues are listed after the server's own, each once", async () => {
    const metadata = await discoveryOf((o) => ({
      ...o,
      oidcProvider: { acrValues: ['urn:example:loa2', PASSWORD] },
    }));
    assert.deepEqual(metadata.acr_values_supported, [PASSWORD, 'urn:example:loa2']);
  });
});

describe('acr values in discovery: what the sign-in pages give (no template with firstParty)', () => {
  /** The discovery document of a server without first-party sign-in, started with `more`. */
  async function pagesDiscovery(more: (o: AuthServerOptions) => AuthServerOptions = (o) => o) {
    const server = await startExample(more);
    try {
      assert.equal((await discovery(server.issuer)).authorization_challenge_endpoint, undefined);
      return await discovery(server.issuer);
    } finally {
      await server.close();
    }
  }

  it('the password always; the passkey with passkeys; the federated acr with a "Continue with" provider', async () => {
    assert.deepEqual((await pagesDiscovery()).acr_values_supported, [PASSWORD]);
    const withPasskeys = await pagesDiscovery((o) => ({ ...o, passkeys: { enabled: true } }));
    assert.deepEqual(sorted(withPasskeys.acr_values_supported), sorted([PASSWORD, PASSKEY]));
    const withButton = await pagesDiscovery((o) => ({
      ...o,
      accounts: { ...o.accounts, federated: async () => undefined },
      federation: {
        providers: [
          {
            name: 'google',
            issuer: 'https://accounts.google.example',
            quirks: 'google',
            browser: { clientId: 'web-client', clientSecret: 'web-secret' },
          },
        ],
      },
    }));
    assert.deepEqual(sorted(withButton.acr_values_supported), sorted([PASSWORD, FEDERATED]));
  });

  it('control: a native-only provider gives no federated acr without first-party sign-in (its token exchange signs in no session)', async () => {
    const metadata = await pagesDiscovery(nativeGoogle);
    assert.deepEqual(metadata.acr_values_supported, [PASSWORD]);
  });
});

describe('the ID token of a first-party code: acr with acr_values, auth_time with max_age', () => {
  let fp: FirstPartyServer;
  before(async () => {
    fp = await startFirstParty();
  });
  after(() => fp.close());

  async function idToken(extra: Record<string, string>) {
    const install = await fp.install();
    const v = verifier();
    const done = await fp.challenge(install, {
      scope: 'openid',
      code_challenge: challengeOf(v),
      code_challenge_method: 'S256',
      username: 'demouser',
      password: 'Password1',
      ...extra,
    });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    const tokens = await fp.token(install, {
      grant_type: 'authorization_code',
      code: done.body.authorization_code as string,
      code_verifier: v,
    });
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    return decodeJwt(tokens.body.id_token as string);
  }

  it('asked for: the ID token carries the sign-in acr and auth_time', async () => {
    const before = Math.floor(Date.now() / 1000);
    const claims = await idToken({ acr_values: `${PASSKEY} ${PASSWORD}`, max_age: '300' });
    assert.equal(claims.acr, PASSWORD);
    assert.ok(typeof claims.auth_time === 'number' && claims.auth_time >= before);
  });

  it('control: not asked for, neither (as for a browser request)', async () => {
    const claims = await idToken({});
    assert.equal(claims.acr, undefined);
    assert.equal(claims.auth_time, undefined);
  });
});
