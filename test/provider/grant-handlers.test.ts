// The library runs a step of its own ahead of oidc-provider's authorization_code handler
// (lib/provider/grant-handlers.ts: first-party codes exchange without redirect_uri), reaching for
// the handlers on oidc-provider's internal state. This fails if an oidc-provider upgrade moves
// them or calls them before the request's parameters and client are ready.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { beforeGrant } from '../../lib/provider/grant-handlers.js';
import { REGISTRATION_CLIENT_ID, type RunningServer, startExample } from '../helpers/example.js';
import { freshDcrToken } from '../helpers/sign-in.js';

describe("oidc-provider's grant handlers, as the library wraps them", () => {
  let server: RunningServer;
  const seen: Array<{ code: unknown; clientId: unknown; route: unknown }> = [];

  before(async () => {
    server = await startExample();
    beforeGrant(server.auth.provider, 'authorization_code', (ctx: KoaContextWithOIDC) => {
      seen.push({
        code: ctx.oidc.params?.code,
        clientId: ctx.oidc.client?.clientId,
        route: ctx.oidc.route,
      });
    });
  });
  after(() => server.close());

  it('the step runs once per code exchange, with its parameters and authenticated client, and the exchange still issues tokens', async () => {
    seen.length = 0;
    const token = await freshDcrToken(server.issuer);
    assert.ok(token);
    assert.equal(seen.length, 1);
    const [step] = seen;
    assert.equal(typeof step?.code, 'string');
    assert.equal(step?.clientId, REGISTRATION_CLIENT_ID);
    assert.equal(step?.route, 'token');
  });

  it('a provider without those handlers, or a grant type it has none for, is refused by name', () => {
    assert.throws(
      () => beforeGrant({} as never, 'authorization_code', () => {}),
      /no longer keeps its authorization_code handler where the library expects/,
    );
    assert.throws(
      () => beforeGrant(server.auth.provider, 'urn:example:no-such-grant', () => {}),
      /no longer keeps its urn:example:no-such-grant handler/,
    );
  });
});
