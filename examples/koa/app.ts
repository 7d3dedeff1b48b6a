import Koa from 'koa';
import mount from 'koa-mount';
import type { AuthServer } from 'mobile-oidc-provider';
import { createExampleServer, type ExampleEnv } from '../server/app.js';

/**
 * Embedding in an existing Koa app: the authorization server lives under `/oidc` beside the
 * app's own routes. The issuer must name that prefix (e.g. `https://example.com/oidc`).
 */
export async function createKoaApp(env: ExampleEnv): Promise<{ app: Koa; auth: AuthServer }> {
  const auth = await createExampleServer(env);
  const app = new Koa();
  // Behind a TLS-terminating proxy, the outer app is the one that must trust it (for its URLs;
  // the rate limits' client address comes from the server's own `proxy` option).
  app.proxy = Boolean(env.TRUST_PROXY);
  // The probes at the host's root, for the load balancer: GET /healthz and /readyz.
  app.use(auth.healthApi());
  app.use(mount('/oidc', auth.koa()));
  app.use(async (ctx) => {
    if (ctx.path === '/') ctx.body = { app: 'koa example', issuer: auth.issuer };
  });
  return { app, auth };
}
