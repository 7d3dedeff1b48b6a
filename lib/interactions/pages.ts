import { escapeHtml, htmlPage } from './html.js';

/** The scopes and claims a consent page asks for. @internal */
export interface ConsentRequest {
  clientName: string;
  scopes: string[];
  claims: string[];
}

const hidden = (csrf: string) => `<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">`;

/** A "Continue with …" button: a form posting to `action`. @internal */
export interface FederatedButton {
  action: string;
  label: string;
}

/**
 * The sign-in form, then one "Continue with …" button per `federated` entry; `error` and
 * `username` are shown back after a failed attempt.
 *
 * @internal
 */
export function loginPage(
  title: string,
  action: string,
  csrf: string,
  {
    error,
    username = '',
    federated = [],
  }: { error?: string; username?: string; federated?: readonly FederatedButton[] } = {},
): string {
  return htmlPage(
    title,
    `<h1>${escapeHtml(title)}</h1>${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}` +
      `<form method="post" action="${escapeHtml(action)}">${hidden(csrf)}` +
      `<label for="username">Username</label><input id="username" name="username" autocomplete="username" required autofocus value="${escapeHtml(username)}">` +
      `<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>` +
      '<button type="submit">Sign in</button></form>' +
      federated
        .map(
          (b) =>
            `<form method="post" action="${escapeHtml(b.action)}">${hidden(csrf)}<button type="submit">${escapeHtml(b.label)}</button></form>`,
        )
        .join(''),
  );
}

/** The consent page: Allow posts to `confirm`, Deny to `abort`. @internal */
export function consentPage(
  title: string,
  actions: { confirm: string; abort: string },
  csrf: string,
  request: ConsentRequest,
): string {
  const items = [
    ...request.scopes.map((s) => `scope <code>${escapeHtml(s)}</code>`),
    ...request.claims.map((c) => `claim <code>${escapeHtml(c)}</code>`),
  ];
  return htmlPage(
    title,
    `<h1>${escapeHtml(title)}</h1><p><strong>${escapeHtml(request.clientName)}</strong> asks for:</p>` +
      `<ul>${items.map((i) => `<li>${i}</li>`).join('')}</ul>` +
      `<form method="post" action="${escapeHtml(actions.confirm)}">${hidden(csrf)}<button type="submit">Allow</button></form>` +
      `<form method="post" action="${escapeHtml(actions.abort)}">${hidden(csrf)}<button type="submit">Deny</button></form>`,
  );
}

/** A plain error page: what went wrong and what to do, never internals. @internal */
export function messagePage(title: string, heading: string, message: string): string {
  return htmlPage(title, `<h1>${escapeHtml(heading)}</h1><p>${escapeHtml(message)}</p>`);
}
