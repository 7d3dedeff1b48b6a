// The browser tests' own helpers (test/helpers/chromium.ts) against small pages of this file's:
// the two viewports, axe-core under a strict CSP, and the WebAuthn virtual authenticator.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import {
  addVirtualAuthenticator,
  axeViolations,
  documentWidth,
  seriousAxeViolations,
  useChromium,
} from '../helpers/chromium.js';
import { type Listening, listen } from '../helpers/listen.js';

const chromium = useChromium();

// The sign-in pages' CSP, minus their style hash: no script of the page's own may run.
const CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";
const head = '<!doctype html><html lang="en"><head><meta charset="utf-8">';
const viewportMeta = '<meta name="viewport" content="width=device-width, initial-scale=1">';
const PAGES: Record<string, string> = {
  '/clean': `${head}${viewportMeta}<title>Clean</title></head><body><main><h1>Clean</h1><button type="button">Go</button></main></body></html>`,
  // A button without a name and an image without a text alternative: both critical for axe.
  '/unlabelled': `${head}${viewportMeta}<title>Unlabelled</title></head><body><main><h1>Unlabelled</h1><button type="button"></button><img src="data:,"></main></body></html>`,
};

let site: Listening;
before(async () => {
  site = await listen();
  site.handle((req, res) => {
    const page = PAGES[req.url ?? ''];
    res.writeHead(page ? 200 : 404, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': CSP,
    });
    res.end(page ?? 'not found');
  });
});
after(() => site.close());

/** Console messages about the CSP refusing something. */
function cspReports(page: Page): string[] {
  const reports: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) reports.push(message.text());
  });
  return reports;
}

describe('newPage', () => {
  it('desktop: a 1280 px wide window', async () => {
    const page = await chromium.newPage({ viewport: 'desktop' });
    await page.goto(`${site.url}/clean`);
    assert.equal((await documentWidth(page)).innerWidth, 1280);
  });

  it('phone: 390 CSS px, 3 device pixels per CSS px, touch', async () => {
    const page = await chromium.newPage({ viewport: 'phone' });
    await page.goto(`${site.url}/clean`);
    assert.deepEqual(
      await page.evaluate(
        '({ width: innerWidth, ratio: devicePixelRatio, touch: navigator.maxTouchPoints > 0 })',
      ),
      { width: 390, ratio: 3, touch: true },
    );
  });

  it('gives every page its own cookies', async () => {
    const first = await chromium.newPage();
    await first.context().addCookies([{ name: 'a', value: '1', url: site.url }]);
    const second = await chromium.newPage();
    assert.deepEqual(await second.context().cookies(site.url), []);
  });
});

describe('axe-core', () => {
  it('runs under a CSP without scripts, and the page sees no CSP refusal', async () => {
    const page = await chromium.newPage();
    const reports = cspReports(page);
    await page.goto(`${site.url}/clean`);
    assert.deepEqual(await seriousAxeViolations(page), []);
    assert.ok(Array.isArray(await axeViolations(page)), 'runs twice on one document');
    assert.deepEqual(reports, []);
  });

  it('reports critical violations by rule, element and fix', async () => {
    const page = await chromium.newPage();
    await page.goto(`${site.url}/unlabelled`);
    const found = await seriousAxeViolations(page);
    const rules = found.map((text) => /^\[(\w+)\] ([\w-]+)/.exec(text)?.slice(1).join(' '));
    assert.deepEqual(rules.sort(), ['critical button-name', 'critical image-alt']);
    assert.match(found.join('\n'), /at button: <button type="button"><\/button>\n\s+Fix/);
  });
});

describe('addVirtualAuthenticator', () => {
  const creation = `navigator.credentials.create({ publicKey: {
    rp: { name: 'Test' },
    user: { id: new Uint8Array([1, 2, 3]), name: 'demouser', displayName: 'Demo User' },
    challenge: new Uint8Array(32),
    pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
    authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
  } }).then((credential) => credential.type, (error) => error.name)`;

  it('adds an authenticator; http on 127.0.0.1 is a secure context with navigator.credentials', async () => {
    const page = await chromium.newPage();
    const authenticator = await addVirtualAuthenticator(page);
    assert.match(authenticator.id, /\S/);
    assert.deepEqual(await authenticator.credentials(), []);
    await page.goto(`${site.url}/clean`);
    assert.deepEqual(
      await page.evaluate(
        '({ secure: isSecureContext, credentials: typeof navigator.credentials, webauthn: typeof PublicKeyCredential })',
      ),
      { secure: true, credentials: 'object', webauthn: 'function' },
    );
  });

  it('creates a passkey without a prompt at localhost; an IP address is no RP ID', async () => {
    const page = await chromium.newPage();
    const authenticator = await addVirtualAuthenticator(page);
    await page.goto(`${site.url}/clean`);
    assert.equal(await page.evaluate(creation), 'SecurityError');
    await page.goto(`http://localhost:${site.port}/clean`);
    assert.equal(await page.evaluate(creation), 'public-key');
    const credentials = await authenticator.credentials();
    assert.deepEqual(
      credentials.map(({ rpId, isResidentCredential }) => ({ rpId, isResidentCredential })),
      [{ rpId: 'localhost', isResidentCredential: true }],
    );
  });
});
