// Behaviour of oidc-provider's models that the library relies on, checked against the installed
// version so an upgrade that changes it fails here first.
//
// The library revokes a client's grants model by model (RFC 7009 §2.1 cascade, RFC 7592 §2.3
// delete): its list of grant-bound models is copied from oidc-provider. This fails if an
// upgrade of oidc-provider adds or removes a model that can be revoked by grant id.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import Provider, { type Adapter, type AdapterPayload } from 'oidc-provider';
import { GRANT_BOUND_MODELS } from '../../lib/provider/adapter.js';

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

// The reuse grace window links each refresh token to the one it was rotated from by reading the
// `RotatedRefreshToken` entity oidc-provider sets on the request's context (`Provider.ctx`) before
// it saves the successor. This fails if an upgrade stops doing so.
describe('oidc-provider names the rotated refresh token while saving its successor', () => {
  it('Provider.ctx carries RotatedRefreshToken when the successor is upserted', async () => {
    const seen: (string | undefined)[] = [];
    const records = new Map<string, AdapterPayload>();
    class RecordingAdapter implements Adapter {
      constructor(readonly model: string) {}
      async upsert(id: string, payload: AdapterPayload) {
        if (this.model === 'RefreshToken') {
          seen.push(Provider.ctx?.oidc?.entities.RotatedRefreshToken?.jti);
        }
        records.set(`${this.model}:${id}`, payload);
      }
      async find(id: string) {
        return records.get(`${this.model}:${id}`);
      }
      async consume(id: string) {
        const record = records.get(`${this.model}:${id}`);
        if (record) record.consumed = Math.floor(Date.now() / 1000);
      }
      async findByUid() {
        return undefined;
      }
      async findByUserCode() {
        return undefined;
      }
      async destroy(id: string) {
        records.delete(`${this.model}:${id}`);
      }
      async revokeByGrantId() {}
    }
    const provider = new Provider('http://127.0.0.1', {
      adapter: RecordingAdapter,
      clients: [
        {
          client_id: 'app',
          client_secret: 'a-long-enough-client-secret-for-this-test',
          grant_types: ['authorization_code', 'refresh_token'],
          redirect_uris: ['https://app.example.com/cb'],
        },
      ],
      findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
      rotateRefreshToken: true,
    });
    const client = await provider.Client.find('app');
    assert.ok(client);
    const grant = new provider.Grant({ accountId: 'alice', clientId: 'app' });
    grant.addOIDCScope('openid offline_access');
    const grantId = await grant.save();
    const first = new provider.RefreshToken({
      accountId: 'alice',
      client,
      grantId,
      scope: 'openid offline_access',
      gty: 'authorization_code',
    });
    const firstValue = await first.save();
    seen.length = 0;

    const server = createServer(provider.callback()).listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from('app:a-long-enough-client-secret-for-this-test').toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: firstValue }),
      });
      assert.equal(response.status, 200, await response.clone().text());
      const { refresh_token: second } = (await response.json()) as { refresh_token: string };
      assert.notEqual(second, firstValue);
      // The successor's save saw the token it replaced; the first save (before) saw none.
      assert.deepEqual(seen, [first.jti]);
    } finally {
      server.close();
    }
  });
});
