import type { KoaContextWithOIDC, default as Provider } from 'oidc-provider';
import type { InstanceRecord } from '../core/instance-record.js';
import { instanceRecordOf } from './loaded-client.js';

// The authorization endpoints whose errors oidc-provider may send to the redirect URI.
const REDIRECTING_ROUTES = new Set(['authorization', 'resume']);

/**
 * Whether `redirectUri` of an instance was registered by whoever registered the instance (any
 * redirect URI of an instance without a template, or one its template does not list), rather
 * than fixed by the server's template.
 *
 * @internal
 */
export function userRegisteredRedirect(record: InstanceRecord, redirectUri: string): boolean {
  return !record.template_redirect_uris?.includes(redirectUri);
}

/** The request's `redirect_uri`, read where oidc-provider's authorization error handler reads it. */
function redirectUriOf(ctx: KoaContextWithOIDC): string | undefined {
  const params: unknown =
    ctx.oidc.params ?? (ctx.method === 'POST' ? ctx.oidc.body : ctx.query) ?? {};
  const value =
    typeof params === 'object' && params !== null && Object.hasOwn(params, 'redirect_uri')
      ? (params as Record<string, unknown>).redirect_uri
      : undefined;
  return typeof value === 'string' && value ? value : undefined;
}

/**
 * Keeps the authorization endpoint from being an open redirector (RFC 9700 §4.11.2): an error
 * for an app install whose redirect URI its registrant chose (anyone can register one) is shown
 * on the server's error page, not redirected, while no user has signed in in this browser.
 * Successful responses, errors once a user has signed in (e.g. access_denied after Deny), and
 * redirect URIs fixed by a template or a static client keep RFC 6749 §4.1.2.1's redirect.
 *
 * oidc-provider reports every authorization error (`authorization.error`, or `server_error` for
 * an unexpected one) before it chooses between its `renderError` page and the redirect URI, and
 * redirects only errors whose `allow_redirect` is set: the listener clears it. The decision
 * comes before the response mode is looked at, so it holds for every mode (query, fragment,
 * form_post, JARM, and PAR requests). test/provider/upstream-authorization-errors.test.ts fails
 * if an upgrade of oidc-provider stops honouring it.
 *
 * @internal
 */
export function refuseUntrustedErrorRedirects(provider: Provider): void {
  const hold = (ctx: KoaContextWithOIDC, error: unknown) => {
    if (!ctx?.oidc || !REDIRECTING_ROUTES.has(ctx.oidc.route)) return;
    if (typeof error !== 'object' || error === null || !('allow_redirect' in error)) return;
    const record = instanceRecordOf(ctx.oidc.client);
    const redirectUri = redirectUriOf(ctx);
    if (!record || !redirectUri || !userRegisteredRedirect(record, redirectUri)) return;
    // A signed-in user chose to go on with this app (or was refused after signing in).
    if (ctx.oidc.session?.accountId) return;
    (error as { allow_redirect: boolean }).allow_redirect = false;
    // prompt=none's errors carry 303, meant for the redirect: the page is a 400.
    if (ctx.status < 400) ctx.status = 400;
  };
  provider.on('authorization.error', hold);
  provider.on('server_error', hold);
}
