// Phone approval's options (issue #30): off by default, the listed CIBA clients checked at start-up
// (each a confidential static client with the grant and a delivery mode offered; no other static
// client with the grant), templates that allow approvals need their installs' own keys, the
// passthrough keeps refusing features.ciba; and a store outage while asking the installs is a 503.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  type AuthServerOptions,
  ConfigurationError,
  createAuthServer,
  MemoryStore,
} from 'mobile-oidc-provider';
import { startExample } from '../helpers/example.js';
import { silentLogger, testServerOptions } from '../helpers/fixture.js';
import { ModelOutageStore } from '../helpers/outage-store.js';
import {
  CIBA_GRANT,
  type PhoneServer,
  pendingFor,
  startPhoneApproval,
  WEB_CLIENT,
} from '../helpers/phone-approval.js';

const base = () => testServerOptions({ issuer: 'http://127.0.0.1:1' });
const ciba = {
  client_id: 'web',
  client_secret: 'web-secret-for-tests-0123456789abcdef',
  grant_types: [CIBA_GRANT],
  response_types: [],
  redirect_uris: [],
  backchannel_token_delivery_mode: 'poll' as const,
};

/** The configuration problems createAuthServer reports for `options`. */
async function problems(options: AuthServerOptions): Promise<string[]> {
  try {
    await createAuthServer(options);
  } catch (error) {
    assert.ok(error instanceof ConfigurationError, String(error));
    return [...error.problems];
  }
  assert.fail('the options were accepted');
}

describe('phone approval options', () => {
  it('is off by default: no backchannel endpoint in discovery, no /approvals', async () => {
    const server = await startExample();
    try {
      const metadata = (await (
        await fetch(`${server.issuer}/.well-known/openid-configuration`)
      ).json()) as Record<string, unknown>;
      assert.equal(metadata.backchannel_authentication_endpoint, undefined);
      const res = await fetch(`${server.issuer}/approvals`, { method: 'POST' });
      assert.equal(res.status, 404);
    } finally {
      await server.close();
    }
  });

  it('a listed client must be a confidential static client with the grant and a mode offered', async () => {
    const found = await problems({
      ...base(),
      clients: [
        ...(base().clients ?? []),
        { ...ciba, client_id: 'no-grant', grant_types: ['client_credentials'] },
        { ...ciba, client_id: 'public', token_endpoint_auth_method: 'none' },
        { ...ciba, client_id: 'pinged', backchannel_token_delivery_mode: 'ping' as const },
        { ...ciba, client_id: 'user-code', backchannel_user_code_parameter: true },
      ],
      phoneApproval: {
        clients: ['missing', 'no-grant', 'public', 'pinged', 'user-code'],
        deliveryModes: ['poll'],
      },
    });
    assert.deepEqual(
      found.filter((p) => p.startsWith('options.phoneApproval')),
      [
        "options.phoneApproval.clients[0] 'missing' is not in options.clients",
        `options.phoneApproval.clients[1] 'no-grant' must have the grant type ${CIBA_GRANT}`,
        "options.phoneApproval.clients[2] 'public' must be a confidential client (CIBA Core §7.1)",
        "options.phoneApproval.clients[3] 'pinged' must have a backchannel_token_delivery_mode of options.phoneApproval.deliveryModes (poll)",
        "options.phoneApproval.clients[4] 'user-code' must not have backchannel_user_code_parameter: user_code is not supported",
      ],
    );
  });

  it('a static client with the CIBA grant must be listed; control: listed, it starts', async () => {
    const clients = [...(base().clients ?? []), ciba];
    const found = await problems({ ...base(), clients });
    assert.deepEqual(found, [
      "options.clients[1] 'web' has the CIBA grant but is not in options.phoneApproval.clients",
    ]);
    const server = await createAuthServer({
      ...base(),
      store: new MemoryStore(),
      clients,
      phoneApproval: { clients: ['web'] },
    });
    await server.close();
  });

  it("a template that allows approvals needs private_key_jwt or 'jwks' in instanceFields: the install signs with its own key", async () => {
    const o = base();
    const found = await problems({
      ...o,
      registration: {
        ...o.registration,
        templates: (o.registration?.templates ?? []).map((t) => ({ ...t, approvals: true })),
      },
    });
    assert.ok(
      found.some((p) =>
        /templates\[0\]\.approvals needs client\.token_endpoint_auth_method 'private_key_jwt' or 'jwks' in instanceFields/.test(
          p,
        ),
      ),
      found.join('\n'),
    );
  });

  it('oidcProvider.features.ciba stays refused, naming phoneApproval', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'k', alg: 'RS256' };
    const found = await problems({
      ...base(),
      development: false,
      issuer: 'https://login.example.com',
      jwks: { keys: [jwk] },
      cookieKeys: ['x'.repeat(32)],
      oidcProvider: { features: { ciba: { enabled: true } } } as AuthServerOptions['oidcProvider'] &
        object,
    });
    assert.ok(
      found.some(
        (p) => p.startsWith('options.oidcProvider.features.ciba') && p.includes('phoneApproval'),
      ),
      found.join('\n'),
    );
  });
});

describe('phone approval when the store fails', { timeout: 60_000 }, () => {
  const store = new ModelOutageStore('PhoneApproval');
  let phone: PhoneServer;

  before(async () => {
    phone = await startPhoneApproval(store);
    await phone.install('demouser', 'Password1');
  });
  after(async () => {
    await phone?.close();
  });

  it('asking the installs fails: 503 temporarily_unavailable, no auth_req_id; control: back up', async () => {
    store.down = true;
    const failed = await phone.backchannel({
      scope: 'openid',
      login_hint: 'demouser',
      binding_message: 'DOWN-1',
    });
    store.down = false;
    assert.equal(failed.status, 503, JSON.stringify(failed.body));
    assert.equal(failed.body.error, 'temporarily_unavailable');
    assert.equal(failed.body.auth_req_id, undefined);
    const started = await phone.backchannel({
      scope: 'openid',
      login_hint: 'demouser',
      binding_message: 'UP-1',
    });
    assert.equal(started.status, 200, JSON.stringify(started.body));
    assert.equal(typeof WEB_CLIENT.id, 'string');
  });
});

describe('phone approval when the push fails', { timeout: 60_000 }, () => {
  let phone: PhoneServer;
  const logged: string[] = [];

  before(async () => {
    phone = await startPhoneApproval(new MemoryStore(), (o) => ({
      ...o,
      logger: { ...silentLogger, error: (_fields, message) => logged.push(message) },
      phoneApproval: {
        ...o.phoneApproval,
        notify: async () => {
          throw new Error('push service down (test)');
        },
      },
    }));
  });
  after(async () => {
    await phone?.close();
  });

  it('the request still starts and the app still lists it; the failure is logged', async () => {
    const install = await phone.install('demouser', 'Password1');
    const started = await phone.backchannel({
      scope: 'openid',
      login_hint: 'demouser',
      binding_message: 'NOPUSH-1',
    });
    assert.equal(started.status, 200, JSON.stringify(started.body));
    const listed = await pendingFor(phone, install, 'NOPUSH-1');
    assert.equal(listed.client_name, 'Web Portal');
    assert.ok(
      logged.some((m) => m.startsWith('phoneApproval.notify failed')),
      logged.join('\n'),
    );
  });
});
