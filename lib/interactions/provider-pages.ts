import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { type AnyPageView, PageRenderer } from './renderer.js';
import type { LogoutClient } from './views.js';

// oidc-provider calls its page hooks with the request alone: the settings are found by provider.
const RENDERERS = new WeakMap<Provider, PageRenderer>();
// A provider without interaction routes (none in the library) still gets the built-in pages.
const BUILT_IN = new PageRenderer();

/**
 * Gives oidc-provider's error and sign-out pages of `provider` the same settings (hooks,
 * catalogues) as the sign-in pages.
 *
 * @internal
 */
export function usePages(provider: Provider, renderer: PageRenderer): void {
  RENDERERS.set(provider, renderer);
}

/** The page settings of `provider` (its interaction routes'), or the built-in ones. @internal */
export function pageRendererOf(provider: Provider): PageRenderer {
  return RENDERERS.get(provider) ?? BUILT_IN;
}

function rendererOf(ctx: KoaContextWithOIDC): PageRenderer {
  const provider = ctx.oidc?.provider;
  return (provider && RENDERERS.get(provider)) ?? BUILT_IN;
}

/** The page's language: the request's `ui_locales` (authorization, logout), `Accept-Language`. */
const languageOf = (ctx: KoaContextWithOIDC, renderer: PageRenderer) =>
  renderer.language({
    uiLocales: ctx.oidc?.params?.ui_locales,
    acceptLanguage: ctx.get('accept-language'),
  });

async function send(ctx: KoaContextWithOIDC, renderer: PageRenderer, view: AnyPageView) {
  const page = await renderer.render(view, (error) =>
    ctx.oidc?.provider.emit('server_error', ctx, error),
  );
  ctx.status = page.status;
  ctx.type = 'html';
  ctx.set(page.headers);
  ctx.body = page.html;
}

/** The app a sign-out came from, if the request named one. */
function logoutClient(ctx: KoaContextWithOIDC): LogoutClient | undefined {
  const client = ctx.oidc?.client;
  if (!client) return undefined;
  const name = client.metadata().client_name;
  return { id: client.clientId, name: typeof name === 'string' ? name : client.clientId };
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
  const renderer = rendererOf(ctx);
  const view = renderer.errorView(languageOf(ctx, renderer), ctx.status, 'error', {
    error: out.error,
    ...(out.error_description ? { errorDescription: out.error_description } : {}),
  });
  await send(ctx, renderer, view);
}

/**
 * oidc-provider's `logoutSource`: asks the user to confirm signing out. `form` is
 * oidc-provider's own form; the page posts the same action and CSRF field (`xsrf`).
 *
 * @internal
 */
export async function renderLogoutPage(ctx: KoaContextWithOIDC, form: string): Promise<void> {
  const action = /\saction="([^"]*)"/.exec(form)?.[1];
  const xsrf = /\sname="xsrf" value="([^"]*)"/.exec(form)?.[1];
  // oidc-provider 9's form is fixed markup; anything else is a version this code does not know.
  if (action === undefined || xsrf === undefined) {
    throw new Error('the logout form oidc-provider gave has no action or xsrf field');
  }
  const renderer = rendererOf(ctx);
  const language = languageOf(ctx, renderer);
  const client = logoutClient(ctx);
  await send(ctx, renderer, {
    ...renderer.base(language, renderer.messages(language).logoutTitle, 200),
    page: 'logout',
    form: { action, csrf: { name: 'xsrf', value: xsrf } },
    signOut: { name: 'logout', value: 'yes' },
    ...(client ? { client } : {}),
  });
}

/**
 * oidc-provider's `postLogoutSuccessSource`.
 *
 * @internal
 */
export async function renderLogoutSuccessPage(ctx: KoaContextWithOIDC): Promise<void> {
  const renderer = rendererOf(ctx);
  const language = languageOf(ctx, renderer);
  const client = logoutClient(ctx);
  await send(ctx, renderer, {
    ...renderer.base(language, renderer.messages(language).logoutSuccessTitle, 200),
    page: 'logoutSuccess',
    ...(client ? { client } : {}),
  });
}
