// The OpenTelemetry SDK as an app would register it, reading into memory: a metric reader the
// test collects from, an in-memory span exporter, and the async-hooks context manager. Removed
// again after the suite, so the next suite in the process sees the API's no-ops.
import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { type DataPoint, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

/** A reader that only collects when asked. */
class CollectingReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

/** One metric as collected: its name, unit and data points. */
export interface CollectedMetric {
  name: string;
  unit: string;
  points: Array<DataPoint<unknown>>;
}

/** The SDK registered globally, with what it recorded. */
export class TestSdk {
  readonly #reader = new CollectingReader();
  readonly #spans = new InMemorySpanExporter();
  readonly #meterProvider = new MeterProvider({ readers: [this.#reader] });
  readonly #tracerProvider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(this.#spans)],
  });

  /** Registers the meter provider, and the tracer provider when `traces`. */
  register({ traces = true }: { traces?: boolean } = {}): this {
    metrics.setGlobalMeterProvider(this.#meterProvider);
    if (traces) {
      context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
      trace.setGlobalTracerProvider(this.#tracerProvider);
    }
    return this;
  }

  /** The library's metrics (meter `mobile-oidc-provider`) as of now. */
  async metrics(): Promise<CollectedMetric[]> {
    const { resourceMetrics } = await this.#reader.collect();
    return resourceMetrics.scopeMetrics
      .filter((scope) => scope.scope.name === 'mobile-oidc-provider')
      .flatMap((scope) => scope.metrics)
      .map((metric) => ({
        name: metric.descriptor.name,
        unit: metric.descriptor.unit,
        points: metric.dataPoints as Array<DataPoint<unknown>>,
      }));
  }

  /** The spans ended so far. */
  spans(): ReadableSpan[] {
    return this.#spans.getFinishedSpans();
  }

  /** Unregisters everything: the API is back to its no-ops. */
  async unregister(): Promise<void> {
    metrics.disable();
    trace.disable();
    context.disable();
    await this.#meterProvider.shutdown();
    await this.#tracerProvider.shutdown();
  }
}

/** The value of `name`'s data point with exactly these attributes (0 when there is none). */
export function pointValue(
  collected: CollectedMetric[],
  name: string,
  attributes: Record<string, string>,
): unknown {
  const metric = collected.find((m) => m.name === name);
  const point = metric?.points.find(
    (p) =>
      Object.keys(p.attributes).length === Object.keys(attributes).length &&
      Object.entries(attributes).every(([key, value]) => p.attributes[key] === value),
  );
  return point?.value ?? 0;
}

/** Every attribute key and value a metric or a span (and its events) carries, as strings. */
export function everyAttribute(collected: CollectedMetric[], spans: ReadableSpan[]): string[] {
  const texts: string[] = [];
  const add = (attributes: Record<string, unknown> | undefined) => {
    for (const [key, value] of Object.entries(attributes ?? {})) texts.push(key, String(value));
  };
  for (const metric of collected) for (const point of metric.points) add(point.attributes);
  for (const span of spans) {
    texts.push(span.name);
    add(span.attributes);
    for (const event of span.events) {
      texts.push(event.name);
      add(event.attributes);
    }
  }
  return texts;
}
