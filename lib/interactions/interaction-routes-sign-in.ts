import type { Context } from 'koa';
import { clientAddress } from '../http/client-address.js';
import { parseAssertion } from '../passkeys/service.js';
import { StorageUnavailableError } from '../storage/guard.js';
import type { Interaction } from './consent.js';
import type { SignInEvent } from './events.js';
import {
  fail,
  finish,
  type InteractionSite,
  languageOf,
  login,
} from './interaction-routes-site.js';
import { formatMessage, waitingTime } from './messages.js';
import { acceptsKind, loginOf } from './sign-in-acr.js';
import type { LoginFieldErrors } from './views.js';

/** Tells of a checked sign-in (not a throttled one): ids only, never what was presented. */
function report(
  site: InteractionSite,
  ctx: Context,
  interaction: Interaction,
  method: SignInEvent['method'],
  accountId: string | undefined,
): void {
  const { onSignIn } = site.options;
  if (!onSignIn) return;
  const event: SignInEvent = {
    method,
    clientId: String(interaction.params.client_id),
    ip: clientAddress(ctx).address,
  };
  if (accountId) onSignIn('succeeded', { ...event, accountId });
  else onSignIn('failed', event);
}

/**
 * Checks the password through the sign-in throttle: answers `429` (the password unchecked)
 * while a limit is reached, and `503` when the limits cannot be read; resolves `undefined` then.
 * @internal
 */
export async function signInAttempt(
  site: InteractionSite,
  ctx: Context,
  interaction: Interaction,
  username: string,
  check: () => Promise<string | undefined>,
  shownUsername = username,
): Promise<{ accountId: string | undefined } | undefined> {
  const throttle = site.options.throttle;
  if (!throttle) return { accountId: await check() };
  let outcome: Awaited<ReturnType<typeof throttle.attempt>>;
  try {
    outcome = await throttle.attempt(username, clientAddress(ctx), check);
  } catch (error) {
    if (!(error instanceof StorageUnavailableError)) throw error;
    await fail(site, ctx, 503, 'unavailable', interaction);
    return undefined;
  }
  if ('accountId' in outcome) return outcome;
  const { retryAfterSeconds } = outcome.throttled;
  const messages = site.pages.messages(languageOf(site, ctx, interaction));
  await login(site, ctx, interaction, 429, {
    error: formatMessage(messages.throttled, {
      wait: waitingTime(retryAfterSeconds, messages),
    }),
    username: shownUsername,
  });
  ctx.set('Retry-After', String(retryAfterSeconds));
  return undefined;
}

/**
 * The username and password posted; a field left empty is an error on it, not an attempt.
 * @internal
 */
export async function passwordSignIn(
  site: InteractionSite,
  ctx: Context,
  interaction: Interaction,
  form: URLSearchParams,
) {
  // Not a way this request may sign in (acr_values): the password is not checked.
  if (!acceptsKind(interaction.params.acr_values, site.kinds, 'password')) {
    return login(site, ctx, interaction, 400);
  }
  const username = form.get('username') ?? '';
  const password = form.get('password') ?? '';
  const messages = site.pages.messages(languageOf(site, ctx, interaction));
  const fieldErrors: LoginFieldErrors = {
    ...(username.trim() === '' ? { username: messages.usernameRequired } : {}),
    ...(password === '' ? { password: messages.passwordRequired } : {}),
  };
  if (fieldErrors.username || fieldErrors.password) {
    return login(site, ctx, interaction, 400, { fieldErrors, username });
  }
  const checked = await signInAttempt(site, ctx, interaction, username, () =>
    site.options.authenticate(username, password),
  );
  if (!checked) return;
  const { accountId } = checked;
  report(site, ctx, interaction, 'password', accountId);
  if (!accountId) {
    // Tied to the password field, where the user types again (the username is kept).
    return login(site, ctx, interaction, 401, {
      fieldErrors: { password: messages.wrongCredentials },
      username,
    });
  }
  return finish(site, ctx, loginOf(accountId, 'password'), false);
}

/**
 * A passkey's assertion posted from the login page: throttled like a password (keyed by the
 * passkey's account), verified, and the interaction finished like a password sign-in.
 * @internal
 */
export async function passkeySignIn(
  site: InteractionSite,
  ctx: Context,
  interaction: Interaction,
  form: URLSearchParams,
) {
  const passkeys = site.options.passkeys;
  if (!passkeys) return fail(site, ctx, 404, 'notFound', interaction);
  if (!acceptsKind(interaction.params.acr_values, site.kinds, 'passkey')) {
    return login(site, ctx, interaction, 400);
  }
  const assertion = parseAssertion(form.get('credential'));
  const checked = await signInAttempt(
    site,
    ctx,
    interaction,
    await passkeys.throttleKey(assertion),
    async () => {
      const outcome = await passkeys.signIn(interaction.uid, assertion, clientAddress(ctx).address);
      return 'accountId' in outcome ? outcome.accountId : undefined;
    },
    '',
  );
  if (!checked) return;
  const { accountId } = checked;
  report(site, ctx, interaction, 'passkey', accountId);
  if (!accountId) {
    const messages = site.pages.messages(languageOf(site, ctx, interaction));
    return login(site, ctx, interaction, 401, { error: messages.passkeyFailed });
  }
  return finish(site, ctx, loginOf(accountId, 'passkey'), false);
}
