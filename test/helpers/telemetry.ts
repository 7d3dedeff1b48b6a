// The OpenTelemetry SDK as an app would register it, reading into memory: a metric reader the
// test collects from, an in-memory span exporter, and the async-hooks context manager. Removed
// again after the suite, so the next suite in the process sees the API's no-ops. And the test
// server the telemetry suites observe, with the SDK registered before it starts.
import assert from 'node:assert/strict';
import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { type DataPoint, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { AuthServerOptions } from 'mobile-oidc-provider';
import { type RunningServer, startExample } from './example.js';
import type { JsonBody } from './json.js';
import { fetchChallenge, postRegistration } from './registration.js';
import {
  ATTESTED_SOFTWARE_ID,
  attestedTemplate,
  createDeviceKey,
  createTestCa,
  evidenceFor,
  TEST_FORMAT,
  testCaVerifier,
} from './test-attestation.js';

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

/** The example server started under a registered {@link TestSdk}, and what the suites do on it. */
export interface ObservedServer {
  sdk: TestSdk;
  server: RunningServer;
  /**
   * Registers an install of the `ATTESTED_SOFTWARE_ID` template with test-CA evidence; its
   * registration response, and the challenge and certificates it sent (none may leak).
   */
  registerAttested(): Promise<{ body: JsonBody; sent: string[] }>;
  /** Stops the server, then unregisters the SDK. */
  close(): Promise<void>;
}

/**
 * Registers the SDK (traces too), then starts the example server with `more` options and a
 * template `ATTESTED_SOFTWARE_ID` whose installs may attest with a test CA's evidence.
 */
export async function startObserved(
  more: (o: AuthServerOptions) => AuthServerOptions = (o) => o,
): Promise<ObservedServer> {
  const sdk = new TestSdk().register();
  try {
    const ca = await createTestCa();
    const server = await startExample((o) =>
      more({
        ...o,
        registration: {
          ...o.registration,
          templates: [
            ...(o.registration?.templates ?? []),
            attestedTemplate(ATTESTED_SOFTWARE_ID, 'optional'),
          ],
        },
        attestation: { verifiers: { [TEST_FORMAT]: testCaVerifier(ca.root) } },
      }),
    );
    return {
      sdk,
      server,
      async registerAttested() {
        const device = await createDeviceKey();
        const challenge = await fetchChallenge(server.issuer);
        const evidence = await evidenceFor(ca, challenge, device);
        const registered = await postRegistration(server.issuer, {
          software_id: ATTESTED_SOFTWARE_ID,
          jwks: { keys: [device.jwk] },
          attestation: { format: TEST_FORMAT, challenge, evidence },
        });
        assert.equal(registered.status, 201, JSON.stringify(registered.body));
        return { body: registered.body, sent: [challenge, ...evidence.x5c] };
      },
      async close() {
        await server.close();
        await sdk.unregister();
      },
    };
  } catch (error) {
    // The next suite in the process must not inherit a registered SDK.
    await sdk.unregister();
    throw error;
  }
}
