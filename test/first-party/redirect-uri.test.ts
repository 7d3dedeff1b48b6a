// A code from the Authorization Challenge Endpoint exchanges at the token endpoint without
// `redirect_uri` (the draft's app has none: its request carried none), whatever the number of
// the install's redirect URIs; oidc-provider alone allows that only for a client with exactly
// one. A browser code still needs its redirect_uri exactly as before, and a challenge code with
// a wrong one is refused.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuthServerOptions, FirstPartyDecision } from 'mobile-oidc-provider';
import {
  challengeOf,
  FIRST_PARTY_STORES,
  type FirstPartyServer,
  type Install,
  startFirstParty,
  verifier,
} from '../helpers/first-party.js';
import { APP_REDIRECT_URI, FALLBACK_SOFTWARE_ID } from '../helpers/fixture.js';
import { SignInBrowser, signIn } from '../helpers/sign-in.js';

const SECOND_REDIRECT_URI = 'io.example.app:/second-callback';

/** The fallback template's installs with `redirectUris`, unthrottled, and `policy`'s answer. */
const withRedirectUris =
  (redirectUris: string[], answer: () => FirstPartyDecision) =>
  (o: AuthServerOptions): AuthServerOptions => ({
    ...o,
    registration: {
      ...o.registration,
      templates: (o.registration?.templates ?? []).map((t) =>
        t.software_id === FALLBACK_SOFTWARE_ID
          ? { ...t, client: { ...t.client, redirect_uris: redirectUris } }
          : t,
      ),
    },
    interactions: {
      ...o.interactions,
      signInRateLimit: { perAccount: false, perIp: false, perUsername: false },
    },
    firstParty: { policy: answer },
  });

/** The test's requests against one server: a challenge code, a browser code, an exchange. */
function flows(fp: () => FirstPartyServer, answer: { next: FirstPartyDecision }) {
  const startParams = (v: string) => ({
    scope: 'openid offline_access',
    code_challenge: challengeOf(v),
    code_challenge_method: 'S256',
    username: 'demouser',
    password: 'Password1',
  });
  return {
    /** A code from the challenge endpoint, and its verifier. */
    async challengeCode(install: Install) {
      answer.next = 'allow';
      const v = verifier();
      const done = await fp().challenge(install, startParams(v));
      assert.equal(done.status, 200, JSON.stringify(done.body));
      return { code: done.body.authorization_code as string, v };
    },
    /** A code from the browser, after redirect_to_web, and its verifier. */
    async browserCode(install: Install) {
      answer.next = 'web';
      const v = verifier();
      const pushed = await fp().challenge(install, startParams(v));
      assert.equal(pushed.body.error, 'redirect_to_web', JSON.stringify(pushed.body));
      const url = await fp().browserUrl(install, String(pushed.body.request_uri));
      const { callback } = await signIn(new SignInBrowser(), url);
      const code = callback.searchParams.get('code');
      assert.ok(code, callback.href);
      return { code, v };
    },
    exchange(install: Install, code: string, v: string, redirectUri?: string) {
      return fp().token(install, {
        grant_type: 'authorization_code',
        code,
        code_verifier: v,
        ...(redirectUri !== undefined ? { redirect_uri: redirectUri } : {}),
      });
    },
  };
}

for (const [storeName, makeStore] of FIRST_PARTY_STORES) {
  describe(`first-party codes without redirect_uri, an install with two redirect URIs (${storeName})`, () => {
    let closeStore: () => Promise<void>;
    let fp: FirstPartyServer;
    const answer: { next: FirstPartyDecision } = { next: 'allow' };
    const { challengeCode, browserCode, exchange } = flows(() => fp, answer);

    before(async () => {
      const made = await makeStore();
      closeStore = made.close;
      const more = withRedirectUris([APP_REDIRECT_URI, SECOND_REDIRECT_URI], () => answer.next);
      fp = await startFirstParty((o) => ({ ...more(o), store: made.store }));
    });
    after(async () => {
      await fp.close();
      await closeStore();
    });

    it('the install has both redirect URIs; its challenge code exchanges without redirect_uri', async () => {
      const install = await fp.install();
      const client = await fp.server.auth.provider.Client.find(install.client_id);
      assert.deepEqual(client?.redirectUris, [APP_REDIRECT_URI, SECOND_REDIRECT_URI]);
      const { code, v } = await challengeCode(install);
      assert.match(code, /^fp\.[\w-]{43}$/);
      const tokens = await exchange(install, code, v);
      assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
      assert.equal(
        (await fp.server.auth.introspect(tokens.body.access_token as string)).sub,
        'demouser',
      );
    });

    it('control: a challenge code with the first redirect URI, which it was minted with, exchanges too', async () => {
      const install = await fp.install();
      const { code, v } = await challengeCode(install);
      const tokens = await exchange(install, code, v, APP_REDIRECT_URI);
      assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    });

    it("attack: a challenge code with the install's other or an unregistered redirect_uri is invalid_grant; it stays usable without", async () => {
      const install = await fp.install();
      const { code, v } = await challengeCode(install);
      for (const wrong of [SECOND_REDIRECT_URI, 'io.example.evil:/callback']) {
        const refused = await exchange(install, code, v, wrong);
        assert.equal(refused.status, 400, JSON.stringify(refused.body));
        assert.equal(refused.body.error, 'invalid_grant');
        assert.equal(refused.body.access_token, undefined);
      }
      const tokens = await exchange(install, code, v);
      assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    });

    it('attack: a browser code without redirect_uri is still refused (invalid_request); control: with its redirect_uri', async () => {
      const install = await fp.install();
      const { code, v } = await browserCode(install);
      assert.doesNotMatch(code, /^fp\./);
      const refused = await exchange(install, code, v);
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
      assert.equal(refused.body.error, 'invalid_request');
      assert.match(String(refused.body.error_description), /redirect_uri/);
      const tokens = await exchange(install, code, v, APP_REDIRECT_URI);
      assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    });

    it('attack: a browser code dressed as a challenge code (the prefix put before it) is no code at all; the real one still exchanges', async () => {
      const install = await fp.install();
      const { code, v } = await browserCode(install);
      const dressed = await exchange(install, `fp.${code}`, v);
      assert.equal(dressed.status, 400, JSON.stringify(dressed.body));
      assert.equal(dressed.body.error, 'invalid_grant');
      const tokens = await exchange(install, code, v, APP_REDIRECT_URI);
      assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    });
  });
}

describe('first-party codes without redirect_uri, an install with one redirect URI', () => {
  let fp: FirstPartyServer;
  const answer: { next: FirstPartyDecision } = { next: 'allow' };
  const { challengeCode, browserCode, exchange } = flows(() => fp, answer);

  before(async () => {
    fp = await startFirstParty(withRedirectUris([APP_REDIRECT_URI], () => answer.next));
  });
  after(() => fp.close());

  it('control: the challenge code and (as oidc-provider allows) the browser code exchange without redirect_uri', async () => {
    const install = await fp.install();
    const challenged = await challengeCode(install);
    const fromChallenge = await exchange(install, challenged.code, challenged.v);
    assert.equal(fromChallenge.status, 200, JSON.stringify(fromChallenge.body));
    const browsed = await browserCode(install);
    const fromBrowser = await exchange(install, browsed.code, browsed.v);
    assert.equal(fromBrowser.status, 200, JSON.stringify(fromBrowser.body));
  });

  it('attack: a challenge code with an unregistered redirect_uri is invalid_grant', async () => {
    const install = await fp.install();
    const { code, v } = await challengeCode(install);
    const refused = await exchange(install, code, v, SECOND_REDIRECT_URI);
    assert.equal(refused.body.error, 'invalid_grant', JSON.stringify(refused.body));
  });
});
