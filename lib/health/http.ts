import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Middleware } from 'koa';
import type { Readiness } from './readiness.js';

/** The probe paths, relative to where the handler is mounted. */
const LIVENESS_PATH = '/healthz';
const READINESS_PATH = '/readyz';

/** A probe's answer: the status and the JSON body. */
interface ProbeAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** Liveness: answering at all is the proof the process serves. */
const LIVE: ProbeAnswer = { status: 200, body: { status: 'ok' } };

const WRONG_METHOD: ProbeAnswer = {
  status: 405,
  body: { error: 'invalid_request', error_description: 'use GET or HEAD' },
  headers: { Allow: 'GET, HEAD' },
};

/** Which probe `path` names, if any. */
function probeOf(path: string): 'live' | 'ready' | undefined {
  if (path === LIVENESS_PATH) return 'live';
  if (path === READINESS_PATH) return 'ready';
  return undefined;
}

async function answer(
  probe: 'live' | 'ready',
  method: string,
  readiness: Readiness,
): Promise<ProbeAnswer> {
  if (method !== 'GET' && method !== 'HEAD') return WRONG_METHOD;
  if (probe === 'live') return LIVE;
  const report = await readiness.check();
  return { status: report.status === 'ok' ? 200 : 503, body: report };
}

/**
 * The probes as a `(req, res, next?)` handler for `node:http` and Express: `GET /healthz` and
 * `GET /readyz`; any other path goes to `next` (Express passes it), or gets a 404 without one.
 *
 * @internal
 */
export function healthHandler(
  readiness: Readiness,
): (req: IncomingMessage, res: ServerResponse, next?: () => void) => void {
  return (req, res, next) => {
    const path = (req.url ?? '/').split('?', 1)[0] as string;
    const probe = probeOf(path);
    if (!probe && next) return next();
    const answered: Promise<ProbeAnswer> = probe
      ? answer(probe, req.method ?? 'GET', readiness)
      : Promise.resolve({
          status: 404,
          body: { error: 'invalid_request', error_description: 'use /healthz or /readyz' },
        });
    void answered.then((probeAnswer) => {
      const body = JSON.stringify(probeAnswer.body);
      res.writeHead(probeAnswer.status, {
        'Content-Type': 'application/json; charset=utf-8',
        'Content-Length': Buffer.byteLength(body),
        'Cache-Control': 'no-store',
        ...probeAnswer.headers,
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    });
  };
}

/**
 * The probes as Koa middleware: `GET /healthz` and `GET /readyz` (relative to a `koa-mount`
 * prefix); every other request falls through.
 *
 * @internal
 */
export function healthMiddleware(readiness: Readiness): Middleware {
  return async (ctx, next) => {
    const probe = probeOf(ctx.path);
    if (!probe) return next();
    const probeAnswer = await answer(probe, ctx.method, readiness);
    ctx.status = probeAnswer.status;
    ctx.set('Cache-Control', 'no-store');
    if (probeAnswer.headers) ctx.set(probeAnswer.headers);
    ctx.body = probeAnswer.body;
  };
}
