// The passkey options (`passkeys`): type, defaults, schema and resolved shape. The values
// derived from the issuer, and the rules that tie them to it, are in settings.ts.
import type { DefaultsOf, WithDefaults } from '../core/options/resolve-types.js';
import { nonEmptyString } from '../core/options/schema-pieces.js';

/**
 * Passkeys (WebAuthn Level 3) with user verification always required. See
 * [Passkeys](../../docs/passkeys.md).
 *
 * @group Options
 */
export interface PasskeyOptions {
  /**
   * Offer passkeys: "Sign in with a passkey" and passkey autofill on the login page, and the
   * account page `<issuer>/account/passkeys` where a signed-in user adds and removes them.
   *
   * @default false
   */
  enabled?: boolean;
  /**
   * The relying party id passkeys are bound to: the issuer's host name or a registrable domain
   * above it (`example.com` for `https://login.example.com`). Changing it later orphans every
   * passkey made under the old one.
   *
   * @default the issuer's host name
   */
  rpId?: string;
  /**
   * The name a passkey is saved under in the user's password manager.
   *
   * @default {@link InteractionPageOptions.title}
   */
  rpName?: string;
  /**
   * The origins a ceremony may run at (the `origin` of WebAuthn's client data), each an `https`
   * origin on the relying party id (`http` only in development) or an Android app's
   * `android:apk-key-hash:<base64url SHA-256 of its signing certificate>`. It must include the
   * issuer's origin, where the pages run.
   *
   * @default the issuer's origin alone
   */
  origins?: string[];
}

/** Defaults of {@link AuthServerOptions.passkeys}. @internal */
export const PASSKEY_DEFAULTS = { enabled: false } as const satisfies DefaultsOf<PasskeyOptions>;

/** The schema of {@link AuthServerOptions.passkeys}. @internal */
export const passkeysSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    enabled: { type: 'boolean' },
    rpId: nonEmptyString,
    rpName: nonEmptyString,
    // Each origin's shape and its place on the relying party id: passkeyProblems in settings.ts.
    origins: { type: 'array', minItems: 1, uniqueItems: true, items: nonEmptyString },
  },
} as const;

/** `passkeys` with its defaults filled in. @internal */
export type ResolvedPasskeyOptions = WithDefaults<PasskeyOptions, typeof PASSKEY_DEFAULTS>;
