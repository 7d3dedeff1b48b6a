// The linked accounts page (#25, `/account/links`) as a product's render hook and the built-in
// page receive it: a "Link your … account" form per provider while the sign-in is fresh, else
// the password form (username, password, the CSRF field); what the user typed is escaped, and it
// speaks German.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LinksView } from 'mobile-oidc-provider';
import { PageRenderer } from '../../lib/interactions/renderer.js';

const csrf = { name: 'csrf', value: 'csrf-token' };
const links = { devices: '/account/devices', linkedAccounts: '/account/links' };

function linksView(renderer: PageRenderer, language: string, fresh: boolean): LinksView {
  return {
    ...renderer.base(language, renderer.messages(language).linksTitle, 200),
    page: 'links',
    accountId: 'account-1',
    providers: fresh
      ? [
          {
            provider: 'google',
            providerName: 'Google',
            form: { action: '/account/links/start/google', csrf },
          },
        ]
      : [],
    ...(fresh
      ? {}
      : {
          reauthenticate: {
            form: { action: '/account/links/reauthenticate', csrf },
            username: '"><script>alert(1)</script>',
            error: 'Wrong username or password for this account.',
            maxAge: 300,
          },
        }),
    links,
  };
}

const noFailure = (error: unknown) => assert.fail(`render failed: ${String(error)}`);

describe('the linked accounts page', () => {
  it('a render hook gets the view model; the page is sent with its CSP nonce and no caching', async () => {
    const seen: LinksView[] = [];
    const renderer = new PageRenderer({
      pages: {
        links(view) {
          seen.push(view);
          return `<p>${view.providers.map((p) => p.form.action).join()}</p>`;
        },
      },
    });
    const page = await renderer.render(linksView(renderer, 'en', true), noFailure);
    assert.equal(page.html, '<p>/account/links/start/google</p>');
    assert.equal(seen[0]?.links.linkedAccounts, '/account/links');
    const csp = page.headers['Content-Security-Policy'] ?? '';
    assert.ok(csp.includes(`script-src 'nonce-${seen[0]?.cspNonce}'`), csp);
    assert.equal(page.headers['Cache-Control'], 'no-store');
  });

  it('fresh: a "Link your Google account" form with the CSRF field, and the page marked in the navigation', async () => {
    const renderer = new PageRenderer({ title: 'Example' });
    const { html } = await renderer.render(linksView(renderer, 'en', true), noFailure);
    assert.match(
      html,
      /<form method="post" action="\/account\/links\/start\/google"><input type="hidden" name="csrf" value="csrf-token"><button type="submit">Link your Google account<\/button><\/form>/,
    );
    assert.match(html, /<a href="\/account\/links" aria-current="page">Linked accounts<\/a>/);
    assert.doesNotMatch(html, /name="password"/);
    assert.match(html, /<title>Linked accounts – Example<\/title>/);
  });

  it('not fresh: the password form instead, its error tied to the fields, the username escaped, in German', async () => {
    const renderer = new PageRenderer();
    const { html } = await renderer.render(linksView(renderer, 'de', false), noFailure);
    assert.doesNotMatch(html, /start\/google/);
    assert.doesNotMatch(html, /<script>alert/);
    assert.match(html, /value="&#34;&#62;&#60;script&#62;alert\(1\)&#60;\/script&#62;"/);
    assert.match(html, /Danach haben Sie 5 Minuten Zeit/);
    assert.match(html, /id="reauthenticate-error" role="alert"/);
    assert.match(
      html,
      /<input id="password" name="password" type="password" autocomplete="current-password" required aria-invalid="true" aria-describedby="reauthenticate-error">/,
    );
    assert.match(html, />Bestätigen<\/button>/);
    assert.match(html, /<html lang="de">/);
  });
});
