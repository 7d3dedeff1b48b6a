/**
 * Every user-visible string of the built-in pages, in one language. A value may hold
 * placeholders in braces (`{provider}`), named in its description; the built-in pages fill them
 * in and HTML-escape the result. Give your own languages, or replace some strings of a built-in
 * one, with `interactions.messages`.
 *
 * @group Pages
 */
export interface PageMessages {
  /** The `<title>` of every page: `{step}` (the page's own title) and `{product}` (`interactions.title`). */
  pageTitle: string;
  /** The login page's title. */
  loginTitle: string;
  /** The login page's heading. */
  loginHeading: string;
  /** The label of the username field. */
  usernameLabel: string;
  /** The label of the password field. */
  passwordLabel: string;
  /** The login form's button. */
  signInButton: string;
  /** A federated provider's button, unless it has its own `label`: `{provider}`. */
  continueWith: string;
  /** The username field was left empty. */
  usernameRequired: string;
  /** The password field was left empty. */
  passwordRequired: string;
  /** The username or the password is wrong. */
  wrongCredentials: string;
  /** Too many failed sign-ins: `{wait}` (e.g. the `waitMinutes` text). */
  throttled: string;
  /** One second, in the `throttled` message. */
  waitSecond: string;
  /** `{count}` seconds, in the `throttled` message. */
  waitSeconds: string;
  /** One minute, in the `throttled` message. */
  waitMinute: string;
  /** `{count}` minutes, in the `throttled` message. */
  waitMinutes: string;
  /** One hour, in the `throttled` message. */
  waitHour: string;
  /** `{count}` hours, in the `throttled` message. */
  waitHours: string;
  /** The provider's response did not match the sign-in started here: `{provider}`. */
  federatedState: string;
  /** The user cancelled at the provider, or the provider refused: `{provider}`. */
  federatedDenied: string;
  /** The provider cannot be reached: `{provider}`. */
  federatedUnavailable: string;
  /** The provider's code could not be exchanged or its ID token was not valid: `{provider}`. */
  federatedExchange: string;
  /** The account hook refused the provider's account: `{provider}`. */
  federatedRefused: string;
  /** The consent page's title. */
  consentTitle: string;
  /** The consent page's heading. */
  consentHeading: string;
  /** The line above what the app asks for: `{app}` (its name). */
  consentIntro: string;
  /** Where the browser returns after the answer, for an https redirect URI: `{host}`. */
  consentReturnsTo: string;
  /** One individually requested claim in the list: `{claim}` (its name). */
  consentClaim: string;
  /** The button that grants what the app asks for. */
  allowButton: string;
  /** The button that refuses it. */
  denyButton: string;
  /** What the `openid` scope allows. */
  scopeOpenid: string;
  /** What the `profile` scope allows. */
  scopeProfile: string;
  /** What the `email` scope allows. */
  scopeEmail: string;
  /** What the `offline_access` scope allows. */
  scopeOfflineAccess: string;
  /** What the DCR token scope (`registration.dcrToken.scope`) allows. */
  scopeDcr: string;
  /** The heading of an error reported by oidc-provider (a bad authorization request, …). */
  errorHeading: string;
  /** The line under it: what to do. */
  errorMessage: string;
  /** The label before the OAuth error code: `{code}`. */
  errorCode: string;
  /** The interaction is unknown or has expired. */
  expiredHeading: string;
  /** What to do about it. */
  expiredMessage: string;
  /** A form's CSRF token is missing or wrong. */
  refusedHeading: string;
  /** What to do about it. */
  refusedMessage: string;
  /** A request with the wrong method. */
  notAllowedHeading: string;
  /** What to do about it. */
  notAllowedMessage: string;
  /** A form body over the size limit. */
  tooLargeHeading: string;
  /** What to do about it. */
  tooLargeMessage: string;
  /** An interaction step without a page here (a custom prompt). */
  unsupportedHeading: string;
  /** What to do about it. */
  unsupportedMessage: string;
  /** The app that asked is not known (any more). */
  unknownAppHeading: string;
  /** What to do about it. */
  unknownAppMessage: string;
  /** A federated provider that does not exist. */
  notFoundHeading: string;
  /** What to do about it. */
  notFoundMessage: string;
  /** The store cannot be read: nobody can sign in right now. */
  unavailableHeading: string;
  /** What to do about it. */
  unavailableMessage: string;
  /** A provider's response that is not valid or has expired. */
  invalidResponseHeading: string;
  /** What to do about it. */
  invalidResponseMessage: string;
  /** A page could not be shown (a render hook failed). */
  serverErrorHeading: string;
  /** What to do about it. */
  serverErrorMessage: string;
  /** The sign-out page's title. */
  logoutTitle: string;
  /** The sign-out page's heading. */
  logoutHeading: string;
  /** The line naming the app the sign-out came from: `{app}`. */
  logoutFrom: string;
  /** The button that signs out. */
  signOutButton: string;
  /** The button that keeps the session. */
  staySignedInButton: string;
  /** The title of the page after signing out. */
  logoutSuccessTitle: string;
  /** Its heading. */
  logoutSuccessHeading: string;
}

/** The English catalogue: the fallback of every other language. @internal */
export const ENGLISH: Readonly<PageMessages> = {
  pageTitle: '{step} – {product}',
  loginTitle: 'Sign in',
  loginHeading: 'Sign in',
  usernameLabel: 'Username',
  passwordLabel: 'Password',
  signInButton: 'Sign in',
  continueWith: 'Continue with {provider}',
  usernameRequired: 'Enter your username.',
  passwordRequired: 'Enter your password.',
  wrongCredentials: 'Wrong username or password.',
  throttled:
    'Too many failed sign-in attempts. For your security, signing in is paused: try again in {wait}.',
  waitSecond: '1 second',
  waitSeconds: '{count} seconds',
  waitMinute: '1 minute',
  waitMinutes: '{count} minutes',
  waitHour: '1 hour',
  waitHours: '{count} hours',
  federatedState: 'The sign-in with {provider} could not be completed. Try again.',
  federatedDenied:
    'Signing in with {provider} was cancelled or refused. Try again, or sign in another way.',
  federatedUnavailable:
    '{provider} cannot be reached right now. Try again later, or sign in another way.',
  federatedExchange: 'Signing in with {provider} did not work. Try again, or sign in another way.',
  federatedRefused: 'This {provider} account cannot be used to sign in here. Sign in another way.',
  consentTitle: 'Allow access',
  consentHeading: 'Allow access?',
  consentIntro: '{app} asks for:',
  consentReturnsTo: 'Your answer is sent back to {host}.',
  consentClaim: 'claim {claim}',
  allowButton: 'Allow',
  denyButton: 'Deny',
  scopeOpenid: 'Confirm who you are',
  scopeProfile: 'See your name and profile',
  scopeEmail: 'See your email address',
  scopeOfflineAccess: 'Stay signed in',
  scopeDcr: 'Register this device',
  errorHeading: 'Something went wrong',
  errorMessage: 'Start signing in again from the app.',
  errorCode: 'Error code: {code}',
  expiredHeading: 'Sign-in expired',
  expiredMessage:
    'This sign-in session has expired or is unknown. Start signing in again from the app.',
  refusedHeading: 'Request refused',
  refusedMessage: 'The form was not sent from this sign-in page. Start again from the app.',
  notAllowedHeading: 'Not allowed',
  notAllowedMessage: 'Use the form, or start signing in again from the app.',
  tooLargeHeading: 'Request too large',
  tooLargeMessage: 'Start signing in again from the app.',
  unsupportedHeading: 'Not supported',
  unsupportedMessage: 'This sign-in step is not supported here.',
  unknownAppHeading: 'Unknown app',
  unknownAppMessage: 'Start signing in again from the app.',
  notFoundHeading: 'Not found',
  notFoundMessage: 'This sign-in option does not exist.',
  unavailableHeading: 'Temporarily unavailable',
  unavailableMessage: 'Signing in is not possible right now. Try again in a few minutes.',
  invalidResponseHeading: 'Sign-in failed',
  invalidResponseMessage:
    'This sign-in response is not valid or has expired. Start signing in again from the app.',
  serverErrorHeading: 'Something went wrong',
  serverErrorMessage: 'This page cannot be shown right now. Try again later.',
  logoutTitle: 'Sign out',
  logoutHeading: 'Sign out?',
  logoutFrom: 'You are signing out of {app}.',
  signOutButton: 'Sign out',
  staySignedInButton: 'Stay signed in',
  logoutSuccessTitle: 'Signed out',
  logoutSuccessHeading: 'You are signed out',
};

/** The German catalogue. @internal */
export const GERMAN: Readonly<PageMessages> = {
  pageTitle: '{step} – {product}',
  loginTitle: 'Anmelden',
  loginHeading: 'Anmelden',
  usernameLabel: 'Benutzername',
  passwordLabel: 'Passwort',
  signInButton: 'Anmelden',
  continueWith: 'Weiter mit {provider}',
  usernameRequired: 'Geben Sie Ihren Benutzernamen ein.',
  passwordRequired: 'Geben Sie Ihr Passwort ein.',
  wrongCredentials: 'Benutzername oder Passwort ist falsch.',
  throttled:
    'Zu viele fehlgeschlagene Anmeldeversuche. Zu Ihrer Sicherheit ist die Anmeldung pausiert: Versuchen Sie es in {wait} erneut.',
  waitSecond: '1 Sekunde',
  waitSeconds: '{count} Sekunden',
  waitMinute: '1 Minute',
  waitMinutes: '{count} Minuten',
  waitHour: '1 Stunde',
  waitHours: '{count} Stunden',
  federatedState:
    'Die Anmeldung mit {provider} konnte nicht abgeschlossen werden. Versuchen Sie es erneut.',
  federatedDenied:
    'Die Anmeldung mit {provider} wurde abgebrochen oder abgelehnt. Versuchen Sie es erneut oder melden Sie sich anders an.',
  federatedUnavailable:
    '{provider} ist gerade nicht erreichbar. Versuchen Sie es später erneut oder melden Sie sich anders an.',
  federatedExchange:
    'Die Anmeldung mit {provider} hat nicht funktioniert. Versuchen Sie es erneut oder melden Sie sich anders an.',
  federatedRefused:
    'Mit diesem {provider}-Konto ist hier keine Anmeldung möglich. Melden Sie sich anders an.',
  consentTitle: 'Zugriff erlauben',
  consentHeading: 'Zugriff erlauben?',
  consentIntro: '{app} bittet um:',
  consentReturnsTo: 'Ihre Antwort wird an {host} zurückgesendet.',
  consentClaim: 'Angabe {claim}',
  allowButton: 'Erlauben',
  denyButton: 'Ablehnen',
  scopeOpenid: 'Bestätigen, wer Sie sind',
  scopeProfile: 'Ihren Namen und Ihr Profil sehen',
  scopeEmail: 'Ihre E-Mail-Adresse sehen',
  scopeOfflineAccess: 'Angemeldet bleiben',
  scopeDcr: 'Dieses Gerät registrieren',
  errorHeading: 'Etwas ist schiefgelaufen',
  errorMessage: 'Starten Sie die Anmeldung in der App erneut.',
  errorCode: 'Fehlercode: {code}',
  expiredHeading: 'Anmeldung abgelaufen',
  expiredMessage:
    'Diese Anmeldung ist abgelaufen oder unbekannt. Starten Sie die Anmeldung in der App erneut.',
  refusedHeading: 'Anfrage abgelehnt',
  refusedMessage:
    'Das Formular wurde nicht von dieser Anmeldeseite gesendet. Starten Sie in der App erneut.',
  notAllowedHeading: 'Nicht erlaubt',
  notAllowedMessage: 'Verwenden Sie das Formular oder starten Sie die Anmeldung in der App erneut.',
  tooLargeHeading: 'Anfrage zu groß',
  tooLargeMessage: 'Starten Sie die Anmeldung in der App erneut.',
  unsupportedHeading: 'Nicht unterstützt',
  unsupportedMessage: 'Dieser Anmeldeschritt wird hier nicht unterstützt.',
  unknownAppHeading: 'Unbekannte App',
  unknownAppMessage: 'Starten Sie die Anmeldung in der App erneut.',
  notFoundHeading: 'Nicht gefunden',
  notFoundMessage: 'Diese Anmeldemöglichkeit gibt es nicht.',
  unavailableHeading: 'Vorübergehend nicht verfügbar',
  unavailableMessage:
    'Die Anmeldung ist gerade nicht möglich. Versuchen Sie es in ein paar Minuten erneut.',
  invalidResponseHeading: 'Anmeldung fehlgeschlagen',
  invalidResponseMessage:
    'Diese Anmeldeantwort ist ungültig oder abgelaufen. Starten Sie die Anmeldung in der App erneut.',
  serverErrorHeading: 'Etwas ist schiefgelaufen',
  serverErrorMessage:
    'Diese Seite kann gerade nicht angezeigt werden. Versuchen Sie es später erneut.',
  logoutTitle: 'Abmelden',
  logoutHeading: 'Abmelden?',
  logoutFrom: 'Sie melden sich von {app} ab.',
  signOutButton: 'Abmelden',
  staySignedInButton: 'Angemeldet bleiben',
  logoutSuccessTitle: 'Abgemeldet',
  logoutSuccessHeading: 'Sie sind abgemeldet',
};

/** The built-in catalogues, by language tag. @internal */
export const BUILT_IN_MESSAGES: Readonly<Record<string, Readonly<PageMessages>>> = {
  en: ENGLISH,
  de: GERMAN,
};

/** The names of every message, for the options schema. @internal */
export const MESSAGE_KEYS = Object.keys(ENGLISH) as readonly (keyof PageMessages)[];

/**
 * Fills the `{name}` placeholders of a catalogue string in; an unknown placeholder stays as it
 * is. The result is text: escape it before it goes into HTML.
 *
 * @internal
 */
export function formatMessage(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.hasOwn(values, name) ? (values[name] as string) : whole,
  );
}
