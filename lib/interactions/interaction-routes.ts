import type { Context, Middleware } from 'koa';
import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';
import { BrowserFederation } from '../federation/browser.js';
import { routed } from '../http/routed.js';
import { csrfValid } from './csrf.js';
import { FormTooLarge, readForm } from './form.js';
import {
  answerLink,
  completeFederated,
  federationCallback,
  startFederated,
} from './interaction-routes-federation.js';
import { phoneContinue, phoneStart, phoneStatus } from './interaction-routes-phone.js';
import { passkeySignIn, passwordSignIn } from './interaction-routes-sign-in.js';
import {
  confirmConsent,
  fail,
  finish,
  type InteractionSite,
  showPrompt,
} from './interaction-routes-site.js';
import { usePages } from './provider-pages.js';
import { PageRenderer } from './renderer.js';
import { pageSignInKinds } from './sign-in-acr.js';
import type { InteractionOptions } from './types.js';

const ROUTE =
  /^\/interaction\/([\w-]+)(?:\/(login|confirm|abort|passkey|link|cancel-link|phone|phone\/status)|\/federated\/([a-z0-9-]+)(\/callback)?)?\/?$/;
// Where an upstream provider sends the browser back: one fixed redirect URI per provider.
const FEDERATION_CALLBACK = /^\/federation\/callback\/([a-z0-9-]+)\/?$/;

/**
 * The sign-in pages, installed with `provider.use()`: they serve `/interaction/:uid` (relative
 * to the mount point) and pass every other request on. They also hand the page settings to
 * oidc-provider's error and sign-out pages (lib/provider/pages.ts).
 *
 * @internal
 */
export function createInteractionRoutes(
  provider: Provider,
  options: InteractionOptions,
): Middleware {
  const pages = new PageRenderer({
    title: options.title,
    pages: options.pages,
    messages: options.messages,
    defaultLanguage: options.defaultLanguage,
    scopeDescriptions: options.scopeDescriptions,
    dcrScope: options.dcrScope,
  });
  usePages(provider, pages);
  const browserFederation =
    options.federation && (options.browserFederation ?? new BrowserFederation(options.federation));
  const federation = browserFederation?.buttons.length ? browserFederation : undefined;
  const kinds = pageSignInKinds({
    passkeys: !!options.passkeys,
    federation: !!federation,
    phone: !!options.phone,
  });
  const site: InteractionSite = { provider, options, pages, federation, kinds };

  return routed(
    (ctx) => route(site, ctx),
    async function interactionRoutes(ctx, _next, run) {
      try {
        await run();
      } catch (error) {
        if (error instanceof errors.SessionNotFound) return fail(site, ctx, 400, 'expired');
        if (error instanceof FormTooLarge) return fail(site, ctx, 413, 'tooLarge');
        throw error;
      }
    },
  );
}

/** The handler of this request's path, or `undefined` when it is none of the sign-in pages. */
function route(site: InteractionSite, ctx: Context): (() => Promise<void>) | undefined {
  const callback = site.federation ? FEDERATION_CALLBACK.exec(ctx.path) : null;
  if (callback) return () => federationCallback(site, ctx, callback[1] as string);
  const match = ROUTE.exec(ctx.path);
  if (!match) return undefined;
  const [, uid, action, federatedName, federatedCallback] = match as unknown as [
    string,
    string,
    string | undefined,
    string | undefined,
    string | undefined,
  ];
  if (federatedName !== undefined && federatedCallback) {
    return () => completeFederated(site, ctx, uid, federatedName);
  }
  return () => handle(site, ctx, uid, action, federatedName);
}

/**
 * A request to interaction `uid`: its prompt's page on GET, or a form posted to one of its
 * actions (CSRF checked first) passed to that action's handler.
 */
async function handle(
  site: InteractionSite,
  ctx: Context,
  uid: string,
  action: string | undefined,
  federatedName?: string,
) {
  const interaction = await site.provider.interactionDetails(ctx.req, ctx.res);
  if (interaction.uid !== uid) throw new errors.SessionNotFound('interaction mismatch');
  if (!action && federatedName === undefined) {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      return fail(site, ctx, 405, 'notAllowed', interaction);
    }
    return showPrompt(site, ctx, interaction);
  }
  // The waiting page and its status are read with GET (a link works without script); a HEAD
  // never takes an approval.
  if ((action === 'phone' || action === 'phone/status') && ctx.method !== 'POST') {
    if (ctx.method !== 'GET' && (ctx.method !== 'HEAD' || action === 'phone')) {
      return fail(site, ctx, 405, 'notAllowed', interaction);
    }
    return action === 'phone'
      ? phoneContinue(site, ctx, interaction)
      : phoneStatus(site, ctx, interaction);
  }
  if (ctx.method !== 'POST' || action === 'phone/status') {
    return fail(site, ctx, 405, 'notAllowed', interaction);
  }
  const form = await readForm(ctx.req);
  if (!csrfValid(site.options.csrfSecret, uid, form.get('csrf'))) {
    return fail(site, ctx, 403, 'refused', interaction);
  }
  if (federatedName !== undefined) return startFederated(site, ctx, interaction, federatedName);
  if (action === 'link' || action === 'cancel-link') {
    return answerLink(site, ctx, interaction, form, action === 'link');
  }
  if (action === 'abort') {
    return finish(
      site,
      ctx,
      { error: 'access_denied', error_description: 'End-User aborted interaction' },
      false,
    );
  }
  if (action === 'confirm') return confirmConsent(site, ctx, interaction);
  if (interaction.prompt.name !== 'login') return showPrompt(site, ctx, interaction);
  if (action === 'passkey') return passkeySignIn(site, ctx, interaction, form);
  if (action === 'phone') return phoneStart(site, ctx, interaction, form);
  return passwordSignIn(site, ctx, interaction, form);
}
