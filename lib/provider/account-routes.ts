import type { Context, Middleware } from 'koa';
import type Provider from 'oidc-provider';
import type { AccountClaims } from '../accounts/types.js';
import type { DeviceManager } from '../devices/manager.js';
import type { DeviceInfo } from '../devices/types.js';
import { csrfToken, csrfValid } from '../interactions/csrf.js';
import { FormTooLarge, readForm } from '../interactions/form.js';
import { PAGE_HEADERS } from '../interactions/html.js';
import type { AnyPageView, ErrorKind } from '../interactions/renderer.js';
import type {
  AccountLinks,
  DeviceItemView,
  DevicesView,
  PageForm,
  PasskeysView,
} from '../interactions/views.js';
import { REGISTER_SCRIPT } from '../passkeys/scripts.js';
import type { PasskeyService } from '../passkeys/service.js';
import { StorageUnavailableError } from '../storage/guard.js';
import { pageRendererOf } from './pages.js';

/** What the account pages need. @internal */
export interface AccountRouteSettings {
  /** The issuer's URL path (`''` or e.g. `/oidc`). */
  basePath: string;
  /** The secret the pages' CSRF tokens are derived from. */
  csrfSecret: string;
  devices: DeviceManager;
  /** The passkey page, when passkeys are enabled. */
  passkeys?: PasskeyService;
  findAccount(accountId: string): Promise<AccountClaims | undefined>;
}

// `/account/passkeys`, `/account/devices`, and the actions on one item of either.
const ROUTE = /^\/account\/(passkeys|devices)(?:\/([^/]+)\/(remove|revoke))?\/?$/;
// What the last action did, shown once after its redirect (`?done=`).
const NOTICES = {
  added: 'passkeyAddedNotice',
  removed: 'passkeyRemovedNotice',
  revoked: 'deviceRevokedNotice',
} as const;
const DEVICES_PER_PAGE = 50;

/** The signed-in user of this browser: its account and the session the pages' tokens bind to. */
interface SignedIn {
  accountId: string;
  sessionId: string;
}

/** An id from the path; `undefined` for bad percent-encoding (RFC 3986 §2.1). */
function pathId(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

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
  const { basePath, csrfSecret, devices, passkeys } = settings;
  const url = (page: 'passkeys' | 'devices') => `${basePath}/account/${page}`;
  const links: AccountLinks = {
    devices: url('devices'),
    ...(passkeys ? { passkeys: url('passkeys') } : {}),
  };
  const csrfOf = (user: SignedIn) => ({
    name: 'csrf',
    value: csrfToken(csrfSecret, `account:${user.sessionId}`),
  });
  const formFor = (user: SignedIn, action: string): PageForm => ({ action, csrf: csrfOf(user) });

  const languageOf = (ctx: Context) =>
    pageRendererOf(provider).language({
      uiLocales: ctx.query.ui_locales,
      acceptLanguage: ctx.get('accept-language'),
    });

  async function send(ctx: Context, view: AnyPageView) {
    const page = await pageRendererOf(provider).render(view, (error) =>
      provider.emit('server_error', ctx, error),
    );
    ctx.status = page.status;
    ctx.set(page.headers);
    ctx.type = 'html';
    ctx.body = page.html;
  }

  const fail = (ctx: Context, status: number, kind: ErrorKind) =>
    send(ctx, pageRendererOf(provider).errorView(languageOf(ctx), status, kind));

  /** Back to `page` after an action (303, so a reload does not post again). */
  function done(ctx: Context, page: 'passkeys' | 'devices', what: keyof typeof NOTICES) {
    ctx.set(PAGE_HEADERS);
    ctx.status = 303;
    ctx.redirect(`${url(page)}?done=${what}`);
  }

  /** The notice of `?done=` when it names one for `page`. */
  function noticeOf(ctx: Context, keys: readonly (keyof typeof NOTICES)[]): string | undefined {
    const what = ctx.query.done;
    if (typeof what !== 'string' || !keys.includes(what as keyof typeof NOTICES)) return undefined;
    const renderer = pageRendererOf(provider);
    return renderer.messages(languageOf(ctx))[NOTICES[what as keyof typeof NOTICES]];
  }

  /** This browser's signed-in user: a live session of an account that still exists. */
  async function signedIn(ctx: Context): Promise<SignedIn | undefined> {
    const session = await provider.Session.get(ctx);
    const { accountId } = session;
    if (!accountId || !(await settings.findAccount(accountId))) return undefined;
    return { accountId, sessionId: session.uid };
  }

  async function passkeysPage(
    ctx: Context,
    service: PasskeyService,
    user: SignedIn,
    status = 200,
    error?: string,
  ) {
    const renderer = pageRendererOf(provider);
    const language = languageOf(ctx);
    const options = await service.registrationOptions(user.accountId, user.sessionId);
    if (options === undefined) return fail(ctx, 401, 'signedOut');
    const view: PasskeysView = {
      ...renderer.base(language, renderer.messages(language).passkeysTitle, status),
      page: 'passkeys',
      accountId: user.accountId,
      passkeys: (await service.list(user.accountId)).map((p) => ({
        id: p.id,
        ...(p.name !== undefined ? { name: p.name } : {}),
        createdAt: p.createdAt,
        ...(p.lastUsedAt !== undefined ? { lastUsedAt: p.lastUsedAt } : {}),
        synced: p.backedUp,
        remove: formFor(user, `${url('passkeys')}/${p.id}/remove`),
      })),
      add: { form: formFor(user, url('passkeys')), options, script: REGISTER_SCRIPT },
      ...(status === 200 ? optional('notice', noticeOf(ctx, ['added', 'removed'])) : {}),
      ...optional('error', error),
      links,
    };
    return send(ctx, view);
  }

  async function devicesPage(ctx: Context, user: SignedIn) {
    const renderer = pageRendererOf(provider);
    const language = languageOf(ctx);
    const cursor = typeof ctx.query.cursor === 'string' ? ctx.query.cursor : undefined;
    let page: Awaited<ReturnType<DeviceManager['page']>>;
    try {
      page = await devices.page(user.accountId, { limit: DEVICES_PER_PAGE, cursor });
    } catch (error) {
      // A cursor that is malformed, altered or another account's: the first page instead.
      if (!(error instanceof RangeError)) throw error;
      page = await devices.page(user.accountId, { limit: DEVICES_PER_PAGE });
    }
    const view: DevicesView = {
      ...renderer.base(language, renderer.messages(language).devicesTitle, 200),
      page: 'devices',
      accountId: user.accountId,
      devices: page.devices.map((d) => deviceItem(d, user)),
      ...optional(
        'next',
        page.nextCursor
          ? `${url('devices')}?cursor=${encodeURIComponent(page.nextCursor)}`
          : undefined,
      ),
      ...optional('notice', noticeOf(ctx, ['revoked'])),
      links,
    };
    return send(ctx, view);
  }

  function deviceItem(d: DeviceInfo, user: SignedIn): DeviceItemView {
    return {
      clientId: d.clientId,
      name: d.clientName ?? d.softwareId ?? d.clientId,
      ...optional('version', d.softwareVersion),
      createdAt: d.createdAt,
      ...optional('lastUsedAt', d.lastUsedAt),
      cal: d.cal,
      registeredBy: d.registeredBy.method,
      ...optional('evidenceFormat', d.registeredBy.evidence?.format),
      status: d.status,
      ...optional('pendingUntil', d.status === 'pending' ? d.unusedUntil : undefined),
      ...optional('revokedAt', d.revokedAt),
      // A pending install may be one the user does not recognise: it can be revoked too.
      ...(d.status !== 'revoked'
        ? {
            revoke: formFor(user, `${url('devices')}/${encodeURIComponent(d.clientId)}/revoke`),
          }
        : {}),
    };
  }

  /** A form posted to an account page: CSRF checked, then the action. */
  async function post(
    ctx: Context,
    user: SignedIn,
    page: 'passkeys' | 'devices',
    id: string | undefined,
  ) {
    const form = await readForm(ctx.req);
    if (!csrfValid(csrfSecret, `account:${user.sessionId}`, form.get('csrf'))) {
      return fail(ctx, 403, 'staleForm');
    }
    if (page === 'devices') {
      const device = id === undefined ? undefined : await devices.get(id);
      // Another account's install is answered like one that does not exist.
      if (!device || device.accountId !== user.accountId) return fail(ctx, 404, 'gone');
      if (device.status !== 'revoked') await devices.revoke(device.clientId, 'user');
      return done(ctx, 'devices', 'revoked');
    }
    if (!passkeys) return fail(ctx, 404, 'gone');
    if (id !== undefined) {
      const removed = await passkeys.remove(id, 'user', user.accountId);
      if (!removed) return fail(ctx, 404, 'gone');
      return done(ctx, 'passkeys', 'removed');
    }
    const added = await passkeys.register(
      user.accountId,
      user.sessionId,
      form.get('credential'),
      form.get('name'),
    );
    if ('refused' in added) {
      const messages = pageRendererOf(provider).messages(languageOf(ctx));
      const error = added.refused === 'exists' ? messages.passkeyExists : messages.passkeyNotAdded;
      return passkeysPage(ctx, passkeys, user, 400, error);
    }
    return done(ctx, 'passkeys', 'added');
  }

  async function route(ctx: Context, page: 'passkeys' | 'devices', rawId?: string) {
    const id = rawId === undefined ? undefined : pathId(rawId);
    if (rawId !== undefined && id === undefined) return fail(ctx, 404, 'gone');
    // A page is read (GET, HEAD); an item's action is posted, and so is a new passkey.
    const reading = ctx.method === 'GET' || ctx.method === 'HEAD';
    const posting = ctx.method === 'POST' && (rawId !== undefined || page === 'passkeys');
    if (!(posting || (reading && rawId === undefined))) return fail(ctx, 405, 'notAllowed');
    const user = await signedIn(ctx);
    if (!user) return fail(ctx, 401, 'signedOut');
    if (!reading) return post(ctx, user, page, id);
    if (page === 'devices') return devicesPage(ctx, user);
    if (passkeys) return passkeysPage(ctx, passkeys, user);
  }

  return async function accountRoutes(ctx, next) {
    const match = ROUTE.exec(ctx.path);
    const [, page, rawId, action] = match ?? [];
    if (page !== 'passkeys' && page !== 'devices') return next();
    // Passkeys off: no such page. An action must fit its page: remove a passkey, revoke a device.
    if (page === 'passkeys' && !passkeys) return next();
    if (action && action !== (page === 'passkeys' ? 'remove' : 'revoke')) return next();
    try {
      await route(ctx, page, rawId);
    } catch (error) {
      if (error instanceof FormTooLarge) return fail(ctx, 413, 'tooLarge');
      if (error instanceof StorageUnavailableError) return fail(ctx, 503, 'unavailable');
      throw error;
    }
  };
}

/** `{ [key]: value }` when the value is set, else `{}`: for optional view fields. */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]?: V });
}
