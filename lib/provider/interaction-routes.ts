import type { Context, Middleware } from 'koa';
import type Provider from 'oidc-provider';
import { errors, type InteractionResults } from 'oidc-provider';
import { csrfToken, csrfValid } from '../interactions/csrf.js';
import { FormTooLarge, readForm } from '../interactions/form.js';
import { PAGE_HEADERS } from '../interactions/html.js';
import { consentPage, loginPage, messagePage } from '../interactions/pages.js';
import type { InteractionOptions } from '../interactions/types.js';
import { StorageUnavailableError } from '../storage/guard.js';
import { consentDetails, grantConsent, type Interaction } from './consent.js';

const ROUTE = /^\/interaction\/([\w-]+)(?:\/(login|confirm|abort))?\/?$/;

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
    if (interaction.prompt.name === 'login') {
      return send(ctx, 200, loginPage(title, `${base(interaction.uid)}/login`, csrf));
    }
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
      loginPage(title, `${base(uid)}/login`, csrfToken(options.csrfSecret, uid), {
        error: `Too many failed sign-in attempts. For your security, signing in is paused: try again in ${waitingTime(retryAfterSeconds)}.`,
        username,
      }),
    );
    ctx.set('Retry-After', String(retryAfterSeconds));
    return undefined;
  }

  async function handle(ctx: Context, uid: string, action: string | undefined) {
    const interaction = await provider.interactionDetails(ctx.req, ctx.res);
    if (interaction.uid !== uid) throw new errors.SessionNotFound('interaction mismatch');
    if (!action) {
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
      const csrf = csrfToken(options.csrfSecret, uid);
      return send(
        ctx,
        401,
        loginPage(title, `${base(uid)}/login`, csrf, {
          error: 'Wrong username or password.',
          username,
        }),
      );
    }
    return finish(ctx, { login: { accountId } }, false);
  }

  return async function interactionRoutes(ctx, next) {
    const match = ROUTE.exec(ctx.path);
    if (!match) return next();
    try {
      await handle(ctx, match[1] as string, match[2]);
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
