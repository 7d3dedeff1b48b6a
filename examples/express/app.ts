import express, { type Express } from 'express';
import type { AuthServer } from 'mobile-oidc-provider';
import { createExampleServer, type ExampleEnv } from '../server/app.js';

/**
 * Embedding in an existing Express app: the authorization server lives under `/oidc` beside the
 * app's own routes. The issuer must name that prefix (e.g. `https://example.com/oidc`). Mount it
 * before any body parser: oidc-provider reads request bodies itself.
 */
export async function createExpressApp(
  env: ExampleEnv,
): Promise<{ app: Express; auth: AuthServer }> {
  const auth = await createExampleServer(env);
  const app = express();
  // The probes at the host's root, for the load balancer: GET /healthz and /readyz.
  app.use(auth.healthCallback());
  app.use('/oidc', auth.callback());
  app.get('/', (_req, res) => {
    res.json({ app: 'express example', issuer: auth.issuer });
  });
  return { app, auth };
}
