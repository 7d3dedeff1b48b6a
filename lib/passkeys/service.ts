import { randomBytes } from 'node:crypto';
import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import type { AccountClaims } from '../core/accounts.js';
import { findUnsafeKey } from '../http/prototype-safety.js';
import type { Phases } from '../provider/phases.js';
import type { Store } from '../storage/store.js';
import { PasskeyChallenges } from './challenges.js';
import {
  isCredentialId,
  PasskeyCredentials,
  passkeyInfo,
  type StoredPasskey,
} from './credentials.js';
import type { RelyingParty } from './settings.js';
import type {
  PasskeyEvents,
  PasskeyInfo,
  PasskeyRefusalReason,
  PasskeyRemovedBy,
} from './types.js';

// EdDSA, ES256, RS256: what platform authenticators and security keys make.
const ALGORITHMS = [-8, -7, -257];
// How long a ceremony may take, and its challenge be used (seconds).
const CHALLENGE_TTL = 300;
// The name a user gives a passkey, in characters.
const MAX_NAME_LENGTH = 64;
// The user handle of an account is made once and kept (claims need a lifetime: a century).
const USER_HANDLE_TTL = 100 * 365 * 24 * 3600;
const TRANSPORTS = new Set(['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb']);

/** What the passkey service needs. @internal */
export interface PasskeyServiceSettings {
  /** The guarded store: passkeys, challenge uses and counters. */
  store: Store;
  /** The HMAC key of the challenges, the same in every process. */
  challengeKey: Buffer;
  relyingParty: RelyingParty;
  findAccount(accountId: string): Promise<AccountClaims | undefined>;
  /** Runs the WebAuthn verifications as phases of their request. */
  phases: Phases;
  emit<E extends keyof PasskeyEvents>(event: E, payload: PasskeyEvents[E]): void;
  now?: () => number;
}

/** Why adding a passkey was refused. @internal */
export type RegistrationRefusal = 'malformed' | 'challenge' | 'attestation' | 'exists';

/** A posted assertion, parsed and checked for shape. @internal */
export type ParsedAssertion = AuthenticationResponseJSON;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const base64url = (value: unknown): value is string =>
  typeof value === 'string' && /^[A-Za-z0-9_-]*$/.test(value);

/** JSON posted by the page, when it is a plain object with no prototype-reaching keys. */
function parseJson(json: string | null): Record<string, unknown> | undefined {
  if (!json) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  return isRecord(value) && !findUnsafeKey(value) ? value : undefined;
}

/** The id, rawId and type every WebAuthn credential JSON has, checked. */
function credentialBase(value: Record<string, unknown>) {
  const { id, rawId, type, response } = value;
  if (!isCredentialId(id) || rawId !== id || type !== 'public-key' || !isRecord(response)) {
    return undefined;
  }
  return { id, response };
}

/** A copy of the registration JSON with only the fields verification reads, each checked. */
function parseRegistration(json: string | null): RegistrationResponseJSON | undefined {
  const value = parseJson(json);
  const base = value && credentialBase(value);
  if (!base) return undefined;
  const { clientDataJSON, attestationObject, transports } = base.response;
  if (!base64url(clientDataJSON) || !base64url(attestationObject)) return undefined;
  const known = Array.isArray(transports)
    ? transports.filter((t): t is string => typeof t === 'string' && TRANSPORTS.has(t))
    : [];
  return {
    id: base.id,
    rawId: base.id,
    type: 'public-key',
    response: { clientDataJSON, attestationObject, transports: [...new Set(known)] },
    clientExtensionResults: {},
  };
}

/**
 * A copy of the assertion JSON with only the fields verification reads, each checked; the
 * posted value is otherwise ignored.
 *
 * @internal
 */
export function parseAssertion(json: string | null): ParsedAssertion | undefined {
  const value = parseJson(json);
  const base = value && credentialBase(value);
  if (!base) return undefined;
  const { clientDataJSON, authenticatorData, signature, userHandle } = base.response;
  if (!base64url(clientDataJSON) || !base64url(authenticatorData) || !base64url(signature)) {
    return undefined;
  }
  if (userHandle !== undefined && userHandle !== null && !base64url(userHandle)) return undefined;
  return {
    id: base.id,
    rawId: base.id,
    type: 'public-key',
    response: {
      clientDataJSON,
      authenticatorData,
      signature,
      ...(typeof userHandle === 'string' && userHandle !== '' ? { userHandle } : {}),
    },
    clientExtensionResults: {},
  };
}

/** The challenge of base64url client data, read without trusting anything else in it. */
function challengeOf(clientDataJSON: string): string | undefined {
  try {
    const data: unknown = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8'));
    return isRecord(data) && typeof data.challenge === 'string' ? data.challenge : undefined;
  } catch {
    return undefined;
  }
}

/** A name the user typed: whitespace collapsed, control characters dropped, at most 64 characters. */
function cleanName(name: string | null): string | undefined {
  const clean = Array.from(
    (name ?? '')
      .replace(/[\p{Cc}\p{Cf}]/gu, '')
      .replace(/\s+/g, ' ')
      .trim(),
  )
    .slice(0, MAX_NAME_LENGTH)
    .join('');
  return clean === '' ? undefined : clean;
}

/** A sign-in's outcome: the account, or why it was refused (with the passkey, if one was named). @internal */
export type SignInOutcome =
  | { accountId: string }
  | { refused: PasskeyRefusalReason; passkey?: StoredPasskey };

/**
 * The WebAuthn ceremonies over `@simplewebauthn/server`, with the relying party's id and origins:
 * options for the pages, then verification of what the browser posts. User verification is
 * always required. Knows nothing of oidc-provider: the routes hand it the interaction uid, or the
 * signed-in account and session.
 *
 * @internal
 */
export class PasskeyService {
  readonly credentials: PasskeyCredentials;
  readonly #challenges: PasskeyChallenges;
  readonly #settings: PasskeyServiceSettings;
  readonly #now: () => number;

  constructor(settings: PasskeyServiceSettings) {
    this.#settings = settings;
    this.#now = settings.now ?? Date.now;
    this.credentials = new PasskeyCredentials(settings.store);
    this.#challenges = new PasskeyChallenges(
      settings.store,
      settings.challengeKey,
      CHALLENGE_TTL,
      this.#now,
    );
  }

  /** Options for `navigator.credentials.get()` on the login page of interaction `uid`, as JSON. */
  async authenticationOptions(uid: string): Promise<string> {
    const options = await generateAuthenticationOptions({
      rpID: this.#settings.relyingParty.rpId,
      challenge: Buffer.from(this.#challenges.issue('signin', uid), 'base64url'),
      timeout: CHALLENGE_TTL * 1000,
      userVerification: 'required',
    });
    return JSON.stringify(options);
  }

  /**
   * The account a passkey sign-in is counted against by the sign-in throttle: the passkey's
   * owner, or the credential id presented when no passkey has it.
   */
  async throttleKey(assertion: ParsedAssertion | undefined): Promise<string> {
    if (!assertion) return 'passkey:';
    const passkey = await this.credentials.find(assertion.id);
    return passkey?.accountId ?? `passkey:${assertion.id}`;
  }

  /**
   * Verifies a passkey sign-in at interaction `uid`: the challenge (issued for this interaction,
   * taken once), the passkey, origin, RP ID, user presence and verification, the signature, a
   * rising counter (raised atomically), and the account. Emits `passkey.refused` on refusal.
   */
  async signIn(
    uid: string,
    assertion: ParsedAssertion | undefined,
    ip: string,
  ): Promise<SignInOutcome> {
    const outcome = await this.#signIn(uid, assertion);
    if ('refused' in outcome) {
      const { passkey } = outcome;
      this.#settings.emit('passkey.refused', {
        reason: outcome.refused,
        ...(passkey ? { credentialId: passkey.id, accountId: passkey.accountId } : {}),
        ip,
      });
    }
    return outcome;
  }

  async #signIn(uid: string, assertion: ParsedAssertion | undefined): Promise<SignInOutcome> {
    const challenge = assertion && challengeOf(assertion.response.clientDataJSON);
    if (!assertion || !challenge) return { refused: 'malformed' };
    // Taken first: a presented challenge is used up, whatever else is wrong.
    if (await this.#challenges.take('signin', uid, challenge)) return { refused: 'challenge' };
    const passkey = await this.credentials.find(assertion.id);
    if (!passkey) return { refused: 'unknown' };
    const { userHandle } = assertion.response;
    // A discoverable credential names its user: it must be the passkey's (WebAuthn §7.2 step 6).
    if (userHandle !== undefined && userHandle !== passkey.userHandle) {
      return { refused: 'assertion', passkey };
    }
    const { rpId, origins } = this.#settings.relyingParty;
    let verified: Awaited<ReturnType<typeof verifyAuthenticationResponse>>;
    try {
      verified = await this.#settings.phases.phase('passkeys.verify_authentication', () =>
        verifyAuthenticationResponse({
          response: assertion,
          expectedChallenge: challenge,
          expectedOrigin: origins,
          expectedRPID: rpId,
          expectedType: 'webauthn.get',
          // The counter is checked below, after the signature, against the atomic store counter.
          credential: {
            id: passkey.id,
            publicKey: Buffer.from(passkey.publicKey, 'base64url'),
            counter: 0,
          },
          requireUserVerification: true,
        }),
      );
    } catch {
      return { refused: 'assertion', passkey };
    }
    if (!verified.verified) return { refused: 'assertion', passkey };
    const { newCounter, credentialBackedUp } = verified.authenticationInfo;
    // An authenticator that keeps no counter says 0 every time; one that does must go up.
    if (newCounter > 0 || passkey.counter > 0) {
      const raised =
        newCounter > passkey.counter &&
        (await this.credentials.raiseCounter(passkey.id, newCounter));
      if (!raised) return { refused: 'counter', passkey };
    }
    if (!(await this.#settings.findAccount(passkey.accountId))) {
      return { refused: 'account', passkey };
    }
    await this.credentials.recordUse(passkey.id, {
      counter: Math.max(passkey.counter, newCounter),
      lastUsedAt: Math.floor(this.#now() / 1000),
      backedUp: credentialBackedUp,
    });
    return { accountId: passkey.accountId };
  }

  /** The account's WebAuthn user handle: random, made once, the same for all its passkeys. */
  async #userHandle(accountId: string): Promise<string> {
    const key = `passkey-user:${accountId}`;
    const held = await this.#settings.store.claimHolder(key);
    if (held) return held;
    return this.#settings.store.claim(key, randomBytes(32).toString('base64url'), USER_HANDLE_TTL);
  }

  /**
   * Options for `navigator.credentials.create()` on the account page of `accountId`, signed in
   * with session `sessionId`, as JSON: a discoverable credential with user verification, none
   * of the account's passkeys again. `undefined` when the account is gone.
   */
  async registrationOptions(accountId: string, sessionId: string): Promise<string | undefined> {
    const account = await this.#settings.findAccount(accountId);
    if (!account) return undefined;
    const { claims } = account;
    const text = (value: unknown) =>
      typeof value === 'string' && value !== '' ? value : undefined;
    const userName = text(claims.preferred_username) ?? text(claims.email) ?? accountId;
    const { rpId, rpName } = this.#settings.relyingParty;
    const options = await generateRegistrationOptions({
      rpName,
      rpID: rpId,
      userName,
      userDisplayName: text(claims.name) ?? userName,
      userID: Buffer.from(await this.#userHandle(accountId), 'base64url'),
      challenge: Buffer.from(
        this.#challenges.issue('register', `${accountId}\0${sessionId}`),
        'base64url',
      ),
      timeout: CHALLENGE_TTL * 1000,
      attestationType: 'none',
      excludeCredentials: (await this.credentials.list(accountId)).map((p) => ({
        id: p.id,
        ...(p.transports ? { transports: p.transports } : {}),
      })),
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
      supportedAlgorithmIDs: ALGORITHMS,
    });
    return JSON.stringify(options);
  }

  /**
   * Verifies and saves a passkey posted from the account page of `accountId` (session
   * `sessionId`): the challenge (issued for this account and session, taken once), the origin,
   * RP ID, user verification and the attestation; a credential id already stored, for this
   * account or another, is refused.
   */
  async register(
    accountId: string,
    sessionId: string,
    json: string | null,
    name: string | null,
  ): Promise<PasskeyInfo | { refused: RegistrationRefusal }> {
    const response = parseRegistration(json);
    const challenge = response && challengeOf(response.response.clientDataJSON);
    if (!response || !challenge) return { refused: 'malformed' };
    if (await this.#challenges.take('register', `${accountId}\0${sessionId}`, challenge)) {
      return { refused: 'challenge' };
    }
    const { rpId, origins } = this.#settings.relyingParty;
    let verified: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
    try {
      verified = await this.#settings.phases.phase('passkeys.verify_registration', () =>
        verifyRegistrationResponse({
          response,
          expectedChallenge: challenge,
          expectedOrigin: origins,
          expectedRPID: rpId,
          expectedType: 'webauthn.create',
          requireUserPresence: true,
          requireUserVerification: true,
          supportedAlgorithmIDs: ALGORITHMS,
        }),
      );
    } catch {
      return { refused: 'attestation' };
    }
    if (!verified.verified) return { refused: 'attestation' };
    const info = verified.registrationInfo;
    // The id the authenticator bound into its data is the one the browser must have reported.
    if (info.credential.id !== response.id) return { refused: 'attestation' };
    if (await this.credentials.find(response.id)) return { refused: 'exists' };
    const transports = response.response.transports ?? [];
    const label = cleanName(name);
    const passkey: StoredPasskey = {
      id: response.id,
      accountId,
      ...(label ? { name: label } : {}),
      createdAt: Math.floor(this.#now() / 1000),
      deviceType: info.credentialDeviceType,
      backedUp: info.credentialBackedUp,
      ...(transports.length > 0 ? { transports } : {}),
      aaguid: info.aaguid,
      publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
      counter: info.credential.counter,
      userHandle: await this.#userHandle(accountId),
    };
    await this.credentials.save(passkey);
    if (passkey.counter > 0) await this.credentials.raiseCounter(passkey.id, passkey.counter);
    this.#settings.emit('passkey.registered', { credentialId: passkey.id, accountId });
    return passkeyInfo(passkey);
  }

  /** The account's passkeys, oldest first. */
  async list(accountId: string): Promise<PasskeyInfo[]> {
    return (await this.credentials.list(accountId)).map(passkeyInfo);
  }

  /** One passkey, or `undefined`. */
  async get(credentialId: string): Promise<PasskeyInfo | undefined> {
    const passkey = await this.credentials.find(credentialId);
    return passkey && passkeyInfo(passkey);
  }

  /**
   * Removes a passkey; with `owner`, only when it belongs to that account (another account's
   * passkey is answered like one that does not exist).
   *
   * @returns the passkey removed, or `undefined` when there was none (of `owner`).
   */
  async remove(
    credentialId: string,
    by: PasskeyRemovedBy,
    owner?: string,
  ): Promise<PasskeyInfo | undefined> {
    const found = await this.credentials.find(credentialId);
    if (!found || (owner !== undefined && found.accountId !== owner)) return undefined;
    const removed = await this.credentials.remove(credentialId);
    if (!removed) return undefined;
    this.#settings.emit('passkey.removed', {
      credentialId,
      accountId: removed.accountId,
      by,
    });
    return passkeyInfo(removed);
  }
}
