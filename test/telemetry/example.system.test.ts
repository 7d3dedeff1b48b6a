// The example server with METRICS_PORT (issue #28): an OpenTelemetry meter provider with the
// Prometheus exporter on 127.0.0.1, scraped after a real sign-in, registration and token
// requests. Pins the Prometheus names the library's OTel names become.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { APP_REDIRECT_URI, registrationClient } from '../helpers/example.js';
import { freePort } from '../helpers/listen.js';
import { rawTokenRequest } from '../helpers/registration.js';
import { obtainDcrToken, registerInstance, SignInBrowser, signIn } from '../helpers/sign-in.js';
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
    const issuer = `http://localhost:${example.port}`;
    const reg = await registrationClient(issuer);
    // A wrong password, then a real sign-in and its DCR token, a registration, a refused request.
    const url = oidc.buildAuthorizationUrl(reg, {
      redirect_uri: APP_REDIRECT_URI,
      scope: 'dcr',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    await assert.rejects(signIn(new SignInBrowser(), url, { password: 'wrong' }), /with 401/);
    const { tokens } = await obtainDcrToken(reg, new SignInBrowser());
    const instance = await registerInstance(issuer, tokens.access_token);
    const refused = await rawTokenRequest(instance, {
      grant_type: 'refresh_token',
      refresh_token: 'not-a-refresh-token-0123456789',
    });
    assert.equal(refused.status, 400);
    const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    assert.equal(res.status, 200);
    scraped = await res.text();
  });
  after(() => example?.stop());

  /** The sample of `name` with these labels (in any order, among others), or undefined. */
  function sample(name: string, labels: Record<string, string>): number | undefined {
    for (const line of scraped.split('\n')) {
      const match = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
      if (!match || match[1] !== name) continue;
      const present = Object.fromEntries(
        [...(match[2] as string).matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
      );
      if (Object.entries(labels).every(([key, value]) => present[key] === value)) {
        return Number(match[3]);
      }
    }
    return undefined;
  }

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
