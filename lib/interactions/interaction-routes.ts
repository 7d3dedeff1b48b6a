import type { Context, Middleware } from 'koa';
import type Provider from 'oidc-provider';
import { errors, type InteractionResults } from 'oidc-provider';
import type { FederatedIdentity } from '../core/accounts.js';
import {
  BrowserFederation,
  type BrowserSignIn,
  BrowserSignInError,
  type BrowserSignInFailure,
  type LinkOffer,
} from '../federation/browser.js';
import { clientAddress } from '../http/client-address.js';
import { SIGN_IN_SCRIPT } from '../passkeys/scripts.js';
import { parseAssertion } from '../passkeys/service.js';
import { StorageUnavailableError } from '../storage/guard.js';
import {
  consentDetails,
  consentGrants,
  grantConsent,
  grantsNothing,
  type Interaction,
} from './consent.js';
import { csrfToken, csrfValid } from './csrf.js';
import { FormTooLarge, readForm } from './form.js';
import { PAGE_HEADERS } from './html.js';
import { formatMessage, type PageMessages, waitingTime } from './messages.js';
import { usePages } from './provider-pages.js';
import { type AnyPageView, type ErrorKind, PageRenderer } from './renderer.js';
import type { InteractionOptions } from './types.js';
import type { ConsentView, CsrfField, LinkView, LoginFieldErrors, LoginView } from './views.js';

const ROUTE =
  /^\/interaction\/([\w-]+)(?:\/(login|confirm|abort|passkey|link|cancel-link)|\/federated\/([a-z0-9-]+)(\/callback)?)?\/?$/;
// Where an upstream provider sends the browser back: one fixed redirect URI per provider.
const FEDERATION_CALLBACK = /^\/federation\/callback\/([a-z0-9-]+)\/?$/;
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

/** What the login page shows besides the form: a message, field errors, the username typed. */
interface LoginState {
  error?: string;
  fieldErrors?: LoginFieldErrors;
  username?: string;
}

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
  const base = (uid: string) => `${options.basePath}/interaction/${uid}`;
  const browserFederation =
    options.federation && (options.browserFederation ?? new BrowserFederation(options.federation));
  const federation = browserFederation?.buttons.length ? browserFederation : undefined;
  const csrfField = (uid: string): CsrfField => ({
    name: 'csrf',
    value: csrfToken(options.csrfSecret, uid),
  });

  /** The language of this request's pages: `ui_locales` of the interaction, `Accept-Language`. */
  const languageOf = (ctx: Context, interaction?: Interaction) =>
    pages.language({
      uiLocales: interaction?.params.ui_locales,
      acceptLanguage: ctx.get('accept-language'),
    });

  /** Renders `view` (its hook or the built-in page) and sends it with its headers. */
  async function send(ctx: Context, view: AnyPageView) {
    const page = await pages.render(view, (error) => provider.emit('server_error', ctx, error));
    ctx.status = page.status;
    ctx.set(page.headers);
    ctx.type = 'html';
    ctx.body = page.html;
  }

  /** An error page of `kind`. */
  const fail = (ctx: Context, status: number, kind: ErrorKind, interaction?: Interaction) =>
    send(ctx, pages.errorView(languageOf(ctx, interaction), status, kind));

  /** The login page of `interaction`, with its "Continue with …" buttons and passkey sign-in. */
  async function login(
    ctx: Context,
    interaction: Interaction,
    status: number,
    state: LoginState = {},
  ) {
    const { uid } = interaction;
    const { passkeys } = options;
    const language = languageOf(ctx, interaction);
    const shared = pages.base(language, pages.messages(language).loginTitle, status);
    const csrf = csrfField(uid);
    const fieldErrors = state.fieldErrors ?? {};
    const view: LoginView = {
      ...shared,
      page: 'login',
      form: { action: `${base(uid)}/login`, csrf },
      username: state.username ?? '',
      ...(state.error ? { error: state.error } : {}),
      fieldErrors,
      focus: !fieldErrors.username && fieldErrors.password ? 'password' : 'username',
      federation: (federation?.buttons ?? []).map(({ name }) => ({
        provider: name,
        label:
          options.federation?.providers.find((p) => p.name === name)?.browser?.label ??
          formatMessage(shared.messages.continueWith, {
            provider: federation?.displayName(name) ?? name,
          }),
        form: { action: `${base(uid)}/federated/${name}`, csrf },
      })),
      ...(passkeys
        ? {
            passkey: {
              form: { action: `${base(uid)}/passkey`, csrf },
              // A fresh challenge per render: it costs no store write until it is used.
              options: await passkeys.authenticationOptions(uid),
              script: SIGN_IN_SCRIPT,
            },
          }
        : {}),
    };
    return send(ctx, view);
  }

  // interactionResult + a Koa redirect is interactionFinished (303 to returnTo) without writing
  // to the raw response behind Koa's back.
  async function finish(ctx: Context, result: InteractionResults, merge: boolean) {
    const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, {
      mergeWithLastSubmission: merge,
    });
    ctx.status = 303;
    ctx.redirect(returnTo);
  }

  /**
   * A consent that would grant nothing (the request names no scope or claim this server knows)
   * is no question to put to the user: an Allow with nothing listed still issues a token.
   */
  const refuseEmptyConsent = (ctx: Context) =>
    finish(
      ctx,
      { error: 'invalid_scope', error_description: 'the request asks for no scope to consent to' },
      false,
    );

  async function showPrompt(ctx: Context, interaction: Interaction) {
    if (interaction.prompt.name === 'login') return login(ctx, interaction, 200);
    // Only the default policy's two prompts have pages; a custom prompt needs its own.
    if (interaction.prompt.name !== 'consent') return fail(ctx, 501, 'unsupported', interaction);
    const clientId = String(interaction.params.client_id);
    const client = await provider.Client.find(clientId);
    if (!client) return fail(ctx, 400, 'unknownApp', interaction);
    const accountId = interaction.session?.accountId ?? '';
    const metadata: Record<string, unknown> = { ...client.metadata() };
    if (await options.autoConsent({ clientId, accountId, metadata })) {
      const grantId = await grantConsent(provider, interaction);
      return finish(ctx, { consent: { grantId } }, true);
    }
    const language = languageOf(ctx, interaction);
    const shared = pages.base(language, pages.messages(language).consentTitle, 200);
    const granted = consentGrants(consentDetails(interaction.prompt.details));
    if (grantsNothing(granted)) return refuseEmptyConsent(ctx);
    // A scope asked for as an OpenID scope and for a resource too (the DCR scope) is one line.
    const scopes = new Set([...granted.oidcScope, ...Object.values(granted.resourceScopes).flat()]);
    const redirect = URL.parse(String(interaction.params.redirect_uri ?? ''));
    const csrf = csrfField(interaction.uid);
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
      allow: { action: `${base(interaction.uid)}/confirm`, csrf },
      deny: { action: `${base(interaction.uid)}/abort`, csrf },
    };
    return send(ctx, view);
  }

  /**
   * Checks the password through the sign-in throttle: answers `429` (the password unchecked)
   * while a limit is reached, and `503` when the limits cannot be read; resolves `undefined` then.
   */
  async function signInAttempt(
    ctx: Context,
    interaction: Interaction,
    username: string,
    check: () => Promise<string | undefined>,
    shownUsername = username,
  ): Promise<{ accountId: string | undefined } | undefined> {
    const throttle = options.throttle;
    if (!throttle) return { accountId: await check() };
    let outcome: Awaited<ReturnType<typeof throttle.attempt>>;
    try {
      outcome = await throttle.attempt(username, clientAddress(ctx), check);
    } catch (error) {
      if (!(error instanceof StorageUnavailableError)) throw error;
      await fail(ctx, 503, 'unavailable', interaction);
      return undefined;
    }
    if ('accountId' in outcome) return outcome;
    const { retryAfterSeconds } = outcome.throttled;
    const messages = pages.messages(languageOf(ctx, interaction));
    await login(ctx, interaction, 429, {
      error: formatMessage(messages.throttled, {
        wait: waitingTime(retryAfterSeconds, messages),
      }),
      username: shownUsername,
    });
    ctx.set('Retry-After', String(retryAfterSeconds));
    return undefined;
  }

  /** The login page again, saying why the "Continue with …" sign-in failed. */
  function federatedFailed(
    ctx: Context,
    interaction: Interaction,
    name: string,
    reason: BrowserSignInFailure,
  ) {
    const [status, key] = federatedFailure(reason);
    const messages = pages.messages(languageOf(ctx, interaction));
    const error = formatMessage(messages[key], {
      provider: federation?.displayName(name) ?? name,
    });
    return login(ctx, interaction, status, { error });
  }

  /** "Continue with …" was pressed (CSRF checked): off to the provider with a fresh state. */
  async function startFederated(ctx: Context, interaction: Interaction, name: string) {
    if (!federation?.has(name)) return fail(ctx, 404, 'notFound', interaction);
    if (interaction.prompt.name !== 'login') return showPrompt(ctx, interaction);
    let destination: URL;
    try {
      destination = await federation.start(interaction.uid, name);
    } catch (error) {
      if (error instanceof BrowserSignInError) {
        return federatedFailed(ctx, interaction, name, error.code);
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
   */
  async function federationCallback(ctx: Context, name: string) {
    if (!federation?.has(name)) return fail(ctx, 404, 'notFound');
    if (ctx.method !== 'GET' && ctx.method !== 'POST') return fail(ctx, 405, 'notAllowed');
    const response =
      ctx.method === 'POST' ? await readForm(ctx.req) : new URLSearchParams(ctx.querystring);
    const forwarded = federation.forward(response);
    if (!forwarded) return fail(ctx, 400, 'invalidResponse');
    ctx.set(PAGE_HEADERS);
    ctx.status = 303;
    // A link started on the account page finishes there, where the session is checked.
    ctx.redirect(
      'uid' in forwarded
        ? `${base(forwarded.uid)}/federated/${name}/callback?${forwarded.query}`
        : `${options.basePath}/account/links/callback/${name}?${forwarded.query}`,
    );
  }

  /** The response at the interaction: state taken, code exchanged, the interaction finished. */
  async function completeFederated(ctx: Context, uid: string, name: string) {
    if (!federation?.has(name)) return fail(ctx, 404, 'notFound');
    if (ctx.method !== 'GET') return fail(ctx, 405, 'notAllowed');
    const response = new URLSearchParams(ctx.querystring);
    // Taken before anything else is checked: a refused response uses its state up all the same.
    const started = await federation.takeState(response.get('state'));
    const interaction = await provider.interactionDetails(ctx.req, ctx.res);
    if (interaction.uid !== uid) throw new errors.SessionNotFound('interaction mismatch');
    // The state must be one this browser's interaction started (RFC 6749 §10.12).
    if (!started || started.uid !== interaction.uid || started.provider !== name) {
      return federatedFailed(ctx, interaction, name, 'state');
    }
    if (interaction.prompt.name !== 'login') return showPrompt(ctx, interaction);
    const signedInAccountId = await linkableAccount(ctx, interaction);
    let signIn: BrowserSignIn;
    try {
      signIn = await federation.complete(started, response, signedInAccountId);
    } catch (error) {
      if (error instanceof BrowserSignInError) {
        if (error.code === 'unlinked' && error.identity && signedInAccountId) {
          return offerLink(ctx, interaction, error.identity, signedInAccountId);
        }
        return federatedFailed(ctx, interaction, name, error.code);
      }
      throw error;
    }
    await finish(ctx, { login: { accountId: signIn.account.accountId } }, false);
    federation.report(signIn, String(interaction.params.client_id));
  }

  /**
   * The account signed in on this browser, when it is proof for linking: it signed in within
   * `federation.linking.maxAge`, and the interaction asked for nothing but a sign-in (no
   * `prompt=login`, exceeded `max_age`, `id_token_hint`, `acr`, …).
   */
  async function linkableAccount(
    ctx: Context,
    interaction: Interaction,
  ): Promise<string | undefined> {
    const maxAge = federation?.linkingMaxAge ?? 0;
    if (maxAge <= 0) return undefined;
    if (!interaction.prompt.reasons.every((reason) => LINKABLE_REASONS.has(reason))) {
      return undefined;
    }
    const session = await provider.Session.get(ctx);
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
    ctx: Context,
    interaction: Interaction,
    identity: FederatedIdentity,
    accountId: string,
  ) {
    const account = federation?.canLink ? await federation.describeAccount(accountId) : undefined;
    if (!federation || !account) {
      return federatedFailed(ctx, interaction, identity.provider, 'refused');
    }
    let handle: string;
    try {
      handle = await federation.offerLink(interaction.uid, identity, accountId);
    } catch (error) {
      if (!(error instanceof StorageUnavailableError)) throw error;
      return fail(ctx, 503, 'unavailable', interaction);
    }
    const { uid } = interaction;
    const language = languageOf(ctx, interaction);
    const csrf = csrfField(uid);
    const name = typeof identity.claims.name === 'string' ? identity.claims.name : undefined;
    const view: LinkView = {
      ...pages.base(language, pages.messages(language).linkTitle, 200),
      page: 'link',
      identity: {
        provider: identity.provider,
        providerName: federation.displayName(identity.provider),
        subject: identity.subject,
        ...(identity.email ? { email: identity.email } : {}),
        ...(name ? { name } : {}),
      },
      account: { id: accountId, ...account },
      offer: { name: 'offer', value: handle },
      link: { action: `${base(uid)}/link`, csrf },
      cancel: { action: `${base(uid)}/cancel-link`, csrf },
    };
    return send(ctx, view);
  }

  /**
   * The link page's answer (CSRF checked): its offer taken once, whatever the answer. Link links
   * the offered identity, still only for the freshly signed-in account, and finishes the sign-in
   * as that account; Cancel links nothing and shows the login page again.
   */
  async function answerLink(
    ctx: Context,
    interaction: Interaction,
    form: URLSearchParams,
    confirmed: boolean,
  ) {
    if (!federation?.canLink) return fail(ctx, 404, 'notFound', interaction);
    let offer: LinkOffer | undefined;
    try {
      offer = await federation.takeLinkOffer(interaction.uid, form.get('offer'));
    } catch (error) {
      if (!(error instanceof StorageUnavailableError)) throw error;
      return fail(ctx, 503, 'unavailable', interaction);
    }
    const messages = pages.messages(languageOf(ctx, interaction));
    if (!offer) return login(ctx, interaction, 400, { error: messages.linkExpired });
    if (interaction.prompt.name !== 'login') return showPrompt(ctx, interaction);
    if (!confirmed) return login(ctx, interaction, 200);
    if ((await linkableAccount(ctx, interaction)) !== offer.accountId) {
      return login(ctx, interaction, 403, { error: messages.linkExpired });
    }
    let signIn: BrowserSignIn | undefined;
    try {
      signIn = await federation.link(offer);
    } catch (error) {
      provider.emit('server_error', ctx, error);
      return linkFailed(ctx, interaction, offer);
    }
    if (!signIn) {
      const name = federation.displayName(offer.identity.provider);
      const error = formatMessage(messages.linkedElsewhere, { provider: name });
      return login(ctx, interaction, 409, { error });
    }
    await finish(ctx, { login: { accountId: offer.accountId } }, false);
    federation.report(signIn, String(interaction.params.client_id));
  }

  /** The login page again, saying the link failed in the account store. */
  function linkFailed(ctx: Context, interaction: Interaction, offer: LinkOffer) {
    const messages = pages.messages(languageOf(ctx, interaction));
    const name = federation?.displayName(offer.identity.provider) ?? offer.identity.provider;
    const error = formatMessage(messages.linkFailed, { provider: name });
    return login(ctx, interaction, 500, { error });
  }

  /** The username and password posted; a field left empty is an error on it, not an attempt. */
  async function passwordSignIn(ctx: Context, interaction: Interaction, form: URLSearchParams) {
    const username = form.get('username') ?? '';
    const password = form.get('password') ?? '';
    const messages = pages.messages(languageOf(ctx, interaction));
    const fieldErrors: LoginFieldErrors = {
      ...(username.trim() === '' ? { username: messages.usernameRequired } : {}),
      ...(password === '' ? { password: messages.passwordRequired } : {}),
    };
    if (fieldErrors.username || fieldErrors.password) {
      return login(ctx, interaction, 400, { fieldErrors, username });
    }
    const checked = await signInAttempt(ctx, interaction, username, () =>
      options.authenticate(username, password),
    );
    if (!checked) return;
    const { accountId } = checked;
    if (!accountId) {
      // Tied to the password field, where the user types again (the username is kept).
      return login(ctx, interaction, 401, {
        fieldErrors: { password: messages.wrongCredentials },
        username,
      });
    }
    return finish(ctx, { login: { accountId } }, false);
  }

  /**
   * A passkey's assertion posted from the login page: throttled like a password (keyed by the
   * passkey's account), verified, and the interaction finished like a password sign-in.
   */
  async function passkeySignIn(ctx: Context, interaction: Interaction, form: URLSearchParams) {
    const passkeys = options.passkeys;
    if (!passkeys) return fail(ctx, 404, 'notFound', interaction);
    const assertion = parseAssertion(form.get('credential'));
    const checked = await signInAttempt(
      ctx,
      interaction,
      await passkeys.throttleKey(assertion),
      async () => {
        const outcome = await passkeys.signIn(
          interaction.uid,
          assertion,
          clientAddress(ctx).address,
        );
        return 'accountId' in outcome ? outcome.accountId : undefined;
      },
      '',
    );
    if (!checked) return;
    const { accountId } = checked;
    if (!accountId) {
      const messages = pages.messages(languageOf(ctx, interaction));
      return login(ctx, interaction, 401, { error: messages.passkeyFailed });
    }
    return finish(ctx, { login: { accountId } }, false);
  }

  async function handle(
    ctx: Context,
    uid: string,
    action: string | undefined,
    federatedName?: string,
  ) {
    const interaction = await provider.interactionDetails(ctx.req, ctx.res);
    if (interaction.uid !== uid) throw new errors.SessionNotFound('interaction mismatch');
    if (!action && federatedName === undefined) {
      if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
        return fail(ctx, 405, 'notAllowed', interaction);
      }
      return showPrompt(ctx, interaction);
    }
    if (ctx.method !== 'POST') return fail(ctx, 405, 'notAllowed', interaction);
    const form = await readForm(ctx.req);
    if (!csrfValid(options.csrfSecret, uid, form.get('csrf'))) {
      return fail(ctx, 403, 'refused', interaction);
    }
    if (federatedName !== undefined) return startFederated(ctx, interaction, federatedName);
    if (action === 'link' || action === 'cancel-link') {
      return answerLink(ctx, interaction, form, action === 'link');
    }
    if (action === 'abort') {
      return finish(
        ctx,
        { error: 'access_denied', error_description: 'End-User aborted interaction' },
        false,
      );
    }
    if (action === 'confirm') {
      if (interaction.prompt.name !== 'consent') return showPrompt(ctx, interaction);
      if (grantsNothing(consentGrants(consentDetails(interaction.prompt.details)))) {
        return refuseEmptyConsent(ctx);
      }
      const refusal = await options.confirmConsent?.({
        clientId: String(interaction.params.client_id),
        accountId: interaction.session?.accountId ?? '',
      });
      if (refusal) {
        return finish(ctx, { error: 'access_denied', error_description: refusal }, false);
      }
      return finish(ctx, { consent: { grantId: await grantConsent(provider, interaction) } }, true);
    }
    if (interaction.prompt.name !== 'login') return showPrompt(ctx, interaction);
    if (action === 'passkey') return passkeySignIn(ctx, interaction, form);
    return passwordSignIn(ctx, interaction, form);
  }

  function route(ctx: Context): (() => Promise<void>) | undefined {
    const callback = federation ? FEDERATION_CALLBACK.exec(ctx.path) : null;
    if (callback) return () => federationCallback(ctx, callback[1] as string);
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
      return () => completeFederated(ctx, uid, federatedName);
    }
    return () => handle(ctx, uid, action, federatedName);
  }

  return async function interactionRoutes(ctx, next) {
    const run = route(ctx);
    if (!run) return next();
    try {
      await run();
    } catch (error) {
      if (error instanceof errors.SessionNotFound) return fail(ctx, 400, 'expired');
      if (error instanceof FormTooLarge) return fail(ctx, 413, 'tooLarge');
      throw error;
    }
  };
}
