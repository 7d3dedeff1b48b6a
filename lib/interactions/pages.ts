// The built-in pages, rendered from the same view models a product's render hooks receive.
import { escapeHtml, htmlPage } from './html.js';
import type { PageMessages } from './messages.js';
import { formatMessage, waitingTime } from './messages.js';
import type {
  AccountLinks,
  ConsentView,
  CsrfField,
  ErrorView,
  FirstPartySignInView,
  InstanceItemView,
  InstancesView,
  LinksView,
  LinkView,
  LoginField,
  LoginView,
  LogoutSuccessView,
  LogoutView,
  NativeSsoSessionView,
  PageForm,
  PageView,
  PasskeyItemView,
  PasskeysView,
  PhoneWaitingView,
} from './views.js';

const hidden = (csrf: CsrfField) =>
  `<input type="hidden" name="${escapeHtml(csrf.name)}" value="${escapeHtml(csrf.value)}">`;

const formOpen = (form: PageForm) =>
  `<form method="post" action="${escapeHtml(form.action)}">${hidden(form.csrf)}`;

/**
 * A catalogue string with its placeholders filled by HTML: the string is escaped, the values
 * (already HTML) are not.
 */
function formatHtml(template: string, html: Readonly<Record<string, string>>): string {
  return template
    .split(/(\{\w+\})/)
    .map((part) => {
      const name = /^\{(\w+)\}$/.exec(part)?.[1];
      return name !== undefined && Object.hasOwn(html, name) ? html[name] : escapeHtml(part);
    })
    .join('');
}

/** The product's name above the heading, unless it says the same (the default title). */
const header = (view: PageView, heading: string) =>
  (view.productName === heading ? '' : `<p class="product">${escapeHtml(view.productName)}</p>`) +
  `<h1>${escapeHtml(heading)}</h1>`;

/** One login field, tied to its error by `aria-describedby` and `aria-invalid`. */
function loginField(view: LoginView, field: LoginField): string {
  const error = view.fieldErrors[field];
  const errorId = `${field}-error`;
  const label = field === 'username' ? view.messages.usernameLabel : view.messages.passwordLabel;
  const attributes =
    field === 'username'
      ? `id="username" name="username" autocomplete="${view.passkey ? 'username webauthn' : 'username'}" required value="${escapeHtml(view.username)}"`
      : 'id="password" name="password" type="password" autocomplete="current-password" required';
  // autofocus rather than a script: the strict CSP allows none.
  const state =
    (error ? ` aria-invalid="true" aria-describedby="${errorId}"` : '') +
    (view.focus === field ? ' autofocus' : '');
  return (
    `<label for="${field}">${escapeHtml(label)}</label><input ${attributes}${state}>` +
    (error ? `<p class="field-error" id="${errorId}">${escapeHtml(error)}</p>` : '')
  );
}

/** A script of the page, allowed by the page's CSP nonce. */
const script = (view: PageView, source: string) =>
  `<script nonce="${escapeHtml(view.cspNonce)}">${source}</script>`;

/** The passkey button and its form; the script shows the button only where passkeys work. */
function passkeySignIn(view: LoginView): string {
  const { passkey, messages } = view;
  if (!passkey) return '';
  return (
    `<form id="passkey-form" method="post" action="${escapeHtml(passkey.form.action)}" data-options="${escapeHtml(passkey.options)}">` +
    `${hidden(passkey.form.csrf)}<input type="hidden" name="credential" value="">` +
    `<button type="button" id="passkey-button" hidden>${escapeHtml(messages.passkeyButton)}</button></form>` +
    `<p class="error" id="passkey-error" role="alert" hidden>${escapeHtml(messages.passkeyCancelled)}</p>` +
    script(view, passkey.script)
  );
}

/**
 * "Approve on your phone": a submit button that posts the form to the phone action without
 * requiring the password (the server reads only the username there).
 */
function phoneButton(view: LoginView): string {
  if (!view.phone) return '';
  return `<button type="submit" formaction="${escapeHtml(view.phone.form.action)}" formnovalidate>${escapeHtml(view.messages.phoneButton)}</button>`;
}

/** The built-in waiting page: the code, the status, the continue link, another way. @internal */
export function phoneWaitingPage(view: PhoneWaitingView): string {
  const { messages } = view;
  return htmlPage(
    view,
    header(view, messages.phoneWaitingHeading) +
      `<p>${escapeHtml(messages.phoneWaitingIntro)}</p>` +
      `<p class="code" id="binding-message"><strong>${escapeHtml(view.bindingMessage)}</strong></p>` +
      `<div id="phone-waiting" data-status="${escapeHtml(view.statusUrl)}" data-continue="${escapeHtml(view.continueUrl)}">` +
      `<p role="status">${escapeHtml(messages.phoneWaitingStatus)}</p></div>` +
      `<p><a href="${escapeHtml(view.continueUrl)}" id="phone-continue">${escapeHtml(messages.phoneContinue)}</a></p>` +
      `<p><a href="${escapeHtml(view.cancelUrl)}">${escapeHtml(messages.phoneOtherWay)}</a></p>` +
      script(view, view.script),
  );
}

/** The built-in login page. @internal */
export function loginPage(view: LoginView): string {
  const { messages } = view;
  return htmlPage(
    view,
    header(view, messages.loginHeading) +
      (view.error ? `<p class="error" role="alert">${escapeHtml(view.error)}</p>` : '') +
      (view.notice ? `<p role="status">${escapeHtml(view.notice)}</p>` : '') +
      (view.password
        ? formOpen(view.form) +
          loginField(view, 'username') +
          loginField(view, 'password') +
          `<button type="submit" class="primary">${escapeHtml(messages.signInButton)}</button>` +
          phoneButton(view) +
          '</form>'
        : view.phone
          ? `${formOpen(view.phone.form)}${loginField(view, 'username')}${phoneButton(view)}</form>`
          : '') +
      view.federation
        .map(
          (b) => `${formOpen(b.form)}<button type="submit">${escapeHtml(b.label)}</button></form>`,
        )
        .join('') +
      passkeySignIn(view),
  );
}

/** The built-in link page: the question, Link (the primary action), then Cancel. @internal */
export function linkPage(view: LinkView): string {
  const { messages, identity, account } = view;
  const strong = (text: string) => `<strong>${escapeHtml(text)}</strong>`;
  const names = {
    provider: escapeHtml(identity.providerName),
    identity: strong(identity.email ?? identity.name ?? identity.subject),
    account: strong(account.email ?? account.name ?? account.id),
  };
  const offer = `<input type="hidden" name="${escapeHtml(view.offer.name)}" value="${escapeHtml(view.offer.value)}">`;
  return htmlPage(
    view,
    `<p class="product">${escapeHtml(view.productName)}</p>` +
      `<h1>${formatHtml(messages.linkHeading, names)}</h1>` +
      `<p>${formatHtml(messages.linkExplanation, names)}</p>` +
      `${formOpen(view.link)}${offer}<button type="submit" class="primary">${escapeHtml(messages.linkButton)}</button></form>` +
      `${formOpen(view.cancel)}${offer}<button type="submit" class="secondary">${escapeHtml(messages.cancelLinkButton)}</button></form>`,
  );
}

/** The built-in consent page: Allow (the primary action) first, then Deny. @internal */
export function consentPage(view: ConsentView): string {
  const { messages } = view;
  const items = [
    ...view.scopes.map((s) =>
      s.description ? escapeHtml(s.description) : `<code>${escapeHtml(s.scope)}</code>`,
    ),
    ...view.claims.map((c) =>
      formatHtml(messages.consentClaim, { claim: `<code>${escapeHtml(c)}</code>` }),
    ),
  ];
  const returnsTo = view.client.returnHost
    ? `<p>${formatHtml(messages.consentReturnsTo, { host: `<strong>${escapeHtml(view.client.returnHost)}</strong>` })}</p>`
    : '';
  return htmlPage(
    view,
    header(view, messages.consentHeading) +
      `<p>${formatHtml(messages.consentIntro, { app: `<strong>${escapeHtml(view.client.name)}</strong>` })}</p>` +
      `<ul>${items.map((i) => `<li>${i}</li>`).join('')}</ul>${returnsTo}` +
      `${formOpen(view.allow)}<button type="submit" class="primary">${escapeHtml(messages.allowButton)}</button></form>` +
      `${formOpen(view.deny)}<button type="submit" class="secondary">${escapeHtml(messages.denyButton)}</button></form>`,
  );
}

/** The built-in error page: what went wrong and what to do, never internals. @internal */
export function errorPage(view: ErrorView): string {
  const code = view.error
    ? `<p>${formatHtml(view.messages.errorCode, { code: `<code>${escapeHtml(view.error)}</code>` })}</p>`
    : '';
  const description = view.errorDescription ? `<p>${escapeHtml(view.errorDescription)}</p>` : '';
  return htmlPage(
    view,
    `${header(view, view.heading)}<p>${escapeHtml(view.message)}</p>${code}${description}`,
  );
}

/** The built-in sign-out page: one form, Sign out (the primary action) or stay. @internal */
export function logoutPage(view: LogoutView): string {
  const { messages } = view;
  const from = view.client
    ? `<p>${formatHtml(messages.logoutFrom, { app: `<strong>${escapeHtml(view.client.name)}</strong>` })}</p>`
    : '';
  return htmlPage(
    view,
    `${header(view, messages.logoutHeading)}${from}${formOpen(view.form)}` +
      `<button type="submit" class="primary" name="${escapeHtml(view.signOut.name)}" value="${escapeHtml(view.signOut.value)}">${escapeHtml(messages.signOutButton)}</button>` +
      `<button type="submit" class="secondary">${escapeHtml(messages.staySignedInButton)}</button></form>`,
  );
}

/** The built-in page after signing out. @internal */
export function logoutSuccessPage(view: LogoutSuccessView): string {
  return htmlPage(view, header(view, view.messages.logoutSuccessHeading));
}

/** A time in the page's language, in UTC (the server does not know the browser's time zone). */
function time(seconds: number, language: string): string {
  const date = new Date(seconds * 1000);
  let text: string;
  try {
    text = new Intl.DateTimeFormat(language, {
      dateStyle: 'medium',
      timeStyle: 'short',
      timeZone: 'UTC',
    }).format(date);
  } catch {
    text = date.toISOString();
  }
  return `<time datetime="${date.toISOString()}">${escapeHtml(text)} UTC</time>`;
}

/** A line of small print about one item: a catalogue string with its `{date}` filled in. */
const dated = (template: string, seconds: number, language: string) =>
  `<p class="meta">${formatHtml(template, { date: time(seconds, language) })}</p>`;

type AccountPage = 'passkeys' | 'devices' | 'linkedAccounts';

/** The links between the account pages, the current one marked. */
function accountNav(view: PageView, links: AccountLinks, current: AccountPage): string {
  const { messages } = view;
  const link = (page: AccountPage, href: string | undefined, label: string) =>
    href
      ? `<a href="${escapeHtml(href)}"${page === current ? ' aria-current="page"' : ''}>${escapeHtml(label)}</a>`
      : '';
  const items = [
    link('passkeys', links.passkeys, messages.passkeysTitle),
    link('devices', links.devices, messages.devicesTitle),
    link('linkedAccounts', links.linkedAccounts, messages.linksTitle),
  ].filter(Boolean);
  return `<nav aria-label="${escapeHtml(messages.accountNavigation)}">${items.join(' ')}</nav>`;
}

const notice = (text: string | undefined) =>
  text ? `<p class="notice" role="status">${escapeHtml(text)}</p>` : '';

/** One passkey with its "Remove" button. */
function passkeyItem(view: PasskeysView, passkey: PasskeyItemView): string {
  const { messages, language } = view;
  const name = passkey.name ?? messages.passkeyUnnamed;
  const label = formatMessage(messages.removePasskeyLabel, { name });
  return (
    `<li><strong>${escapeHtml(name)}</strong>` +
    dated(messages.passkeyCreatedAt, passkey.createdAt, language) +
    (passkey.lastUsedAt !== undefined
      ? dated(messages.passkeyLastUsedAt, passkey.lastUsedAt, language)
      : `<p class="meta">${escapeHtml(messages.passkeyNeverUsed)}</p>`) +
    (passkey.synced ? `<p class="meta">${escapeHtml(messages.passkeySynced)}</p>` : '') +
    `${formOpen(passkey.remove)}<button type="submit" class="secondary" aria-label="${escapeHtml(label)}">${escapeHtml(messages.removePasskeyButton)}</button></form></li>`
  );
}

/** The built-in passkey page: the list, then "Add a passkey" (shown by its script). @internal */
export function passkeysPage(view: PasskeysView): string {
  const { messages, add } = view;
  const list =
    view.passkeys.length > 0
      ? `<ul class="items">${view.passkeys.map((p) => passkeyItem(view, p)).join('')}</ul>`
      : `<p>${escapeHtml(messages.passkeysEmpty)}</p>`;
  return htmlPage(
    view,
    header(view, messages.passkeysHeading) +
      accountNav(view, view.links, 'passkeys') +
      notice(view.notice) +
      `<p>${escapeHtml(messages.passkeysIntro)}</p>${list}` +
      (view.error ? `<p class="error" role="alert">${escapeHtml(view.error)}</p>` : '') +
      `<p id="passkey-unsupported">${escapeHtml(messages.passkeysUnsupported)}</p>` +
      `<form id="passkey-register-form" method="post" action="${escapeHtml(add.form.action)}" data-options="${escapeHtml(add.options)}" hidden>` +
      `${hidden(add.form.csrf)}<input type="hidden" name="credential" value="">` +
      `<label for="passkey-name">${escapeHtml(messages.passkeyNameLabel)}</label>` +
      '<input id="passkey-name" name="name" maxlength="64" autocomplete="off">' +
      `<button type="submit" class="primary">${escapeHtml(messages.addPasskeyButton)}</button></form>` +
      `<p class="error" id="passkey-register-error" role="alert" hidden>${escapeHtml(messages.passkeyDialogFailed)}</p>` +
      script(view, add.script),
  );
}

/** How an install registered, in words. */
function registeredBy(messages: PageMessages, device: InstanceItemView): string {
  switch (device.registeredBy) {
    case 'attestation':
      return formatMessage(messages.deviceByAttestation, { format: device.evidenceFormat ?? '' });
    case 'fallback-client':
      return messages.deviceByFallbackClient;
    default:
      return messages.deviceByUserToken;
  }
}

const ASSURANCE: Readonly<Record<string, keyof PageMessages>> = {
  none: 'assuranceNone',
  'by-provisioned-key': 'assuranceByProvisionedKey',
  'by-policy': 'assuranceByPolicy',
};

/** What a pending install shows instead of its last use: never set up, removed when. */
function pendingLine(view: InstancesView, until: number | undefined): string {
  const { messages, language } = view;
  return until === undefined
    ? `<p class="meta"><strong>${escapeHtml(messages.devicePending)}</strong></p>`
    : `<p class="meta"><strong>${formatHtml(messages.devicePendingUntil, { date: time(until, language) })}</strong></p>`;
}

/** "Signed in with the app", when and with what. */
function appSignInLine(view: InstancesView, signIn: FirstPartySignInView): string {
  const { messages, language } = view;
  const date = time(signIn.at, language);
  if (signIn.method === 'federated') {
    const provider = escapeHtml(signIn.providerName ?? signIn.provider ?? '');
    return `<p class="meta">${formatHtml(messages.deviceAppSignInProvider, { date, provider })}</p>`;
  }
  const template =
    signIn.method === 'passkey'
      ? messages.deviceAppSignInPasskey
      : messages.deviceAppSignInPassword;
  return dated(template, signIn.at, language);
}

/** One install, marked when pending, with its "Revoke" button unless it is revoked. */
function deviceItem(view: InstancesView, device: InstanceItemView): string {
  const { messages, language } = view;
  const level = Object.hasOwn(ASSURANCE, device.cal)
    ? messages[ASSURANCE[device.cal] as keyof PageMessages]
    : device.cal;
  const label = formatMessage(messages.revokeDeviceLabel, { name: device.name });
  return (
    `<li><strong>${escapeHtml(device.name)}</strong>` +
    (device.version
      ? `<p class="meta">${escapeHtml(formatMessage(messages.deviceVersion, { version: device.version }))}</p>`
      : '') +
    dated(messages.deviceRegisteredAt, device.createdAt, language) +
    (device.status === 'pending'
      ? pendingLine(view, device.pendingUntil)
      : device.lastUsedAt !== undefined
        ? dated(messages.deviceLastUsedAt, device.lastUsedAt, language)
        : `<p class="meta">${escapeHtml(messages.deviceNeverUsed)}</p>`) +
    (device.firstPartySignIn ? appSignInLine(view, device.firstPartySignIn) : '') +
    `<p class="meta">${escapeHtml(formatMessage(messages.deviceAssurance, { level }))}</p>` +
    `<p class="meta">${escapeHtml(registeredBy(messages, device))}</p>` +
    (device.revokedAt !== undefined
      ? dated(messages.deviceRevokedAt, device.revokedAt, language)
      : '') +
    (device.revoke
      ? `${formOpen(device.revoke)}<button type="submit" class="secondary" aria-label="${escapeHtml(label)}">${escapeHtml(messages.revokeDeviceButton)}</button></form>`
      : '') +
    '</li>'
  );
}

/** One Native SSO device session: its apps, since when, and "End". */
function nativeSsoItem(view: InstancesView, session: NativeSsoSessionView): string {
  const { messages, language } = view;
  const apps = session.apps.join(', ') || session.group;
  const label = formatMessage(messages.nativeSsoEndLabel, { apps });
  return (
    `<li><strong>${escapeHtml(formatMessage(messages.nativeSsoApps, { apps }))}</strong>` +
    dated(messages.nativeSsoSince, session.createdAt, language) +
    `${formOpen(session.end)}<button type="submit" class="secondary" aria-label="${escapeHtml(label)}">${escapeHtml(messages.nativeSsoEndButton)}</button></form>` +
    '</li>'
  );
}

/** The device page's Native SSO section, when the account has device sessions. */
function nativeSsoSection(view: InstancesView): string {
  const sessions = view.signedInApps ?? [];
  if (sessions.length === 0) return '';
  const { messages } = view;
  return (
    `<h2>${escapeHtml(messages.nativeSsoHeading)}</h2>` +
    `<p>${escapeHtml(messages.nativeSsoIntro)}</p>` +
    `<ul class="items">${sessions.map((s) => nativeSsoItem(view, s)).join('')}</ul>`
  );
}

/** The built-in device page: the installs, each not yet revoked with "Revoke". @internal */
export function devicesPage(view: InstancesView): string {
  const { messages } = view;
  const list =
    view.devices.length > 0
      ? `<ul class="items">${view.devices.map((d) => deviceItem(view, d)).join('')}</ul>`
      : `<p>${escapeHtml(messages.devicesEmpty)}</p>`;
  return htmlPage(
    view,
    header(view, messages.devicesHeading) +
      accountNav(view, view.links, 'devices') +
      notice(view.notice) +
      `<p>${escapeHtml(messages.devicesIntro)}</p>${list}` +
      (view.next
        ? `<p><a href="${escapeHtml(view.next)}">${escapeHtml(messages.devicesMore)}</a></p>`
        : '') +
      nativeSsoSection(view),
  );
}

/** The password form that makes the sign-in fresh enough to link. */
function reauthenticateForm(view: LinksView): string {
  const { reauthenticate, messages } = view;
  if (!reauthenticate) return '';
  const wait = waitingTime(reauthenticate.maxAge, messages);
  const invalid = reauthenticate.error
    ? ' aria-invalid="true" aria-describedby="reauthenticate-error"'
    : '';
  return (
    `<p>${escapeHtml(formatMessage(messages.linksReauthenticate, { wait }))}</p>` +
    (reauthenticate.error
      ? `<p class="error" id="reauthenticate-error" role="alert">${escapeHtml(reauthenticate.error)}</p>`
      : '') +
    formOpen(reauthenticate.form) +
    `<label for="username">${escapeHtml(messages.usernameLabel)}</label>` +
    `<input id="username" name="username" autocomplete="username" required value="${escapeHtml(reauthenticate.username)}"${invalid}>` +
    `<label for="password">${escapeHtml(messages.passwordLabel)}</label>` +
    `<input id="password" name="password" type="password" autocomplete="current-password" required${invalid}>` +
    `<button type="submit" class="primary">${escapeHtml(messages.confirmPasswordButton)}</button></form>`
  );
}

/**
 * The built-in linked accounts page: a "Link your … account" button per provider, or first the
 * password form while the sign-in is not fresh. @internal
 */
export function linksPage(view: LinksView): string {
  const { messages } = view;
  return htmlPage(
    view,
    header(view, messages.linksHeading) +
      accountNav(view, view.links, 'linkedAccounts') +
      notice(view.notice) +
      (view.error ? `<p class="error" role="alert">${escapeHtml(view.error)}</p>` : '') +
      `<p>${escapeHtml(messages.linksIntro)}</p>` +
      reauthenticateForm(view) +
      view.providers
        .map(
          (p) =>
            `${formOpen(p.form)}<button type="submit">${escapeHtml(formatMessage(messages.linkProviderButton, { provider: p.providerName }))}</button></form>`,
        )
        .join(''),
  );
}
