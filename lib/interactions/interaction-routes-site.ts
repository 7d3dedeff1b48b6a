import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';
import type { SignInKind } from '../core/sign-in-acr.js';
import type { BrowserFederation } from '../federation/browser.js';
import { SIGN_IN_SCRIPT } from '../passkeys/scripts.js';
import {
  consentDetails,
  consentGrants,
  grantConsent,
  grantsNothing,
  type Interaction,
} from './consent.js';
import { csrfToken } from './csrf.js';
import { formatMessage } from './messages.js';
import type { AnyPageView, ErrorKind, PageRenderer } from './renderer.js';
import { kindsMeeting } from './sign-in-acr.js';
import type { InteractionOptions } from './types.js';
import type { ConsentView, CsrfField, LoginFieldErrors, LoginView } from './views.js';

/**
 * What every sign-in handler works with, built once by `createInteractionRoutes`: the settings,
 * the page renderer and the browser federation (when it has buttons).
 *
 * @internal
 */
export interface InteractionSite {
  readonly provider: Provider;
  readonly options: InteractionOptions;
  readonly pages: PageRenderer;
  /** The "Continue with …" sign-in; `undefined` when no provider has a button. */
  readonly federation: BrowserFederation | undefined;
  /** The ways of signing in the login page offers (each gives its acr). */
  readonly kinds: readonly SignInKind[];
}

/** The absolute path of interaction `uid`'s pages, under the issuer's path. @internal */
export const interactionPath = (site: InteractionSite, uid: string) =>
  `${site.options.basePath}/interaction/${uid}`;

/** The hidden CSRF field of interaction `uid`'s forms. @internal */
export const csrfField = (site: InteractionSite, uid: string): CsrfField => ({
  name: 'csrf',
  value: csrfToken(site.options.csrfSecret, uid),
});

/** What the login page shows besides the form: a message, field errors, the username typed. */
export interface LoginState {
  error?: string;
  fieldErrors?: LoginFieldErrors;
  username?: string;
}

/**
 * The language of this request's pages: `ui_locales` of the interaction, `Accept-Language`.
 * @internal
 */
export const languageOf = (site: InteractionSite, ctx: Context, interaction?: Interaction) =>
  site.pages.language({
    uiLocales: interaction?.params.ui_locales,
    acceptLanguage: ctx.get('accept-language'),
  });

/** Renders `view` (its hook or the built-in page) and sends it with its headers. @internal */
export async function send(site: InteractionSite, ctx: Context, view: AnyPageView) {
  const { pages, provider } = site;
  const page = await pages.render(view, (error) => provider.emit('server_error', ctx, error));
  ctx.status = page.status;
  ctx.set(page.headers);
  ctx.type = 'html';
  ctx.body = page.html;
}

/** An error page of `kind`. @internal */
export const fail = (
  site: InteractionSite,
  ctx: Context,
  status: number,
  kind: ErrorKind,
  interaction?: Interaction,
) => send(site, ctx, site.pages.errorView(languageOf(site, ctx, interaction), status, kind));

/**
 * The login page of `interaction`, with its "Continue with …" buttons and passkey sign-in.
 * @internal
 */
export async function login(
  site: InteractionSite,
  ctx: Context,
  interaction: Interaction,
  status: number,
  state: LoginState = {},
) {
  const { pages, federation, options } = site;
  const { uid } = interaction;
  const { passkeys } = options;
  const base = interactionPath(site, uid);
  const language = languageOf(site, ctx, interaction);
  const shared = pages.base(language, pages.messages(language).loginTitle, status);
  const csrf = csrfField(site, uid);
  const fieldErrors = state.fieldErrors ?? {};
  // Step-up: only the ways of signing in that give an acr the request asks for.
  const meeting = kindsMeeting(interaction.params.acr_values, site.kinds);
  const offers = (kind: SignInKind) => meeting?.includes(kind) ?? true;
  const view: LoginView = {
    ...shared,
    page: 'login',
    password: offers('password'),
    ...(meeting ? { notice: pages.messages(language).signInKindRequired } : {}),
    form: { action: `${base}/login`, csrf },
    username: state.username ?? '',
    ...(state.error ? { error: state.error } : {}),
    fieldErrors,
    focus: !fieldErrors.username && fieldErrors.password ? 'password' : 'username',
    federation: (offers('id_token') ? (federation?.buttons ?? []) : []).map(({ name }) => ({
      provider: name,
      label:
        options.federation?.providers.find((p) => p.name === name)?.browser?.label ??
        formatMessage(shared.messages.continueWith, {
          provider: federation?.displayName(name) ?? name,
        }),
      form: { action: `${base}/federated/${name}`, csrf },
    })),
    ...(passkeys && offers('passkey')
      ? {
          passkey: {
            form: { action: `${base}/passkey`, csrf },
            // A fresh challenge per render: it costs no store write until it is used.
            options: await passkeys.authenticationOptions(uid),
            script: SIGN_IN_SCRIPT,
          },
        }
      : {}),
    ...(site.options.phone && offers('phone')
      ? { phone: { form: { action: `${base}/phone`, csrf } } }
      : {}),
  };
  return send(site, ctx, view);
}

/**
 * Ends the interaction with `result`: interactionResult + a Koa redirect is interactionFinished
 * (303 to returnTo) without writing to the raw response behind Koa's back.
 * @internal
 */
export async function finish(
  site: InteractionSite,
  ctx: Context,
  result: InteractionResults,
  merge: boolean,
) {
  const returnTo = await site.provider.interactionResult(ctx.req, ctx.res, result, {
    mergeWithLastSubmission: merge,
  });
  ctx.status = 303;
  ctx.redirect(returnTo);
}

/**
 * A consent that would grant nothing (the request names no scope or claim this server knows)
 * is no question to put to the user: an Allow with nothing listed still issues a token.
 */
const refuseEmptyConsent = (site: InteractionSite, ctx: Context) =>
  finish(
    site,
    ctx,
    { error: 'invalid_scope', error_description: 'the request asks for no scope to consent to' },
    false,
  );

/**
 * The page of the interaction's prompt: the login page, or the consent page unless consent is
 * given without asking.
 * @internal
 */
export async function showPrompt(site: InteractionSite, ctx: Context, interaction: Interaction) {
  const { provider, options, pages } = site;
  if (interaction.prompt.name === 'login') return login(site, ctx, interaction, 200);
  // Only the default policy's two prompts have pages; a custom prompt needs its own.
  if (interaction.prompt.name !== 'consent') {
    return fail(site, ctx, 501, 'unsupported', interaction);
  }
  const clientId = String(interaction.params.client_id);
  const client = await provider.Client.find(clientId);
  if (!client) return fail(site, ctx, 400, 'unknownApp', interaction);
  const accountId = interaction.session?.accountId ?? '';
  const metadata: Record<string, unknown> = { ...client.metadata() };
  if (await options.autoConsent({ clientId, accountId, metadata })) {
    const grantId = await grantConsent(provider, interaction);
    return finish(site, ctx, { consent: { grantId } }, true);
  }
  const language = languageOf(site, ctx, interaction);
  const shared = pages.base(language, pages.messages(language).consentTitle, 200);
  const granted = consentGrants(consentDetails(interaction.prompt.details));
  if (grantsNothing(granted)) return refuseEmptyConsent(site, ctx);
  // A scope asked for as an OpenID scope and for a resource too (the DCR scope) is one line.
  const scopes = new Set([...granted.oidcScope, ...Object.values(granted.resourceScopes).flat()]);
  const redirect = URL.parse(String(interaction.params.redirect_uri ?? ''));
  const base = interactionPath(site, interaction.uid);
  const csrf = csrfField(site, interaction.uid);
  const view: ConsentView = {
    ...shared,
    page: 'consent',
    client: {
      id: clientId,
      name: typeof metadata.client_name === 'string' ? metadata.client_name : clientId,
      ...(redirect?.protocol === 'https:' ? { returnHost: redirect.host } : {}),
    },
    accountId,
    scopes: [...scopes].map((scope) => {
      const description = pages.scopeDescription(scope, language);
      return description ? { scope, description } : { scope };
    }),
    claims: granted.claims,
    allow: { action: `${base}/confirm`, csrf },
    deny: { action: `${base}/abort`, csrf },
  };
  return send(site, ctx, view);
}

/**
 * Allow pressed on the consent page (CSRF checked): the grant saved unless the consent grants
 * nothing or `confirmConsent` refuses it.
 * @internal
 */
export async function confirmConsent(
  site: InteractionSite,
  ctx: Context,
  interaction: Interaction,
) {
  const { provider, options } = site;
  if (interaction.prompt.name !== 'consent') return showPrompt(site, ctx, interaction);
  if (grantsNothing(consentGrants(consentDetails(interaction.prompt.details)))) {
    return refuseEmptyConsent(site, ctx);
  }
  const refusal = await options.confirmConsent?.({
    clientId: String(interaction.params.client_id),
    accountId: interaction.session?.accountId ?? '',
  });
  if (refusal) {
    return finish(site, ctx, { error: 'access_denied', error_description: refusal }, false);
  }
  return finish(
    site,
    ctx,
    { consent: { grantId: await grantConsent(provider, interaction) } },
    true,
  );
}
