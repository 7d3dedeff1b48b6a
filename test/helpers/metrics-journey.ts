// A real journey against a running example server, then its Prometheus scrape: what the metrics
// tests of the example (from source, and installed from the tarball) read their samples from.
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { APP_REDIRECT_URI, registrationClient } from './example.js';
import { rawTokenRequest } from './registration.js';
import { obtainDcrToken, registerInstance, SignInBrowser, signIn } from './sign-in.js';

/**
 * Against the example at `issuer`: a wrong password, a real sign-in and its DCR token, one
 * registration, one refused refresh; then the text `metricsUrl` serves.
 */
export async function journeyThenScrape(issuer: string, metricsUrl: string): Promise<string> {
  const reg = await registrationClient(issuer);
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
  const res = await fetch(metricsUrl);
  assert.equal(res.status, 200);
  return res.text();
}

/** The sample of `name` in a Prometheus text `scrape` with these labels (among others). */
export function prometheusSample(
  scrape: string,
  name: string,
  labels: Record<string, string>,
): number | undefined {
  for (const line of scrape.split('\n')) {
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

/**
 * The five names the example's scrape must have after {@link journeyThenScrape}, with the
 * counts that journey makes (issue #28); `undefined` when all are there, else what is missing.
 */
export function missingJourneyMetrics(scrape: string): string | undefined {
  const expected: [string, Record<string, string>, number][] = [
    ['mobile_oidc_tokens_issued_total', { grant_type: 'authorization_code' }, 1],
    ['mobile_oidc_token_errors_total', { error: 'invalid_grant' }, 1],
    ['mobile_oidc_registrations_total', { outcome: 'registered' }, 1],
    ['mobile_oidc_sign_ins_total', { method: 'password', outcome: 'success' }, 1],
    ['mobile_oidc_sign_ins_total', { method: 'password', outcome: 'failure' }, 1],
    [
      'mobile_oidc_store_operation_duration_seconds_count',
      { operation: 'upsert', model: 'Client' },
      1,
    ],
  ];
  const missing = expected
    .filter(([name, labels, count]) => prometheusSample(scrape, name, labels) !== count)
    .map(([name, labels, count]) => `${name}${JSON.stringify(labels)} ${count}`);
  return missing.length > 0 ? missing.join('; ') : undefined;
}
