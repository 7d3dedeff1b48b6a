// Built-in registration policies: the per-account instance limit (reject, or revoke the oldest
// once the new instance is in use), per-template allowed scopes and redirect URI schemes, and
// registration rate limits per account and per IP (RFC 6585 §4: 429 with Retry-After), held
// in the store so they apply across processes. Instances count toward the limit from their
// first token on (test/registration/unused-instances.test.ts covers those never used).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type AuthServerOptions,
  RegistrationPolicyError,
  type Store,
  type Template,
} from 'mobile-oidc-provider';
import { RedisStore } from 'mobile-oidc-provider/adapters/redis';
import * as oidc from 'openid-client';
import {
  APP_REDIRECT_URI,
  type RunningServer,
  registrationClient,
  startExample,
} from '../helpers/example.js';
import { json } from '../helpers/json.js';
import { TEST_REDIS_URL } from '../helpers/redis-url.js';
import { instanceConfiguration } from '../helpers/registration.js';
import { codeForInstance, obtainDcrToken, SignInBrowser } from '../helpers/sign-in.js';

async function dcrToken(issuer: string): Promise<string> {
  const browser = new SignInBrowser();
  return (await obtainDcrToken(await registrationClient(issuer), browser)).tokens.access_token;
}

function register(issuer: string, token: string, body: Record<string, unknown>) {
  return fetch(`${issuer}/reg`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function serverWith(registration: AuthServerOptions['registration'], store?: Store) {
  return startExample((o) => ({
    ...o,
    ...(store ? { store } : {}),
    registration: { ...o.registration, ...registration },
  }));
}

const full = { redirect_uris: [APP_REDIRECT_URI] };

/** The instance obtains its first token (an authorization code exchanged): it is in use. */
async function use(issuer: string, registered: Record<string, unknown>) {
  const instance = await instanceConfiguration(issuer, registered);
  const { callback, checks } = await codeForInstance(new SignInBrowser(), instance);
  return oidc.authorizationCodeGrant(instance, callback, checks);
}

/** Registers an instance and uses it; resolves its registration response. */
async function registerAndUse(issuer: string) {
  const res = await register(issuer, await dcrToken(issuer), full);
  assert.equal(res.status, 201);
  const registered = await json(res);
  await use(issuer, registered);
  return registered;
}

describe('at most N instances per account', () => {
  it('reject: the N+1th registration is refused and creates nothing', async () => {
    const server = await serverWith({ maxInstancesPerAccount: { max: 2 } });
    try {
      for (let i = 0; i < 2; i++) await registerAndUse(server.issuer);
      const res = await register(server.issuer, await dcrToken(server.issuer), full);
      assert.equal(res.status, 400);
      const body = await json(res);
      assert.equal(body.error, 'invalid_client_metadata');
      assert.match(body.error_description, /already has 2 registered devices \(at most 2\)/);
      assert.equal((await server.auth.devices.list('demouser')).length, 2);
    } finally {
      await server.close();
    }
  });

  it('a revoked instance no longer counts', async () => {
    const server = await serverWith({ maxInstancesPerAccount: { max: 1 } });
    try {
      const first = await registerAndUse(server.issuer);
      await server.auth.devices.revoke(first.client_id as string);
      assert.equal(
        (await register(server.issuer, await dcrToken(server.issuer), full)).status,
        201,
      );
    } finally {
      await server.close();
    }
  });

  it('revoke-oldest: the new instance registers, then the oldest is revoked once it is used', async () => {
    const server = await serverWith({
      maxInstancesPerAccount: { max: 2, onLimit: 'revoke-oldest' },
    });
    const revoked: string[] = [];
    server.auth.on('instance.revoked', (event) => {
      assert.equal(event.by, 'limit');
      revoked.push(event.clientId);
    });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await registerAndUse(server.issuer)).client_id);
      const devices = await server.auth.devices.list('demouser');
      const status = Object.fromEntries(devices.map((d) => [d.clientId, d.status]));
      assert.deepEqual(status, {
        [ids[0] as string]: 'revoked',
        [ids[1] as string]: 'active',
        [ids[2] as string]: 'active',
      });
      assert.deepEqual(revoked, [ids[0]]);
    } finally {
      await server.close();
    }
  });

  it('revoke-oldest revokes nothing when the new registration fails', async () => {
    const server = await serverWith({
      maxInstancesPerAccount: { max: 1, onLimit: 'revoke-oldest' },
      policies: [
        ({ metadata }) => {
          if (metadata.client_name === 'refused') {
            throw new RegistrationPolicyError('invalid_client_metadata', 'refused by policy');
          }
        },
      ],
    });
    try {
      await registerAndUse(server.issuer);
      const res = await register(server.issuer, await dcrToken(server.issuer), {
        ...full,
        client_name: 'refused',
      });
      assert.equal(res.status, 400);
      const devices = await server.auth.devices.list('demouser');
      assert.deepEqual(
        devices.map((d) => d.status),
        ['active'],
      );
    } finally {
      await server.close();
    }
  });
});

describe('per-template allowed scopes and redirect URI schemes', () => {
  const flexible: Template = {
    software_id: 'com.example.flexible',
    client: { redirect_uris: [APP_REDIRECT_URI], scope: 'openid offline_access' },
    instanceFields: ['scope', 'redirect_uris', 'software_version'],
    allowedScopes: ['openid', 'offline_access', 'email'],
    allowedRedirectSchemes: ['io.example.app'],
  };
  let server: RunningServer;
  before(async () => {
    server = await serverWith({ templates: [flexible] });
  });
  after(() => server.close());

  it('accepts an instance scope and redirect URI within the template allowance', async () => {
    const res = await register(server.issuer, await dcrToken(server.issuer), {
      software_id: flexible.software_id,
      scope: 'openid email',
      redirect_uris: ['io.example.app:/other'],
    });
    assert.equal(res.status, 201);
    const body = await json(res);
    assert.equal(body.scope, 'openid email');
    assert.deepEqual(body.redirect_uris, ['io.example.app:/other']);
  });

  it('refuses a scope outside the template allowance', async () => {
    const res = await register(server.issuer, await dcrToken(server.issuer), {
      software_id: flexible.software_id,
      scope: 'openid profile',
    });
    assert.equal(res.status, 400);
    assert.match((await json(res)).error_description, /scope 'profile' is not allowed/);
  });

  it('refuses a redirect URI scheme outside the template allowance (RFC 7591 invalid_redirect_uri)', async () => {
    const res = await register(server.issuer, await dcrToken(server.issuer), {
      software_id: flexible.software_id,
      redirect_uris: ['com.other.app:/cb'],
    });
    assert.equal(res.status, 400);
    const body = await json(res);
    assert.equal(body.error, 'invalid_redirect_uri');
    assert.match(body.error_description, /must use one of the schemes io.example.app/);
  });
});

describe('allowed redirect URI schemes for full-metadata registration', () => {
  it('refuses a scheme outside registration.instances.allowedRedirectSchemes', async () => {
    const server = await startExample((o) => ({
      ...o,
      registration: {
        ...o.registration,
        instances: { allowedRedirectSchemes: ['io.example.app'] },
      },
    }));
    try {
      const ok = await register(server.issuer, await dcrToken(server.issuer), full);
      assert.equal(ok.status, 201);
      const refused = await register(server.issuer, await dcrToken(server.issuer), {
        redirect_uris: ['https://app.example.com/cb'],
      });
      assert.equal(refused.status, 400);
      assert.equal((await json(refused)).error, 'invalid_redirect_uri');
    } finally {
      await server.close();
    }
  });
});

describe('registration rate limits', () => {
  it('per account: over the limit → 429 with Retry-After, and nothing is registered', async () => {
    const server = await serverWith({ rateLimit: { perAccount: { points: 2, duration: 60 } } });
    try {
      for (let i = 0; i < 2; i++) {
        assert.equal(
          (await register(server.issuer, await dcrToken(server.issuer), full)).status,
          201,
        );
      }
      const token = await dcrToken(server.issuer);
      const res = await register(server.issuer, token, full);
      assert.equal(res.status, 429);
      const retryAfter = Number(res.headers.get('retry-after'));
      assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
      const body = await json(res);
      assert.equal(body.error, 'temporarily_unavailable');
      assert.match(body.error_description, /too many registration attempts/);
      assert.equal((await server.auth.devices.list('demouser')).length, 2);
    } finally {
      await server.close();
    }
  });

  it('per IP: counts attempts before the token is checked (guessing tokens is limited too)', async () => {
    const server = await serverWith({ rateLimit: { perIp: { points: 3, duration: 60 } } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        statuses.push((await register(server.issuer, 'not-a-token', full)).status);
      }
      assert.deepEqual(statuses, [401, 401, 401, 429]);
    } finally {
      await server.close();
    }
  });

  it('holds across server processes sharing Redis', async () => {
    const keyPrefix = `mop-test-limits-${process.pid}-${Date.now()}:`;
    const stores = [0, 1].map(() => new RedisStore({ client: TEST_REDIS_URL, keyPrefix }));
    const servers = await Promise.all(
      stores.map((store) =>
        serverWith({ rateLimit: { perIp: { points: 2, duration: 60 } } }, store),
      ),
    );
    try {
      const statuses: number[] = [];
      for (const server of [...servers, ...servers]) {
        statuses.push((await register(server.issuer, 'not-a-token', full)).status);
      }
      assert.deepEqual(statuses, [401, 401, 429, 429]);
    } finally {
      await Promise.all(servers.map((s) => s.close()));
      await Promise.all(stores.map((s) => s.close()));
    }
  });
});

describe('policy hooks that throw', () => {
  it('an unexpected exception is a server_error, and no client is left behind', async () => {
    const server = await serverWith({
      policies: [
        () => {
          throw new Error('database down');
        },
      ],
    });
    try {
      const res = await register(server.issuer, await dcrToken(server.issuer), full);
      assert.equal(res.status, 500);
      const body = await json(res);
      assert.equal(body.error, 'server_error');
      assert.doesNotMatch(JSON.stringify(body), /database down/);
      assert.deepEqual(await server.auth.devices.list('demouser'), []);
    } finally {
      await server.close();
    }
  });
});
