// Sign in with Apple has no static client secret: the client authenticates with an ES256 JWT it
// signs itself with a key from the Apple developer account, valid for at most six months.
import { importPKCS8, SignJWT } from 'jose';

/** What an Apple client secret is made from. @internal */
export interface AppleClientSecretSettings {
  /** The Apple developer team id: the JWT's `iss`. */
  teamId: string;
  /** The id of the key in the developer account: the JWT header's `kid`. */
  keyId: string;
  /** That key's private part, PEM (PKCS#8), as Apple hands it out (`AuthKey_<keyId>.p8`). */
  privateKey: string;
  /** The Services ID the browser flow signs in with: the JWT's `sub`. */
  clientId: string;
  /** The provider's issuer (`https://appleid.apple.com`): the JWT's `aud`. */
  audience: string;
  /**
   * The clock, in milliseconds since the epoch.
   *
   * @default Date.now
   */
  now?: () => number;
}

/** Seconds a secret is made valid for: 180 days, inside Apple's limit of 6 months (15777000 s). */
export const APPLE_SECRET_LIFETIME = 180 * 24 * 3600;
/** A secret with less than this left (30 days) is replaced before it is used again. */
export const APPLE_SECRET_RENEW_BEFORE = 30 * 24 * 3600;

interface MadeSecret {
  jwt: string;
  expiresAt: number;
}

/**
 * Apple's client secret for one Services ID: made on first use, then reused until less than
 * 30 days of its 180 remain, when the next use makes a new one.
 *
 * @internal
 */
export class AppleClientSecret {
  readonly #settings: AppleClientSecretSettings;
  readonly #now: () => number;
  #key: ReturnType<typeof importPKCS8> | undefined;
  #made: MadeSecret | undefined;
  // Concurrent callers share one signing.
  #making: Promise<MadeSecret> | undefined;

  constructor(settings: AppleClientSecretSettings) {
    this.#settings = settings;
    this.#now = settings.now ?? Date.now;
  }

  /**
   * The secret to send now: the cached one while more than 30 days remain, a new one otherwise.
   *
   * @throws Error (from jose) when `privateKey` is not a PKCS#8 PEM EC P-256 key.
   */
  async secret(): Promise<string> {
    const now = Math.floor(this.#now() / 1000);
    if (this.#made && this.#made.expiresAt - now > APPLE_SECRET_RENEW_BEFORE) return this.#made.jwt;
    // A failed signing is not kept: the next use tries again.
    this.#making ??= this.#make(now)
      .then((made) => {
        this.#made = made;
        return made;
      })
      .finally(() => {
        this.#making = undefined;
      });
    return (await this.#making).jwt;
  }

  async #make(iat: number): Promise<MadeSecret> {
    const { teamId, keyId, privateKey, clientId, audience } = this.#settings;
    this.#key ??= importPKCS8(privateKey, 'ES256');
    const key = await this.#key.catch((error: unknown) => {
      this.#key = undefined; // a key that failed to import is read again next time
      throw error;
    });
    const expiresAt = iat + APPLE_SECRET_LIFETIME;
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: keyId })
      .setIssuer(teamId)
      .setSubject(clientId)
      .setAudience(audience)
      .setIssuedAt(iat)
      .setExpirationTime(expiresAt)
      .sign(key);
    return { jwt, expiresAt };
  }
}
