// A signed-in user links an upstream identity on the linked accounts page (`/account/links`) in
// a test browser: "Link your … account", the upstream's pages, then "Link" on the link page.
import assert from 'node:assert/strict';
import { type Browser, formOf, formsOf } from './browser.js';
import type { UpstreamIdp, UpstreamReturn } from './upstream-idp.js';

/** Hands the upstream's response to our redirect URI as the browser would. */
export const deliver = (browser: Pick<Browser, 'get' | 'postForm'>, response: UpstreamReturn) =>
  response.method === 'GET'
    ? browser.get(response.url)
    : browser.postForm(response.url, response.fields);

/**
 * Presses "Link your <provider> account" on `issuer`'s linked accounts page (in English):
 * resolves the upstream authorization URL it sends the browser to.
 */
export async function pressLink(browser: Browser, issuer: string, provider = 'google') {
  const { response, url } = await browser.follow(
    await browser.request(`${issuer}/account/links`, { headers: { 'accept-language': 'en' } }),
  );
  assert.equal(response.status, 200);
  const button = formsOf(await response.text(), url).find((f) =>
    f.action.endsWith(`/account/links/start/${provider}`),
  );
  assert.ok(button, `the page offers "Link your ${provider} account"`);
  const res = await browser.postForm(button.action, button.hidden);
  assert.equal(res.status, 303);
  return new URL(res.headers.get('location') as string);
}

/**
 * Links `login`'s identity at `idp` to the account `browser` signed in as moments ago: the whole
 * flow a user goes through on the linked accounts page, ending linked.
 */
export async function linkAccount(
  browser: Browser,
  issuer: string,
  idp: UpstreamIdp,
  login: string,
  provider = 'google',
): Promise<void> {
  const response = await idp.authorize(browser, (await pressLink(browser, issuer, provider)).href, {
    login,
  });
  const { response: page, url } = await browser.follow(await deliver(browser, response));
  assert.equal(page.status, 200);
  const link = formOf(await page.text(), url, '/account/links/link');
  const linked = await browser.postForm(link.action, link.hidden);
  assert.equal(linked.status, 303);
  assert.equal(linked.headers.get('location'), `/account/links?done=linked&provider=${provider}`);
}
