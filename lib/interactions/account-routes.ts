import type { Context, Middleware } from 'koa';
import type Provider from 'oidc-provider';
import type { AccountClaims } from '../core/accounts.js';
import type { InstanceManager } from '../devices/manager.js';
import type { InstanceInfo } from '../devices/types.js';
import {
  type BrowserFederation,
  BrowserSignInError,
  type BrowserSignInFailure,
} from '../federation/browser.js';
import { clientAddress } from '../http/client-address.js';
import { REGISTER_SCRIPT } from '../passkeys/scripts.js';
import type { PasskeyService } from '../passkeys/service.js';
import { StorageUnavailableError } from '../storage/guard.js';
import { csrfToken, csrfValid } from './csrf.js';
import { FormTooLarge, readForm } from './form.js';
import { PAGE_HEADERS } from './html.js';
import { federatedFailure } from './interaction-routes.js';
import { formatMessage, waitingTime } from './messages.js';
import { pageRendererOf } from './provider-pages.js';
import type { AnyPageView, ErrorKind } from './renderer.js';
import type { SignInThrottle } from './throttle.js';
import type {
  AccountLinks,
  InstanceItemView,
  InstancesView,
  LinksView,
  LinkView,
  PageForm,
  PasskeysView,
} from './views.js';

/** What the account pages need. @internal */
export interface AccountRouteSettings {
  /** The issuer's URL path (`''` or e.g. `/oidc`). */
  basePath: string;
  /** The secret the pages' CSRF tokens are derived from. */
  csrfSecret: string;
  devices: InstanceManager;
  /** The passkey page, when passkeys are enabled. */
  passkeys?: PasskeyService;
  findAccount(accountId: string): Promise<AccountClaims | undefined>;
  /**
   * The browser flow with the upstream providers: the linked accounts page (`/account/links`)
   * exists when it can link (`accounts.link`) and has a provider with `browser` options.
   */
  federation?: BrowserFederation;
  /** Checks the password the linked accounts page asks for before linking. */
  authenticate?(username: string, password: string): Promise<string | undefined>;
  /** The sign-in page's throttle: that password's failures count there too. */
  throttle?: SignInThrottle;
}

// `/account/passkeys`, `/account/devices`, and the actions on one item of either.
const ROUTE = /^\/account\/(passkeys|devices)(?:\/([^/]+)\/(remove|revoke))?\/?$/;
// `/account/links`, its password form, its answers to the link page, and a provider's start and
// callback (`[a-z0-9-]+`, the provider names `federation.providers` allows).
const LINKS_ROUTE =
  /^\/account\/links(?:\/(reauthenticate|link|cancel)|\/(start|callback)\/([a-z0-9-]+))?\/?$/;
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
  /** When the session's account signed in, in seconds since the epoch. */
  loginTs: number | undefined;
}

/** What the linked accounts page shows besides its buttons. */
interface LinksState {
  status?: number;
  notice?: string;
  error?: string;
  /** The password form's own error, and the username typed. */
  reauthError?: string;
  username?: string;
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
  const linking =
    settings.federation?.canLink && settings.federation.buttons.length > 0
      ? settings.federation
      : undefined;
  const url = (page: 'passkeys' | 'devices' | 'links') => `${basePath}/account/${page}`;
  const links: AccountLinks = {
    devices: url('devices'),
    ...(passkeys ? { passkeys: url('passkeys') } : {}),
    ...(linking ? { linkedAccounts: url('links') } : {}),
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
    const loginTs = typeof session.loginTs === 'number' ? session.loginTs : undefined;
    return { accountId, sessionId: session.uid, loginTs };
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
    let page: Awaited<ReturnType<InstanceManager['page']>>;
    try {
      page = await devices.page(user.accountId, { limit: DEVICES_PER_PAGE, cursor });
    } catch (error) {
      // A cursor that is malformed, altered or another account's: the first page instead.
      if (!(error instanceof RangeError)) throw error;
      page = await devices.page(user.accountId, { limit: DEVICES_PER_PAGE });
    }
    const view: InstancesView = {
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

  function deviceItem(d: InstanceInfo, user: SignedIn): InstanceItemView {
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

  /**
   * Whether the session's account may link now: it signed in within
   * `federation.linking.maxAge`, or confirmed its password on this page within it.
   */
  async function fresh(federation: BrowserFederation, user: SignedIn): Promise<boolean> {
    const maxAge = federation.linkingMaxAge;
    const now = Date.now() / 1000;
    const within = (at: number | undefined) =>
      at !== undefined && now - at >= 0 && now - at <= maxAge;
    if (within(user.loginTs)) return true;
    return within(await federation.reauthenticatedAt(user.sessionId, user.accountId));
  }

  /** The linked accounts page: the buttons when the sign-in is fresh, else the password form. */
  async function linksPage(
    ctx: Context,
    federation: BrowserFederation,
    user: SignedIn,
    state: LinksState = {},
  ) {
    const renderer = pageRendererOf(provider);
    const language = languageOf(ctx);
    const messages = renderer.messages(language);
    const status = state.status ?? 200;
    const canLink = await fresh(federation, user);
    const view: LinksView = {
      ...renderer.base(language, messages.linksTitle, status),
      page: 'links',
      accountId: user.accountId,
      providers: canLink
        ? federation.buttons.map(({ name }) => ({
            provider: name,
            providerName: federation.displayName(name),
            form: formFor(user, `${url('links')}/start/${name}`),
          }))
        : [],
      ...(canLink
        ? {}
        : {
            reauthenticate: {
              form: formFor(user, `${url('links')}/reauthenticate`),
              username: state.username ?? '',
              ...optional('error', state.reauthError),
              maxAge: federation.linkingMaxAge,
            },
          }),
      ...optional('notice', state.notice ?? (status === 200 ? linksNotice(ctx) : undefined)),
      ...optional('error', state.error),
      links,
    };
    return send(ctx, view);
  }

  /** The notice of `?done=` on the linked accounts page: confirmed, or linked (`&provider=`). */
  function linksNotice(ctx: Context): string | undefined {
    const messages = pageRendererOf(provider).messages(languageOf(ctx));
    if (ctx.query.done === 'confirmed') return messages.linksConfirmedNotice;
    const name = ctx.query.provider;
    if (ctx.query.done !== 'linked' || typeof name !== 'string' || !linking?.has(name)) {
      return undefined;
    }
    return formatMessage(messages.linkedNotice, { provider: linking.displayName(name) });
  }

  /** Back to the linked accounts page after an action (303), its notice in the query. */
  function linksDone(ctx: Context, query: Record<string, string> = {}) {
    ctx.set(PAGE_HEADERS);
    ctx.status = 303;
    const search = new URLSearchParams(query).toString();
    ctx.redirect(search ? `${url('links')}?${search}` : url('links'));
  }

  /**
   * The password form: the username and password must be the session's own account's, checked
   * through the sign-in throttle (another account's password is a failure like a wrong one).
   * Success records the confirmation for this session for `federation.linking.maxAge`.
   */
  async function reauthenticate(
    ctx: Context,
    federation: BrowserFederation,
    user: SignedIn,
    form: URLSearchParams,
  ) {
    const username = form.get('username') ?? '';
    const password = form.get('password') ?? '';
    const messages = pageRendererOf(provider).messages(languageOf(ctx));
    if (username.trim() === '' || password === '') {
      const reauthError =
        username.trim() === '' ? messages.usernameRequired : messages.passwordRequired;
      return linksPage(ctx, federation, user, { status: 400, reauthError, username });
    }
    const check = async () =>
      (await settings.authenticate?.(username, password)) === user.accountId
        ? user.accountId
        : undefined;
    const outcome = settings.throttle
      ? await settings.throttle.attempt(username, clientAddress(ctx), check)
      : { accountId: await check() };
    if ('throttled' in outcome) {
      const { retryAfterSeconds } = outcome.throttled;
      const reauthError = formatMessage(messages.throttled, {
        wait: waitingTime(retryAfterSeconds, messages),
      });
      await linksPage(ctx, federation, user, { status: 429, reauthError, username });
      ctx.set('Retry-After', String(retryAfterSeconds));
      return;
    }
    if (outcome.accountId !== user.accountId) {
      const reauthError = messages.notYourAccount;
      return linksPage(ctx, federation, user, { status: 401, reauthError, username });
    }
    await federation.markReauthenticated(user.sessionId, user.accountId, Date.now() / 1000);
    return linksDone(ctx, { done: 'confirmed' });
  }

  /** The linked accounts page again, saying why the provider's part failed. */
  function linkFailedAt(
    ctx: Context,
    federation: BrowserFederation,
    user: SignedIn,
    name: string,
    reason: BrowserSignInFailure,
  ) {
    const [status, key] = federatedFailure(reason);
    const messages = pageRendererOf(provider).messages(languageOf(ctx));
    const error = formatMessage(messages[key], { provider: federation.displayName(name) });
    return linksPage(ctx, federation, user, { status, error });
  }

  /** "Link your … account" (CSRF checked): off to the provider, only while the sign-in is fresh. */
  async function startLink(
    ctx: Context,
    federation: BrowserFederation,
    user: SignedIn,
    name: string,
  ) {
    if (!federation.has(name)) return fail(ctx, 404, 'gone');
    if (!(await fresh(federation, user))) return linksPage(ctx, federation, user, { status: 403 });
    let destination: URL;
    try {
      destination = await federation.startLink(user.sessionId, user.accountId, name);
    } catch (error) {
      if (error instanceof BrowserSignInError) {
        return linkFailedAt(ctx, federation, user, name, error.code);
      }
      throw error;
    }
    ctx.set(PAGE_HEADERS);
    ctx.status = 303;
    ctx.redirect(destination.href);
  }

  /**
   * The provider's response, passed on by the redirect URI: the state taken first (a refused
   * response uses it up all the same), then it must be this session's and account's; the
   * identity is verified and the link page asks. `accounts.federated` is never asked here.
   */
  async function linkCallback(ctx: Context, federation: BrowserFederation, name: string) {
    if (!federation.has(name)) return fail(ctx, 404, 'notFound');
    const response = new URLSearchParams(ctx.querystring);
    const started = await federation.takeLinkState(response.get('state'));
    const user = await signedIn(ctx);
    if (!user) return fail(ctx, 401, 'signedOut');
    if (
      !started ||
      started.provider !== name ||
      started.session !== user.sessionId ||
      started.accountId !== user.accountId
    ) {
      return linkFailedAt(ctx, federation, user, name, 'state');
    }
    let identity: Awaited<ReturnType<BrowserFederation['verifyLink']>>;
    try {
      identity = await federation.verifyLink(started, response);
    } catch (error) {
      if (error instanceof BrowserSignInError) {
        return linkFailedAt(ctx, federation, user, name, error.code);
      }
      throw error;
    }
    const account = await federation.describeAccount(user.accountId);
    if (!account) return fail(ctx, 401, 'signedOut');
    if (!(await fresh(federation, user))) return linksPage(ctx, federation, user, { status: 403 });
    const handle = await federation.offerAccountLink(user.sessionId, identity, user.accountId);
    const renderer = pageRendererOf(provider);
    const language = languageOf(ctx);
    const claimName = typeof identity.claims.name === 'string' ? identity.claims.name : undefined;
    const view: LinkView = {
      ...renderer.base(language, renderer.messages(language).linkTitle, 200),
      page: 'link',
      identity: {
        provider: identity.provider,
        providerName: federation.displayName(identity.provider),
        subject: identity.subject,
        ...optional('email', identity.email),
        ...optional('name', claimName),
      },
      account: { id: user.accountId, ...account },
      offer: { name: 'offer', value: handle },
      link: formFor(user, `${url('links')}/link`),
      cancel: formFor(user, `${url('links')}/cancel`),
    };
    return send(ctx, view);
  }

  /**
   * The link page's answer (CSRF checked): its offer taken once, whatever the answer, and only
   * by the session it was made for. Link checks again that the session's account signed in (or
   * confirmed its password) within `federation.linking.maxAge`, then calls `accounts.link`.
   */
  async function answerLink(
    ctx: Context,
    federation: BrowserFederation,
    user: SignedIn,
    form: URLSearchParams,
    confirmed: boolean,
  ) {
    const offer = await federation.takeAccountLinkOffer(user.sessionId, form.get('offer'));
    const messages = pageRendererOf(provider).messages(languageOf(ctx));
    if (!offer)
      return linksPage(ctx, federation, user, { status: 400, error: messages.linkExpired });
    if (!confirmed) return linksDone(ctx);
    if (offer.accountId !== user.accountId || !(await fresh(federation, user))) {
      return linksPage(ctx, federation, user, { status: 403, error: messages.linkExpired });
    }
    const providerName = federation.displayName(offer.identity.provider);
    let linked: Awaited<ReturnType<BrowserFederation['link']>>;
    try {
      linked = await federation.link(offer);
    } catch (error) {
      provider.emit('server_error', ctx, error);
      const failed = formatMessage(messages.linkFailed, { provider: providerName });
      return linksPage(ctx, federation, user, { status: 500, error: failed });
    }
    if (!linked) {
      const elsewhere = formatMessage(messages.linkedElsewhere, { provider: providerName });
      return linksPage(ctx, federation, user, { status: 409, error: elsewhere });
    }
    federation.reportLinked(linked);
    return linksDone(ctx, { done: 'linked', provider: offer.identity.provider });
  }

  /** `/account/links` and its actions. */
  async function linksRoute(
    ctx: Context,
    federation: BrowserFederation,
    action: string | undefined,
    step: string | undefined,
    name: string | undefined,
  ) {
    const reading = ctx.method === 'GET' || ctx.method === 'HEAD';
    if (step === 'callback') {
      // GET only: the state is taken on arrival, and a HEAD must not use it up.
      if (ctx.method !== 'GET') return fail(ctx, 405, 'notAllowed');
      return linkCallback(ctx, federation, name as string);
    }
    const page = action === undefined && step === undefined;
    if (page ? !reading : ctx.method !== 'POST') return fail(ctx, 405, 'notAllowed');
    const user = await signedIn(ctx);
    if (!user) return fail(ctx, 401, 'signedOut');
    if (page) return linksPage(ctx, federation, user);
    const form = await readForm(ctx.req);
    if (!csrfValid(csrfSecret, `account:${user.sessionId}`, form.get('csrf'))) {
      return fail(ctx, 403, 'staleForm');
    }
    if (step === 'start') return startLink(ctx, federation, user, name as string);
    if (action === 'reauthenticate') return reauthenticate(ctx, federation, user, form);
    return answerLink(ctx, federation, user, form, action === 'link');
  }

  return async function accountRoutes(ctx, next) {
    const linksMatch = linking ? LINKS_ROUTE.exec(ctx.path) : null;
    if (linking && linksMatch) {
      const [, action, step, name] = linksMatch;
      try {
        await linksRoute(ctx, linking, action, step, name);
      } catch (error) {
        if (error instanceof FormTooLarge) return fail(ctx, 413, 'tooLarge');
        if (error instanceof StorageUnavailableError) return fail(ctx, 503, 'unavailable');
        throw error;
      }
      return;
    }
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
