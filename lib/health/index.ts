import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Middleware } from 'koa';
import { healthHandler, healthMiddleware } from './http.js';
import { Readiness, type ReadinessSources } from './readiness.js';
import type { HealthReport } from './types.js';

export type { HealthCheck, HealthReport, HealthStatus } from './types.js';

/** What `createAuthServer` exposes of the health feature. @internal */
export interface InstalledHealth {
  health(): Promise<HealthReport>;
  healthApi(): Middleware;
  healthCallback(): (req: IncomingMessage, res: ServerResponse, next?: () => void) => void;
}

/**
 * Liveness and readiness over what the server already holds (the store, the keys): one
 * readiness check shared by the report and both handlers, so probes through any of them share
 * one in-flight store ping.
 *
 * @internal
 */
export function installHealth(sources: ReadinessSources): InstalledHealth {
  const readiness = new Readiness(sources);
  return {
    health: () => readiness.check(),
    healthApi: () => healthMiddleware(readiness),
    healthCallback: () => healthHandler(readiness),
  };
}
