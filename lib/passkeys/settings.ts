// The passkey options with their derived defaults filled in, and the rules that tie them to the
// issuer. Kept apart from lib/options so the options code needs only this small input shape.

/** The options passkeys are derived from. @internal */
export interface PasskeyOptionInput {
  issuer: string;
  development: boolean;
  /** `interactions.title`: the default relying party name. */
  title: string;
  passkeys: { enabled: boolean; rpId?: string; rpName?: string; origins?: string[] };
}

/** The relying party passkeys are made for. @internal */
export interface RelyingParty {
  /** The RP ID: the issuer's host name or a registrable domain above it. */
  rpId: string;
  /** The name passkeys are saved under. */
  rpName: string;
  /** The origins a ceremony may run at; the issuer's origin first. */
  origins: string[];
}

/** Android's origin for an app: `android:apk-key-hash:` and the base64url SHA-256 of its signing certificate. */
const ANDROID_ORIGIN = /^android:apk-key-hash:[A-Za-z0-9_-]{43}$/;

/** Whether `host` is `rpId` or a subdomain of it (WebAuthn §5.1.4: a registrable suffix). */
const onRelyingParty = (host: string, rpId: string) => host === rpId || host.endsWith(`.${rpId}`);

/** The relying party of valid options (see {@link passkeyProblems}). @internal */
export function relyingParty(o: PasskeyOptionInput): RelyingParty {
  const issuer = new URL(o.issuer);
  return {
    rpId: o.passkeys.rpId ?? issuer.hostname,
    rpName: o.passkeys.rpName ?? o.title,
    origins: o.passkeys.origins ?? [issuer.origin],
  };
}

/**
 * What is wrong with the passkey options, one message per offending path. Only values given are
 * checked: the ones derived from the issuer are right by construction.
 *
 * @internal
 */
export function passkeyProblems(o: PasskeyOptionInput): string[] {
  const issuer = URL.parse(o.issuer);
  if (!issuer) return [];
  const problems: string[] = [];
  const given = o.passkeys;
  const { rpId, origins } = relyingParty(o);
  if (given.rpId !== undefined && !onRelyingParty(issuer.hostname, rpId)) {
    problems.push(
      `options.passkeys.rpId '${rpId}' must be the issuer's host name '${issuer.hostname}' or a domain above it`,
    );
  }
  // A domain above the host must be registrable, never a bare suffix like `com` (browsers refuse it).
  if (rpId !== issuer.hostname && !rpId.includes('.')) {
    problems.push(`options.passkeys.rpId '${rpId}' is not a domain passkeys can be bound to`);
  }
  // Origins are checked against a valid RP ID only: one bad value, one message.
  if (problems.length > 0 || given.origins === undefined) return problems;
  for (const [i, origin] of origins.entries()) {
    const at = `options.passkeys.origins[${i}] '${origin}'`;
    if (ANDROID_ORIGIN.test(origin)) continue;
    const url = URL.parse(origin);
    if (!url || url.origin !== origin) {
      problems.push(`${at} must be an origin (scheme, host, port) or android:apk-key-hash:<hash>`);
    } else if (url.protocol !== 'https:' && !(url.protocol === 'http:' && o.development)) {
      problems.push(`${at} must use https (http only with options.development)`);
    } else if (!onRelyingParty(url.hostname, rpId)) {
      problems.push(`${at} is not on the relying party id '${rpId}'`);
    }
  }
  if (!origins.includes(issuer.origin)) {
    problems.push(
      `options.passkeys.origins must include the issuer's origin '${issuer.origin}': the pages run there`,
    );
  }
  return problems;
}
