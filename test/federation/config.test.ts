// Federation options are checked when the server is created: each mistake is a
// ConfigurationError naming the option's path, before any upstream is contacted.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  type AuthServerOptions,
  ConfigurationError,
  createAuthServer,
  type FederatedProviderOptions,
} from 'mobile-oidc-provider';
import { testServerOptions } from '../helpers/fixture.js';

// Nothing listens there: creating the server must not need the upstreams.
const GOOGLE = 'https://accounts.google.example';
const APPLE = 'https://appleid.apple.example';

const applePrivateKey = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();
const appleKey = { teamId: 'TEAM123456', keyId: 'KEY1234567', privateKey: applePrivateKey };

const google = (overrides: Partial<FederatedProviderOptions> = {}): FederatedProviderOptions => ({
  name: 'google',
  issuer: GOOGLE,
  quirks: 'google',
  audiences: ['app.apps.googleusercontent.example'],
  ...overrides,
});

const apple = (overrides: Partial<FederatedProviderOptions> = {}): FederatedProviderOptions => ({
  name: 'apple',
  issuer: APPLE,
  quirks: 'apple',
  audiences: ['io.example.app'],
  ...overrides,
});

/** The fixture's options with these providers and a `federated` hook (development mode). */
function withProviders(providers: FederatedProviderOptions[]): AuthServerOptions {
  const options = testServerOptions({ issuer: 'http://127.0.0.1:1' });
  return {
    ...options,
    accounts: { ...options.accounts, federated: async () => undefined },
    federation: { providers },
  };
}

/** The problems createAuthServer reports for `options`; fails when it accepts them. */
async function problems(options: AuthServerOptions): Promise<readonly string[]> {
  try {
    const server = await createAuthServer(options);
    await server.close();
  } catch (error) {
    assert.ok(error instanceof ConfigurationError, String(error));
    assert.equal(error.code, 'invalid_configuration');
    return error.problems;
  }
  assert.fail('the options were accepted');
}

/** Asserts that `expected` is among the problems createAuthServer reports. */
async function assertProblem(options: AuthServerOptions, expected: string | RegExp) {
  const found = await problems(options);
  const matches = (p: string) => (typeof expected === 'string' ? p === expected : expected.test(p));
  assert.ok(found.some(matches), `expected ${expected} among:\n${found.join('\n')}`);
}

describe('federation options: createAuthServer refuses', () => {
  it('two providers with one name', async () => {
    await assertProblem(
      withProviders([google(), apple({ name: 'google' })]),
      "options.federation.providers[1].name 'google' is not unique",
    );
  });

  it('two providers with one issuer', async () => {
    await assertProblem(
      withProviders([google(), apple({ issuer: GOOGLE })]),
      'options.federation.providers[1].issuer is not unique',
    );
  });

  it('an http issuer without development mode', async () => {
    const options = withProviders([google({ issuer: 'http://accounts.google.example' })]);
    await assertProblem(
      { ...options, issuer: 'https://login.example.test', development: false },
      'options.federation.providers[0].issuer must use https (http is allowed only with options.development)',
    );
  });

  it('providers without accounts.federated', async () => {
    const options = withProviders([google()]);
    const { federated: _, ...accounts } = options.accounts;
    await assertProblem(
      { ...options, accounts },
      'options.accounts.federated is required when options.federation.providers is set',
    );
  });

  it("Apple's browser flow without appleKey", async () => {
    await assertProblem(
      withProviders([apple({ browser: { clientId: 'io.example.web' } })]),
      'options.federation.providers[0].browser.appleKey is required for Apple (its client secret is a JWT)',
    );
  });

  it('appleKey and clientSecret together', async () => {
    await assertProblem(
      withProviders([
        apple({ browser: { clientId: 'io.example.web', clientSecret: 'a-secret', appleKey } }),
      ]),
      'options.federation.providers[0].browser: give clientSecret or appleKey, not both',
    );
  });

  it('a provider with neither audiences nor browser', async () => {
    await assertProblem(
      withProviders([google({ audiences: [] })]),
      'options.federation.providers[0] needs audiences (native sign-in), browser (the sign-in page) or both',
    );
  });

  it('a name outside lower-case letters, digits and -', async () => {
    await assertProblem(
      withProviders([google({ name: 'Google!' })]),
      /^options\.federation\.providers\[0\]\.name must be 1 to 32 lower-case letters/,
    );
  });

  for (const algorithm of ['HS256', 'none']) {
    it(`algorithms: ['${algorithm}']`, async () => {
      await assertProblem(
        withProviders([google({ algorithms: [algorithm] })]),
        /^options\.federation\.providers\[0\]\.algorithms\[0\] must be one of RS256, /,
      );
    });
  }

  for (const maxAge of [-1, 3601, 1.5]) {
    it(`linking.maxAge ${maxAge}: a session older than an hour, or no whole number, is no proof`, async () => {
      const options = withProviders([google()]);
      await assertProblem(
        { ...options, federation: { ...options.federation, linking: { maxAge } } },
        /^options\.federation\.linking\.maxAge must be /,
      );
    });
  }
});

describe('federation options: the control', () => {
  it('linking.maxAge 0 (never) and 3600 (an hour), and accounts.link: the server starts', async () => {
    for (const maxAge of [0, 3600]) {
      const options = withProviders([google()]);
      const server = await createAuthServer({
        ...options,
        accounts: { ...options.accounts, link: async () => {} },
        federation: { ...options.federation, linking: { maxAge } },
      });
      await server.close();
    }
  });

  it('native and browser providers, an http one in development mode: the server starts', async () => {
    const server = await createAuthServer(
      withProviders([
        google({
          hostedDomain: 'corp.example',
          algorithms: ['RS256', 'ES256', 'EdDSA'],
          browser: { clientId: 'web.apps.googleusercontent.example', clientSecret: 'a-secret' },
        }),
        apple({ browser: { clientId: 'io.example.web', appleKey } }),
        { name: 'corp-idp-2', issuer: 'http://127.0.0.1:2', audiences: ['corp-app'] },
      ]),
    );
    await server.close();
  });
});
