import type { Counter, Histogram, Meter } from '@opentelemetry/api';

/**
 * The name of the library's meter and tracer.
 *
 * @group Telemetry
 */
export const TELEMETRY_NAME = 'mobile-oidc-provider';

// Store latency buckets, in seconds: an in-memory call takes microseconds, a Redis round trip
// about a millisecond, an outage hits the client's timeout (seconds).
const STORE_SECONDS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];

/**
 * The library's instruments. The OTel names are chosen so that the Prometheus exporter names
 * them `mobile_oidc_<name>_total` (counters) and `mobile_oidc_store_operation_duration_seconds`
 * (test/telemetry/example.system.test.ts scrapes them).
 *
 * @internal
 */
export class Instruments {
  /** Tokens issued by the token endpoint, by `grant_type`. */
  readonly tokensIssued: Counter;
  /** Token endpoint refusals, by OAuth `error` code. */
  readonly tokenErrors: Counter;
  /** Registrations, by `outcome` (`registered`, `rejected`) and refusal `reason`. */
  readonly registrations: Counter;
  /** Attestation results, by `stage`, `outcome`, `platform` and `level`. */
  readonly attestations: Counter;
  /** Sign-ins, by `method` and `outcome`. */
  readonly signIns: Counter;
  /** Sign-ins refused by the throttle, by `limit`. */
  readonly signInsThrottled: Counter;
  /** Store operation latency in seconds, by `operation` and `model`. */
  readonly storeDuration: Histogram;
  /** Store operations that failed (the store unreachable or erroring), by `operation` and `model`. */
  readonly storeErrors: Counter;
  /** Rotated refresh tokens used again and allowed within the grace window. */
  readonly refreshRetries: Counter;
  /** Refresh token reuse taken for theft (the grant revoked), by `reason`. */
  readonly refreshTheft: Counter;

  constructor(meter: Meter) {
    this.tokensIssued = meter.createCounter('mobile_oidc.tokens_issued', {
      description: 'Tokens issued by the token endpoint, by grant type',
    });
    this.tokenErrors = meter.createCounter('mobile_oidc.token_errors', {
      description: 'Token endpoint refusals, by OAuth error code',
    });
    this.registrations = meter.createCounter('mobile_oidc.registrations', {
      description: 'Instance registrations, by outcome and refusal reason',
    });
    this.attestations = meter.createCounter('mobile_oidc.attestations', {
      description:
        'Attestation results at registration and at the Client Attester, by outcome, platform and level',
    });
    this.signIns = meter.createCounter('mobile_oidc.sign_ins', {
      description: 'Sign-ins, by method and outcome',
    });
    this.signInsThrottled = meter.createCounter('mobile_oidc.sign_ins.throttled', {
      description: 'Sign-ins refused by the sign-in throttle, by the limit reached',
    });
    // The unit in the name too: the JS Prometheus exporter appends `_total` to counters but no
    // unit suffix (and exporters that do append one skip a suffix already there).
    this.storeDuration = meter.createHistogram('mobile_oidc.store.operation.duration_seconds', {
      description: 'Store operation latency',
      unit: 's',
      advice: { explicitBucketBoundaries: STORE_SECONDS },
    });
    this.storeErrors = meter.createCounter('mobile_oidc.store.errors', {
      description: 'Store operations that failed (unreachable, timed out, erroring)',
    });
    this.refreshRetries = meter.createCounter('mobile_oidc.refresh_token.grace_reuses', {
      description: 'Rotated refresh tokens used again, and allowed, within the reuse grace window',
    });
    this.refreshTheft = meter.createCounter('mobile_oidc.refresh_token.theft', {
      description: 'Refresh token reuse taken for theft (the grant revoked), by reason',
    });
  }
}
