import type { Logger } from 'mobile-oidc-provider';

/** What {@link startMetrics} reads: `METRICS_PORT`, the port `/metrics` is served on. */
export interface MetricsEnv {
  METRICS_PORT?: string;
}

const SDK_PACKAGES = '@opentelemetry/sdk-metrics @opentelemetry/exporter-prometheus';

/**
 * With `METRICS_PORT` set, registers an OpenTelemetry meter provider that Prometheus scrapes at
 * `http://127.0.0.1:$METRICS_PORT/metrics` (loopback only: put a scraper beside the server, not
 * the internet). Call it before `createAuthServer`: the library takes the meter provider
 * registered when it starts. The SDK packages are optional: loaded only here, only then.
 */
export async function startMetrics(env: MetricsEnv, log: Logger): Promise<void> {
  if (!env.METRICS_PORT) return;
  const port = Number(env.METRICS_PORT);
  let sdk: [
    typeof import('@opentelemetry/api'),
    typeof import('@opentelemetry/sdk-metrics'),
    typeof import('@opentelemetry/exporter-prometheus'),
  ];
  try {
    sdk = await Promise.all([
      import('@opentelemetry/api'),
      import('@opentelemetry/sdk-metrics'),
      import('@opentelemetry/exporter-prometheus'),
    ]);
  } catch {
    log.error(
      {},
      `METRICS_PORT is set, but the metrics SDK is missing: npm install ${SDK_PACKAGES}`,
    );
    process.exit(1);
  }
  const [{ metrics }, { MeterProvider }, { PrometheusExporter }] = sdk;
  const exporter = new PrometheusExporter({ host: '127.0.0.1', port, preventServerStart: true });
  await exporter.startServer();
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [exporter] }));
  log.info({ port }, `metrics: http://127.0.0.1:${port}/metrics`);
}
