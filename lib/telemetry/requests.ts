import {
  type Attributes,
  context,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { Context, Middleware, Next } from 'koa';
import { routerPath } from '../http/routed.js';
import type { Instruments } from './instruments.js';
import { CodeNames, errorCodes, grantTypes } from './labels.js';

/** What a request's telemetry needs. @internal */
export interface RequestTelemetrySettings {
  instruments: Instruments;
  /** Set when the app registered a tracer provider: a span per request. */
  tracer: Tracer | undefined;
}

const SPAN_PREFIX = 'mobile-oidc-provider';

/** The oidc-provider route of a request (`token`, `registration`…), as its router named it. */
function routeOf(ctx: Context): string | undefined {
  const route = (ctx as { oidc?: { route?: unknown } }).oidc?.route;
  if (typeof route === 'string') return route;
  // Refused by the library's own middleware before oidc-provider's router ran.
  return routerPath(ctx) === '/token' ? 'token' : undefined;
}

/** The `error` code of a JSON error answer, if any. */
function errorOf(ctx: Context): unknown {
  const body: unknown = ctx.body;
  return typeof body === 'object' && body !== null && !('pipe' in body)
    ? (body as { error?: unknown }).error
    : undefined;
}

/**
 * Counts what the token endpoint answered (`mobile_oidc.tokens_issued`,
 * `mobile_oidc.token_errors`), after the library's and oidc-provider's error handling, so every
 * refusal counts: oidc-provider's, the library's (a 429, a 503), and a 500.
 */
function countToken(instruments: Instruments, ctx: Context): void {
  if (ctx.status === 200) {
    const params = (ctx as { oidc?: { params?: { grant_type?: unknown } } }).oidc?.params;
    instruments.tokensIssued.add(1, grantTypes.of(params?.grant_type));
  } else if (ctx.status >= 400) {
    instruments.tokenErrors.add(1, errorCodes.of(errorOf(ctx) ?? 'server_error'));
  }
}

/**
 * The outermost provider middleware: counts token endpoint answers and, with a tracer, runs the
 * request in a span named after its route (`mobile-oidc-provider token`), in which the store
 * calls are child spans and the audit events span events.
 *
 * @internal
 */
export function requestTelemetry(settings: RequestTelemetrySettings): Middleware {
  const { instruments, tracer } = settings;
  const routes = new CodeNames();
  if (!tracer) {
    return async (ctx: Context, next: Next) => {
      await next();
      if (routeOf(ctx) === 'token') countToken(instruments, ctx);
    };
  }
  return async (ctx: Context, next: Next) => {
    const active = context.active();
    const span = tracer.startSpan(SPAN_PREFIX, { kind: SpanKind.INTERNAL }, active);
    try {
      await context.with(trace.setSpan(active, span), next);
    } catch (error) {
      // Not expected: the engine's boundary answers every error. The kind only, never a message.
      span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      throw error;
    }
    const route = routeOf(ctx);
    if (route === 'token') countToken(instruments, ctx);
    if (span.isRecording())
      endRequestSpan(span, ctx, route === undefined ? undefined : routes.of(route));
    else span.end();
  };
}

/** Names the span after its route and sets its attributes: fixed sets only. */
function endRequestSpan(span: Span, ctx: Context, route: string | undefined): void {
  const attributes: Attributes = { 'http.response.status_code': ctx.status };
  if (route !== undefined) {
    span.updateName(`${SPAN_PREFIX} ${route}`);
    attributes['mobile_oidc.route'] = route;
  }
  if (route === 'token') {
    const params = (ctx as { oidc?: { params?: { grant_type?: unknown } } }).oidc?.params;
    attributes['mobile_oidc.grant_type'] = grantTypes.of(params?.grant_type).grant_type;
  }
  if (ctx.status >= 400) {
    const error = errorOf(ctx);
    if (error !== undefined) attributes['mobile_oidc.error'] = errorCodes.of(error).error;
  }
  span.setAttributes(attributes);
  if (ctx.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}
