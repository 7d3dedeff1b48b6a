import { newNonce, pageHeaders } from './html.js';
import { pickLanguage } from './language.js';
import { BUILT_IN_MESSAGES, ENGLISH, formatMessage, type PageMessages } from './messages.js';
import {
  consentPage,
  devicesPage,
  errorPage,
  linkPage,
  linksPage,
  loginPage,
  logoutPage,
  logoutSuccessPage,
  passkeysPage,
  phoneWaitingPage,
} from './pages.js';
import type {
  ConsentView,
  ErrorView,
  InstancesView,
  InteractionPages,
  LinksView,
  LinkView,
  LoginView,
  LogoutSuccessView,
  LogoutView,
  PageView,
  PasskeysView,
  PhoneWaitingView,
} from './views.js';

/** Every page's view model. @internal */
export type AnyPageView =
  | LoginView
  | ConsentView
  | ErrorView
  | LogoutView
  | LogoutSuccessView
  | PasskeysView
  | InstancesView
  | LinkView
  | LinksView
  | PhoneWaitingView;

/** What the pages are configured with (`interactions` options). @internal */
export interface PageSettings {
  /** The product name in page titles. @default 'Sign in' */
  title?: string | undefined;
  /** Render hooks; a page without one is built in. */
  pages?: InteractionPages | undefined;
  /** Catalogues by language tag, merged over the built-in ones. */
  messages?: Readonly<Record<string, Partial<PageMessages>>> | undefined;
  /** The language when the request names none there is a catalogue for. @default 'en' */
  defaultLanguage?: string | undefined;
  /** Scope descriptions: one text, or one per language. */
  scopeDescriptions?:
    | Readonly<Record<string, string | Readonly<Record<string, string>>>>
    | undefined;
  /** The DCR token scope, described by the `scopeDcr` message. @default 'dcr' */
  dcrScope?: string | undefined;
}

/** The error pages there are, each a `…Heading` and a `…Message` in the catalogue. @internal */
export type ErrorKind =
  | 'error'
  | 'expired'
  | 'refused'
  | 'notAllowed'
  | 'tooLarge'
  | 'unsupported'
  | 'unknownApp'
  | 'notFound'
  | 'unavailable'
  | 'invalidResponse'
  | 'serverError'
  | 'signedOut'
  | 'gone'
  | 'staleForm';

/** A page ready to send: its status, headers (with its CSP nonce) and HTML. @internal */
export interface RenderedPage {
  status: number;
  language: string;
  headers: Readonly<Record<string, string>>;
  html: string;
}

// The built-in description of each scope, by the message that holds it.
const SCOPE_MESSAGES: Readonly<Record<string, keyof PageMessages>> = {
  openid: 'scopeOpenid',
  profile: 'scopeProfile',
  email: 'scopeEmail',
  offline_access: 'scopeOfflineAccess',
  device_sso: 'scopeDeviceSso',
};

/** A language tag in its canonical case (`de-ch` → `de-CH`), or as given when it is none. */
function canonical(tag: string): string {
  try {
    return Intl.getCanonicalLocales(tag)[0] ?? tag;
  } catch {
    return tag;
  }
}

/** The value of `entries` for `language`, its keys compared case-insensitively. */
const forLanguage = (entries: Readonly<Record<string, string>>, language: string) =>
  Object.entries(entries).find(([tag]) => tag.toLowerCase() === language.toLowerCase())?.[1];

function builtInPage(view: AnyPageView): string {
  switch (view.page) {
    case 'login':
      return loginPage(view);
    case 'consent':
      return consentPage(view);
    case 'error':
      return errorPage(view);
    case 'logout':
      return logoutPage(view);
    case 'logoutSuccess':
      return logoutSuccessPage(view);
    case 'passkeys':
      return passkeysPage(view);
    case 'devices':
      return devicesPage(view);
    case 'link':
      return linkPage(view);
    case 'links':
      return linksPage(view);
    case 'phoneWaiting':
      return phoneWaitingPage(view);
  }
}

/** The product's hook for `view`'s page, bound to the view; `undefined` when it has none. */
function hookFor(
  pages: InteractionPages,
  view: AnyPageView,
): (() => string | Promise<string>) | undefined {
  switch (view.page) {
    case 'login': {
      const hook = pages.login;
      return hook && (() => hook.call(pages, view));
    }
    case 'consent': {
      const hook = pages.consent;
      return hook && (() => hook.call(pages, view));
    }
    case 'error': {
      const hook = pages.error;
      return hook && (() => hook.call(pages, view));
    }
    case 'logout': {
      const hook = pages.logout;
      return hook && (() => hook.call(pages, view));
    }
    case 'logoutSuccess': {
      const hook = pages.logoutSuccess;
      return hook && (() => hook.call(pages, view));
    }
    case 'passkeys': {
      const hook = pages.passkeys;
      return hook && (() => hook.call(pages, view));
    }
    case 'devices': {
      const hook = pages.devices;
      return hook && (() => hook.call(pages, view));
    }
    case 'link': {
      const hook = pages.link;
      return hook && (() => hook.call(pages, view));
    }
    case 'links': {
      const hook = pages.links;
      return hook && (() => hook.call(pages, view));
    }
    case 'phoneWaiting': {
      const hook = pages.phoneWaiting;
      return hook && (() => hook.call(pages, view));
    }
  }
}

/**
 * The pages' language, catalogues and render hooks: builds the parts of the view models every
 * page shares, and renders a view with its hook or the built-in page.
 *
 * @internal
 */
export class PageRenderer {
  readonly #title: string;
  readonly #hooks: InteractionPages;
  readonly #languages: readonly string[];
  readonly #catalogues = new Map<string, Readonly<PageMessages>>();
  readonly #defaultLanguage: string;
  readonly #scopeDescriptions: PageSettings['scopeDescriptions'];
  readonly #dcrScope: string;

  constructor(settings: PageSettings = {}) {
    this.#title = settings.title ?? 'Sign in';
    this.#hooks = settings.pages ?? {};
    this.#scopeDescriptions = settings.scopeDescriptions;
    this.#dcrScope = settings.dcrScope ?? 'dcr';
    const own = new Map<string, Partial<PageMessages>>();
    for (const [tag, messages] of Object.entries(settings.messages ?? {})) {
      own.set(canonical(tag), { ...own.get(canonical(tag)), ...messages });
    }
    // Strings a language lacks come from English, with the product's own English ones.
    const english = { ...ENGLISH, ...own.get('en') };
    const languages = [...new Set([...Object.keys(BUILT_IN_MESSAGES), ...own.keys()])];
    for (const tag of languages) {
      this.#catalogues.set(tag, { ...english, ...BUILT_IN_MESSAGES[tag], ...own.get(tag) });
    }
    this.#languages = languages;
    const wanted = settings.defaultLanguage ?? 'en';
    this.#defaultLanguage = pickLanguage({ uiLocales: wanted }, languages, 'en');
  }

  /** The page's language for a request's `ui_locales` and `Accept-Language`. */
  language(request: { uiLocales?: unknown; acceptLanguage?: string | undefined }): string {
    return pickLanguage(request, this.#languages, this.#defaultLanguage);
  }

  /** The catalogue of `language` (one of {@link PageRenderer.language}'s answers). */
  messages(language: string): Readonly<PageMessages> {
    return this.#catalogues.get(language) ?? (this.#catalogues.get('en') as PageMessages);
  }

  /**
   * What every view carries, for a page titled `step`. Each view gets its own copy of the
   * catalogue, so a hook that changes it changes nothing else.
   */
  base(language: string, step: string, status: number): Omit<PageView, 'page'> {
    const messages = { ...this.messages(language) };
    const title =
      step === this.#title
        ? step
        : formatMessage(messages.pageTitle, { step, product: this.#title });
    return { status, language, messages, title, productName: this.#title, cspNonce: newNonce() };
  }

  /** An error page's view: the heading and message of `kind`, in `language`. */
  errorView(
    language: string,
    status: number,
    kind: ErrorKind,
    details: { error?: string; errorDescription?: string } = {},
  ): ErrorView {
    const messages = this.messages(language);
    const heading = messages[`${kind}Heading`];
    return {
      ...this.base(language, heading, status),
      page: 'error',
      heading,
      message: messages[`${kind}Message`],
      ...details,
    };
  }

  /** What `scope` allows, in `language`; `undefined` for a scope without a description. */
  scopeDescription(scope: string, language: string): string | undefined {
    const descriptions = this.#scopeDescriptions ?? {};
    const own = Object.hasOwn(descriptions, scope) ? descriptions[scope] : undefined;
    if (typeof own === 'string') return own;
    const mine = own && (forLanguage(own, language) ?? forLanguage(own, this.#defaultLanguage));
    if (mine) return mine;
    const key =
      scope === this.#dcrScope
        ? 'scopeDcr'
        : Object.hasOwn(SCOPE_MESSAGES, scope)
          ? SCOPE_MESSAGES[scope]
          : undefined;
    return key && this.messages(language)[key];
  }

  /**
   * Renders `view` with its hook, or the built-in page. A hook that throws or returns no string
   * is reported to `onFailure`; the user then gets a `500` error page (the product's, unless
   * that one fails too).
   */
  async render(view: AnyPageView, onFailure: (error: unknown) => void): Promise<RenderedPage> {
    try {
      return await this.#rendered(view, hookFor(this.#hooks, view));
    } catch (error) {
      onFailure(error);
    }
    const failed = this.errorView(view.language, 500, 'serverError');
    if (view.page !== 'error') {
      try {
        return await this.#rendered(failed, hookFor(this.#hooks, failed));
      } catch (error) {
        onFailure(error);
      }
    }
    return this.#rendered(failed, undefined);
  }

  async #rendered(
    view: AnyPageView,
    hook: (() => string | Promise<string>) | undefined,
  ): Promise<RenderedPage> {
    const html = hook ? await hook() : builtInPage(view);
    if (typeof html !== 'string') {
      throw new TypeError(`the ${view.page} page's render hook returned no string`);
    }
    return {
      status: view.status,
      language: view.language,
      headers: {
        // The waiting page's script polls its status URL: the only page that connects.
        ...pageHeaders(view.cspNonce, view.page === 'phoneWaiting'),
        'Content-Language': view.language,
      },
      html,
    };
  }
}
