import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { AccountClaims } from '../core/accounts.js';
import type { BrowserFederation } from '../federation/browser.js';
import type { InstanceManager } from '../instances/manager.js';
import type { NativeSsoManagement } from '../native-sso/types.js';
import type { PasskeyService } from '../passkeys/service.js';
import { csrfToken, csrfValid } from './csrf.js';
import { PAGE_HEADERS } from './html.js';
import type { PageMessages } from './messages.js';
import { pageRendererOf } from './provider-pages.js';
import type { AnyPageView, ErrorKind, PageRenderer } from './renderer.js';
import type { SignInThrottle } from './throttle.js';
import type { AccountLinks, PageForm } from './views.js';

/** What the account pages need. @internal */
export interface AccountRouteSettings {
  /** The issuer's URL path (`''` or e.g. `/oidc`). */
  basePath: string;
  /** The secret the pages' CSRF tokens are derived from. */
  csrfSecret: string;
  /** The instances the device page lists and revokes. */
  instances: InstanceManager;
  /** The passkey page, when passkeys are enabled. */
  passkeys?: PasskeyService;
  /** The device page's Native SSO device sessions, when a template takes part in it. */
  nativeSso?: NativeSsoManagement;
  findAccount(accountId: string): Promise<AccountClaims | undefined>;
  /**
   * The browser flow with the upstream providers: the linked accounts page (`/account/links`)
   * exists when it can link (`accounts.link`) and has a provider with `browser` options.
   */
  federation?: BrowserFederation;
  /** Checks the password the linked accounts page asks for before linking. */
  authenticate?(username: string, password: string): Promise<string | undefined>;
  /** The sign-in page's throttle: that password's failures count there too. */
  throttle?: SignInThrottle;
}

/** The signed-in user of this browser: its account and the session the pages' tokens bind to. */
export interface SignedIn {
  accountId: string;
  sessionId: string;
  /** When the session's account signed in, in seconds since the epoch. */
  loginTs: number | undefined;
}

/** One of the account pages, as named in its path (`/account/<page>`). */
export type AccountPage = 'passkeys' | 'devices' | 'links';

/**
 * What every account page's handler shares, built once by `createAccountRoutes`: the settings,
 * the pages' URLs and CSRF-protected forms, the signed-in user, and the HTML answers.
 *
 * @internal
 */
export class AccountPages {
  /** The browser federation when the linked accounts page exists (see the settings). */
  readonly linking: BrowserFederation | undefined;
  /** The navigation between the account pages that exist. */
  readonly links: AccountLinks;

  constructor(
    readonly provider: Provider,
    readonly settings: AccountRouteSettings,
  ) {
    const { federation, passkeys } = settings;
    this.linking = federation?.canLink && federation.buttons.length > 0 ? federation : undefined;
    this.links = {
      devices: this.url('devices'),
      ...(passkeys ? { passkeys: this.url('passkeys') } : {}),
      ...(this.linking ? { linkedAccounts: this.url('links') } : {}),
    };
  }

  /** The page's URL under the issuer's path. */
  url(page: AccountPage): string {
    return `${this.settings.basePath}/account/${page}`;
  }

  /** A form posting to `action` with the CSRF token of the user's session. */
  formFor(user: SignedIn, action: string): PageForm {
    return {
      action,
      csrf: {
        name: 'csrf',
        value: csrfToken(this.settings.csrfSecret, `account:${user.sessionId}`),
      },
    };
  }

  /** Whether a posted form carries the CSRF token of the user's session. */
  csrfValid(user: SignedIn, form: URLSearchParams): boolean {
    return csrfValid(this.settings.csrfSecret, `account:${user.sessionId}`, form.get('csrf'));
  }

  // Looked up per request: the interaction routes register the provider's renderer (usePages).
  renderer(): PageRenderer {
    return pageRendererOf(this.provider);
  }

  /** The request's language: its `ui_locales`, else `Accept-Language`. */
  languageOf(ctx: Context): string {
    return this.renderer().language({
      uiLocales: ctx.query.ui_locales,
      acceptLanguage: ctx.get('accept-language'),
    });
  }

  /** The page texts in the request's language. */
  messagesOf(ctx: Context): Readonly<PageMessages> {
    return this.renderer().messages(this.languageOf(ctx));
  }

  /** Renders `view` as the response: its status, headers and HTML. */
  async send(ctx: Context, view: AnyPageView): Promise<void> {
    const page = await this.renderer().render(view, (error) =>
      this.provider.emit('server_error', ctx, error),
    );
    ctx.status = page.status;
    ctx.set(page.headers);
    ctx.type = 'html';
    ctx.body = page.html;
  }

  /** The error page of `kind` with `status`. */
  fail(ctx: Context, status: number, kind: ErrorKind): Promise<void> {
    return this.send(ctx, this.renderer().errorView(this.languageOf(ctx), status, kind));
  }

  /** 303 to `location`, so a reload does not post again. */
  seeOther(ctx: Context, location: string): void {
    ctx.set(PAGE_HEADERS);
    ctx.status = 303;
    ctx.redirect(location);
  }

  /** This browser's signed-in user: a live session of an account that still exists. */
  async signedIn(ctx: Context): Promise<SignedIn | undefined> {
    const session = await this.provider.Session.get(ctx);
    const { accountId } = session;
    if (!accountId || !(await this.settings.findAccount(accountId))) return undefined;
    const loginTs = typeof session.loginTs === 'number' ? session.loginTs : undefined;
    return { accountId, sessionId: session.uid, loginTs };
  }
}

/** `{ [key]: value }` when the value is set, else `{}`: for optional view fields. */
export function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]?: V });
}
