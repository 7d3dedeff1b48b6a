import { createHash, randomBytes } from 'node:crypto';

/** Escapes a value for HTML text and double-quoted attribute values. @internal */
export const escapeHtml = (value: unknown): string =>
  String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// Touch targets at least 44 px tall; one column that fits a 390 px wide phone.
const STYLE =
  '*{box-sizing:border-box}' +
  'body{font-family:system-ui,sans-serif;line-height:1.5;margin:0;padding:2rem 1rem;color:#1f2328;background:#f6f8fa}' +
  'main{max-width:26rem;margin:0 auto;padding:1.5rem;background:#fff;border:1px solid #d0d7de;border-radius:.5rem}' +
  'h1{font-size:1.5rem;line-height:1.25;margin:0 0 1rem}' +
  '.product{margin:0 0 .25rem;color:#57606a;font-weight:600}' +
  'label{display:block;margin:1rem 0 .25rem;font-weight:600}' +
  'input{display:block;width:100%;min-height:44px;padding:.5rem .75rem;font:inherit;border:1px solid #8c959f;border-radius:.375rem}' +
  'input[aria-invalid="true"]{border:2px solid #b3261e}' +
  'button{display:block;width:100%;min-height:44px;margin-top:1rem;padding:.5rem 1rem;font:inherit;color:#1f2328;background:#f6f8fa;border:1px solid #8c959f;border-radius:.375rem;cursor:pointer}' +
  'button.primary{color:#fff;background:#0969da;border-color:#0969da;font-weight:600}' +
  'input:focus-visible,button:focus-visible{outline:3px solid #0969da;outline-offset:2px}' +
  '.error{color:#b3261e}.field-error{color:#b3261e;margin:.25rem 0 0}' +
  'ul{padding-left:1.25rem}form{margin:0}' +
  // The account pages: one item per passkey or install, its small print, a notice, the links.
  '[hidden]{display:none!important}' +
  '.items{list-style:none;padding:0}.items li{padding:.75rem 0;border-top:1px solid #d0d7de}' +
  '.meta{margin:.125rem 0;color:#57606a}.notice{color:#1a7f37}' +
  'nav{margin:0 0 1rem}nav a{display:inline-block;min-height:44px;padding:.625rem .5rem .625rem 0;margin-right:1rem;color:#0969da}nav a[aria-current="page"]{font-weight:600;color:#1f2328}' +
  // A long email or host (an Apple private relay address) wraps instead of widening the page.
  'h1,p{overflow-wrap:anywhere}' +
  '@media (max-width:30rem){body{padding:0;background:#fff}main{border:0;border-radius:0;padding:1.25rem 1rem}}';

// The built-in pages' only inline content is this style block, allowed by its hash.
const STYLE_HASH = `'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`;

const BASE_HEADERS = {
  'Cache-Control': 'no-store',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
} as const;

/**
 * Security headers for responses of ours that are no page (redirects): no framing, no caching,
 * nothing may load.
 *
 * @internal
 */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  ...BASE_HEADERS,
  'Content-Security-Policy': `default-src 'none'; frame-ancestors 'none'; base-uri 'none'`,
};

/** A fresh CSP nonce: 128 random bits. @internal */
export const newNonce = (): string => randomBytes(16).toString('base64');

/**
 * Security headers for one page: no framing, no caching, and a CSP that allows the built-in
 * style block by hash and only scripts and styles that carry this response's `nonce`; with
 * `connect`, scripts may also fetch from the same origin.
 *
 * @internal
 */
export function pageHeaders(nonce: string, connect = false): Readonly<Record<string, string>> {
  const connectSrc = connect ? ` connect-src 'self';` : '';
  // No form-action: it would also block the redirect to the app's custom-scheme callback.
  return {
    ...BASE_HEADERS,
    'Content-Security-Policy': `default-src 'none'; script-src 'nonce-${nonce}';${connectSrc} style-src ${STYLE_HASH} 'nonce-${nonce}'; frame-ancestors 'none'; base-uri 'none'`,
  };
}

/** A whole built-in HTML page around `body` (already escaped), in `language`. @internal */
export function htmlPage(page: { language: string; title: string }, body: string): string {
  return `<!doctype html><html lang="${escapeHtml(page.language)}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(page.title)}</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>`;
}
