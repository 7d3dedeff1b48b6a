import type { Context, Middleware } from 'koa';
import type Provider from 'oidc-provider';
import { StorageUnavailableError } from '../storage/guard.js';
import { AccountPages, type AccountRouteSettings } from './account-routes-context.js';
import { linksRoute } from './account-routes-links.js';
import { passkeysDevicesRoute } from './account-routes-passkeys-devices.js';
import { FormTooLarge } from './form.js';

export type { AccountRouteSettings } from './account-routes-context.js';

// `/account/passkeys`, `/account/devices`, and the actions on one item of either (on the device
// page: revoke an install, end a Native SSO device session).
const ROUTE = /^\/account\/(passkeys|devices)(?:\/([^/]+)\/(remove|revoke|end))?\/?$/;
// `/account/links`, its password form, its answers to the link page, and a provider's start and
// callback (`[a-z0-9-]+`, the provider names `federation.providers` allows).
const LINKS_ROUTE =
  /^\/account\/links(?:\/(reauthenticate|link|cancel)|\/(start|callback)\/([a-z0-9-]+))?\/?$/;

/**
 * The account pages of the browser's signed-in user, installed with `provider.use()`: the
 * passkey page (`/account/passkeys`: list, add, remove) and the device page
 * (`/account/devices`: list, revoke). The user is the one of oidc-provider's session cookie, as
 * the authorization endpoint sees it; every form carries a CSRF token bound to that session and
 * each action redirects back to its page (303). Without a session the pages say to sign in
 * through the app first: there is no sign-in that returns here.
 *
 * @internal
 */
export function createAccountRoutes(
  provider: Provider,
  settings: AccountRouteSettings,
): Middleware {
  const pages = new AccountPages(provider, settings);
  const { linking } = pages;
  // Not async: a request for another page passes on without a promise of its own.
  return function accountRoutes(ctx, next) {
    const linksMatch = linking ? LINKS_ROUTE.exec(ctx.path) : null;
    if (linking && linksMatch) {
      const [, action, step, name] = linksMatch;
      return withFailurePages(pages, ctx, () =>
        linksRoute(pages, ctx, linking, action, step, name),
      );
    }
    const match = ROUTE.exec(ctx.path);
    const [, page, rawId, action] = match ?? [];
    if (page !== 'passkeys' && page !== 'devices') return next();
    // Passkeys off: no such page. An action must fit its page: remove a passkey, revoke a device
    // (or end a device session, with Native SSO).
    if (page === 'passkeys' && !settings.passkeys) return next();
    const fits =
      page === 'passkeys'
        ? action === 'remove'
        : action === 'revoke' || (action === 'end' && settings.nativeSso !== undefined);
    if (action && !fits) return next();
    return withFailurePages(pages, ctx, () =>
      passkeysDevicesRoute(pages, ctx, page, rawId, action === 'end' ? 'end' : undefined),
    );
  };
}

/** Runs a route, answering an oversized form (413) and a store outage (503) with a page. */
async function withFailurePages(pages: AccountPages, ctx: Context, route: () => Promise<void>) {
  try {
    await route();
  } catch (error) {
    if (error instanceof FormTooLarge) return pages.fail(ctx, 413, 'tooLarge');
    if (error instanceof StorageUnavailableError) return pages.fail(ctx, 503, 'unavailable');
    throw error;
  }
}
