import type { EventEmitter } from 'node:events';
import { trace } from '@opentelemetry/api';
import type { ClientAttestationEvents, RegistrationEvents } from '../attestation/types.js';
import type { FederationEvents } from '../federation/types.js';
import type { InstanceEvents } from '../instances/types.js';
import type { SignInEvents } from '../interactions/events.js';
import type { PhoneApprovalEvents } from '../phone-approval/events.js';
import type { RefreshTokenEvents } from '../provider/refresh-events.js';
import type { Instruments } from './instruments.js';
import { CodeNames, levelOf, oneOf, platformOf, platformOfEvidence } from './labels.js';

/** The audit events counted. */
type CountedEvents = InstanceEvents &
  RegistrationEvents &
  ClientAttestationEvents &
  SignInEvents &
  FederationEvents &
  PhoneApprovalEvents &
  RefreshTokenEvents;

const THEFT_REASONS = [
  'outside_grace_window',
  'successor_used',
  'superseded_successor_used',
  'second_successor_used',
] as const;

/**
 * Counts the server's audit events (registrations, attestation results, sign-ins, throttling,
 * refresh token retries and theft) and marks each on the request's span, by name only: the
 * counters take fixed-set values from the events, never an id, a username or an address.
 *
 * @internal
 */
export function countAuditEvents(events: EventEmitter, instruments: Instruments): void {
  const reasons = new CodeNames();
  const on = <E extends keyof CountedEvents>(
    event: E,
    listener: (payload: CountedEvents[E]) => void,
  ) =>
    events.on(event, (payload: CountedEvents[E]) => {
      listener(payload);
      trace.getActiveSpan()?.addEvent(event);
    });

  on('instance.registered', () => instruments.registrations.add(1, { outcome: 'registered' }));
  on('registration.rejected', (e) =>
    instruments.registrations.add(1, { outcome: 'rejected', reason: reasons.of(e.reason) }),
  );
  on('registration.attested', (e) =>
    instruments.attestations.add(1, {
      stage: 'registration',
      outcome: 'verified',
      platform: platformOf(e.proof.evidence?.platform),
      level: levelOf(e.cal),
    }),
  );
  on('registration.fallback', (e) =>
    instruments.attestations.add(1, {
      stage: 'registration',
      outcome: 'fallback',
      platform: 'none',
      level: levelOf(e.cal),
    }),
  );
  on('attestation.issued', (e) =>
    instruments.attestations.add(1, {
      stage: 'client_attestation',
      outcome: 'issued',
      platform: platformOfEvidence(e.evidence),
      level: levelOf(e.cal),
    }),
  );
  on('attestation.refused', () =>
    instruments.attestations.add(1, { stage: 'client_attestation', outcome: 'refused' }),
  );
  on('signin.succeeded', (e) =>
    instruments.signIns.add(1, {
      method: oneOf(['password', 'passkey'], e.method),
      outcome: 'success',
    }),
  );
  on('signin.failed', (e) =>
    instruments.signIns.add(1, {
      method: oneOf(['password', 'passkey', 'federated'], e.method),
      outcome: 'failure',
    }),
  );
  on('account.federated', () =>
    instruments.signIns.add(1, { method: 'federated', outcome: 'success' }),
  );
  // A sign-in approved on the user's phone (CIBA), or denied there.
  on('phone_approval.approved', () =>
    instruments.signIns.add(1, { method: 'phone', outcome: 'success' }),
  );
  on('phone_approval.denied', () =>
    instruments.signIns.add(1, { method: 'phone', outcome: 'failure' }),
  );
  on('signin.throttled', (e) =>
    instruments.signInsThrottled.add(1, { limit: oneOf(['account', 'ip', 'username'], e.limit) }),
  );
  on('refresh_token.retried', () => instruments.refreshRetries.add(1));
  on('refresh_token.reuse_detected', (e) =>
    instruments.refreshTheft.add(1, { reason: oneOf(THEFT_REASONS, e.reason) }),
  );
}
