import type { Context } from 'koa';
import type { InstanceManager } from '../instances/manager.js';
import type { InstanceInfo } from '../instances/types.js';
import type { NativeSsoManagement } from '../native-sso/types.js';
import { REGISTER_SCRIPT } from '../passkeys/scripts.js';
import type { PasskeyService } from '../passkeys/service.js';
import { type AccountPages, optional, type SignedIn } from './account-routes-context.js';
import { readForm } from './form.js';
import type {
  FirstPartySignInView,
  InstanceItemView,
  InstancesView,
  NativeSsoSessionView,
  PasskeysView,
} from './views.js';

/** The passkey page or the device page. */
export type ItemsPage = 'passkeys' | 'devices';

// What the last action did, shown once after its redirect (`?done=`).
const NOTICES = {
  added: 'passkeyAddedNotice',
  removed: 'passkeyRemovedNotice',
  revoked: 'deviceRevokedNotice',
  ended: 'nativeSsoEndedNotice',
} as const;
const DEVICES_PER_PAGE = 50;

/** An id from the path; `undefined` for bad percent-encoding (RFC 3986 §2.1). */
function pathId(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

/** Back to `page` after an action (303, so a reload does not post again). */
function done(pages: AccountPages, ctx: Context, page: ItemsPage, what: keyof typeof NOTICES) {
  pages.seeOther(ctx, `${pages.url(page)}?done=${what}`);
}

/** The notice of `?done=` when it names one for `page`. */
function noticeOf(
  pages: AccountPages,
  ctx: Context,
  keys: readonly (keyof typeof NOTICES)[],
): string | undefined {
  const what = ctx.query.done;
  if (typeof what !== 'string' || !keys.includes(what as keyof typeof NOTICES)) return undefined;
  return pages.messagesOf(ctx)[NOTICES[what as keyof typeof NOTICES]];
}

async function passkeysPage(
  pages: AccountPages,
  ctx: Context,
  service: PasskeyService,
  user: SignedIn,
  status = 200,
  error?: string,
) {
  const renderer = pages.renderer();
  const language = pages.languageOf(ctx);
  const options = await service.registrationOptions(user.accountId, user.sessionId);
  if (options === undefined) return pages.fail(ctx, 401, 'signedOut');
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
      remove: pages.formFor(user, `${pages.url('passkeys')}/${p.id}/remove`),
    })),
    add: { form: pages.formFor(user, pages.url('passkeys')), options, script: REGISTER_SCRIPT },
    ...(status === 200 ? optional('notice', noticeOf(pages, ctx, ['added', 'removed'])) : {}),
    ...optional('error', error),
    links: pages.links,
  };
  return pages.send(ctx, view);
}

async function devicesPage(pages: AccountPages, ctx: Context, user: SignedIn) {
  const { instances } = pages.settings;
  const renderer = pages.renderer();
  const language = pages.languageOf(ctx);
  const cursor = typeof ctx.query.cursor === 'string' ? ctx.query.cursor : undefined;
  let page: Awaited<ReturnType<InstanceManager['page']>>;
  try {
    page = await instances.page(user.accountId, { limit: DEVICES_PER_PAGE, cursor });
  } catch (error) {
    // A cursor that is malformed, altered or another account's: the first page instead.
    if (!(error instanceof RangeError)) throw error;
    page = await instances.page(user.accountId, { limit: DEVICES_PER_PAGE });
  }
  const view: InstancesView = {
    ...renderer.base(language, renderer.messages(language).devicesTitle, 200),
    page: 'devices',
    accountId: user.accountId,
    devices: page.devices.map((d) => deviceItem(pages, d, user)),
    ...optional(
      'next',
      page.nextCursor
        ? `${pages.url('devices')}?cursor=${encodeURIComponent(page.nextCursor)}`
        : undefined,
    ),
    ...optional('notice', noticeOf(pages, ctx, ['revoked', 'ended'])),
    ...(pages.settings.nativeSso
      ? { signedInApps: await nativeSsoSessions(pages, pages.settings.nativeSso, user) }
      : {}),
    links: pages.links,
  };
  return pages.send(ctx, view);
}

/** The install's last sign-in without a browser, its provider named as the pages name it. */
function firstPartySignIn(pages: AccountPages, d: InstanceInfo): FirstPartySignInView | undefined {
  const signIn = d.firstPartySignIn;
  if (!signIn) return undefined;
  const { provider } = signIn;
  const { federation } = pages.settings;
  return {
    ...signIn,
    ...(provider !== undefined
      ? { providerName: federation ? federation.displayName(provider) : provider }
      : {}),
  };
}

/** The account's Native SSO device sessions, each app named as on the device list. */
async function nativeSsoSessions(
  pages: AccountPages,
  nativeSso: NativeSsoManagement,
  user: SignedIn,
): Promise<NativeSsoSessionView[]> {
  const { instances } = pages.settings;
  const sessions = await nativeSso.list(user.accountId);
  return Promise.all(
    sessions.map(async (s) => {
      // Only the account's own installs are named (not the registration client).
      const apps = await Promise.all(s.clientIds.map((id) => instances.get(id)));
      return {
        sid: s.sid,
        group: s.group,
        apps: apps
          .filter((d): d is InstanceInfo => d !== undefined && d.accountId === user.accountId)
          .map((d) => d.clientName ?? d.softwareId ?? d.clientId),
        createdAt: s.createdAt,
        expiresAt: s.expiresAt,
        end: pages.formFor(user, `${pages.url('devices')}/${encodeURIComponent(s.sid)}/end`),
      };
    }),
  );
}

function deviceItem(pages: AccountPages, d: InstanceInfo, user: SignedIn): InstanceItemView {
  return {
    clientId: d.clientId,
    name: d.clientName ?? d.softwareId ?? d.clientId,
    ...optional('version', d.softwareVersion),
    createdAt: d.createdAt,
    ...optional('lastUsedAt', d.lastUsedAt),
    ...optional('firstPartySignIn', firstPartySignIn(pages, d)),
    cal: d.cal,
    registeredBy: d.registeredBy.method,
    ...optional('evidenceFormat', d.registeredBy.evidence?.format),
    status: d.status,
    ...optional('pendingUntil', d.status === 'pending' ? d.unusedUntil : undefined),
    ...optional('revokedAt', d.revokedAt),
    // A pending install may be one the user does not recognise: it can be revoked too.
    ...(d.status !== 'revoked'
      ? {
          revoke: pages.formFor(
            user,
            `${pages.url('devices')}/${encodeURIComponent(d.clientId)}/revoke`,
          ),
        }
      : {}),
  };
}

/** A form posted to an account page: CSRF checked, then the action. */
async function post(
  pages: AccountPages,
  ctx: Context,
  user: SignedIn,
  page: ItemsPage,
  id?: string,
  action?: 'end',
) {
  const { instances, passkeys, nativeSso } = pages.settings;
  const form = await readForm(ctx.req);
  if (!pages.csrfValid(user, form)) return pages.fail(ctx, 403, 'staleForm');
  if (page === 'devices' && action === 'end') {
    // Only the user's own device sessions: another account's sid ends nothing.
    const ended = nativeSso && id !== undefined ? await nativeSso.revoke(user.accountId, id) : 0;
    if (ended === 0) return pages.fail(ctx, 404, 'gone');
    return done(pages, ctx, 'devices', 'ended');
  }
  if (page === 'devices') {
    const instance = id === undefined ? undefined : await instances.get(id);
    // Another account's install is answered like one that does not exist.
    if (!instance || instance.accountId !== user.accountId) return pages.fail(ctx, 404, 'gone');
    if (instance.status !== 'revoked') await instances.revoke(instance.clientId, 'user');
    return done(pages, ctx, 'devices', 'revoked');
  }
  if (!passkeys) return pages.fail(ctx, 404, 'gone');
  if (id !== undefined) {
    const removed = await passkeys.remove(id, 'user', user.accountId);
    if (!removed) return pages.fail(ctx, 404, 'gone');
    return done(pages, ctx, 'passkeys', 'removed');
  }
  const added = await passkeys.register(
    user.accountId,
    user.sessionId,
    form.get('credential'),
    form.get('name'),
  );
  if ('refused' in added) {
    const messages = pages.messagesOf(ctx);
    const error = added.refused === 'exists' ? messages.passkeyExists : messages.passkeyNotAdded;
    return passkeysPage(pages, ctx, passkeys, user, 400, error);
  }
  return done(pages, ctx, 'passkeys', 'added');
}

/**
 * `/account/passkeys`, `/account/devices`, and the action on one item (`rawId`) of either: the
 * page is read, an item's action and a new passkey are posted.
 *
 * @internal
 */
export async function passkeysDevicesRoute(
  pages: AccountPages,
  ctx: Context,
  page: ItemsPage,
  rawId?: string,
  action?: 'end',
): Promise<void> {
  const id = rawId === undefined ? undefined : pathId(rawId);
  if (rawId !== undefined && id === undefined) return pages.fail(ctx, 404, 'gone');
  // A page is read (GET, HEAD); an item's action is posted, and so is a new passkey.
  const reading = ctx.method === 'GET' || ctx.method === 'HEAD';
  const posting = ctx.method === 'POST' && (rawId !== undefined || page === 'passkeys');
  if (!(posting || (reading && rawId === undefined))) return pages.fail(ctx, 405, 'notAllowed');
  const user = await pages.signedIn(ctx);
  if (!user) return pages.fail(ctx, 401, 'signedOut');
  if (!reading) return post(pages, ctx, user, page, id, action);
  if (page === 'devices') return devicesPage(pages, ctx, user);
  const { passkeys } = pages.settings;
  if (passkeys) return passkeysPage(pages, ctx, passkeys, user);
}
