// Embedding: the server mounted under a path prefix in Koa and in Express, and behind a
// TLS-terminating proxy — discovery must advertise the issuer's real public URLs, and the whole
// DCR journey must work through the prefix.
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { createExpressApp } from '../../examples/express/app.js';
import { createKoaApp } from '../../examples/koa/app.js';
import { APP_REDIRECT_URI, insecure, REGISTRATION_CLIENT_ID } from '../helpers/example.js';
import { json } from '../helpers/json.js';
import { listen } from '../helpers/listen.js';
import { obtainDcrToken, SignInBrowser, signIn } from '../helpers/sign-in.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const embeddings: Array<
  [string, (env: Record<string, string>) => Promise<{ handler: Handler; close(): Promise<void> }>]
> = [
  [
    'Koa',
    async (env) => {
      const { app, auth } = await createKoaApp(env);
      return { handler: app.callback(), close: () => auth.close() };
    },
  ],
  [
    'Express',
    async (env) => {
      const { app, auth } = await createExpressApp(env);
      return { handler: app, close: () => auth.close() };
    },
  ],
];

async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const warn = console.warn;
  console.warn = () => {};
  try {
    return await fn();
  } finally {
    console.warn = warn;
  }
}

for (const [name, create] of embeddings) {
  describe(`embedded in ${name} under /oidc`, () => {
    it('runs the DCR journey through the prefix, and the app’s own routes still answer', async () => {
      const http = await listen();
      const issuer = `${http.url}/oidc`;
      const embedded = await quietly(() => create({ ISSUER: issuer, NODE_ENV: 'test' }));
      http.handle(embedded.handler);
      try {
        const own = await fetch(http.url);
        assert.equal(own.status, 200);
        assert.match((await json(own)).app, /example/);

        const reg = await oidc.discovery(
          new URL(issuer),
          REGISTRATION_CLIENT_ID,
          undefined,
          oidc.None(),
          insecure,
        );
        const metadata = reg.serverMetadata();
        assert.equal(metadata.issuer, issuer);
        assert.equal(metadata.registration_endpoint, `${issuer}/reg`);
        assert.equal(metadata.token_endpoint, `${issuer}/token`);

        const browser = new SignInBrowser();
        const { tokens } = await obtainDcrToken(reg, browser);
        const instance = await oidc.dynamicClientRegistration(
          new URL(issuer),
          { redirect_uris: [APP_REDIRECT_URI] },
          oidc.ClientSecretBasic(),
          { ...insecure, initialAccessToken: tokens.access_token },
        );
        assert.ok(
          instance
            .clientMetadata()
            .registration_client_uri?.toString()
            .startsWith(`${issuer}/reg/`),
        );
        const verifier = oidc.randomPKCECodeVerifier();
        const { callback } = await signIn(
          browser,
          oidc.buildAuthorizationUrl(instance, {
            redirect_uri: APP_REDIRECT_URI,
            scope: 'openid offline_access',
            prompt: 'consent',
            code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
            code_challenge_method: 'S256',
            nonce: 'nonce-value-1234',
          }),
        );
        const signedIn = await oidc.authorizationCodeGrant(instance, callback, {
          pkceCodeVerifier: verifier,
          expectedNonce: 'nonce-value-1234',
        });
        assert.equal(signedIn.claims()?.sub, 'demouser');
        // Refresh with rotation, twice: the rotated token's writes, held until the response,
        // reach the store through the host app too (the successor works).
        const refreshed = await oidc.refreshTokenGrant(instance, signedIn.refresh_token as string);
        const again = await oidc.refreshTokenGrant(instance, refreshed.refresh_token as string);
        assert.ok(again.refresh_token);
      } finally {
        await http.close();
        await embedded.close();
      }
    });

    it('behind a TLS-terminating proxy, discovery advertises the https issuer’s endpoints', async () => {
      const http = await listen();
      const issuer = 'https://login.example.com/oidc';
      const embedded = await quietly(() =>
        create({ ISSUER: issuer, NODE_ENV: 'test', TRUST_PROXY: '1' }),
      );
      http.handle(embedded.handler);
      try {
        const res = await fetch(`${http.url}/oidc/.well-known/openid-configuration`, {
          headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'login.example.com' },
        });
        assert.equal(res.status, 200);
        const metadata = await json(res);
        assert.equal(metadata.issuer, issuer);
        assert.equal(metadata.registration_endpoint, `${issuer}/reg`);
        assert.equal(metadata.authorization_endpoint, `${issuer}/auth`);
        assert.equal(metadata.jwks_uri, `${issuer}/jwks`);
      } finally {
        await http.close();
        await embedded.close();
      }
    });
  });
}
