import { createHash, randomBytes } from 'node:crypto';
import { SingleUseRecords, wasTaken } from '../storage/single-use.js';
import type { Store } from '../storage/store.js';
import type { FirstPartyStep } from './options.js';

// The store model that holds auth sessions until their next step or their expiry.
const SESSION_MODEL = 'FirstPartyAuthSession';

/**
 * What an auth session binds: the install that started it and the authorization request it
 * started with, which later steps cannot change; the username once one was given.
 *
 * @internal
 */
export interface AuthSession {
  client_id: string;
  scope: string;
  code_challenge: string;
  resource?: string;
  username?: string;
  /** The passkey step's challenge binding: the assertion must answer a challenge made for it. */
  passkey?: string;
  /** The account the steps so far named, once the policy asked for more. */
  account_id?: string;
  /** The steps that checked out so far. */
  steps?: FirstPartyStep[];
  /** Their authentication methods (`amr`), for the code. */
  amr?: string[];
  /** The steps the policy accepts next: one of them must come. */
  require?: FirstPartyStep[];
  /** The `acr_values` the request started with, as sent: the code's acr must be one of them. */
  acr_values?: string;
  /** The `max_age` the request started with (a sign-in here is always fresh: it satisfies it). */
  max_age?: number;
  /** The JWK thumbprint of the DPoP key the request started with: every step proves it. */
  dpop_jkt?: string;
}

const STEPS: ReadonlySet<unknown> = new Set(['password', 'id_token', 'passkey']);
const stringsOf = (value: unknown): string[] | undefined =>
  Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined;
const stepsOf = (value: unknown): FirstPartyStep[] | undefined =>
  Array.isArray(value) && value.every((v) => STEPS.has(v))
    ? (value as FirstPartyStep[])
    : undefined;

/** The key a session is stored under: its SHA-256, so the store never holds a usable one. */
const sessionKey = (value: string) => createHash('sha256').update(value, 'utf8').digest('hex');

/**
 * The `auth_session` values of the Authorization Challenge Endpoint (draft-ietf-oauth-first-party-apps
 * §5.3): opaque, 256 random bits, in the store (so every process sharing it sees them), and
 * single-use per step: taking one is atomic (the store's `consume`), each continuing answer
 * issues a new one.
 *
 * @internal
 */
export class AuthSessions {
  readonly #records: SingleUseRecords;

  constructor(store: Store, ttl: number) {
    this.#records = new SingleUseRecords(store, SESSION_MODEL, ttl);
  }

  /** Issues a new session for `session`; resolves its opaque value. */
  async issue(session: AuthSession): Promise<string> {
    const value = randomBytes(32).toString('base64url');
    await this.#records.issue(sessionKey(value), { ...session });
    return value;
  }

  /**
   * Takes the session `value` for `clientId`, proven with the DPoP key `dpopJkt` (or none); it
   * can never be taken again. Another install's session, or one asked for without its DPoP key
   * (another key, none, or a key for a session started without), is left untaken.
   *
   * @returns the session, or `undefined` when it is unknown, expired, used, another install's
   *   or another key's.
   */
  async take(value: string, clientId: string, dpopJkt?: string): Promise<AuthSession | undefined> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(value)) return undefined;
    const taken = await this.#records.take(
      sessionKey(value),
      (r) => r.client_id === clientId && r.dpop_jkt === dpopJkt,
    );
    if (!wasTaken(taken)) return undefined;
    const { client_id, scope, code_challenge, resource, username, passkey, account_id } = taken;
    const { dpop_jkt, acr_values, max_age } = taken;
    const steps = stepsOf(taken.steps);
    const amr = stringsOf(taken.amr);
    const require = stepsOf(taken.require);
    if (
      typeof client_id !== 'string' ||
      typeof scope !== 'string' ||
      typeof code_challenge !== 'string'
    ) {
      return undefined;
    }
    return {
      client_id,
      scope,
      code_challenge,
      ...(typeof resource === 'string' ? { resource } : {}),
      ...(typeof username === 'string' ? { username } : {}),
      ...(typeof passkey === 'string' ? { passkey } : {}),
      ...(typeof account_id === 'string' ? { account_id } : {}),
      ...(steps ? { steps } : {}),
      ...(amr ? { amr } : {}),
      ...(require ? { require } : {}),
      ...(typeof dpop_jkt === 'string' ? { dpop_jkt } : {}),
      ...(typeof acr_values === 'string' ? { acr_values } : {}),
      ...(typeof max_age === 'number' ? { max_age } : {}),
    };
  }
}
