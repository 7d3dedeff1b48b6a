import type { KoaContextWithOIDC } from 'oidc-provider';
import { escapeHtml, htmlPage, PAGE_HEADERS } from '../interactions/html.js';

function page(ctx: KoaContextWithOIDC, title: string, body: string) {
  ctx.type = 'html';
  ctx.set(PAGE_HEADERS);
  ctx.body = htmlPage(title, body);
}

/**
 * oidc-provider's `renderError`: an HTML page with the OAuth error code and description, and
 * never a stack trace.
 *
 * @internal
 */
export async function renderErrorPage(
  ctx: KoaContextWithOIDC,
  out: { error: string; error_description?: string | undefined },
): Promise<void> {
  const description = out.error_description ? `<p>${escapeHtml(out.error_description)}</p>` : '';
  page(
    ctx,
    'Sign-in error',
    `<h1>Something went wrong</h1><p><code>${escapeHtml(out.error)}</code></p>${description}`,
  );
}

/**
 * oidc-provider's `logoutSource`: asks the user to confirm signing out. `form` is
 * oidc-provider's own form (with its CSRF field); the buttons submit it.
 *
 * @internal
 */
export async function renderLogoutPage(ctx: KoaContextWithOIDC, form: string): Promise<void> {
  page(
    ctx,
    'Sign out',
    `${form}<h1>Sign out?</h1><button type="submit" form="op.logoutForm" name="logout" value="yes">Sign out</button> <button type="submit" form="op.logoutForm">Stay signed in</button>`,
  );
}

/**
 * oidc-provider's `postLogoutSuccessSource`.
 *
 * @internal
 */
export async function renderLogoutSuccessPage(ctx: KoaContextWithOIDC): Promise<void> {
  page(ctx, 'Signed out', '<h1>You are signed out</h1>');
}
