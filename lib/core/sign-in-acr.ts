// The authentication context classes (`acr`) this server's sign-ins give. The browser's pages and
// the Authorization Challenge Endpoint give the same value for the same kind of sign-in, so an API
// that requires one (RFC 9470) is served by either.

/**
 * A kind of sign-in that gives an `acr`: a password, a native or browser id_token, a passkey, or
 * an approval on the user's phone (browser pages only). @internal
 */
export type SignInKind = 'password' | 'id_token' | 'passkey' | 'phone';

/** The `acr` of each kind of sign-in (exported as `FIRST_PARTY_ACR`). @internal */
export const SIGN_IN_ACR: Readonly<Record<SignInKind, string>> = Object.freeze({
  password: 'urn:mobile-oidc:pwd',
  id_token: 'urn:mobile-oidc:federated',
  passkey: 'urn:mobile-oidc:passkey',
  phone: 'urn:mobile-oidc:phone',
});

/** The `amr` of each kind of sign-in (RFC 8176); a federated sign-in names none of its own. @internal */
export const SIGN_IN_AMR: Readonly<Record<SignInKind, readonly string[]>> = Object.freeze({
  password: Object.freeze(['pwd']),
  id_token: Object.freeze([]),
  passkey: Object.freeze(['hwk', 'user']),
  // Proof of possession of the install's key; an answer stating user verification adds `mfa`.
  phone: Object.freeze(['pop']),
});

// Strongest first: a sign-in's acr is that of the first of these among its steps (a phone approval
// is never a step of a first-party sign-in).
const ACR_ORDER: readonly SignInKind[] = ['passkey', 'id_token', 'password'];

/** The acr of a sign-in that took `kinds` (the strongest of them; a password when none). @internal */
export function acrOf(kinds: readonly SignInKind[]): string {
  const strongest = ACR_ORDER.find((kind) => kinds.includes(kind)) ?? 'password';
  return SIGN_IN_ACR[strongest];
}

/** The values of a space-separated `acr_values` (none for anything but a string). @internal */
export const acrValuesOf = (value: unknown): string[] =>
  typeof value === 'string' ? value.split(' ').filter(Boolean) : [];
