// "Approve on your phone" on the login page: the username posted starts an approval on the
// account's installs (phone approval does that, behind `PhoneSignIn`), the waiting page shows the
// binding message and polls, and the approval finishes the interaction that started it, read on
// this browser (the interaction cookie) only.
import type { Context } from 'koa';
import type { Interaction } from './consent.js';
import { signInAttempt } from './interaction-routes-sign-in.js';
import {
  fail,
  finish,
  type InteractionSite,
  interactionPath,
  languageOf,
  login,
  send,
} from './interaction-routes-site.js';
import { PHONE_WAITING_SCRIPT } from './phone-script.js';
import { acceptsKind, loginOf } from './sign-in-acr.js';
import type { PhoneWaitingView } from './views.js';

/**
 * "Approve on your phone" posted with a username: counted by the sign-in throttle as an attempt
 * (against push bombing), started, then the waiting page (303, so a reload does not start again).
 * @internal
 */
export async function phoneStart(
  site: InteractionSite,
  ctx: Context,
  interaction: Interaction,
  form: URLSearchParams,
) {
  const phone = site.options.phone;
  if (!phone) return fail(site, ctx, 404, 'notFound', interaction);
  if (!acceptsKind(interaction.params.acr_values, site.kinds, 'phone')) {
    return login(site, ctx, interaction, 400);
  }
  const username = (form.get('username') ?? '').trim();
  const messages = site.pages.messages(languageOf(site, ctx, interaction));
  if (username === '') {
    return login(site, ctx, interaction, 400, {
      fieldErrors: { username: messages.usernameRequired },
    });
  }
  const clientId = String(interaction.params.client_id);
  const client = await site.provider.Client.find(clientId);
  let started: { bindingMessage: string } | undefined;
  // Every start counts as a failed attempt: it only asks, and asking is what push bombing is.
  const checked = await signInAttempt(site, ctx, interaction, username, async () => {
    started = await phone.start({
      uid: interaction.uid,
      username,
      clientId,
      clientName: client?.clientName ?? clientId,
      scope: typeof interaction.params.scope === 'string' ? interaction.params.scope : '',
    });
    return undefined;
  });
  if (!checked) return;
  if (!started) {
    return login(site, ctx, interaction, 429, { error: messages.phoneTooMany, username });
  }
  ctx.status = 303;
  ctx.redirect(`${interactionPath(site, interaction.uid)}/phone`);
}

/**
 * The waiting page, and its "I approved it — continue" link: checks once, finishes the
 * interaction when approved, back to the login page with a message when denied or expired.
 * @internal
 */
export async function phoneContinue(site: InteractionSite, ctx: Context, interaction: Interaction) {
  const phone = site.options.phone;
  if (!phone) return fail(site, ctx, 404, 'notFound', interaction);
  if (interaction.prompt.name !== 'login')
    return ctx.redirect(interactionPath(site, interaction.uid));
  const messages = site.pages.messages(languageOf(site, ctx, interaction));
  const now = await phone.state(interaction.uid);
  if (now.state === 'approved') {
    const taken = await phone.take(interaction.uid);
    if (taken) return finish(site, ctx, loginOf(taken.accountId, 'phone', taken.amr), false);
  }
  if (now.state === 'pending') return waitingPage(site, ctx, interaction, now);
  if (now.state === 'denied') {
    await phone.forget(interaction.uid);
    return login(site, ctx, interaction, 401, { error: messages.phoneDenied });
  }
  return login(site, ctx, interaction, 401, { error: messages.phoneExpired });
}

/**
 * The waiting page's poll: `{"status":"pending"}` while waiting, `{"status":"done"}` once the
 * continue link has something to do. Never says how (nor whether an account exists).
 * @internal
 */
export async function phoneStatus(site: InteractionSite, ctx: Context, interaction: Interaction) {
  const phone = site.options.phone;
  if (!phone) return fail(site, ctx, 404, 'notFound', interaction);
  const now = await phone.state(interaction.uid);
  ctx.set('Cache-Control', 'no-store');
  ctx.type = 'json';
  ctx.body = { status: now.state === 'pending' ? 'pending' : 'done' };
}

async function waitingPage(
  site: InteractionSite,
  ctx: Context,
  interaction: Interaction,
  pending: { bindingMessage: string; expiresIn: number },
) {
  const language = languageOf(site, ctx, interaction);
  const messages = site.pages.messages(language);
  const base = interactionPath(site, interaction.uid);
  const view: PhoneWaitingView = {
    ...site.pages.base(language, messages.phoneWaitingTitle, 200),
    page: 'phoneWaiting',
    bindingMessage: pending.bindingMessage,
    expiresIn: pending.expiresIn,
    continueUrl: `${base}/phone`,
    statusUrl: `${base}/phone/status`,
    cancelUrl: base,
    script: PHONE_WAITING_SCRIPT,
  };
  return send(site, ctx, view);
}
