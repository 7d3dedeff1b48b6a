// The library reads two of oidc-provider's resolved features from its internal state
// (lib/provider/resolved-features.ts): whether PAR is on (the challenge endpoint's
// redirect_to_web) and how a `resource` resolves (the first-party code's resource scopes). This
// fails if an oidc-provider upgrade moves or reshapes them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { resolvedFeatures } from '../../lib/provider/resolved-features.js';
import { type RunningServer, startExample } from '../helpers/example.js';

describe("oidc-provider's resolved features, as the library reads them", () => {
  let server: RunningServer;
  before(async () => {
    server = await startExample();
  });
  after(() => server.close());

  it('PAR: enabled by default, as discovery advertises it', async () => {
    const features = resolvedFeatures(server.auth.provider);
    const discovery = (await (
      await fetch(`${server.issuer}/.well-known/openid-configuration`)
    ).json()) as Record<string, unknown>;
    assert.equal(features.pushedAuthorizationRequests.enabled, true);
    assert.equal(typeof discovery.pushed_authorization_request_endpoint, 'string');
  });

  it('resource indicators: getResourceServerInfo is the configured function', () => {
    const { resourceIndicators } = resolvedFeatures(server.auth.provider);
    assert.equal(typeof resourceIndicators.getResourceServerInfo, 'function');
  });

  it('a provider object without that state is refused by name, not read as undefined', () => {
    assert.throws(
      () => resolvedFeatures({} as never),
      /no longer keeps its features where the library expects/,
    );
  });
});
