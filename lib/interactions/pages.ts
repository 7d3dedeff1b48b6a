// The built-in pages, rendered from the same view models a product's render hooks receive.
import { escapeHtml, htmlPage } from './html.js';
import type {
  ConsentView,
  CsrfField,
  ErrorView,
  LoginField,
  LoginView,
  LogoutSuccessView,
  LogoutView,
  PageForm,
  PageView,
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
      ? `id="username" name="username" autocomplete="username" required value="${escapeHtml(view.username)}"`
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

/** The built-in login page. @internal */
export function loginPage(view: LoginView): string {
  const { messages } = view;
  return htmlPage(
    view,
    header(view, messages.loginHeading) +
      (view.error ? `<p class="error" role="alert">${escapeHtml(view.error)}</p>` : '') +
      formOpen(view.form) +
      loginField(view, 'username') +
      loginField(view, 'password') +
      `<button type="submit" class="primary">${escapeHtml(messages.signInButton)}</button></form>` +
      view.federation
        .map(
          (b) => `${formOpen(b.form)}<button type="submit">${escapeHtml(b.label)}</button></form>`,
        )
        .join(''),
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
