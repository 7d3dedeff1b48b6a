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
  /** The app asked for a kind of sign-in (`acr_values`): only the ways that give it are shown. */
  signInKindRequired: string;
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
  /** The link page's title. */
  linkTitle: string;
  /** The link page's heading: `{provider}`, `{identity}` (its email or name), `{account}`. */
  linkHeading: string;
  /** What linking does, under the heading: `{provider}`, `{account}`. */
  linkExplanation: string;
  /** The button that links. */
  linkButton: string;
  /** The button that links nothing. */
  cancelLinkButton: string;
  /** The link page's answer came too late, twice, or from elsewhere: nothing was linked. */
  linkExpired: string;
  /** The account store failed to link: `{provider}`. */
  linkFailed: string;
  /** `accounts.link` refused: the identity is linked to another account: `{provider}`. */
  linkedElsewhere: string;
  /** The linked accounts page's title and its navigation link. */
  linksTitle: string;
  /** Its heading. */
  linksHeading: string;
  /** What the page is for. */
  linksIntro: string;
  /** A provider's button: `{provider}`. */
  linkProviderButton: string;
  /** Before linking, the password is asked again: `{wait}` (how long the proof lasts). */
  linksReauthenticate: string;
  /** The button that checks the password. */
  confirmPasswordButton: string;
  /** The password on the linked accounts page was right: linking is open now. Shown once. */
  linksConfirmedNotice: string;
  /** An identity was linked: `{provider}`, shown once. */
  linkedNotice: string;
  /** The username and password are not the signed-in account's. */
  notYourAccount: string;
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
  /** What the `device_sso` scope (Native SSO) allows. */
  scopeDeviceSso: string;
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
  /** The login page's passkey button. */
  passkeyButton: string;
  /** A passkey sign-in the server refused. */
  passkeyFailed: string;
  /** The passkey dialog failed or was cancelled (shown by the page's script). */
  passkeyCancelled: string;
  /** The login page's "Approve on your phone" button. */
  phoneButton: string;
  /** The waiting page's title. */
  phoneWaitingTitle: string;
  /** Its heading. */
  phoneWaitingHeading: string;
  /** What to do: open the app and approve if it shows the code below. */
  phoneWaitingIntro: string;
  /** The status line while waiting. */
  phoneWaitingStatus: string;
  /** The link that checks once (works without script). */
  phoneContinue: string;
  /** The link back to the login page. */
  phoneOtherWay: string;
  /** The sign-in was denied on the phone. */
  phoneDenied: string;
  /** The request expired unanswered (or is gone). */
  phoneExpired: string;
  /** Too many approval requests are waiting for this account. */
  phoneTooMany: string;
  /** The label of the account pages' navigation. */
  accountNavigation: string;
  /** The passkey page's title. */
  passkeysTitle: string;
  /** The passkey page's heading. */
  passkeysHeading: string;
  /** The line under it: what passkeys are. */
  passkeysIntro: string;
  /** The account has no passkeys. */
  passkeysEmpty: string;
  /** A passkey the user gave no name. */
  passkeyUnnamed: string;
  /** When a passkey was added: `{date}`. */
  passkeyCreatedAt: string;
  /** When a passkey last signed in: `{date}`. */
  passkeyLastUsedAt: string;
  /** A passkey that never signed in. */
  passkeyNeverUsed: string;
  /** A passkey a password manager syncs. */
  passkeySynced: string;
  /** The label of the name field when adding a passkey. */
  passkeyNameLabel: string;
  /** The button that adds a passkey. */
  addPasskeyButton: string;
  /** The button that removes a passkey. */
  removePasskeyButton: string;
  /** Its accessible name: `{name}` (the passkey's). */
  removePasskeyLabel: string;
  /** A passkey was added. */
  passkeyAddedNotice: string;
  /** A passkey was removed. */
  passkeyRemovedNotice: string;
  /** The server refused the new passkey. */
  passkeyNotAdded: string;
  /** The new passkey is already added. */
  passkeyExists: string;
  /** The passkey dialog failed or was cancelled while adding (shown by the page's script). */
  passkeyDialogFailed: string;
  /** The browser cannot add passkeys (shown until the page's script finds it can). */
  passkeysUnsupported: string;
  /** The device page's title. */
  devicesTitle: string;
  /** The device page's heading. */
  devicesHeading: string;
  /** The line under it: what the list is and what revoking does. */
  devicesIntro: string;
  /** The account has no app installs. */
  devicesEmpty: string;
  /** The app version of an install: `{version}`. */
  deviceVersion: string;
  /** When an install registered: `{date}`. */
  deviceRegisteredAt: string;
  /** When an install last obtained tokens: `{date}`. */
  deviceLastUsedAt: string;
  /** An install that never obtained tokens. */
  deviceNeverUsed: string;
  /** The last sign-in through an install without a browser, with a password: `{date}`. */
  deviceAppSignInPassword: string;
  /** The same with a passkey: `{date}`. */
  deviceAppSignInPasskey: string;
  /** The same with Apple, Google, …: `{date}`, `{provider}` (its name, e.g. `Google`). */
  deviceAppSignInProvider: string;
  /** When an install was revoked: `{date}`. */
  deviceRevokedAt: string;
  /** An install registered that never obtained tokens (the app never finished setting it up). */
  devicePending: string;
  /** A pending install, with when it is removed unless it signs in first: `{date}`. */
  devicePendingUntil: string;
  /** An install's assurance level: `{level}` (one of the three below). */
  deviceAssurance: string;
  /** The level `none`. */
  assuranceNone: string;
  /** The level `by-provisioned-key`. */
  assuranceByProvisionedKey: string;
  /** The level `by-policy`. */
  assuranceByPolicy: string;
  /** An install registered with the user's DCR token. */
  deviceByUserToken: string;
  /** An install registered with attestation evidence: `{format}`. */
  deviceByAttestation: string;
  /** An install registered through a fallback client. */
  deviceByFallbackClient: string;
  /** The button that revokes an install. */
  revokeDeviceButton: string;
  /** Its accessible name: `{name}` (the app's). */
  revokeDeviceLabel: string;
  /** An install was revoked. */
  deviceRevokedNotice: string;
  /** The link to the next page of installs. */
  devicesMore: string;
  /** The device page's Native SSO section heading. */
  nativeSsoHeading: string;
  /** What the section lists. */
  nativeSsoIntro: string;
  /** The apps of one device session: `{apps}`. */
  nativeSsoApps: string;
  /** When it started: `{date}`. */
  nativeSsoSince: string;
  /** The button that ends one. */
  nativeSsoEndButton: string;
  /** The button's accessible label: `{apps}`. */
  nativeSsoEndLabel: string;
  /** After ending one. */
  nativeSsoEndedNotice: string;
  /** An account page opened without signing in. */
  signedOutHeading: string;
  /** What to do about it. */
  signedOutMessage: string;
  /** A passkey or install that does not exist, or is another account's. */
  goneHeading: string;
  /** What to do about it. */
  goneMessage: string;
  /** An account page's form whose CSRF token is missing or wrong. */
  staleFormHeading: string;
  /** What to do about it. */
  staleFormMessage: string;
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
  signInKindRequired: 'This app asks you to sign in one of the ways shown here.',
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
  linkTitle: 'Link account',
  linkHeading: 'Link your {provider} account {identity} to {account}?',
  linkExplanation:
    'You can then sign in as {account} with {provider}. Link it only if this {provider} account is yours.',
  linkButton: 'Link',
  cancelLinkButton: 'Cancel',
  linkExpired: 'This link request has expired or was already answered. Nothing was linked.',
  linkFailed: 'Your {provider} account could not be linked. Try again later.',
  linkedElsewhere:
    'This {provider} account is already linked to another account. Nothing was linked: sign in to that account with {provider} instead.',
  linksTitle: 'Linked accounts',
  linksHeading: 'Linked accounts',
  linksIntro: 'Link an account you have elsewhere, to sign in here with it too.',
  linkProviderButton: 'Link your {provider} account',
  linksReauthenticate:
    'For your security, enter your password first. You then have {wait} to link an account.',
  confirmPasswordButton: 'Confirm',
  linksConfirmedNotice: 'Thank you. You can link an account now.',
  linkedNotice: 'Linked. You can now sign in with {provider}.',
  notYourAccount: 'Wrong username or password for this account.',
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
  scopeDeviceSso: "Sign you in to the same vendor's other apps on this device",
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
  passkeyButton: 'Sign in with a passkey',
  passkeyFailed: 'This passkey could not sign you in. Try again, or sign in with your password.',
  passkeyCancelled: 'No passkey was used. Try again, or sign in with your password.',
  phoneButton: 'Approve on your phone',
  phoneWaitingTitle: 'Approve on your phone',
  phoneWaitingHeading: 'Approve on your phone',
  phoneWaitingIntro: 'Open the app on your phone. Approve the sign-in only if it shows this code:',
  phoneWaitingStatus: 'Waiting for your phone…',
  phoneContinue: 'I approved it — continue',
  phoneOtherWay: 'Sign in another way',
  phoneDenied: 'The sign-in was declined on your phone.',
  phoneExpired: 'No approval arrived in time. Try again, or sign in another way.',
  phoneTooMany:
    'Too many sign-in requests are waiting for approval. Answer them on your phone, or try again in a few minutes.',
  accountNavigation: 'Your account',
  passkeysTitle: 'Passkeys',
  passkeysHeading: 'Passkeys',
  passkeysIntro: 'Sign in with your fingerprint, face or screen lock instead of a password.',
  passkeysEmpty: 'You have no passkeys yet.',
  passkeyUnnamed: 'Passkey',
  passkeyCreatedAt: 'Added {date}',
  passkeyLastUsedAt: 'Last used {date}',
  passkeyNeverUsed: 'Not used yet',
  passkeySynced: 'Synced across your devices',
  passkeyNameLabel: 'Name (optional)',
  addPasskeyButton: 'Add a passkey',
  removePasskeyButton: 'Remove',
  removePasskeyLabel: 'Remove {name}',
  passkeyAddedNotice: 'The passkey was added.',
  passkeyRemovedNotice: 'The passkey was removed. Delete it in your password manager too.',
  passkeyNotAdded: 'The passkey could not be added. Try again.',
  passkeyExists: 'This passkey is already added.',
  passkeyDialogFailed: 'No passkey was added. Try again, or use another device.',
  passkeysUnsupported:
    'To add a passkey, open this page in a browser that supports passkeys, with JavaScript on.',
  devicesTitle: 'Devices',
  devicesHeading: 'Your devices',
  devicesIntro:
    'The app installs registered to your account. Revoke one you no longer use or have lost: it is signed out at once.',
  devicesEmpty: 'No app is registered to your account.',
  deviceVersion: 'Version {version}',
  deviceRegisteredAt: 'Registered {date}',
  deviceLastUsedAt: 'Last used {date}',
  deviceNeverUsed: 'Not used yet',
  deviceAppSignInPassword: 'Signed in with the app {date}, with a password',
  deviceAppSignInPasskey: 'Signed in with the app {date}, with a passkey',
  deviceAppSignInProvider: 'Signed in with the app {date}, with {provider}',
  deviceRevokedAt: 'Revoked {date}',
  devicePending: 'Not set up: this install has never signed in',
  devicePendingUntil: 'Not set up: removed {date} unless it signs in',
  deviceAssurance: 'Assurance: {level}',
  assuranceNone: 'basic',
  assuranceByProvisionedKey: 'provisioned key',
  assuranceByPolicy: 'verified app and device',
  deviceByUserToken: 'Registered when you signed in',
  deviceByAttestation: 'Registered with verified app evidence ({format})',
  deviceByFallbackClient: 'Registered through a fallback client',
  revokeDeviceButton: 'Revoke',
  revokeDeviceLabel: 'Revoke {name}',
  deviceRevokedNotice: 'The install was revoked: it is signed out and cannot sign in again.',
  devicesMore: 'Show more',
  nativeSsoHeading: 'Signed in across your apps',
  nativeSsoIntro:
    "On these devices, your sign-in in one app signs you in to the same vendor's other apps. End it to make each app ask you again.",
  nativeSsoApps: 'Apps: {apps}',
  nativeSsoSince: 'Since {date}',
  nativeSsoEndButton: 'End',
  nativeSsoEndLabel: 'End the shared sign-in of {apps}',
  nativeSsoEndedNotice: 'The shared sign-in was ended: the other apps ask you to sign in again.',
  signedOutHeading: 'You are not signed in',
  signedOutMessage: 'Sign in through the app first, then open this page again in the same browser.',
  goneHeading: 'Not found',
  goneMessage: 'It does not exist (any more), or it is not yours.',
  staleFormHeading: 'Request refused',
  staleFormMessage: 'The form was not sent from this page. Open the page again and retry.',
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
  signInKindRequired: 'Diese App verlangt eine Anmeldung auf einem der hier gezeigten Wege.',
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
  linkTitle: 'Konto verknüpfen',
  linkHeading: 'Ihr {provider}-Konto {identity} mit {account} verknüpfen?',
  linkExplanation:
    'Sie können sich dann mit {provider} als {account} anmelden. Verknüpfen Sie es nur, wenn dieses {provider}-Konto Ihnen gehört.',
  linkButton: 'Verknüpfen',
  cancelLinkButton: 'Abbrechen',
  linkExpired:
    'Diese Verknüpfungsanfrage ist abgelaufen oder wurde bereits beantwortet. Es wurde nichts verknüpft.',
  linkFailed: 'Ihr {provider}-Konto konnte nicht verknüpft werden. Versuchen Sie es später erneut.',
  linkedElsewhere:
    'Dieses {provider}-Konto ist bereits mit einem anderen Konto verknüpft. Es wurde nichts verknüpft: Melden Sie sich mit {provider} bei jenem Konto an.',
  linksTitle: 'Verknüpfte Konten',
  linksHeading: 'Verknüpfte Konten',
  linksIntro:
    'Verknüpfen Sie ein Konto, das Sie anderswo haben, um sich auch damit hier anzumelden.',
  linkProviderButton: 'Ihr {provider}-Konto verknüpfen',
  linksReauthenticate:
    'Geben Sie zu Ihrer Sicherheit zuerst Ihr Passwort ein. Danach haben Sie {wait} Zeit, ein Konto zu verknüpfen.',
  confirmPasswordButton: 'Bestätigen',
  linksConfirmedNotice: 'Danke. Sie können jetzt ein Konto verknüpfen.',
  linkedNotice: 'Verknüpft. Sie können sich jetzt mit {provider} anmelden.',
  notYourAccount: 'Falscher Benutzername oder falsches Passwort für dieses Konto.',
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
  scopeDeviceSso: 'Sie in den anderen Apps desselben Anbieters auf diesem Gerät anmelden',
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
  passkeyButton: 'Mit einem Passkey anmelden',
  passkeyFailed:
    'Mit diesem Passkey war keine Anmeldung möglich. Versuchen Sie es erneut oder melden Sie sich mit Ihrem Passwort an.',
  passkeyCancelled:
    'Es wurde kein Passkey verwendet. Versuchen Sie es erneut oder melden Sie sich mit Ihrem Passwort an.',
  phoneButton: 'Auf dem Handy bestätigen',
  phoneWaitingTitle: 'Auf dem Handy bestätigen',
  phoneWaitingHeading: 'Auf dem Handy bestätigen',
  phoneWaitingIntro:
    'Öffnen Sie die App auf Ihrem Handy. Bestätigen Sie die Anmeldung nur, wenn sie diesen Code zeigt:',
  phoneWaitingStatus: 'Warten auf Ihr Handy …',
  phoneContinue: 'Ich habe bestätigt – weiter',
  phoneOtherWay: 'Anders anmelden',
  phoneDenied: 'Die Anmeldung wurde auf Ihrem Handy abgelehnt.',
  phoneExpired:
    'Es kam keine Bestätigung rechtzeitig an. Versuchen Sie es erneut oder melden Sie sich anders an.',
  phoneTooMany:
    'Zu viele Anmeldeanfragen warten auf Bestätigung. Beantworten Sie sie auf Ihrem Handy oder versuchen Sie es in einigen Minuten erneut.',
  accountNavigation: 'Ihr Konto',
  passkeysTitle: 'Passkeys',
  passkeysHeading: 'Passkeys',
  passkeysIntro:
    'Melden Sie sich mit Fingerabdruck, Gesichtserkennung oder Displaysperre statt mit einem Passwort an.',
  passkeysEmpty: 'Sie haben noch keine Passkeys.',
  passkeyUnnamed: 'Passkey',
  passkeyCreatedAt: 'Hinzugefügt am {date}',
  passkeyLastUsedAt: 'Zuletzt verwendet am {date}',
  passkeyNeverUsed: 'Noch nicht verwendet',
  passkeySynced: 'Auf Ihren Geräten synchronisiert',
  passkeyNameLabel: 'Name (optional)',
  addPasskeyButton: 'Passkey hinzufügen',
  removePasskeyButton: 'Entfernen',
  removePasskeyLabel: '{name} entfernen',
  passkeyAddedNotice: 'Der Passkey wurde hinzugefügt.',
  passkeyRemovedNotice:
    'Der Passkey wurde entfernt. Löschen Sie ihn auch in Ihrem Passwortmanager.',
  passkeyNotAdded: 'Der Passkey konnte nicht hinzugefügt werden. Versuchen Sie es erneut.',
  passkeyExists: 'Dieser Passkey ist bereits hinzugefügt.',
  passkeyDialogFailed:
    'Es wurde kein Passkey hinzugefügt. Versuchen Sie es erneut oder verwenden Sie ein anderes Gerät.',
  passkeysUnsupported:
    'Um einen Passkey hinzuzufügen, öffnen Sie diese Seite in einem Browser, der Passkeys unterstützt, mit aktiviertem JavaScript.',
  devicesTitle: 'Geräte',
  devicesHeading: 'Ihre Geräte',
  devicesIntro:
    'Die App-Installationen, die mit Ihrem Konto registriert sind. Widerrufen Sie eine, die Sie nicht mehr nutzen oder verloren haben: Sie wird sofort abgemeldet.',
  devicesEmpty: 'Mit Ihrem Konto ist keine App registriert.',
  deviceVersion: 'Version {version}',
  deviceRegisteredAt: 'Registriert am {date}',
  deviceLastUsedAt: 'Zuletzt verwendet am {date}',
  deviceNeverUsed: 'Noch nicht verwendet',
  deviceAppSignInPassword: 'In der App angemeldet am {date}, mit Passwort',
  deviceAppSignInPasskey: 'In der App angemeldet am {date}, mit Passkey',
  deviceAppSignInProvider: 'In der App angemeldet am {date}, mit {provider}',
  deviceRevokedAt: 'Widerrufen am {date}',
  devicePending: 'Nicht eingerichtet: diese Installation hat sich nie angemeldet',
  devicePendingUntil: 'Nicht eingerichtet: wird am {date} entfernt, wenn sie sich nicht anmeldet',
  deviceAssurance: 'Vertrauensstufe: {level}',
  assuranceNone: 'einfach',
  assuranceByProvisionedKey: 'bereitgestellter Schlüssel',
  assuranceByPolicy: 'geprüfte App und geprüftes Gerät',
  deviceByUserToken: 'Registriert bei Ihrer Anmeldung',
  deviceByAttestation: 'Registriert mit geprüftem App-Nachweis ({format})',
  deviceByFallbackClient: 'Registriert über einen Ersatz-Client',
  revokeDeviceButton: 'Widerrufen',
  revokeDeviceLabel: '{name} widerrufen',
  deviceRevokedNotice:
    'Die Installation wurde widerrufen: Sie ist abgemeldet und kann sich nicht wieder anmelden.',
  devicesMore: 'Weitere anzeigen',
  nativeSsoHeading: 'Angemeldet in Ihren Apps',
  nativeSsoIntro:
    'Auf diesen Geräten meldet Sie die Anmeldung in einer App auch in den anderen Apps desselben Anbieters an. Beenden Sie sie, damit jede App Sie erneut fragt.',
  nativeSsoApps: 'Apps: {apps}',
  nativeSsoSince: 'Seit {date}',
  nativeSsoEndButton: 'Beenden',
  nativeSsoEndLabel: 'Gemeinsame Anmeldung von {apps} beenden',
  nativeSsoEndedNotice:
    'Die gemeinsame Anmeldung wurde beendet: die anderen Apps fragen Sie erneut nach der Anmeldung.',
  signedOutHeading: 'Sie sind nicht angemeldet',
  signedOutMessage:
    'Melden Sie sich zuerst über die App an und öffnen Sie diese Seite dann erneut im selben Browser.',
  goneHeading: 'Nicht gefunden',
  goneMessage: 'Es existiert nicht (mehr) oder gehört nicht Ihnen.',
  staleFormHeading: 'Anfrage abgelehnt',
  staleFormMessage:
    'Das Formular wurde nicht von dieser Seite gesendet. Öffnen Sie die Seite erneut und versuchen Sie es noch einmal.',
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

/** `seconds` in words, rounded up: `45 seconds`, `1 minute`, `15 minutes`, `2 hours`. @internal */
export function waitingTime(seconds: number, messages: PageMessages): string {
  const [amount, one, many] =
    seconds < 60
      ? [seconds, messages.waitSecond, messages.waitSeconds]
      : seconds < 2 * 3600
        ? [Math.ceil(seconds / 60), messages.waitMinute, messages.waitMinutes]
        : [Math.ceil(seconds / 3600), messages.waitHour, messages.waitHours];
  return formatMessage(amount === 1 ? one : many, { count: String(amount) });
}
