// Real-browser tests: one headless Chromium (Debian's, driven by playwright-core) per test file,
// a fresh context for every page, axe-core accessibility checks, layout checks, the app redirect
// at the end of a sign-in, and a WebAuthn virtual authenticator for passkey tests.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { after } from 'node:test';
import type { Result as AxeResult } from 'axe-core';
import {
  type Browser,
  type BrowserContext,
  type CDPSession,
  chromium,
  type Page,
} from 'playwright-core';

/** The Chromium the tests drive: `CHROMIUM_PATH`, or Debian's package. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/**
 * Chromium's flags on this closed network: no background connections (they would be refused,
 * many at a time), no QUIC, no GPU, no first-run or sync. playwright-core adds `--headless` and
 * a fresh `--user-data-dir` of its own, which it deletes on close. `--no-sandbox`: the tests run
 * as root, where Chromium's sandbox refuses to start.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The two widths the pages are checked at. */
export type Viewport = 'desktop' | 'phone';

const VIEWPORTS = {
  desktop: { viewport: { width: 1280, height: 800 } },
  // A current phone in CSS pixels (iPhone 12 to 15 class).
  phone: {
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 3,
    isMobile: true,
    hasTouch: true,
  },
} satisfies Record<Viewport, Parameters<Browser['newContext']>[0]>;

/** Options of {@link ChromiumForTests.newPage}. */
export interface NewPageOptions {
  /** @default 'desktop' */
  viewport?: Viewport;
}

/** The test file's Chromium. */
export interface ChromiumForTests {
  /** The running browser (launched on first use). */
  browser(): Promise<Browser>;
  /** A page in a new context of its own: no cookies or storage shared with other pages. */
  newPage(options?: NewPageOptions): Promise<Page>;
}

/**
 * The test file's Chromium: launched on the first `newPage`, closed with every context it opened
 * in an `after` hook. Call it once at the top of a test file.
 */
export function useChromium(): ChromiumForTests {
  let launched: Promise<Browser> | undefined;
  const contexts = new Set<BrowserContext>();
  const browser = () => {
    launched ??= launchChromium();
    return launched;
  };
  after(async () => {
    if (!launched) return;
    const running = await launched.catch(() => undefined);
    await Promise.allSettled([...contexts].map((context) => context.close()));
    await running?.close();
  });
  return {
    browser,
    async newPage({ viewport = 'desktop' } = {}) {
      const context = await (await browser()).newContext(VIEWPORTS[viewport]);
      contexts.add(context);
      context.once('close', () => contexts.delete(context));
      // Fail a step in seconds, not playwright's 30 s: every page here is served on loopback.
      context.setDefaultTimeout(10_000);
      return context.newPage();
    },
  };
}

/** Launches headless Chromium with {@link CHROMIUM_ARGS}; says how to install it when missing. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `no Chromium at ${CHROMIUM_PATH}: install Debian's package (apt-get install chromium, as .ci/run does) or set CHROMIUM_PATH`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS] });
}

/**
 * Runs `action` (a click, say) and resolves the URL the browser was then sent to under
 * `redirectUri`: the app's custom-scheme callback, which Chromium requests and aborts (no app
 * handles the scheme), so the page itself stays where it was.
 */
export async function appRedirect(
  page: Page,
  redirectUri: string,
  action: () => Promise<unknown>,
): Promise<URL> {
  const request = page.waitForRequest((r) => r.url().startsWith(redirectUri));
  await action();
  return new URL((await request).url());
}

// axe-core -------------------------------------------------------------------------------------

const resolve = createRequire(import.meta.url).resolve;
let axeSource: Promise<string> | undefined;

/**
 * Puts axe-core into the page's main world, unless it is there already. Not with
 * `page.addScriptTag`: that inserts an inline `<script>`, which our pages' CSP (`default-src
 * 'none'`) refuses. `page.evaluate` runs the source through the DevTools protocol, which the
 * page's CSP does not govern, so the page keeps its real CSP (no `bypassCSP`, which would hide a
 * style the CSP blocks from the checks).
 */
async function injectAxe(page: Page): Promise<void> {
  if (await page.evaluate<boolean>('typeof window.axe === "object"')) return;
  axeSource ??= readFile(resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(await axeSource);
}

/** The impacts that fail a check. */
const FAILING_IMPACTS = new Set(['serious', 'critical']);

/** Every axe-core violation on the page as it is now, all impacts. */
export async function axeViolations(page: Page): Promise<AxeResult[]> {
  await injectAxe(page);
  return page.evaluate<AxeResult[]>(
    "axe.run(document, { resultTypes: ['violations'] }).then((results) => results.violations)",
  );
}

/** One violation as text: impact, rule, what it means, where, and axe's summary of the fix. */
export function formatAxeViolation(violation: AxeResult): string {
  const nodes = violation.nodes.map((node) => {
    const summary = (node.failureSummary ?? '').replaceAll('\n', '\n      ');
    return `  at ${node.target.join(' ')}: ${node.html}\n      ${summary}`;
  });
  return [
    `[${violation.impact}] ${violation.id}: ${violation.help} (${violation.helpUrl})`,
    ...nodes,
  ].join('\n');
}

/**
 * The page's serious and critical axe-core violations, each formatted by
 * {@link formatAxeViolation}: `[]` when there are none, so `assert.deepEqual(…, [])` shows them.
 */
export async function seriousAxeViolations(page: Page): Promise<string[]> {
  return (await axeViolations(page))
    .filter((violation) => FAILING_IMPACTS.has(violation.impact ?? ''))
    .map(formatAxeViolation);
}

// Layout ---------------------------------------------------------------------------------------

/** The document's width against the viewport's: wider means the page scrolls sideways. */
export function documentWidth(page: Page): Promise<{ scrollWidth: number; innerWidth: number }> {
  return page.evaluate(
    '({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth })',
  );
}

/** Every visible button (by accessible role) with its accessible text and size in CSS pixels. */
export async function buttonSizes(
  page: Page,
): Promise<Array<{ name: string; width: number; height: number }>> {
  const sizes = [];
  for (const button of await page.getByRole('button').all()) {
    const box = await button.boundingBox();
    if (!box) continue; // not rendered
    const name = (await button.getAttribute('aria-label')) ?? (await button.textContent()) ?? '';
    sizes.push({ name: name.trim(), width: box.width, height: box.height });
  }
  return sizes;
}

// WebAuthn -------------------------------------------------------------------------------------

/** A virtual authenticator in one page's browser context, for passkey ceremonies. */
export interface VirtualAuthenticator {
  /** Chromium's id for it. */
  id: string;
  /** The DevTools session it lives in (closing it removes the authenticator). */
  cdp: CDPSession;
  /** The credentials it holds (ids and user handles base64, RP ids, resident or not). */
  credentials(): Promise<
    Array<{
      credentialId: string;
      rpId?: string;
      userHandle?: string;
      isResidentCredential: boolean;
    }>
  >;
}

/**
 * Adds a platform authenticator to `page` through the DevTools protocol: CTAP2 over the
 * `internal` transport, with resident keys (passkeys) and user verification that always
 * succeeds, so `navigator.credentials.create()`/`get()` complete without a prompt.
 *
 * WebAuthn needs a secure context and a domain as the RP ID: `http://localhost` is both; at
 * `http://127.0.0.1` the page is a secure context but an IP address is no RP ID, and Chromium
 * refuses the ceremony with a SecurityError. Passkey tests serve their pages at `localhost`.
 */
export async function addVirtualAuthenticator(page: Page): Promise<VirtualAuthenticator> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
    },
  });
  return {
    id: authenticatorId,
    cdp,
    async credentials() {
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      return credentials;
    },
  };
}
