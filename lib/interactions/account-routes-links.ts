import type { Context } from 'koa';
import {
  type BrowserFederation,
  BrowserSignInError,
  type BrowserSignInFailure,
} from '../federation/browser.js';
import { clientAddress } from '../http/client-address.js';
import { type AccountPages, optional, type SignedIn } from './account-routes-context.js';
import { readForm } from './form.js';
import { federatedFailure, linkIdentityView } from './interaction-routes-federation.js';
import { formatMessage, waitingTime } from './messages.js';
import type { LinksView, LinkView } from './views.js';

/** What the linked accounts page shows besides its buttons. */
interface LinksState {
  status?: number;
  notice?: string;
  error?: string;
  /** The password form's own error, and the username typed. */
  reauthError?: string;
  username?: string;
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
  pages: AccountPages,
  ctx: Context,
  federation: BrowserFederation,
  user: SignedIn,
  state: LinksState = {},
) {
  const renderer = pages.renderer();
  const language = pages.languageOf(ctx);
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
          form: pages.formFor(user, `${pages.url('links')}/start/${name}`),
        }))
      : [],
    ...(canLink
      ? {}
      : {
          reauthenticate: {
            form: pages.formFor(user, `${pages.url('links')}/reauthenticate`),
            username: state.username ?? '',
            ...optional('error', state.reauthError),
            maxAge: federation.linkingMaxAge,
          },
        }),
    ...optional('notice', state.notice ?? (status === 200 ? linksNotice(pages, ctx) : undefined)),
    ...optional('error', state.error),
    links: pages.links,
  };
  return pages.send(ctx, view);
}

/** The notice of `?done=` on the linked accounts page: confirmed, or linked (`&provider=`). */
function linksNotice(pages: AccountPages, ctx: Context): string | undefined {
  const { linking } = pages;
  const messages = pages.messagesOf(ctx);
  if (ctx.query.done === 'confirmed') return messages.linksConfirmedNotice;
  const name = ctx.query.provider;
  if (ctx.query.done !== 'linked' || typeof name !== 'string' || !linking?.has(name)) {
    return undefined;
  }
  return formatMessage(messages.linkedNotice, { provider: linking.displayName(name) });
}

/** Back to the linked accounts page after an action (303), its notice in the query. */
function linksDone(pages: AccountPages, ctx: Context, query: Record<string, string> = {}) {
  const search = new URLSearchParams(query).toString();
  pages.seeOther(ctx, search ? `${pages.url('links')}?${search}` : pages.url('links'));
}

/**
 * The password form: the username and password must be the session's own account's, checked
 * through the sign-in throttle (another account's password is a failure like a wrong one).
 * Success records the confirmation for this session for `federation.linking.maxAge`.
 */
async function reauthenticate(
  pages: AccountPages,
  ctx: Context,
  federation: BrowserFederation,
  user: SignedIn,
  form: URLSearchParams,
) {
  const { settings } = pages;
  const username = form.get('username') ?? '';
  const password = form.get('password') ?? '';
  const messages = pages.messagesOf(ctx);
  if (username.trim() === '' || password === '') {
    const reauthError =
      username.trim() === '' ? messages.usernameRequired : messages.passwordRequired;
    return linksPage(pages, ctx, federation, user, { status: 400, reauthError, username });
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
    await linksPage(pages, ctx, federation, user, { status: 429, reauthError, username });
    ctx.set('Retry-After', String(retryAfterSeconds));
    return;
  }
  if (outcome.accountId !== user.accountId) {
    const reauthError = messages.notYourAccount;
    return linksPage(pages, ctx, federation, user, { status: 401, reauthError, username });
  }
  await federation.markReauthenticated(user.sessionId, user.accountId, Date.now() / 1000);
  return linksDone(pages, ctx, { done: 'confirmed' });
}

/** The linked accounts page again, saying why the provider's part failed. */
function linkFailedAt(
  pages: AccountPages,
  ctx: Context,
  federation: BrowserFederation,
  user: SignedIn,
  name: string,
  reason: BrowserSignInFailure,
) {
  const [status, key] = federatedFailure(reason);
  const messages = pages.messagesOf(ctx);
  const error = formatMessage(messages[key], { provider: federation.displayName(name) });
  return linksPage(pages, ctx, federation, user, { status, error });
}

/** "Link your … account" (CSRF checked): off to the provider, only while the sign-in is fresh. */
async function startLink(
  pages: AccountPages,
  ctx: Context,
  federation: BrowserFederation,
  user: SignedIn,
  name: string,
) {
  if (!federation.has(name)) return pages.fail(ctx, 404, 'gone');
  if (!(await fresh(federation, user))) {
    return linksPage(pages, ctx, federation, user, { status: 403 });
  }
  let destination: URL;
  try {
    destination = await federation.startLink(user.sessionId, user.accountId, name);
  } catch (error) {
    if (error instanceof BrowserSignInError) {
      return linkFailedAt(pages, ctx, federation, user, name, error.code);
    }
    throw error;
  }
  pages.seeOther(ctx, destination.href);
}

/**
 * The provider's response, passed on by the redirect URI: the state taken first (a refused
 * response uses it up all the same), then it must be this session's and account's; the
 * identity is verified and the link page asks. `accounts.federated` is never asked here.
 */
async function linkCallback(
  pages: AccountPages,
  ctx: Context,
  federation: BrowserFederation,
  name: string,
) {
  if (!federation.has(name)) return pages.fail(ctx, 404, 'notFound');
  const response = new URLSearchParams(ctx.querystring);
  const started = await federation.takeLinkState(response.get('state'));
  const user = await pages.signedIn(ctx);
  if (!user) return pages.fail(ctx, 401, 'signedOut');
  if (
    !started ||
    started.provider !== name ||
    started.session !== user.sessionId ||
    started.accountId !== user.accountId
  ) {
    return linkFailedAt(pages, ctx, federation, user, name, 'state');
  }
  let identity: Awaited<ReturnType<BrowserFederation['verifyLink']>>;
  try {
    identity = await federation.verifyLink(started, response);
  } catch (error) {
    if (error instanceof BrowserSignInError) {
      return linkFailedAt(pages, ctx, federation, user, name, error.code);
    }
    throw error;
  }
  const account = await federation.describeAccount(user.accountId);
  if (!account) return pages.fail(ctx, 401, 'signedOut');
  if (!(await fresh(federation, user))) {
    return linksPage(pages, ctx, federation, user, { status: 403 });
  }
  const handle = await federation.offerAccountLink(user.sessionId, identity, user.accountId);
  const renderer = pages.renderer();
  const language = pages.languageOf(ctx);
  const view: LinkView = {
    ...renderer.base(language, renderer.messages(language).linkTitle, 200),
    page: 'link',
    identity: linkIdentityView(identity, federation.displayName(identity.provider)),
    account: { id: user.accountId, ...account },
    offer: { name: 'offer', value: handle },
    link: pages.formFor(user, `${pages.url('links')}/link`),
    cancel: pages.formFor(user, `${pages.url('links')}/cancel`),
  };
  return pages.send(ctx, view);
}

/**
 * The link page's answer (CSRF checked): its offer taken once, whatever the answer, and only
 * by the session it was made for. Link checks again that the session's account signed in (or
 * confirmed its password) within `federation.linking.maxAge`, then calls `accounts.link`.
 */
async function answerLink(
  pages: AccountPages,
  ctx: Context,
  federation: BrowserFederation,
  user: SignedIn,
  form: URLSearchParams,
  confirmed: boolean,
) {
  const offer = await federation.takeAccountLinkOffer(user.sessionId, form.get('offer'));
  const messages = pages.messagesOf(ctx);
  if (!offer) {
    return linksPage(pages, ctx, federation, user, { status: 400, error: messages.linkExpired });
  }
  if (!confirmed) return linksDone(pages, ctx);
  if (offer.accountId !== user.accountId || !(await fresh(federation, user))) {
    return linksPage(pages, ctx, federation, user, { status: 403, error: messages.linkExpired });
  }
  const providerName = federation.displayName(offer.identity.provider);
  let linked: Awaited<ReturnType<BrowserFederation['link']>>;
  try {
    linked = await federation.link(offer);
  } catch (error) {
    pages.provider.emit('server_error', ctx, error);
    const failed = formatMessage(messages.linkFailed, { provider: providerName });
    return linksPage(pages, ctx, federation, user, { status: 500, error: failed });
  }
  if (!linked) {
    const elsewhere = formatMessage(messages.linkedElsewhere, { provider: providerName });
    return linksPage(pages, ctx, federation, user, { status: 409, error: elsewhere });
  }
  federation.reportLinked(linked);
  return linksDone(pages, ctx, { done: 'linked', provider: offer.identity.provider });
}

/**
 * `/account/links` and its actions: the password form (`reauthenticate`), the link page's
 * answers (`link`, `cancel`), and a provider's `start` and `callback` (`name`).
 *
 * @internal
 */
export async function linksRoute(
  pages: AccountPages,
  ctx: Context,
  federation: BrowserFederation,
  action: string | undefined,
  step: string | undefined,
  name: string | undefined,
): Promise<void> {
  const reading = ctx.method === 'GET' || ctx.method === 'HEAD';
  if (step === 'callback') {
    // GET only: the state is taken on arrival, and a HEAD must not use it up.
    if (ctx.method !== 'GET') return pages.fail(ctx, 405, 'notAllowed');
    return linkCallback(pages, ctx, federation, name as string);
  }
  const page = action === undefined && step === undefined;
  if (page ? !reading : ctx.method !== 'POST') return pages.fail(ctx, 405, 'notAllowed');
  const user = await pages.signedIn(ctx);
  if (!user) return pages.fail(ctx, 401, 'signedOut');
  if (page) return linksPage(pages, ctx, federation, user);
  const form = await readForm(ctx.req);
  if (!pages.csrfValid(user, form)) return pages.fail(ctx, 403, 'staleForm');
  if (step === 'start') return startLink(pages, ctx, federation, user, name as string);
  if (action === 'reauthenticate') return reauthenticate(pages, ctx, federation, user, form);
  return answerLink(pages, ctx, federation, user, form, action === 'link');
}
