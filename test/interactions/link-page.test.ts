// The link page (#25) as a product's render hook and the built-in page receive it: the view model
// names the identity the provider vouched for and the freshly signed-in account, its forms carry
// the CSRF field and the offer's handle, what the provider sent is escaped, and it speaks German.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LinkView } from 'mobile-oidc-provider';
import { PageRenderer } from '../../lib/interactions/renderer.js';

const csrf = { name: 'csrf', value: 'csrf-token' };

function linkView(renderer: PageRenderer, language: string, name?: string): LinkView {
  return {
    ...renderer.base(language, renderer.messages(language).linkTitle, 200),
    page: 'link',
    identity: {
      provider: 'google',
      providerName: 'Google',
      subject: '1029384756',
      ...(name ? { name } : { email: 'alice@gmail.example' }),
    },
    account: { id: 'account-1', name: 'Alice', email: 'alice@example.com' },
    offer: { name: 'offer', value: 'uid-1.handle' },
    link: { action: '/interaction/uid-1/link', csrf },
    cancel: { action: '/interaction/uid-1/cancel-link', csrf },
  };
}

const noFailure = (error: unknown) => assert.fail(`render failed: ${String(error)}`);

describe('the link page', () => {
  it('a render hook gets the view model; the page is sent with its CSP nonce and no caching', async () => {
    const seen: LinkView[] = [];
    const renderer = new PageRenderer({
      pages: {
        link(view) {
          seen.push(view);
          return `<p>${view.identity.email} → ${view.account.email}</p>`;
        },
      },
    });
    const page = await renderer.render(linkView(renderer, 'en'), noFailure);
    assert.equal(page.status, 200);
    assert.equal(page.html, '<p>alice@gmail.example → alice@example.com</p>');
    assert.equal(seen[0]?.offer.value, 'uid-1.handle');
    const csp = page.headers['Content-Security-Policy'] ?? '';
    assert.ok(csp.includes(`script-src 'nonce-${seen[0]?.cspNonce}'`), csp);
    assert.equal(page.headers['Cache-Control'], 'no-store');
  });

  it('the built-in page asks the question; Link and Cancel each post the CSRF field and the offer', async () => {
    const renderer = new PageRenderer({ title: 'Example' });
    const { html } = await renderer.render(linkView(renderer, 'en'), noFailure);
    assert.match(
      html,
      /<h1>Link your Google account <strong>alice@gmail\.example<\/strong> to <strong>alice@example\.com<\/strong>\?<\/h1>/,
    );
    for (const action of ['/interaction/uid-1/link', '/interaction/uid-1/cancel-link']) {
      const form = new RegExp(
        `<form method="post" action="${action}"><input type="hidden" name="csrf" value="csrf-token"><input type="hidden" name="offer" value="uid-1\\.handle"><button`,
      );
      assert.match(html, form);
    }
    assert.match(html, /<button type="submit" class="primary">Link<\/button>/);
    assert.match(html, /<title>Link account – Example<\/title>/);
  });

  it("escapes what the provider sent (a name without an email) and speaks the user's language", async () => {
    const renderer = new PageRenderer();
    const { html } = await renderer.render(
      linkView(renderer, 'de', '<img src=x onerror=alert(1)>'),
      noFailure,
    );
    assert.doesNotMatch(html, /<img/);
    assert.match(html, /&#60;img src=x onerror=alert\(1\)&#62;/);
    assert.match(html, /Ihr Google-Konto .* mit <strong>alice@example\.com<\/strong> verknüpfen\?/);
    assert.match(html, />Verknüpfen<\/button>/);
    assert.match(html, /<html lang="de">/);
  });
});
