import type { Context } from 'koa';
import { errors } from 'oidc-provider';
import type { FederatedIdentity } from '../core/accounts.js';
import {
  type BrowserSignIn,
  BrowserSignInError,
  type BrowserSignInFailure,
  type LinkOffer,
} from '../federation/browser.js';
import { clientAddress } from '../http/client-address.js';
import { StorageUnavailableError } from '../storage/guard.js';
import type { Interaction } from './consent.js';
import { readForm } from './form.js';
import { PAGE_HEADERS } from './html.js';
import {
  csrfField,
  fail,
  finish,
  type InteractionSite,
  interactionPath,
  languageOf,
  login,
  send,
  showPrompt,
} from './interaction-routes-site.js';
import { formatMessage, type PageMessages } from './messages.js';
import { acceptsKind, loginOf } from './sign-in-acr.js';
import type { LinkIdentityView, LinkView } from './views.js';

// The only reason for the login prompt that leaves a later sign-in on this browser as proof: there
// was none yet. Every other one (`login_prompt`, `max_age`, `id_token_hint`, an `acr`, a custom
// check) demands a new sign-in, another user or more than the session has.
const LINKABLE_REASONS: ReadonlySet<string> = new Set(['no_session']);

/** The catalogue message saying why a "Continue with …" sign-in failed, and its status. @internal */
export function federatedFailure(reason: BrowserSignInFailure): [number, keyof PageMessages] {
  switch (reason) {
    case 'state':
      return [400, 'federatedState'];
    case 'denied':
      return [400, 'federatedDenied'];
    case 'unavailable':
      return [503, 'federatedUnavailable'];
    case 'exchange':
      return [502, 'federatedExchange'];
    case 'refused':
    case 'unlinked':
      return [403, 'federatedRefused'];
  }
}

/**
 * Reports a refused "Continue with …" callback as `signin.failed` (`method: 'federated'`): ids
 * only. A cancel at the provider and an unreachable provider are no refusal of this server's.
 */
function reportRefused(site: InteractionSite, ctx: Context, interaction: Interaction): void {
  site.options.onSignIn?.('failed', {
    method: 'federated',
    clientId: String(interaction.params.client_id),
    ip: clientAddress(ctx).address,
  });
}

/** The login page again, saying why the "Continue with …" sign-in failed. */
function federatedFailed(
  site: InteractionSite,
  ctx: Context,
  interaction: Interaction,
  name: string,
  reason: BrowserSignInFailure,
) {
  const [status, key] = federatedFailure(reason);
  const messages = site.pages.messages(languageOf(site, ctx, interaction));
  const error = formatMessage(messages[key], {
    provider: site.federation?.displayName(name) ?? name,
  });
  return login(site, ctx, interaction, status, { error });
}

/**
 * "Continue with …" was pressed (CSRF checked): off to the provider with a fresh state.
 * @internal
 */
export async function startFederated(
  site: InteractionSite,
  ctx: Context,
  interaction: Interaction,
  name: string,
) {
  const { federation } = site;
  if (!federation?.has(name)) return fail(site, ctx, 404, 'notFound', interaction);
  if (interaction.prompt.name !== 'login') return showPrompt(site, ctx, interaction);
  // Not a way this request may sign in (acr_values): no trip to the provider.
  if (!acceptsKind(interaction.params.acr_values, site.kinds, 'id_token')) {
    return login(site, ctx, interaction, 400);
  }
  let destination: URL;
  try {
    destination = await federation.start(interaction.uid, name);
  } catch (error) {
    if (error instanceof BrowserSignInError) {
      return federatedFailed(site, ctx, interaction, name, error.code);
    }
    throw error;
  }
  ctx.set(PAGE_HEADERS);
  ctx.status = 303;
  ctx.redirect(destination.href);
}

/**
 * The provider's redirect URI: passes the response on to the interaction the state names,
 * under whose path the browser sends its interaction cookie. Apple posts the response
 * cross-site (`form_post`), where the SameSite=Lax cookie is not sent; the 303 to a GET is a
 * top-level navigation, where it is.
 * @internal
 */
export async function federationCallback(site: InteractionSite, ctx: Context, name: string) {
  const { federation } = site;
  if (!federation?.has(name)) return fail(site, ctx, 404, 'notFound');
  if (ctx.method !== 'GET' && ctx.method !== 'POST') return fail(site, ctx, 405, 'notAllowed');
  const response =
    ctx.method === 'POST' ? await readForm(ctx.req) : new URLSearchParams(ctx.querystring);
  const forwarded = federation.forward(response);
  if (!forwarded) return fail(site, ctx, 400, 'invalidResponse');
  ctx.set(PAGE_HEADERS);
  ctx.status = 303;
  // A link started on the account page finishes there, where the session is checked.
  ctx.redirect(
    'uid' in forwarded
      ? `${interactionPath(site, forwarded.uid)}/federated/${name}/callback?${forwarded.query}`
      : `${site.options.basePath}/account/links/callback/${name}?${forwarded.query}`,
  );
}

/**
 * The response at the interaction: state taken, code exchanged, the interaction finished.
 * @internal
 */
export async function completeFederated(
  site: InteractionSite,
  ctx: Context,
  uid: string,
  name: string,
) {
  const { federation, provider } = site;
  if (!federation?.has(name)) return fail(site, ctx, 404, 'notFound');
  if (ctx.method !== 'GET') return fail(site, ctx, 405, 'notAllowed');
  const response = new URLSearchParams(ctx.querystring);
  // Taken before anything else is checked: a refused response uses its state up all the same.
  const started = await federation.takeState(response.get('state'));
  const interaction = await provider.interactionDetails(ctx.req, ctx.res);
  if (interaction.uid !== uid) throw new errors.SessionNotFound('interaction mismatch');
  // The state must be one this browser's interaction started (RFC 6749 §10.12).
  if (!started || started.uid !== interaction.uid || started.provider !== name) {
    reportRefused(site, ctx, interaction);
    return federatedFailed(site, ctx, interaction, name, 'state');
  }
  if (interaction.prompt.name !== 'login') return showPrompt(site, ctx, interaction);
  const signedInAccountId = await linkableAccount(site, ctx, interaction);
  let signIn: BrowserSignIn;
  try {
    signIn = await federation.complete(started, response, signedInAccountId);
  } catch (error) {
    if (error instanceof BrowserSignInError) {
      if (error.code === 'unlinked' && error.identity && signedInAccountId) {
        return offerLink(site, ctx, interaction, error.identity, signedInAccountId);
      }
      if (error.code !== 'unavailable' && error.code !== 'denied') {
        reportRefused(site, ctx, interaction);
      }
      return federatedFailed(site, ctx, interaction, name, error.code);
    }
    throw error;
  }
  await finish(site, ctx, loginOf(signIn.account.accountId, 'id_token'), false);
  federation.report(signIn, String(interaction.params.client_id));
}

/**
 * The account signed in on this browser, when it is proof for linking: it signed in within
 * `federation.linking.maxAge`, and the interaction asked for nothing but a sign-in (no
 * `prompt=login`, exceeded `max_age`, `id_token_hint`, `acr`, …).
 */
async function linkableAccount(
  site: InteractionSite,
  ctx: Context,
  interaction: Interaction,
): Promise<string | undefined> {
  const maxAge = site.federation?.linkingMaxAge ?? 0;
  if (maxAge <= 0) return undefined;
  if (!interaction.prompt.reasons.every((reason) => LINKABLE_REASONS.has(reason))) {
    return undefined;
  }
  const session = await site.provider.Session.get(ctx);
  const { accountId, loginTs } = session;
  if (!accountId || typeof loginTs !== 'number') return undefined;
  // Signed in as someone else since the interaction began: neither account is proven here.
  const started = interaction.session?.accountId;
  if (started !== undefined && started !== accountId) return undefined;
  const age = Date.now() / 1000 - loginTs;
  return age >= 0 && age <= maxAge ? accountId : undefined;
}

/** The link page for `identity` and the signed-in `accountId`, its offer kept on the server. */
async function offerLink(
  site: InteractionSite,
  ctx: Context,
  interaction: Interaction,
  identity: FederatedIdentity,
  accountId: string,
) {
  const { federation, pages } = site;
  const account = federation?.canLink ? await federation.describeAccount(accountId) : undefined;
  if (!federation || !account) {
    reportRefused(site, ctx, interaction);
    return federatedFailed(site, ctx, interaction, identity.provider, 'refused');
  }
  let handle: string;
  try {
    handle = await federation.offerLink(interaction.uid, identity, accountId);
  } catch (error) {
    if (!(error instanceof StorageUnavailableError)) throw error;
    return fail(site, ctx, 503, 'unavailable', interaction);
  }
  const { uid } = interaction;
  const base = interactionPath(site, uid);
  const language = languageOf(site, ctx, interaction);
  const csrf = csrfField(site, uid);
  const view: LinkView = {
    ...pages.base(language, pages.messages(language).linkTitle, 200),
    page: 'link',
    identity: linkIdentityView(identity, federation.displayName(identity.provider)),
    account: { id: accountId, ...account },
    offer: { name: 'offer', value: handle },
    link: { action: `${base}/link`, csrf },
    cancel: { action: `${base}/cancel-link`, csrf },
  };
  return send(site, ctx, view);
}

/**
 * The link page's answer (CSRF checked): its offer taken once, whatever the answer. Link links
 * the offered identity, still only for the freshly signed-in account, and finishes the sign-in
 * as that account; Cancel links nothing and shows the login page again.
 * @internal
 */
export async function answerLink(
  site: InteractionSite,
  ctx: Context,
  interaction: Interaction,
  form: URLSearchParams,
  confirmed: boolean,
) {
  const { federation, provider } = site;
  if (!federation?.canLink) return fail(site, ctx, 404, 'notFound', interaction);
  let offer: LinkOffer | undefined;
  try {
    offer = await federation.takeLinkOffer(interaction.uid, form.get('offer'));
  } catch (error) {
    if (!(error instanceof StorageUnavailableError)) throw error;
    return fail(site, ctx, 503, 'unavailable', interaction);
  }
  const messages = site.pages.messages(languageOf(site, ctx, interaction));
  if (!offer) return login(site, ctx, interaction, 400, { error: messages.linkExpired });
  if (interaction.prompt.name !== 'login') return showPrompt(site, ctx, interaction);
  if (!confirmed) return login(site, ctx, interaction, 200);
  if ((await linkableAccount(site, ctx, interaction)) !== offer.accountId) {
    return login(site, ctx, interaction, 403, { error: messages.linkExpired });
  }
  let signIn: BrowserSignIn | undefined;
  try {
    signIn = await federation.link(offer);
  } catch (error) {
    provider.emit('server_error', ctx, error);
    return linkFailed(site, ctx, interaction, offer);
  }
  if (!signIn) {
    const name = federation.displayName(offer.identity.provider);
    const error = formatMessage(messages.linkedElsewhere, { provider: name });
    return login(site, ctx, interaction, 409, { error });
  }
  // Linked after the provider vouched for the identity: a federated sign-in.
  await finish(site, ctx, loginOf(offer.accountId, 'id_token'), false);
  federation.report(signIn, String(interaction.params.client_id));
}

/** The login page again, saying the link failed in the account store. */
function linkFailed(
  site: InteractionSite,
  ctx: Context,
  interaction: Interaction,
  offer: LinkOffer,
) {
  const messages = site.pages.messages(languageOf(site, ctx, interaction));
  const name = site.federation?.displayName(offer.identity.provider) ?? offer.identity.provider;
  const error = formatMessage(messages.linkFailed, { provider: name });
  return login(site, ctx, interaction, 500, { error });
}

/**
 * The identity a link page offers to link, as both link pages show it (during sign-in and on the
 * linked accounts page). An empty email or name is shown as none.
 */
export function linkIdentityView(
  identity: FederatedIdentity,
  providerName: string,
): LinkIdentityView {
  const name = identity.claims.name;
  return {
    provider: identity.provider,
    providerName,
    subject: identity.subject,
    ...(identity.email ? { email: identity.email } : {}),
    ...(typeof name === 'string' && name !== '' ? { name } : {}),
  };
}
