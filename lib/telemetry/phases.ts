import {
  type Attributes,
  context,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { PhaseName, PhaseRunner } from '../provider/phases.js';
import { oneOf } from './labels.js';

const PLATFORMS = ['ios', 'android', 'other'] as const;

/** A phase's span attributes, made once per phase and platform: no allocation per phase. */
class PhaseAttributeSets {
  readonly #sets = new Map<string, Attributes>();

  of(name: PhaseName, platform: unknown): Attributes {
    const known = platform === undefined ? undefined : oneOf(PLATFORMS, platform);
    const key = known === undefined ? name : `${name}\0${known}`;
    let attributes = this.#sets.get(key);
    if (!attributes) {
      attributes = Object.freeze(
        known === undefined
          ? { 'mobile_oidc.phase': name }
          : { 'mobile_oidc.phase': name, 'mobile_oidc.platform': known },
      );
      this.#sets.set(key, attributes);
    }
    return attributes;
  }
}

/** Ends a phase's span; a failure by its status only, never its message (it may quote evidence). */
function ended(span: Span, failed: boolean): void {
  if (failed) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}

const isPromise = (value: unknown): value is Promise<unknown> =>
  typeof (value as { then?: unknown } | null)?.then === 'function';

/**
 * The runner telemetry puts on the assembly when a tracer is registered: inside a recording
 * request span, each phase is a child span named after the phase, active while it runs so the
 * store calls it makes are its children. Outside one (an API call, an unsampled request) the
 * phase is the plain call.
 *
 * @internal
 */
export function tracedPhases(tracer: Tracer): PhaseRunner {
  const sets = new PhaseAttributeSets();
  return <T>(name: PhaseName, run: () => T, attributes?: { platform?: unknown }): T => {
    const active = context.active();
    if (!trace.getSpan(active)?.isRecording()) return run();
    const span = tracer.startSpan(
      name,
      { kind: SpanKind.INTERNAL, attributes: sets.of(name, attributes?.platform) },
      active,
    );
    let result: T;
    try {
      result = context.with(trace.setSpan(active, span), run);
    } catch (error) {
      ended(span, true);
      throw error;
    }
    if (!isPromise(result)) {
      ended(span, false);
      return result;
    }
    return result.then(
      (value) => {
        ended(span, false);
        return value;
      },
      (error: unknown) => {
        ended(span, true);
        throw error;
      },
    ) as T;
  };
}
