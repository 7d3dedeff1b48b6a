import { CookieJar } from 'tough-cookie';

/** Where {@link Browser.follow} stopped. */
export interface Followed {
  /** The last response: a page, or the redirect that left the server. */
  response: Response;
  /** The URL `response` was fetched from. */
  url: string;
  /** The `Location` of a redirect to a non-http(s) scheme or to the callback prefix, if any. */
  location?: string;
}

/** Options of {@link Browser.follow}. */
export interface FollowOptions {
  /** Stop at a redirect whose Location starts with this (e.g. an https app-link callback). */
  callbackPrefix?: string;
  /** Give up after this many redirects. @default 20 */
  maxRedirects?: number;
}

/** A form on one of our pages: its absolute action URL, method and hidden inputs. */
export interface HtmlForm {
  action: string;
  method: string;
  hidden: Record<string, string>;
}

const isRedirect = (status: number) => status >= 300 && status < 400;

/**
 * A test "browser" over real HTTP: global `fetch` with manual redirects and a cookie jar, so
 * tests see every hop (and the final redirect to the app) like a user agent would.
 */
export class Browser {
  /** The cookies this browser holds. */
  readonly jar = new CookieJar();

  /** One request with this browser's cookies; Set-Cookie headers go into the jar. */
  async request(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const href = String(url);
    const headers = new Headers(init.headers);
    const cookie = await this.jar.getCookieString(href);
    if (cookie) headers.set('cookie', cookie);
    const response = await fetch(href, { ...init, headers, redirect: 'manual' });
    for (const setCookie of response.headers.getSetCookie()) {
      await this.jar.setCookie(setCookie, href);
    }
    return response;
  }

  /** A GET, redirects not followed. */
  get(url: string | URL): Promise<Response> {
    return this.request(url);
  }

  /** A form post (`application/x-www-form-urlencoded`), redirects not followed. */
  postForm(url: string | URL, fields: Record<string, string>): Promise<Response> {
    return this.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  }

  /**
   * Follows redirects from `response` with GETs until a response that is not a redirect, or a
   * redirect to a non-http(s) scheme (a native app's callback) or to `callbackPrefix`, whose
   * Location is then returned without being fetched.
   */
  async follow(response: Response, options: FollowOptions = {}): Promise<Followed> {
    const { callbackPrefix, maxRedirects = 20 } = options;
    let current = response;
    let url = response.url;
    for (let hops = 0; ; hops += 1) {
      const location = current.headers.get('location');
      if (!isRedirect(current.status) || location === null) return { response: current, url };
      const target = new URL(location, url);
      const toApp = target.protocol !== 'http:' && target.protocol !== 'https:';
      const toCallback =
        callbackPrefix !== undefined &&
        (location.startsWith(callbackPrefix) || target.href.startsWith(callbackPrefix));
      if (toApp || toCallback) return { response: current, url, location };
      if (hops >= maxRedirects) throw new Error(`more than ${maxRedirects} redirects from ${url}`);
      // Drain the redirect's body so the connection can be reused.
      await current.arrayBuffer();
      url = target.href;
      current = await this.get(url);
    }
  }
}

/** Decodes the character references our pages' attribute values use. */
export function decodeEntities(value: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  return value.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, ref: string) => {
    if (ref[0] === '#') {
      const code =
        ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : Number(ref.slice(1));
      return String.fromCodePoint(code);
    }
    return named[ref.toLowerCase()] ?? whole;
  });
}

const attr = (tag: string, name: string): string | undefined => {
  const match = new RegExp(`\\b${name}="([^"]*)"`, 'i').exec(tag);
  return match?.[1] === undefined ? undefined : decodeEntities(match[1]);
};

/**
 * The forms of a page, with absolute actions (resolved against `pageUrl`) and hidden inputs.
 * A regex over our own simple markup (double-quoted attributes), not a general HTML parser.
 */
export function formsOf(html: string, pageUrl: string): HtmlForm[] {
  return [...html.matchAll(/(<form\b[^>]*>)([\s\S]*?)<\/form>/gi)].map(
    ([, open = '', inner = '']) => ({
      action: new URL(attr(open, 'action') ?? '', pageUrl).href,
      method: (attr(open, 'method') ?? 'get').toLowerCase(),
      hidden: Object.fromEntries(
        [...inner.matchAll(/<input\b[^>]*>/gi)]
          .map(([input]) => input)
          .filter((input) => attr(input, 'type')?.toLowerCase() === 'hidden')
          .map((input) => [attr(input, 'name') ?? '', attr(input, 'value') ?? '']),
      ),
    }),
  );
}

/** The one form whose action path ends with `suffix` (e.g. `/login`); throws when absent. */
export function formOf(html: string, pageUrl: string, suffix: string): HtmlForm {
  const form = formsOf(html, pageUrl).find((f) => new URL(f.action).pathname.endsWith(suffix));
  if (!form) throw new Error(`no form with an action ending in ${suffix} at ${pageUrl}`);
  return form;
}
