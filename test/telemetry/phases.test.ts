// The phases of a request as child spans (issue #28): with a tracer registered, the app's
// account hooks, attestation verification and the upstream id_token's verification each run in
// a span of their own, named from a fixed list, under the request's span; what the hook does
// inside (its own spans, the store calls) nests under the phase. A refused federated sign-in is
// counted as `{method: 'federated', outcome: 'failure'}`. Without a tracer the phase runner is
// the plain call.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { AuthServerOptions } from 'mobile-oidc-provider';
import * as oidc from 'openid-client';
import { MemoryStore } from '../../adapters/memory.js';
import { consoleLogger } from '../../lib/core/logger.js';
import { resolveKeys } from '../../lib/keys/index.js';
import { Assembly } from '../../lib/provider/assembly.js';
import { PHASES, runDirectly } from '../../lib/provider/phases.js';
import { openTelemetry } from '../../lib/telemetry/install.js';
import { type RunningServer, registrationClient } from '../helpers/example.js';
import { obtainDcrToken, SignInBrowser } from '../helpers/sign-in.js';
import {
  type CollectedMetric,
  everyAttribute,
  type ObservedServer,
  pointValue,
  startObserved,
  TestSdk,
} from '../helpers/telemetry.js';
import { startUpstreamIdp, type UpstreamIdp } from '../helpers/upstream-idp.js';

const USERNAME = 'demouser';
const PASSWORD = 'Password1';
const GOOGLE_CLIENT_ID = 'phases.apps.googleusercontent.example';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';
/** The app's own span inside its password check: a user database query, say. */
const APP_SPAN = 'app users.verify_password';

const childrenOf = (spans: ReadableSpan[], parent: ReadableSpan) =>
  spans.filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId);

describe('request phases as child spans, with a tracer registered', () => {
  let observed: ObservedServer;
  let server: RunningServer;
  let google: UpstreamIdp;
  /** Every secret and identifier the journey used: none may appear in a span or metric. */
  const secrets: string[] = [PASSWORD];
  let collected: CollectedMetric[];
  let spans: ReadableSpan[];

  before(async () => {
    google = await startUpstreamIdp({ quirks: 'google' });
    observed = await startObserved(
      (o): AuthServerOptions => ({
        ...o,
        accounts: {
          ...o.accounts,
          // The app's hook makes its own span: it must nest under the phase's.
          authenticate: (username, password) =>
            trace
              .getTracer('the-app')
              .startActiveSpan(APP_SPAN, (span) =>
                o.accounts.authenticate(username, password).finally(() => span.end()),
              ),
          async federated(identity) {
            return identity.subject === 'g-demo' ? USERNAME : undefined;
          },
        },
        federation: {
          providers: [
            {
              name: 'google',
              issuer: google.issuer,
              quirks: 'google',
              audiences: [GOOGLE_CLIENT_ID],
            },
          ],
        },
      }),
    );
    server = observed.server;
    await journey();
    collected = await observed.sdk.metrics();
    spans = observed.sdk.spans();
  });
  after(async () => {
    await observed?.close();
    await google?.close();
  });

  async function freshNonce(): Promise<string> {
    const res = await fetch(new URL('/federation/nonce', server.issuer), { method: 'POST' });
    assert.equal(res.status, 200);
    return ((await res.json()) as { nonce: string }).nonce;
  }

  /** The native exchange of `idToken` by the registration client; resolves the HTTP status. */
  async function exchange(reg: oidc.Configuration, idToken: string): Promise<number> {
    try {
      await oidc.genericGrantRequest(reg, TOKEN_EXCHANGE, {
        subject_token: idToken,
        subject_token_type: ID_TOKEN_TYPE,
      });
      return 200;
    } catch (error) {
      assert.ok(error instanceof oidc.ResponseBodyError, String(error));
      return error.status;
    }
  }

  async function journey() {
    const reg = await registrationClient(server.issuer);
    // A password sign-in (and the DCR token's code exchange).
    const { tokens: dcr } = await obtainDcrToken(reg, new SignInBrowser(), {
      username: USERNAME,
      password: PASSWORD,
    });
    secrets.push(dcr.access_token);
    // A registration with attestation evidence.
    secrets.push(...(await observed.registerAttested()).sent);
    // A native federated sign-in, then refused ones: the same id_token again (replayed), an
    // expired one, one for an unknown audience, one whose identity no account takes.
    const idToken = await google.mintIdToken({
      sub: 'g-demo',
      aud: GOOGLE_CLIENT_ID,
      nonce: await freshNonce(),
    });
    secrets.push(idToken);
    assert.equal(await exchange(reg, idToken), 200);
    assert.equal(await exchange(reg, idToken), 400);
    const refused = [
      await google.mintIdToken({
        sub: 'g-demo',
        aud: GOOGLE_CLIENT_ID,
        nonce: await freshNonce(),
        expiresIn: -600,
      }),
      await google.mintIdToken({
        sub: 'g-demo',
        aud: 'someone-else.apps.googleusercontent.example',
        nonce: await freshNonce(),
      }),
      await google.mintIdToken({
        sub: 'g-nobody',
        aud: GOOGLE_CLIENT_ID,
        nonce: await freshNonce(),
      }),
    ];
    for (const token of refused) {
      secrets.push(token);
      assert.equal(await exchange(reg, token), 400);
    }
  }

  /** The request spans (`mobile-oidc-provider <route>`) with a child phase span `phase`. */
  function phaseSpans(phase: string, route?: string) {
    return spans
      .filter((s) => s.name === phase)
      .map((span) => ({
        span,
        parent: spans.find(
          (p) => p.spanContext().spanId === span.parentSpanContext?.spanId,
        ) as ReadableSpan,
      }))
      .filter(
        ({ parent }) => route === undefined || parent?.name === `mobile-oidc-provider ${route}`,
      );
  }

  it("runs the password check in an `accounts.authenticate` span under the request's, with the hook's own spans under it", () => {
    const checks = phaseSpans('accounts.authenticate');
    assert.equal(checks.length, 1, 'one password check');
    const [{ span, parent }] = checks as [{ span: ReadableSpan; parent: ReadableSpan }];
    assert.ok(parent?.name.startsWith('mobile-oidc-provider'), `parent: ${parent?.name}`);
    assert.equal(span.spanContext().traceId, parent.spanContext().traceId);
    assert.equal(span.attributes['mobile_oidc.phase'], 'accounts.authenticate');
    assert.deepEqual(
      childrenOf(spans, span).map((s) => s.name),
      [APP_SPAN],
      "the hook's work nests under its phase",
    );
    // The page's own store calls stay the request's.
    assert.ok(childrenOf(spans, parent).some((s) => s.name.startsWith('store ')));
  });

  it('runs the evidence verifier in an `attestation.verify` span of the registration, its platform from a fixed set', () => {
    const verifications = phaseSpans('attestation.verify', 'registration');
    assert.equal(verifications.length, 1);
    // The test CA's format is a custom verifier's: `other`.
    assert.equal(verifications[0]?.span.attributes['mobile_oidc.platform'], 'other');
  });

  it("runs the upstream id_token's verification (with its JWKS fetch) in a `federation.verify_id_token` span of the token request", () => {
    const verifications = phaseSpans('federation.verify_id_token', 'token');
    // The first exchange, the replayed, the expired, the wrong audience and the unknown identity.
    assert.equal(verifications.length, 5);
    // A check that refused marks its span failed, without a message.
    const failed = verifications.filter(({ span }) => span.status.code === 2);
    assert.equal(failed.length, 2, 'the expired token and the unknown audience');
    assert.ok(failed.every(({ span }) => span.status.message === undefined));
    // The verified ones not replayed go on to the app's hook, in its own phase: the first and
    // the unknown identity.
    assert.equal(phaseSpans('accounts.federated', 'token').length, 2);
  });

  it('names every phase span from the fixed list', () => {
    const phases = spans.filter((s) => s.attributes['mobile_oidc.phase'] !== undefined);
    assert.ok(phases.length >= 10);
    for (const span of phases) {
      assert.ok((PHASES as readonly string[]).includes(span.name), span.name);
      assert.equal(span.attributes['mobile_oidc.phase'], span.name);
    }
  });

  it('counts refused federated sign-ins as {method: federated, outcome: failure}', () => {
    assert.equal(
      pointValue(collected, 'mobile_oidc.sign_ins', { method: 'federated', outcome: 'failure' }),
      4,
    );
    assert.equal(
      pointValue(collected, 'mobile_oidc.sign_ins', { method: 'federated', outcome: 'success' }),
      1,
    );
  });

  it('attack: no username, password, id_token or evidence in any span name or attribute', () => {
    const texts = everyAttribute(collected, spans);
    assert.ok(secrets.length >= 7);
    for (const secret of secrets) {
      assert.ok(secret.length >= 8, 'each secret is a real value');
      const leak = texts.find((text) => text.includes(secret));
      assert.equal(leak, undefined, `leaked into telemetry: ${secret.slice(0, 6)}…`);
    }
    assert.ok(
      !texts.some((t) => t.includes(USERNAME) || t.includes('g-demo') || t.includes('g-nobody')),
    );
  });
});

describe('request phases without a tracer', () => {
  const sdk = new TestSdk();
  before(() => {
    sdk.register({ traces: false });
  });
  after(() => sdk.unregister());

  it('control: the phase runner stays the plain call when only a meter is registered', async () => {
    const telemetry = openTelemetry();
    assert.ok(telemetry, 'telemetry is installed for the metrics');
    const keys = await resolveKeys({}, () => {});
    const assembly = new Assembly(
      'http://localhost:3000',
      new MemoryStore(),
      consoleLogger,
      keys,
      new EventEmitter(),
    );
    telemetry.install(assembly);
    assert.equal(assembly.phase, runDirectly);
    const result = {};
    assert.equal(
      assembly.phase('accounts.authenticate', () => result),
      result,
      'the call itself, no promise around it',
    );
  });
});
