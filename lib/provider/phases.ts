// The phases of a request that run the app's code or do expensive verification: features run
// them through the assembly's runner, which telemetry (a floor above every feature) turns into
// child spans; without a tracer the runner is a plain call.
import type { AccountOptions } from '../core/accounts.js';

/**
 * The phase names, fixed: a phase's span is named after its phase and carries no id, username
 * or evidence.
 *
 * @internal
 */
export const PHASES = [
  /** `accounts.authenticate`: the app's password check. */
  'accounts.authenticate',
  /** `accounts.findAccount`: the app's account lookup. */
  'accounts.findAccount',
  /** `accounts.federated`: the app maps an upstream identity to an account. */
  'accounts.federated',
  /** `accounts.link`: the app links an upstream identity to an account. */
  'accounts.link',
  /** A passkey assertion verified at sign-in. */
  'passkeys.verify_authentication',
  /** A passkey attestation verified when the user adds a passkey. */
  'passkeys.verify_registration',
  /** Registration evidence verified by its verifier (built-in or `attestation.verifiers`). */
  'attestation.verify',
  /** `assurance.resolve`: the app computes a registration's level. */
  'assurance.resolve',
  /** `attestation.policy`: the app's policy on an attested or fallback registration. */
  'attestation.policy',
  /** One of `registration.policies`: the app's hooks on a registration or update. */
  'registration.policy',
  /** An attestation-based client authentication's attestation checked against the instance. */
  'client_attestation.verify',
  /** The Client Attester checks an instance's fresh platform evidence. */
  'client_attester.verify_evidence',
  /** `attestation.attester.allowWithoutEvidence`: the app's policy at the Client Attester. */
  'client_attester.policy',
  /** An upstream id_token verified (with its JWKS fetch): native exchange or browser callback. */
  'federation.verify_id_token',
] as const;

/** One of {@link PHASES}. @internal */
export type PhaseName = (typeof PHASES)[number];

/** The platform a verification phase is for: a fixed set, never a format a client named. @internal */
export type PhasePlatform = 'ios' | 'android' | 'other';

/** What a phase may say about itself: fixed sets only. @internal */
export interface PhaseAttributes {
  platform?: PhasePlatform;
}

/**
 * Runs `run` as the phase `name` and returns what it returns (a promise stays a promise).
 *
 * @internal
 */
export type PhaseRunner = <T>(name: PhaseName, run: () => T, attributes?: PhaseAttributes) => T;

/** Where a feature finds the runner: read at each call, so telemetry may replace it. @internal */
export interface Phases {
  readonly phase: PhaseRunner;
}

/** The default runner: the call itself, no span, no extra promise. @internal */
export const runDirectly: PhaseRunner = (_name, run) => run();

/** Phases that are plain calls, for parts made outside a server. @internal */
export const directPhases: Phases = { phase: runDirectly };

/**
 * The app's account hooks, each run as its phase (`accounts.authenticate`…); the optional hooks
 * stay absent when the app has none, since features test for them.
 *
 * @internal
 */
export function phasedAccounts(phases: Phases, accounts: AccountOptions): AccountOptions {
  const { federated, link } = accounts;
  return {
    authenticate: (username, password) =>
      phases.phase('accounts.authenticate', () => accounts.authenticate(username, password)),
    findAccount: (accountId) =>
      phases.phase('accounts.findAccount', () => accounts.findAccount(accountId)),
    ...(federated
      ? {
          federated: (identity) =>
            phases.phase('accounts.federated', () => federated.call(accounts, identity)),
        }
      : {}),
    ...(link
      ? {
          link: (identity, accountId) =>
            phases.phase('accounts.link', () => link.call(accounts, identity, accountId)),
        }
      : {}),
  };
}
