// Adding passkeys on the account page (issue #18): the page of the browser's signed-in user
// (oidc-provider's session cookie) lists its passkeys and offers WebAuthn creation options whose
// challenge works once, for this account and session, for 5 minutes. A software authenticator
// (test/helpers/software-authenticator.ts) plays the browser's; each attack is refused and
// leaves nothing stored, next to a control that succeeds.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PasskeyEvents, PasskeysView } from 'mobile-oidc-provider';
import type { RunningServer } from '../helpers/example.js';
import {
  formById,
  passkeyPage,
  postCredential,
  postForm,
  signedInBrowser,
  startWithPasskeys,
} from '../helpers/passkeys.js';
import { SignInBrowser } from '../helpers/sign-in.js';
import { FLAGS, SoftwareAuthenticator } from '../helpers/software-authenticator.js';

let server: RunningServer;
const events: Array<[keyof PasskeyEvents, unknown]> = [];

before(async () => {
  server = await startWithPasskeys();
  for (const name of ['passkey.registered', 'passkey.removed'] as const) {
    server.auth.on(name, (payload) => events.push([name, payload]));
  }
});
after(() => server.close());

/** Adds a passkey made by `authenticator` through the page; resolves the POST's response. */
async function add(
  browser: SignInBrowser,
  authenticator: SoftwareAuthenticator,
  bend: Parameters<SoftwareAuthenticator['create']>[1] = {},
  name = '',
) {
  const { add } = await passkeyPage(browser, server.issuer);
  return postCredential(browser, add, authenticator.create(add.options, bend), { name });
}

describe('the passkey page', () => {
  it('says so, with 401, to a browser that is not signed in', async () => {
    const res = await new SignInBrowser().request(`${server.issuer}/account/passkeys`);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.match(await res.text(), /You are not signed in/);
  });

  it('is not there when passkeys are off (control: the device page is)', async () => {
    const off = await startWithPasskeys((o) => ({ ...o, passkeys: { enabled: false } }));
    try {
      const browser = await signedInBrowser(off.issuer);
      assert.equal((await browser.request(`${off.issuer}/account/passkeys`)).status, 404);
      assert.equal((await browser.request(`${off.issuer}/account/devices`)).status, 200);
    } finally {
      await off.close();
    }
  });

  it('offers creation options for a discoverable credential with user verification required', async () => {
    const browser = await signedInBrowser(server.issuer);
    const res = await browser.request(`${server.issuer}/account/passkeys`);
    const html = await res.text();
    const { add } = await passkeyPage(browser, server.issuer);
    const options = JSON.parse(add.options);
    assert.equal(options.rp.id, '127.0.0.1');
    assert.equal(options.rp.name, 'Example App');
    assert.equal(options.user.name, 'demouser');
    assert.equal(options.user.displayName, 'Demo User');
    assert.match(options.user.id, /^[\w-]{43}$/, 'a random user handle, not the account id');
    assert.equal(options.attestation, 'none');
    assert.deepEqual(options.authenticatorSelection, {
      residentKey: 'required',
      userVerification: 'required',
      requireResidentKey: true,
    });
    assert.deepEqual(
      options.pubKeyCredParams.map((p: { alg: number }) => p.alg),
      [-8, -7, -257],
    );
    assert.match(options.challenge, /^[\w-]{48}$/);
    // The script runs by the response's nonce, as the CSP allows nothing else.
    const nonce = /script-src 'nonce-([^']+)'/.exec(
      res.headers.get('content-security-policy') ?? '',
    )?.[1];
    assert.ok(nonce);
    assert.ok(html.includes(`<script nonce="${nonce}">`));
    assert.match(html, /<form id="passkey-register-form"[^>]*hidden>/);
  });

  it('adds a passkey, lists it and leaves out its key; the user handle stays the same', async () => {
    const browser = await signedInBrowser(server.issuer);
    const authenticator = new SoftwareAuthenticator(server.issuer, { synced: true });
    const res = await add(browser, authenticator, {}, '  My   phone\u0007 ');
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/account/passkeys?done=added');
    const [id] = authenticator.credentials.keys();
    const { html, add: next } = await passkeyPage(browser, server.issuer, '?done=added');
    assert.match(html, /The passkey was added\./);
    assert.match(html, /<strong>My phone<\/strong>/);
    assert.match(html, /Synced across your devices/);
    assert.ok(html.includes(`/account/passkeys/${id}/remove`));
    // Not twice on the same authenticator: the next options exclude it.
    const options = JSON.parse(next.options);
    assert.deepEqual(
      options.excludeCredentials.map((c: { id: string }) => c.id),
      [id],
    );
    const stored = await server.auth.passkeys.list('demouser');
    const mine = stored.find((p) => p.id === id);
    assert.ok(mine);
    assert.equal(mine.name, 'My phone');
    assert.equal(mine.deviceType, 'multiDevice');
    assert.equal(mine.backedUp, true);
    assert.deepEqual(mine.transports, ['internal']);
    assert.equal('publicKey' in mine, false);
    assert.deepEqual(
      events.find(
        ([name, e]) =>
          name === 'passkey.registered' && (e as { credentialId: string }).credentialId === id,
      )?.[1],
      { credentialId: id, accountId: 'demouser' },
    );
    const credential = authenticator.credentials.get(id as string);
    assert.equal(
      credential?.userHandle.toString('base64url'),
      options.user.id,
      'one user handle per account',
    );
  });

  it('refuses a form without its CSRF field, or with another session’s', async () => {
    const browser = await signedInBrowser(server.issuer);
    const other = await signedInBrowser(server.issuer);
    const { add } = await passkeyPage(browser, server.issuer);
    const { add: theirs } = await passkeyPage(other, server.issuer);
    const authenticator = new SoftwareAuthenticator(server.issuer);
    const credential = JSON.stringify(authenticator.create(add.options));
    const missing = await postForm(browser, add.action, { credential });
    assert.equal(missing.status, 403);
    assert.match(await missing.text(), /The form was not sent from this page/);
    const foreign = await postForm(browser, add.action, { ...theirs.fields, credential });
    assert.equal(foreign.status, 403);
    await foreign.body?.cancel();
    assert.equal(await server.auth.passkeys.get(JSON.parse(credential).id), undefined);
  });

  for (const [attack, bend] of [
    ['another origin', { origin: 'https://evil.example' }],
    ['another RP ID', { rpId: 'evil.example' }],
    ['no user verification (UV flag clear)', { flags: FLAGS.UP | FLAGS.AT }],
    ['no user presence (UP flag clear)', { flags: FLAGS.UV | FLAGS.AT }],
    ['an assertion type', { type: 'webauthn.get' }],
    ['a challenge the server never issued', { challenge: 'A'.repeat(48) }],
  ] as const) {
    it(`refuses a passkey made with ${attack}, storing nothing`, async () => {
      const browser = await signedInBrowser(server.issuer);
      const authenticator = new SoftwareAuthenticator(server.issuer);
      const res = await add(browser, authenticator, bend);
      assert.equal(res.status, 400);
      assert.match(await res.text(), /The passkey could not be added\. Try again\./);
      const [id] = authenticator.credentials.keys();
      assert.equal(await server.auth.passkeys.get(id as string), undefined);
    });
  }

  it('takes each challenge once: the same registration posted again is refused', async () => {
    const browser = await signedInBrowser(server.issuer);
    const authenticator = new SoftwareAuthenticator(server.issuer);
    const { add } = await passkeyPage(browser, server.issuer);
    const credential = authenticator.create(add.options);
    await server.auth.passkeys.remove(credential.id); // nothing yet (control for the next line)
    const first = await postCredential(browser, add, credential);
    assert.equal(first.status, 303);
    await server.auth.passkeys.remove(credential.id);
    const again = await postCredential(browser, add, credential);
    assert.equal(again.status, 400, 'the challenge was used, even with the passkey gone');
    await again.body?.cancel();
    assert.equal(await server.auth.passkeys.get(credential.id), undefined);
  });

  it('refuses options issued to another account’s page', async () => {
    const demo = await signedInBrowser(server.issuer);
    const other = await signedInBrowser(server.issuer, 'otheruser');
    const { add: demoForm } = await passkeyPage(demo, server.issuer);
    const { add: otherForm } = await passkeyPage(other, server.issuer);
    const authenticator = new SoftwareAuthenticator(server.issuer);
    // Made over demouser's challenge, posted by otheruser with otheruser's own CSRF field.
    const res = await postCredential(other, otherForm, authenticator.create(demoForm.options));
    assert.equal(res.status, 400);
    await res.body?.cancel();
    assert.deepEqual(await server.auth.passkeys.list('otheruser'), []);
  });

  it('refuses a credential id another account already has (it keeps its passkey)', async () => {
    const demo = await signedInBrowser(server.issuer);
    const victim = new SoftwareAuthenticator(server.issuer);
    assert.equal((await add(demo, victim)).status, 303);
    const [victimId] = victim.credentials.keys();
    const other = await signedInBrowser(server.issuer, 'otheruser');
    const attacker = new SoftwareAuthenticator(server.issuer);
    const res = await add(other, attacker, {
      credentialId: Buffer.from(victimId as string, 'base64url'),
    });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /This passkey is already added\./);
    assert.equal((await server.auth.passkeys.get(victimId as string))?.accountId, 'demouser');
  });

  it('refuses malformed and prototype-polluting credential JSON without a server error', async () => {
    const browser = await signedInBrowser(server.issuer);
    const { add } = await passkeyPage(browser, server.issuer);
    const made = new SoftwareAuthenticator(server.issuer).create(add.options);
    for (const credential of [
      'not json',
      '[]',
      JSON.stringify({ ...made, rawId: 'other' }),
      `{"__proto__":{"polluted":true},"id":"${made.id}"}`,
      JSON.stringify({ ...made, response: { ...made.response, constructor: { prototype: {} } } }),
    ]) {
      const res = await postCredential(browser, add, credential);
      assert.equal(res.status, 400, credential);
      await res.body?.cancel();
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});

describe('removing a passkey', () => {
  it('removes the owner’s passkey with the CSRF field, and refuses without it', async () => {
    const browser = await signedInBrowser(server.issuer);
    const authenticator = new SoftwareAuthenticator(server.issuer);
    assert.equal((await add(browser, authenticator)).status, 303);
    const [id] = authenticator.credentials.keys();
    const { html, url } = await passkeyPage(browser, server.issuer);
    const remove = formById(
      html.replace(
        `action="/account/passkeys/${id}/remove"`,
        `id="remove" action="/account/passkeys/${id}/remove"`,
      ),
      'remove',
      url,
    );
    const missing = await postForm(browser, remove.action, {});
    assert.equal(missing.status, 403);
    await missing.body?.cancel();
    assert.ok(await server.auth.passkeys.get(id as string), 'still there');
    const removed = await postForm(browser, remove.action, remove.fields);
    assert.equal(removed.status, 303);
    assert.equal(removed.headers.get('location'), '/account/passkeys?done=removed');
    assert.equal(await server.auth.passkeys.get(id as string), undefined);
    const page = await passkeyPage(browser, server.issuer, '?done=removed');
    assert.match(page.html, /The passkey was removed\./);
    assert.ok(
      events.some(
        ([name, e]) =>
          name === 'passkey.removed' &&
          JSON.stringify(e) ===
            JSON.stringify({ credentialId: id, accountId: 'demouser', by: 'user' }),
      ),
    );
  });

  it('does not remove another account’s passkey: 404, as if there were none', async () => {
    const demo = await signedInBrowser(server.issuer);
    const authenticator = new SoftwareAuthenticator(server.issuer);
    assert.equal((await add(demo, authenticator)).status, 303);
    const [id] = authenticator.credentials.keys();
    const other = await signedInBrowser(server.issuer, 'otheruser');
    const { add: otherForm } = await passkeyPage(other, server.issuer);
    const res = await postForm(
      other,
      `${server.issuer}/account/passkeys/${id}/remove`,
      otherForm.fields,
    );
    assert.equal(res.status, 404);
    assert.match(await res.text(), /It does not exist \(any more\), or it is not yours\./);
    assert.equal((await server.auth.passkeys.get(id as string))?.accountId, 'demouser');
  });

  it('answers a GET of an action with 405 and an unknown id with 404', async () => {
    const browser = await signedInBrowser(server.issuer);
    const { add } = await passkeyPage(browser, server.issuer);
    const get = await browser.request(`${server.issuer}/account/passkeys/abc/remove`);
    assert.equal(get.status, 405);
    await get.body?.cancel();
    const unknown = await postForm(
      browser,
      `${server.issuer}/account/passkeys/abc/remove`,
      add.fields,
    );
    assert.equal(unknown.status, 404);
    await unknown.body?.cancel();
    const badEncoding = await postForm(
      browser,
      `${server.issuer}/account/passkeys/%E0%A4%A/remove`,
      add.fields,
    );
    assert.equal(badEncoding.status, 404);
    await badEncoding.body?.cancel();
  });
});

describe('the passkey page’s render hook and languages', () => {
  it('gives the product’s `passkeys` hook the view model', async () => {
    let hooked: PasskeysView | undefined;
    const hooking = await startWithPasskeys((o) => ({
      ...o,
      interactions: {
        ...o.interactions,
        pages: {
          passkeys: (view) => {
            hooked = view;
            return `<!doctype html><h1>${view.messages.passkeysHeading}</h1>`;
          },
        },
      },
    }));
    try {
      const browser = await signedInBrowser(hooking.issuer);
      const res = await browser.request(`${hooking.issuer}/account/passkeys?done=added`);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), '<!doctype html><h1>Passkeys</h1>');
      assert.ok(hooked);
      assert.equal(hooked.page, 'passkeys');
      assert.equal(hooked.accountId, 'demouser');
      assert.deepEqual(hooked.passkeys, []);
      assert.equal(hooked.notice, 'The passkey was added.');
      assert.equal(hooked.add.form.action, '/account/passkeys');
      assert.equal(hooked.add.form.csrf.name, 'csrf');
      assert.equal(JSON.parse(hooked.add.options).rp.id, '127.0.0.1');
      assert.match(hooked.add.script, /navigator\.credentials\.create/);
      assert.deepEqual(hooked.links, {
        devices: '/account/devices',
        passkeys: '/account/passkeys',
      });
    } finally {
      await hooking.close();
    }
  });

  it('speaks German to a German browser', async () => {
    const browser = await signedInBrowser(server.issuer);
    const res = await browser.request(`${server.issuer}/account/passkeys`, {
      headers: { 'accept-language': 'de' },
    });
    const html = await res.text();
    assert.equal(res.headers.get('content-language'), 'de');
    assert.match(html, /<html lang="de">/);
    assert.match(html, /Passkey hinzufügen/);
    assert.match(html, /Sie haben noch keine Passkeys\.|Hinzugefügt am/);
  });
});
