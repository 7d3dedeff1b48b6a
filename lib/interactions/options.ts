// The page options (`interactions`): types, defaults, schema, resolved shape, and the rules on
// message catalogues, the default language and scope descriptions.
import { isPlainObject } from '../core/options/plain-object.js';
import type { DefaultsOf, WithDefaults } from '../core/options/resolve-types.js';
import { nonEmptyString, rateLimitOrOff } from '../core/options/schema-pieces.js';
import type { RateLimit } from '../storage/store.js';
import { BUILT_IN_MESSAGES, MESSAGE_KEYS, type PageMessages } from './messages.js';
import type { InteractionPages } from './views.js';

/**
 * The pages the user sees: sign-in, consent, errors and sign-out. See
 * [Branding and translating the pages](../../docs/pages.md).
 *
 * @group Options
 */
export interface InteractionPageOptions {
  /**
   * The product name shown in page titles (`Sign in – <title>`) and above each page's heading.
   *
   * @default 'Sign in'
   */
  title?: string;
  /**
   * Your own pages: a render hook per page receives the page's view model (what to show, its
   * forms with their CSRF fields, messages, the language, the CSP nonce) and returns the HTML.
   * A page without a hook is the built-in one.
   */
  pages?: InteractionPages;
  /**
   * Message catalogues by language tag (BCP 47, e.g. `fr` or `de-CH`), merged over the built-in
   * ones: English (`en`) and German (`de`). A language given here becomes available to
   * `ui_locales` and `Accept-Language`; the strings it lacks come from English.
   */
  messages?: Record<string, Partial<PageMessages>>;
  /**
   * The pages' language when neither the authorization request's `ui_locales` nor the
   * browser's `Accept-Language` names one there is a catalogue for. It must be `en`, `de` or a
   * language of {@link InteractionPageOptions.messages}.
   *
   * @default 'en'
   */
  defaultLanguage?: string;
  /**
   * What each scope allows, as the consent page lists it: one text for every language, or one
   * per language tag (a language without one falls back to `defaultLanguage`'s, then to the
   * built-in description). Built in: `openid`, `profile`, `email`, `offline_access` and the DCR
   * token scope ("Register this device"); any other scope without a description is shown by
   * its name.
   */
  scopeDescriptions?: Record<string, string | Record<string, string>>;
  /**
   * Throttling of failed sign-ins on the login page, counted in the store (so it holds across
   * processes). While a limit is reached the page answers `429` with `Retry-After`, the password
   * is not checked at all (a right one is refused too), and `signin.throttled` is emitted. Only
   * failures count; a successful sign-in does not use up the budget. `false` turns a limit off.
   */
  signInRateLimit?: SignInRateLimitOptions;
}

/**
 * Limits on failed sign-ins (see {@link InteractionPageOptions.signInRateLimit}).
 *
 * @group Options
 */
export interface SignInRateLimitOptions {
  /**
   * Failed sign-ins per submitted username from one client IP address. The username is keyed
   * as submitted (trimmed and lower-cased), whether or not such an account exists, so the limit
   * says nothing about which accounts exist. Keyed with the IP so that someone guessing
   * elsewhere cannot lock a user out. `false`: no limit.
   *
   * @default { points: 10, duration: 900 } (10 failures per 15 minutes)
   */
  perAccount?: RateLimit | false;
  /**
   * Failed sign-ins per client IP address, whatever the username (behind a proxy, see
   * {@link AuthServerOptions.proxy}). `false`: no limit.
   *
   * @default { points: 100, duration: 900 } (100 failures per 15 minutes)
   */
  perIp?: RateLimit | false;
  /**
   * Failed sign-ins per submitted username from all addresses together: a cap on guessing one
   * account from many addresses (a botnet). Keyed like `perAccount`, without the IP. When it is
   * reached, every sign-in with that username waits out the rest of the window (the password,
   * even a right one, is not checked); the cool-down ends by itself, so nobody is locked out for
   * good. Keep its `points` above `perAccount`'s, so that no single address can lock a user out
   * (it is stopped by `perAccount` first). `false`: no limit.
   *
   * @default { points: 20, duration: 300 } (20 failures per 5 minutes)
   */
  perUsername?: RateLimit | false;
}

/** Defaults of {@link AuthServerOptions.interactions}. @internal */
export const INTERACTION_DEFAULTS = {
  title: 'Sign in',
  defaultLanguage: 'en',
  signInRateLimit: {
    perAccount: { points: 10, duration: 900 },
    perIp: { points: 100, duration: 900 },
    perUsername: { points: 20, duration: 300 },
  },
} as const satisfies DefaultsOf<InteractionPageOptions>;

/** The schema of {@link AuthServerOptions.interactions}. @internal */
export const interactionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    title: nonEmptyString,
    pages: {
      type: 'object',
      additionalProperties: false,
      properties: {
        login: { isFunction: true },
        consent: { isFunction: true },
        error: { isFunction: true },
        logout: { isFunction: true },
        logoutSuccess: { isFunction: true },
        passkeys: { isFunction: true },
        devices: { isFunction: true },
        link: { isFunction: true },
        links: { isFunction: true },
        phoneWaiting: { isFunction: true },
      },
    },
    // Each catalogue names only known messages, so a misspelt one fails at start-up.
    messages: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: Object.fromEntries(MESSAGE_KEYS.map((key) => [key, nonEmptyString])),
      },
    },
    defaultLanguage: nonEmptyString,
    // Its values (a text, or texts by language) are checked by interactionProblems below.
    scopeDescriptions: { type: 'object' },
    signInRateLimit: {
      type: 'object',
      additionalProperties: false,
      properties: {
        perAccount: rateLimitOrOff,
        perIp: rateLimitOrOff,
        perUsername: rateLimitOrOff,
      },
    },
  },
} as const;

/** `interactions` with its defaults filled in. @internal */
export type ResolvedInteractionOptions = WithDefaults<
  InteractionPageOptions,
  typeof INTERACTION_DEFAULTS
>;

/** What the page rules read. @internal */
export interface InteractionRuleInput {
  interactions: ResolvedInteractionOptions;
}

/** Whether `tag` is a well-formed BCP 47 language tag. */
function isLanguageTag(tag: string): boolean {
  try {
    return Intl.getCanonicalLocales(tag).length === 1;
  } catch {
    return false;
  }
}

/**
 * The pages: catalogues under language tags, a default language there is one for, descriptions.
 *
 * @internal
 */
export function interactionProblems(o: InteractionRuleInput): string[] {
  const problems: string[] = [];
  const { messages = {}, defaultLanguage, scopeDescriptions = {} } = o.interactions;
  for (const tag of Object.keys(messages)) {
    if (!isLanguageTag(tag)) {
      problems.push(`options.interactions.messages.${tag} is not a BCP 47 language tag`);
    }
  }
  const languages = [...Object.keys(BUILT_IN_MESSAGES), ...Object.keys(messages)];
  if (!languages.some((tag) => tag.toLowerCase() === defaultLanguage.toLowerCase())) {
    problems.push(
      `options.interactions.defaultLanguage '${defaultLanguage}' has no catalogue: use ${languages.join(', ')}, or add it to options.interactions.messages`,
    );
  }
  for (const [scope, description] of Object.entries(scopeDescriptions)) {
    const at = `options.interactions.scopeDescriptions.${scope}`;
    if (typeof description === 'string') {
      if (description === '') problems.push(`${at} must not be empty`);
      continue;
    }
    if (!isPlainObject(description)) {
      problems.push(`${at} must be a string or an object of strings by language tag`);
      continue;
    }
    for (const [tag, text] of Object.entries(description)) {
      if (!isLanguageTag(tag)) problems.push(`${at}.${tag} is not a BCP 47 language tag`);
      else if (typeof text !== 'string' || text === '') {
        problems.push(`${at}.${tag} must be a non-empty string`);
      }
    }
  }
  return problems;
}
