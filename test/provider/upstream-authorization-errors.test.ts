// Behaviour of oidc-provider's authorization error handling that the library relies on, checked
// against the installed version so an upgrade that changes it fails here first.
//
// lib/provider/error-redirects.ts keeps errors for user-registered redirect URIs off the redirect:
// its listener clears `allow_redirect` on the error oidc-provider reports with
// `authorization.error`, and sets a 4xx status, before oidc-provider chooses between its
// `renderError` page and the redirect URI. This fails if the report stops coming first or
// `allow_redirect` stops deciding.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
import { type Listening, listen } from '../helpers/listen.js';

const REDIRECT_URI = 'https://app.example.com/cb';

describe("oidc-provider's authorization error handler", () => {
  let http: Listening;
  let holdErrors = false;

  before(async () => {
    http = await listen();
    const provider = new Provider(http.url, {
      clients: [
        {
          client_id: 'app',
          token_endpoint_auth_method: 'none',
          redirect_uris: [REDIRECT_URI],
          grant_types: ['authorization_code'],
          response_types: ['code'],
        },
      ],
      renderError: async (ctx, out) => {
        ctx.type = 'text';
        ctx.body = `rendered ${out.error}`;
      },
    });
    provider.on('authorization.error', (ctx: KoaContextWithOIDC, error) => {
      if (!holdErrors) return;
      error.allow_redirect = false;
      ctx.status = 400;
    });
    http.handle(provider.callback());
  });
  after(() => http.close());

  const promptNone = () =>
    fetch(
      `${http.url}/auth?${new URLSearchParams({
        client_id: 'app',
        redirect_uri: REDIRECT_URI,
        response_type: 'code',
        scope: 'openid',
        prompt: 'none',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
      })}`,
      { redirect: 'manual' },
    );

  it('redirects an error to the redirect URI by default (the control)', async () => {
    holdErrors = false;
    const res = await promptNone();
    assert.equal(res.status, 303);
    assert.ok(res.headers.get('location')?.startsWith(`${REDIRECT_URI}?error=login_required`));
  });

  it('renders the error page instead when an authorization.error listener clears allow_redirect', async () => {
    holdErrors = true;
    const res = await promptNone();
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('location'), null);
    assert.equal(await res.text(), 'rendered login_required');
  });
});
