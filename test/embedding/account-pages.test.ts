// The account pages through a path prefix: the example server (passkeys on) mounted under /oidc
// in Koa and in Express finds the browser's sign-in session there, links and posts under the
// prefix, adds a passkey and signs in with it.
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { createExpressApp } from '../../examples/express/app.js';
import { createKoaApp } from '../../examples/koa/app.js';
import { listen } from '../helpers/listen.js';
import {
  followToApp,
  passkeyLogin,
  passkeyPage,
  postCredential,
  signedInBrowser,
} from '../helpers/passkeys.js';
import { SoftwareAuthenticator } from '../helpers/software-authenticator.js';

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

for (const [name, create] of embeddings) {
  describe(`the account pages embedded in ${name} under /oidc`, () => {
    it('read the session, link and post under the prefix, and passkeys work end to end', async () => {
      const http = await listen();
      const issuer = `${http.url}/oidc`;
      const warn = console.warn;
      console.warn = () => {}; // development keys
      const embedded = await create({ ISSUER: issuer, NODE_ENV: 'test' }).finally(() => {
        console.warn = warn;
      });
      http.handle(embedded.handler);
      try {
        const browser = await signedInBrowser(issuer);
        const devices = await browser.request(`${issuer}/account/devices`);
        const html = await devices.text();
        assert.equal(devices.status, 200);
        assert.match(html, /<a href="\/oidc\/account\/passkeys">Passkeys<\/a>/);

        const authenticator = new SoftwareAuthenticator(http.url);
        const { add } = await passkeyPage(browser, issuer);
        assert.equal(new URL(add.action).pathname, '/oidc/account/passkeys');
        const added = await postCredential(browser, add, authenticator.create(add.options));
        assert.equal(added.status, 303);
        assert.equal(added.headers.get('location'), '/oidc/account/passkeys?done=added');

        const login = await passkeyLogin(issuer);
        assert.match(new URL(login.form.action).pathname, /^\/oidc\/interaction\/[\w-]+\/passkey$/);
        const res = await postCredential(
          login.browser,
          login.form,
          authenticator.get(login.form.options),
        );
        assert.equal(res.status, 303);
        await followToApp(login.browser, res, login.form.action);
      } finally {
        await http.close();
        await embedded.close();
      }
    });
  });
}
