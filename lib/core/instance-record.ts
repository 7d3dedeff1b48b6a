// What an instance client's stored record says about it: the vocabulary every feature shares.
import type { JWK } from 'jose';
import type { AssuranceLevel } from './levels.js';
import type { TemplateTtlOptions } from './template-types.js';

/**
 * The client metadata field where an instance client records who registered it. Kept out of
 * every registration response, and never settable by the client.
 *
 * @internal
 */
export const INSTANCE_FIELD = 'mobile_oidc_instance';

/**
 * What an instance client record says about its origin.
 *
 * @group Registration
 */
export interface InstanceRecord {
  /**
   * The account the instance belongs to: the user whose DCR token registered it, or, for an
   * instance registered without a user, the first account that signed in through it.
   */
  account_id?: string;
  /** The registration client the user's DCR token was issued to. */
  registration_client_id?: string;
  /** The client assurance level; `none` when absent (instances registered before levels). */
  cal?: AssuranceLevel;
  /** How the registration was authorized. */
  registered_by?: RegistrationProof;
  /** When the instance registered, in seconds since the epoch. */
  created_at: number;
  /** When the instance registered, in milliseconds: orders registrations within one second. */
  created_ms?: number;
  /** The `software_id` of the template the instance inherits from, if any. */
  template?: string;
  /** `revoked` once an administrator or the user revoked the instance. */
  status?: 'active' | 'revoked';
  /** When the instance was revoked, in seconds since the epoch. */
  revoked_at?: number;
  /**
   * Set until the instance first obtains a token: when it expires unless used, in seconds since
   * the epoch. The stored record expires then too.
   */
  unused_until?: number;
  /** The template's token lifetimes, merged in when the instance is loaded. @internal */
  template_ttl?: TemplateTtlOptions;
  /** Set when the template shares installs between accounts; merged in at load. @internal */
  shared_devices?: true;
  /**
   * The redirect URIs the template fixes (its own `redirect_uris`), merged in at load: any other
   * redirect URI of the instance was chosen by its registrant. @internal
   */
  template_redirect_uris?: string[];
  /** Registered scopes its level leaves out of the loaded `scope`; merged in at load. @internal */
  withheld_scopes?: string[];
}

/**
 * The record as stored: without the fields merged in from the template at load.
 *
 * @internal
 */
export function storedRecord(record: InstanceRecord): InstanceRecord {
  const {
    template_ttl: _ttl,
    shared_devices: _shared,
    template_redirect_uris: _redirects,
    withheld_scopes: _withheld,
    ...stored
  } = record;
  return stored;
}

/** Reads the instance record from a client's metadata, if it is an instance client. @internal */
export function instanceRecord(metadata: Record<string, unknown>): InstanceRecord | undefined {
  const record = metadata[INSTANCE_FIELD];
  return typeof record === 'object' && record !== null ? (record as InstanceRecord) : undefined;
}

/**
 * How an instance's registration was authorized.
 *
 * @group Attestation
 */
export type RegistrationMethod = 'user-token' | 'fallback-client' | 'attestation';

/**
 * The client authentication methods a fallback client may use.
 *
 * @group Attestation
 */
export type FallbackAuthMethod =
  | 'client_secret_basic'
  | 'client_secret_post'
  | 'client_secret_jwt'
  | 'private_key_jwt'
  | 'tls_client_auth'
  | 'self_signed_tls_client_auth';

/**
 * What an instance client records about how it registered (shown by device management).
 *
 * @group Attestation
 */
export interface RegistrationProof {
  /** How the registration was authorized. */
  method: RegistrationMethod;
  /** With a fallback client: its id and how it authenticated. */
  fallback_client_id?: string;
  /** The fallback client's authentication method. */
  fallback_auth_method?: FallbackAuthMethod;
  /** With attestation: a summary of the verified evidence (never the evidence). */
  evidence?: EvidenceSummary;
}

/**
 * What an instance keeps of the evidence it registered with (from {@link VerifiedEvidence}).
 *
 * @group Attestation
 */
export interface EvidenceSummary {
  /** The evidence format. */
  format: string;
  /** {@link VerifiedEvidence.platform} */
  platform: string;
  /** {@link VerifiedEvidence.appId} */
  app_id: string;
  /** {@link VerifiedEvidence.keyId} */
  key_id?: string;
  /** {@link VerifiedEvidence.assertionKey} */
  assertion_key?: JWK;
  /** {@link VerifiedEvidence.verdicts} */
  verdicts?: string[];
  /** {@link VerifiedEvidence.details} */
  details?: Record<string, string | number | boolean>;
  /** {@link VerifiedEvidence.keyUserAuthentication} */
  key_user_authentication?: KeyUserAuthentication;
}

/**
 * How the user must authenticate before the device lets the attested key sign, as the device's
 * secure hardware enforces it (Android key attestation: the KeyDescription's hardware-enforced
 * `userAuthType` and `authTimeout`, without `noAuthRequired`).
 *
 * @group Attestation
 */
export interface KeyUserAuthentication {
  /**
   * The user authentications that unlock the key: `biometric` (a strong biometric), `credential`
   * (the device's PIN, pattern or password). Either one is enough.
   */
  methods: KeyUserAuthMethod[];
  /**
   * Seconds the key stays usable after the user authenticated; `0`: every use needs its own
   * authentication (the app shows the prompt for that signature).
   */
  timeout: number;
}

/**
 * A user authentication that can unlock an attested key: a strong biometric, or the device's
 * PIN, pattern or password.
 *
 * @group Attestation
 */
export type KeyUserAuthMethod = 'biometric' | 'credential';
