// "Signed in with the app" on the device list (issue #29): an install that signs its user in at
// the Authorization Challenge Endpoint (first-party sign-in, no browser) is listed with when and
// how — on the device page, in the self-service JSON and by `instances.get` — and its
// `signin.succeeded` names the endpoint. Control: an install of the same account that signed in
// only through the browser shows none of it. On memory and on Redis. The page's line for each
// step (password, passkey, a provider), in English and German.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { InstanceInfo, InstancesView, SignInEvent } from 'mobile-oidc-provider';
import { PageRenderer } from '../../lib/interactions/renderer.js';
import {
  FIRST_PARTY_STORES,
  type FirstPartyServer,
  type Install,
  startFirstParty,
  verifier,
} from '../helpers/first-party.js';
import { json } from '../helpers/json.js';
import { browserInstall, SignInBrowser } from '../helpers/sign-in.js';

for (const [storeName, makeStore] of FIRST_PARTY_STORES) {
  describe(`"signed in with the app" on the device list (${storeName})`, () => {
    let closeStore: () => Promise<void>;
    let fp: FirstPartyServer;
    const succeeded: SignInEvent[] = [];

    before(async () => {
      const made = await makeStore();
      closeStore = made.close;
      fp = await startFirstParty((o) => ({ ...o, store: made.store }));
      fp.server.auth.on('signin.succeeded', (e) => succeeded.push(e));
    });
    after(async () => {
      await fp.close();
      await closeStore();
    });

    /** demouser signs in through `install` at the challenge endpoint; the code is exchanged. */
    async function appSignIn(install: Install) {
      const v = verifier();
      const auth_session = await fp.start(install, v);
      const done = await fp.challenge(install, {
        auth_session,
        username: 'demouser',
        password: 'Password1',
      });
      assert.equal(done.status, 200, JSON.stringify(done.body));
      const tokens = await fp.token(install, {
        grant_type: 'authorization_code',
        code: done.body.authorization_code as string,
        code_verifier: v,
      });
      assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    }

    /** The device page's item of `clientId` (the `<li>` with its revoke form), in English. */
    async function pageItem(browser: SignInBrowser, clientId: string) {
      const res = await browser.request(`${fp.server.issuer}/account/devices`, {
        headers: { 'accept-language': 'en' },
      });
      assert.equal(res.status, 200);
      const item = (await res.text())
        .split('<li>')
        .find((li) => li.includes(`/account/devices/${encodeURIComponent(clientId)}/revoke`));
      assert.ok(item, `the page lists ${clientId}`);
      return item;
    }

    it('an install that signed in at the challenge endpoint is shown so; one that used the browser is not (control)', async () => {
      const started = Math.floor(Date.now() / 1000);
      const app = await fp.install();
      await appSignIn(app);
      // The control: demouser's own install, signed in through the pages only.
      const browser = new SignInBrowser();
      const web = await browserInstall(fp.server.issuer, browser, {
        name: 'web only',
        scope: 'openid offline_access devices',
      });

      const appItem = await pageItem(browser, app.client_id);
      assert.match(
        appItem,
        /<p class="meta">Signed in with the app <time datetime="[^"]+Z">[^<]+UTC<\/time>, with a password<\/p>/,
      );
      const webItem = await pageItem(browser, web.clientId);
      assert.match(webItem, /Last used <time/);
      assert.doesNotMatch(webItem, /Signed in with the app/);

      const shown = await fp.server.auth.instances.get(app.client_id);
      assert.equal(shown?.accountId, 'demouser', 'the sign-in bound the install');
      assert.equal(shown?.firstPartySignIn?.method, 'password');
      assert.ok((shown?.firstPartySignIn?.at ?? 0) >= started);
      assert.equal(shown?.firstPartySignIn?.provider, undefined);
      assert.equal((await fp.server.auth.instances.get(web.clientId))?.firstPartySignIn, undefined);

      // The self-service JSON list carries the same field.
      const listed = await fetch(`${fp.server.issuer}/instances`, {
        headers: { authorization: `Bearer ${web.tokens.access_token}` },
      });
      assert.equal(listed.status, 200);
      const devices = (await json(listed)).devices as InstanceInfo[];
      const byId = (id: string) => devices.find((d) => d.clientId === id);
      assert.deepEqual(byId(app.client_id)?.firstPartySignIn, shown?.firstPartySignIn);
      assert.ok(byId(web.clientId), 'the control install is listed');
      assert.equal(byId(web.clientId)?.firstPartySignIn, undefined);

      // The events say which endpoint: the app's sign-in names it, the pages' sign-in does not.
      const appEvent = succeeded.find((e) => e.clientId === app.client_id);
      assert.equal(appEvent?.endpoint, 'authorization_challenge');
      const pageEvents = succeeded.filter((e) => e.clientId !== app.client_id);
      assert.ok(pageEvents.length > 0, 'the browser sign-in emitted signin.succeeded');
      for (const e of pageEvents) assert.equal(e.endpoint, undefined);
    });

    it('a second sign-in leaves one record, as recent; revoking the install removes it with "last used"', async () => {
      const app = await fp.install();
      await appSignIn(app);
      const first = (await fp.server.auth.instances.get(app.client_id))?.firstPartySignIn;
      assert.ok(first);
      await appSignIn(app);
      const second = (await fp.server.auth.instances.get(app.client_id))?.firstPartySignIn;
      assert.ok(second && second.at >= first.at);

      const revoked = await fp.server.auth.instances.revoke(app.client_id);
      assert.equal(revoked?.status, 'revoked');
      assert.equal(revoked?.firstPartySignIn, undefined);
      assert.equal(revoked?.lastUsedAt, undefined);
    });
  });
}

describe('the device page\'s "signed in with the app" line', () => {
  const AT = Date.UTC(2026, 11, 7, 9, 30) / 1000;
  const page = async (
    language: string,
    firstPartySignIn?: InstancesView['devices'][0]['firstPartySignIn'],
  ) => {
    const renderer = new PageRenderer();
    const view: InstancesView = {
      ...renderer.base(language, renderer.messages(language).devicesTitle, 200),
      page: 'devices',
      accountId: 'demouser',
      devices: [
        {
          clientId: 'install-1',
          name: 'Phone',
          createdAt: AT - 86_400,
          lastUsedAt: AT,
          ...(firstPartySignIn ? { firstPartySignIn } : {}),
          cal: 'by-provisioned-key',
          registeredBy: 'fallback-client',
          status: 'active',
        },
      ],
      links: { devices: '/account/devices' },
    };
    return (await renderer.render(view, (e) => assert.fail(String(e)))).html;
  };
  const time = '<time datetime="2026-12-07T09:30:00.000Z">[^<]+ UTC</time>';

  it('names the step: a password, a passkey, or the provider (escaped)', async () => {
    assert.match(
      await page('en', { at: AT, method: 'password' }),
      new RegExp(`Signed in with the app ${time}, with a password</p>`),
    );
    assert.match(
      await page('en', { at: AT, method: 'passkey' }),
      new RegExp(`Signed in with the app ${time}, with a passkey</p>`),
    );
    assert.match(
      await page('en', { at: AT, method: 'federated', provider: 'corp', providerName: '<Corp>' }),
      new RegExp(`Signed in with the app ${time}, with &#60;Corp&#62;</p>`),
    );
  });

  it('speaks German, and says nothing without a first-party sign-in (control)', async () => {
    assert.match(
      await page('de', { at: AT, method: 'federated', provider: 'google', providerName: 'Google' }),
      new RegExp(`In der App angemeldet am ${time}, mit Google</p>`),
    );
    const without = await page('en');
    assert.match(without, /Last used <time/);
    assert.doesNotMatch(without, /Signed in with the app/);
  });
});
