// Metrics and traces through OpenTelemetry (issue #28): with an SDK registered as an app would,
// a real journey (sign-ins, DCR token, registrations with and without evidence, tokens, a refused
// token request, a refresh retry within the grace window, refresh token theft) shows in the
// counters with their labels, the store histogram and the spans; and no token, secret, password
// or evidence appears in any attribute. Without an SDK nothing is installed (every other suite).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuthServerOptions } from 'mobile-oidc-provider';
import * as oidc from 'openid-client';
import { PHASES } from '../../lib/provider/phases.js';
import { APP_REDIRECT_URI, type RunningServer, registrationClient } from '../helpers/example.js';
import { postRegistration, rawRefresh, rawTokenRequest } from '../helpers/registration.js';
import {
  codeForInstance,
  obtainDcrToken,
  registerInstance,
  SignInBrowser,
  signIn,
} from '../helpers/sign-in.js';
import {
  type CollectedMetric,
  everyAttribute,
  type ObservedServer,
  pointValue,
  startObserved,
} from '../helpers/telemetry.js';

const WRONG_PASSWORD = 'Wr0ng-Secret-Pa55word';
const PASSWORD = 'Password1';

describe('telemetry through OpenTelemetry, with an SDK registered', () => {
  let observed: ObservedServer;
  let server: RunningServer;
  /** Every secret the journey saw: none may appear in a metric or span attribute. */
  const secrets: string[] = [WRONG_PASSWORD, PASSWORD];
  let collected: CollectedMetric[];

  before(async () => {
    observed = await startObserved(
      (o): AuthServerOptions => ({
        ...o,
        interactions: {
          ...o.interactions,
          signInRateLimit: { perAccount: { points: 1, duration: 60 } },
        },
      }),
    );
    server = observed.server;
    await journey();
    collected = await observed.sdk.metrics();
  });
  after(() => observed?.close());

  /** The journey the assertions read: each step's count is stated where it is asserted. */
  async function journey() {
    const reg = await registrationClient(server.issuer);
    // A wrong password (a failed sign-in), then the same username again: throttled.
    for (let i = 0; i < 2; i += 1) {
      await assert.rejects(
        signIn(new SignInBrowser(), await dcrUrl(reg), {
          username: 'mallory',
          password: WRONG_PASSWORD,
        }),
        /with (401|429)/,
      );
    }
    // Flow 1: a password sign-in and an authorization_code token (the DCR token).
    const browser = new SignInBrowser();
    const { tokens: dcr } = await obtainDcrToken(reg, browser);
    secrets.push(dcr.access_token);
    // Flow 2: one registration; the single-use DCR token refused the second time.
    const instance = await registerInstance(server.issuer, dcr.access_token);
    const metadata = instance.clientMetadata();
    secrets.push(metadata.client_secret as string, metadata.registration_access_token as string);
    const again = await postRegistration(
      server.issuer,
      { redirect_uris: [APP_REDIRECT_URI] },
      dcr.access_token,
    );
    assert.equal(again.status, 401);
    // Flow 5: a registration with attestation evidence.
    const attested = await observed.registerAttested();
    secrets.push(...attested.sent, attested.body.registration_access_token);
    // Flow 3: the instance's tokens (authorization_code), silently through SSO.
    const code = await codeForInstance(browser, instance);
    secrets.push(code.callback.searchParams.get('code') as string);
    const tokens = await oidc.authorizationCodeGrant(instance, code.callback, code.checks);
    secrets.push(tokens.access_token, tokens.refresh_token as string, tokens.id_token as string);
    // Refused token requests: an unknown code (invalid_grant), and a grant type that is a
    // token (unsupported_grant_type): a request's value never becomes a label.
    const unknownCode = await rawTokenRequest(instance, {
      grant_type: 'authorization_code',
      code: 'an-unknown-authorization-code-0123456789',
      redirect_uri: APP_REDIRECT_URI,
      code_verifier: code.checks.pkceCodeVerifier,
    });
    assert.equal(unknownCode.status, 400);
    const tokenAsGrantType = await rawTokenRequest(instance, { grant_type: dcr.access_token });
    assert.equal(tokenAsGrantType.status, 400);
    // A rotation, a retry of the rotated token within the grace window, then a use of the
    // retry's successor, and the first token once more: theft, the grant revoked.
    const first = tokens.refresh_token as string;
    const rotated = await rawRefresh(instance, first);
    assert.equal(rotated.status, 200);
    const retried = await rawRefresh(instance, first);
    assert.equal(retried.status, 200);
    const successor = ((await retried.json()) as { refresh_token: string }).refresh_token;
    secrets.push(successor, ((await rotated.json()) as { refresh_token: string }).refresh_token);
    const used = await rawRefresh(instance, successor);
    assert.equal(used.status, 200);
    const stolen = await rawRefresh(instance, first);
    assert.equal(stolen.status, 400);
  }

  async function dcrUrl(reg: oidc.Configuration) {
    return oidc.buildAuthorizationUrl(reg, {
      redirect_uri: APP_REDIRECT_URI,
      scope: 'dcr',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
  }

  it('counts tokens issued by grant type', () => {
    // The DCR token and the instance's code exchange; the rotation, the retry and the successor's use.
    assert.equal(
      pointValue(collected, 'mobile_oidc.tokens_issued', { grant_type: 'authorization_code' }),
      2,
    );
    assert.equal(
      pointValue(collected, 'mobile_oidc.tokens_issued', { grant_type: 'refresh_token' }),
      3,
    );
  });

  it('counts each refused token request by its error code', () => {
    // The unknown code, and the theft.
    assert.equal(pointValue(collected, 'mobile_oidc.token_errors', { error: 'invalid_grant' }), 2);
    assert.equal(
      pointValue(collected, 'mobile_oidc.token_errors', { error: 'unsupported_grant_type' }),
      1,
    );
  });

  it('counts registrations by outcome, and refusals by reason', () => {
    assert.equal(pointValue(collected, 'mobile_oidc.registrations', { outcome: 'registered' }), 2);
    assert.equal(
      pointValue(collected, 'mobile_oidc.registrations', {
        outcome: 'rejected',
        reason: 'invalid_token',
      }),
      1,
    );
  });

  it('counts attestation results by platform and level', () => {
    // The test CA's verifier names its platform `test`: outside the fixed set, so `other`.
    assert.equal(
      pointValue(collected, 'mobile_oidc.attestations', {
        stage: 'registration',
        outcome: 'verified',
        platform: 'other',
        level: 'by-policy',
      }),
      1,
    );
  });

  it('counts sign-ins by method and outcome, and throttled sign-ins by limit', () => {
    assert.equal(
      pointValue(collected, 'mobile_oidc.sign_ins', { method: 'password', outcome: 'failure' }),
      1,
    );
    assert.equal(
      pointValue(collected, 'mobile_oidc.sign_ins', { method: 'password', outcome: 'success' }),
      1,
    );
    assert.equal(pointValue(collected, 'mobile_oidc.sign_ins.throttled', { limit: 'account' }), 1);
  });

  it('counts refresh token retries within the grace window, and theft by reason', () => {
    assert.equal(pointValue(collected, 'mobile_oidc.refresh_token.grace_reuses', {}), 1);
    assert.equal(
      pointValue(collected, 'mobile_oidc.refresh_token.theft', { reason: 'successor_used' }),
      1,
    );
  });

  it('measures store operations in seconds, by operation and model', () => {
    const histogram = collected.find(
      (m) => m.name === 'mobile_oidc.store.operation.duration_seconds',
    );
    assert.ok(histogram);
    assert.equal(histogram.unit, 's');
    const grantFinds = histogram.points.find(
      (p) => p.attributes.operation === 'find' && p.attributes.model === 'Grant',
    );
    const count = (grantFinds?.value as { count: number } | undefined)?.count ?? 0;
    assert.ok(count > 0, 'Grant finds were measured');
    const takeUses = histogram.points.find((p) => p.attributes.operation === 'takeUse');
    assert.ok(takeUses, 'store operations outside an adapter are measured too');
    assert.equal(takeUses.attributes.model, undefined);
    // Nothing failed: no store error counted.
    assert.equal(
      collected.find((m) => m.name === 'mobile_oidc.store.errors')?.points.length ?? 0,
      0,
    );
  });

  it('runs each request in a span named after its route, with the store calls as child spans', () => {
    const spans = observed.sdk.spans();
    const tokenSpans = spans.filter((s) => s.name === 'mobile-oidc-provider token');
    assert.ok(tokenSpans.length >= 6, `token spans: ${tokenSpans.length}`);
    const refused = tokenSpans.find((s) => s.attributes['mobile_oidc.error'] === 'invalid_grant');
    assert.ok(refused, 'a refused token request carries its error code');
    assert.equal(refused.attributes['http.response.status_code'], 400);
    for (const span of tokenSpans) {
      const children = spans.filter(
        (s) => s.parentSpanContext?.spanId === span.spanContext().spanId,
      );
      assert.ok(
        children.some((c) => c.name.startsWith('store ')),
        'each token request made store calls',
      );
      // Store calls, and the phases of the app's hooks (`accounts.findAccount`).
      assert.ok(
        children.every(
          (c) => c.name.startsWith('store ') || (PHASES as readonly string[]).includes(c.name),
        ),
        children.map((c) => c.name).join(),
      );
      assert.ok(children.every((c) => c.spanContext().traceId === span.spanContext().traceId));
    }
    // The audit events are events of the request's span, by name.
    const withEvent = (name: string) =>
      tokenSpans.filter((s) => s.events.some((e) => e.name === name));
    assert.equal(withEvent('refresh_token.retried').length, 1);
    assert.equal(
      withEvent('refresh_token.retried')[0]?.attributes['mobile_oidc.grant_type'],
      'refresh_token',
    );
    assert.equal(withEvent('refresh_token.reuse_detected').length, 1);
    // The grant type that was a token is named `other`.
    assert.ok(tokenSpans.some((s) => s.attributes['mobile_oidc.grant_type'] === 'other'));
    const registration = spans.find((s) => s.name === 'mobile-oidc-provider registration');
    assert.ok(registration, 'registration requests have their span');
  });

  it('attack: no token, secret, password, code, challenge or evidence in any attribute', () => {
    const texts = everyAttribute(collected, observed.sdk.spans());
    assert.ok(texts.length > 100, 'the check reads what was recorded');
    assert.ok(secrets.length >= 14);
    for (const secret of secrets) {
      assert.ok(typeof secret === 'string' && secret.length >= 8, 'each secret is a real value');
      const leak = texts.find((text) => text.includes(secret));
      assert.equal(leak, undefined, `a secret leaked into telemetry: ${secret.slice(0, 6)}…`);
    }
    // Nor the usernames that were typed.
    assert.ok(!texts.some((t) => t.includes('mallory') || t.includes('demouser')));
  });
});
