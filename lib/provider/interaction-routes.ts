import type { Context, Middleware } from 'koa';
import type Provider from 'oidc-provider';
import { errors, type InteractionResults } from 'oidc-provider';
import {
  BrowserFederation,
  type BrowserSignIn,
  BrowserSignInError,
  type BrowserSignInFailure,
} from '../federation/browser.js';
import { csrfToken, csrfValid } from '../interactions/csrf.js';
import { FormTooLarge, readForm } from '../interactions/form.js';
import { PAGE_HEADERS } from '../interactions/html.js';
import { consentPage, loginPage, messagePage } from '../interactions/pages.js';
import type { InteractionOptions } from '../interactions/types.js';
import { StorageUnavailableError } from '../storage/guard.js';
import { consentDetails, grantConsent, type Interaction } from './consent.js';

const ROUTE =
  /^\/interaction\/([\w-]+)(?:\/(login|confirm|abort)|\/federated\/([a-z0-9-]+)(\/callback)?)?\/?$/;
// Where an upstream provider sends the browser back: one fixed redirect URI per provider.
const FEDERATION_CALLBACK = /^\/federation\/callback\/([a-z0-9-]+)\/?$/;

/** What the user reads when a "Continue with …" sign-in fails: status and message. */
function federatedFailure(reason: BrowserSignInFailure, name: string): [number, string] {
  switch (reason) {
    case 'state':
      return [400, `The sign-in with ${name} could not be completed. Try again.`];
    case 'denied':
      return [
        400,
        `Signing in with ${name} was cancelled or refused. Try again, or sign in another way.`,
      ];
    case 'unavailable':
      return [503, `${name} cannot be reached right now. Try again later, or sign in another way.`];
    case 'exchange':
      return [502, `Signing in with ${name} did not work. Try again, or sign in another way.`];
    case 'refused':
      return [403, `This ${name} account cannot be used to sign in here. Sign in another way.`];
  }
}

/** `seconds` in words, rounded up: `45 seconds`, `1 minute`, `15 minutes`, `2 hours`. */
function waitingTime(seconds: number): string {
  const [amount, unit] =
    seconds < 60
      ? [seconds, 'second']
      : seconds < 2 * 3600
        ? [Math.ceil(seconds / 60), 'minute']
        : [Math.ceil(seconds / 3600), 'hour'];
  return `${amount} ${unit}${amount === 1 ? '' : 's'}`;
}

function send(ctx: Context, status: number, html: string) {
  ctx.status = status;
  ctx.set(PAGE_HEADERS);
  ctx.type = 'html';
  ctx.body = html;
}

/**
 * The sign-in pages, installed with `provider.use()`: they serve `/interaction/:uid` (relative
 * to the mount point) and pass every other request on.
 *
 * @internal
 */
export function createInteractionRoutes(
  provider: Provider,
  options: InteractionOptions,
): Middleware {
  const title = options.title ?? 'Sign in';
  const base = (uid: string) => `${options.basePath}/interaction/${uid}`;
  const browserFederation = options.federation && new BrowserFederation(options.federation);
  const federation = browserFederation?.buttons.length ? browserFederation : undefined;

  /** The login page of interaction `uid`, with its "Continue with …" buttons. */
  function login(uid: string, extras: { error?: string; username?: string } = {}): string {
    const federated = (federation?.buttons ?? []).map(({ name, label }) => ({
      action: `${base(uid)}/federated/${name}`,
      label,
    }));
    return loginPage(title, `${base(uid)}/login`, csrfToken(options.csrfSecret, uid), {
      ...extras,
      federated,
    });
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

  async function showPrompt(ctx: Context, interaction: Interaction) {
    const csrf = csrfToken(options.csrfSecret, interaction.uid);
    if (interaction.prompt.name === 'login') return send(ctx, 200, login(interaction.uid));
    // Only the default policy's two prompts have pages; a custom prompt needs its own.
    if (interaction.prompt.name !== 'consent') {
      return send(
        ctx,
        501,
        messagePage(title, 'Not supported', 'This sign-in step is not supported here.'),
      );
    }
    const clientId = String(interaction.params.client_id);
    const client = await provider.Client.find(clientId);
    if (!client)
      return send(
        ctx,
        400,
        messagePage(title, 'Unknown app', 'Start signing in again from the app.'),
      );
    const accountId = interaction.session?.accountId ?? '';
    const metadata: Record<string, unknown> = { ...client.metadata() };
    if (await options.autoConsent({ clientId, accountId, metadata })) {
      const grantId = await grantConsent(provider, interaction);
      return finish(ctx, { consent: { grantId } }, true);
    }
    const details = consentDetails(interaction.prompt.details);
    return send(
      ctx,
      200,
      consentPage(
        title,
        { confirm: `${base(interaction.uid)}/confirm`, abort: `${base(interaction.uid)}/abort` },
        csrf,
        {
          clientName: typeof metadata.client_name === 'string' ? metadata.client_name : clientId,
          scopes: [
            ...details.missingOIDCScope,
            ...Object.values(details.missingResourceScopes).flat(),
          ],
          claims: details.missingOIDCClaims,
        },
      ),
    );
  }

  /**
   * Checks the password through the sign-in throttle: answers `429` (the password unchecked)
   * while a limit is reached, and `503` when the limits cannot be read; resolves `undefined` then.
   */
  async function signInAttempt(
    ctx: Context,
    uid: string,
    username: string,
    check: () => Promise<string | undefined>,
  ): Promise<{ accountId: string | undefined } | undefined> {
    const throttle = options.throttle;
    if (!throttle) return { accountId: await check() };
    let outcome: Awaited<ReturnType<typeof throttle.attempt>>;
    try {
      outcome = await throttle.attempt(username, ctx.ip, check);
    } catch (error) {
      if (!(error instanceof StorageUnavailableError)) throw error;
      send(
        ctx,
        503,
        messagePage(
          title,
          'Temporarily unavailable',
          'Signing in is not possible right now. Try again in a few minutes.',
        ),
      );
      return undefined;
    }
    if ('accountId' in outcome) return outcome;
    const { retryAfterSeconds } = outcome.throttled;
    send(
      ctx,
      429,
      login(uid, {
        error: `Too many failed sign-in attempts. For your security, signing in is paused: try again in ${waitingTime(retryAfterSeconds)}.`,
        username,
      }),
    );
    ctx.set('Retry-After', String(retryAfterSeconds));
    return undefined;
  }

  /** The login page again, saying why the "Continue with …" sign-in failed. */
  function federatedFailed(ctx: Context, uid: string, name: string, reason: BrowserSignInFailure) {
    const [status, message] = federatedFailure(reason, federation?.displayName(name) ?? name);
    return send(ctx, status, login(uid, { error: message }));
  }

  const unknownProvider = (ctx: Context) =>
    send(ctx, 404, messagePage(title, 'Not found', 'This sign-in option does not exist.'));

  /** "Continue with …" was pressed (CSRF checked): off to the provider with a fresh state. */
  async function startFederated(ctx: Context, interaction: Interaction, name: string) {
    if (!federation?.has(name)) return unknownProvider(ctx);
    if (interaction.prompt.name !== 'login') return showPrompt(ctx, interaction);
    let destination: URL;
    try {
      destination = await federation.start(interaction.uid, name);
    } catch (error) {
      if (error instanceof BrowserSignInError) {
        return federatedFailed(ctx, interaction.uid, name, error.reason);
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
    if (!federation?.has(name)) return unknownProvider(ctx);
    if (ctx.method !== 'GET' && ctx.method !== 'POST')
      return send(
        ctx,
        405,
        messagePage(title, 'Not allowed', 'Start signing in again from the app.'),
      );
    const response =
      ctx.method === 'POST' ? await readForm(ctx.req) : new URLSearchParams(ctx.querystring);
    const forwarded = federation.forward(response);
    if (!forwarded) {
      return send(
        ctx,
        400,
        messagePage(
          title,
          'Sign-in failed',
          'This sign-in response is not valid or has expired. Start signing in again from the app.',
        ),
      );
    }
    ctx.set(PAGE_HEADERS);
    ctx.status = 303;
    ctx.redirect(`${base(forwarded.uid)}/federated/${name}/callback?${forwarded.query}`);
  }

  /** The response at the interaction: state taken, code exchanged, the interaction finished. */
  async function completeFederated(ctx: Context, uid: string, name: string) {
    if (!federation?.has(name)) return unknownProvider(ctx);
    if (ctx.method !== 'GET')
      return send(ctx, 405, messagePage(title, 'Not allowed', 'Use the form.'));
    const response = new URLSearchParams(ctx.querystring);
    // Taken before anything else is checked: a refused response uses its state up all the same.
    const started = await federation.takeState(response.get('state'));
    const interaction = await provider.interactionDetails(ctx.req, ctx.res);
    if (interaction.uid !== uid) throw new errors.SessionNotFound('interaction mismatch');
    // The state must be one this browser's interaction started (RFC 6749 §10.12).
    if (!started || started.uid !== interaction.uid || started.provider !== name) {
      return federatedFailed(ctx, uid, name, 'state');
    }
    if (interaction.prompt.name !== 'login') return showPrompt(ctx, interaction);
    let signIn: BrowserSignIn;
    try {
      signIn = await federation.complete(started, response, interaction.session?.accountId);
    } catch (error) {
      if (error instanceof BrowserSignInError) return federatedFailed(ctx, uid, name, error.reason);
      throw error;
    }
    await finish(ctx, { login: { accountId: signIn.account.accountId } }, false);
    federation.report(signIn, String(interaction.params.client_id));
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
      if (ctx.method !== 'GET' && ctx.method !== 'HEAD')
        return send(ctx, 405, messagePage(title, 'Not allowed', 'Use the form.'));
      return showPrompt(ctx, interaction);
    }
    if (ctx.method !== 'POST')
      return send(ctx, 405, messagePage(title, 'Not allowed', 'Use the form.'));
    const form = await readForm(ctx.req);
    if (!csrfValid(options.csrfSecret, uid, form.get('csrf'))) {
      return send(
        ctx,
        403,
        messagePage(
          title,
          'Request refused',
          'The form was not sent from this sign-in page. Start again from the app.',
        ),
      );
    }
    if (federatedName !== undefined) return startFederated(ctx, interaction, federatedName);
    if (action === 'abort') {
      return finish(
        ctx,
        { error: 'access_denied', error_description: 'End-User aborted interaction' },
        false,
      );
    }
    if (action === 'confirm') {
      if (interaction.prompt.name !== 'consent') return showPrompt(ctx, interaction);
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
    const username = form.get('username') ?? '';
    const password = form.get('password') ?? '';
    const checked = await signInAttempt(ctx, uid, username, () =>
      options.authenticate(username, password),
    );
    if (!checked) return;
    const { accountId } = checked;
    if (!accountId) {
      return send(ctx, 401, login(uid, { error: 'Wrong username or password.', username }));
    }
    return finish(ctx, { login: { accountId } }, false);
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
      if (error instanceof errors.SessionNotFound) {
        return send(
          ctx,
          400,
          messagePage(
            title,
            'Sign-in expired',
            'This sign-in session has expired or is unknown. Start signing in again from the app.',
          ),
        );
      }
      if (error instanceof FormTooLarge) {
        return send(
          ctx,
          413,
          messagePage(title, 'Request too large', 'Start signing in again from the app.'),
        );
      }
      throw error;
    }
  };
}
