/**
 * A check's outcome: `ok`, or `unavailable` (the server cannot serve requests now).
 *
 * @group Health
 */
export type HealthStatus = 'ok' | 'unavailable';

/**
 * One readiness check's outcome. `reason` says what failed in a fixed phrase (never a store's own
 * error, a host name or key material), for the `/readyz` body anyone reaching it may read.
 *
 * @group Health
 */
export interface HealthCheck {
  /** The check's outcome. */
  status: HealthStatus;
  /** Why the check failed, e.g. `the store did not answer within 1000 ms`; absent when `ok`. */
  reason?: string;
}

/**
 * What {@link AuthServer.health} answers, and `/readyz` sends: `ok` when every check is.
 *
 * @group Health
 */
export interface HealthReport {
  /** `ok` when every check is `ok`, else `unavailable`. */
  status: HealthStatus;
  /** Each check's outcome. */
  checks: {
    /** The store answered a trivial request (Redis: `PING`) within the readiness timeout. */
    store: HealthCheck;
    /** The signing keys are loaded. */
    keys: HealthCheck;
  };
}
