// The example server with METRICS_PORT (issue #28): an OpenTelemetry meter provider with the
// Prometheus exporter on 127.0.0.1, scraped after a real sign-in, registration and token
// requests. Pins the Prometheus names the library's OTel names become.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../helpers/listen.js';
import { journeyThenScrape, prometheusSample } from '../helpers/metrics-journey.js';
import { type SpawnedExample, spawnExample } from '../helpers/spawn.js';

describe('the example server with METRICS_PORT', () => {
  let example: SpawnedExample;
  let metricsPort: number;
  let scraped: string;

  before(async () => {
    metricsPort = await freePort();
    example = await spawnExample('examples/server/main.ts', {
      METRICS_PORT: String(metricsPort),
      NODE_ENV: 'test',
    });
    scraped = await journeyThenScrape(
      `http://localhost:${example.port}`,
      `http://127.0.0.1:${metricsPort}/metrics`,
    );
  });
  after(() => example?.stop());

  const sample = (name: string, labels: Record<string, string>) =>
    prometheusSample(scraped, name, labels);

  it('announces where the metrics are, on the loopback address', () => {
    assert.match(
      example.output(),
      new RegExp(`metrics: http://127\\.0\\.0\\.1:${metricsPort}/metrics`),
    );
  });

  it('counts tokens issued by grant type: mobile_oidc_tokens_issued_total', () => {
    assert.equal(
      sample('mobile_oidc_tokens_issued_total', { grant_type: 'authorization_code' }),
      1,
    );
  });

  it('counts refused token requests by error code: mobile_oidc_token_errors_total', () => {
    assert.equal(sample('mobile_oidc_token_errors_total', { error: 'invalid_grant' }), 1);
  });

  it('counts registrations by outcome: mobile_oidc_registrations_total', () => {
    assert.equal(sample('mobile_oidc_registrations_total', { outcome: 'registered' }), 1);
  });

  it('counts sign-ins by method and outcome: mobile_oidc_sign_ins_total', () => {
    assert.equal(
      sample('mobile_oidc_sign_ins_total', { method: 'password', outcome: 'success' }),
      1,
    );
    assert.equal(
      sample('mobile_oidc_sign_ins_total', { method: 'password', outcome: 'failure' }),
      1,
    );
  });

  it('measures store operations in seconds: mobile_oidc_store_operation_duration_seconds', () => {
    assert.match(scraped, /^# TYPE mobile_oidc_store_operation_duration_seconds histogram$/m);
    const count = sample('mobile_oidc_store_operation_duration_seconds_count', {
      operation: 'upsert',
      model: 'Client',
    });
    assert.equal(count, 1, 'the one registration wrote one client');
  });
});
