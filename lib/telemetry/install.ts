import {
  createNoopMeter,
  metrics,
  ProxyTracerProvider,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { Assembly } from '../provider/assembly.js';
import type { StoreObserver } from '../storage/guard.js';
import { countAuditEvents } from './events.js';
import { Instruments, TELEMETRY_NAME } from './instruments.js';
import { tracedPhases } from './phases.js';
import { requestTelemetry } from './requests.js';
import { StoreTelemetry } from './store.js';

/** The server's telemetry: the store observer for the guard, then the rest, once per server. @internal */
export interface ServerTelemetry {
  /** Measures every store operation; handed to the store guard. */
  readonly store: StoreObserver;
  /** Counts the audit events, runs every request in its span and its phases in child spans. */
  install(assembly: Assembly): void;
}

/** Whether the app registered a tracer provider (the API's proxy has a delegate). */
function tracerRegistered(): boolean {
  const provider = trace.getTracerProvider();
  // Another API copy's provider: assume real rather than lose the traces.
  if (!(provider instanceof ProxyTracerProvider)) return true;
  return provider.getDelegateTracer(TELEMETRY_NAME) !== undefined;
}

/**
 * Metrics and traces through `@opentelemetry/api`, with the meter and tracer provider the app
 * registered globally before creating the server: `undefined` (nothing installed, no cost per
 * request) when it registered neither.
 *
 * @internal
 */
export function openTelemetry(): ServerTelemetry | undefined {
  const meter = metrics.getMeter(TELEMETRY_NAME);
  // Without a registered meter provider the API hands out its one no-op meter.
  const metered = meter !== createNoopMeter();
  const tracer: Tracer | undefined = tracerRegistered()
    ? trace.getTracer(TELEMETRY_NAME)
    : undefined;
  if (!metered && !tracer) return undefined;
  const instruments = new Instruments(meter);
  return {
    store: new StoreTelemetry(instruments, tracer, metered),
    install(assembly) {
      countAuditEvents(assembly.events, instruments);
      // Without a tracer the phases stay plain calls.
      if (tracer) assembly.phase = tracedPhases(tracer);
      // Set up before the engine adds its own middleware: the request span is the outermost,
      // so the store calls of the engine's layer are in it and the final answer is counted.
      assembly.onProvider((provider) => {
        provider.use(requestTelemetry({ instruments, tracer }));
      });
    },
  };
}
