// DPoP on the Authorization Challenge Endpoint (issue #29, RFC 9449): a request that starts with
// a DPoP proof binds its auth_session, and the code it ends with (`dpop_jkt`, as oidc-provider
// binds a code of an authorization request with dpop_jkt), to that key. A later step with another
// key or none cannot continue the session (its owner still can); the code exchanges only with a
// proof of the same key; the browser's code after redirect_to_web stays bound to it.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID, type webcrypto } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { FirstPartyDecision } from 'mobile-oidc-provider';
import {
  basicAuth,
  challengeOf,
  FIRST_PARTY_STORES,
  type FirstPartyServer,
  type Install,
  type Json,
  postAs,
  startFirstParty,
  verifier,
} from '../helpers/first-party.js';
import { SignInBrowser, signIn } from '../helpers/sign-in.js';

type Keys = webcrypto.CryptoKeyPair;
const newKey = (): Promise<Keys> => generateKeyPair('ES256');

/** A DPoP proof of `keys` for a POST to `htu` (RFC 9449 §4.2), with the server's `nonce` if given. */
async function proof(keys: Keys, htu: string, nonce?: string): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  return new SignJWT({ jti: randomUUID(), htm: 'POST', htu, iat, ...(nonce ? { nonce } : {}) })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(keys.publicKey) })
    .sign(keys.privateKey);
}

for (const [storeName, makeStore] of FIRST_PARTY_STORES) {
  describe(`first-party sign-in with DPoP (${storeName})`, () => {
    let fp: FirstPartyServer;
    let answer: FirstPartyDecision = 'allow';

    before(async () => {
      fp = await startFirstParty((o) => ({ ...o, firstParty: { policy: () => answer } }), {
        store: makeStore,
        unthrottled: true,
      });
    });
    after(() => fp.close());

    const challengeUrl = () => `${fp.server.issuer}/authorize-challenge`;
    const tokenUrl = () => `${fp.server.issuer}/token`;

    /** A POST as `install`, with a DPoP proof header when `dpop` is given. */
    const post = (url: string, install: Install, body: Record<string, string>, dpop?: string) =>
      postAs(url, install, body, dpop ? { dpop } : {});

    /** The first step, proven by `keys` (or with no proof): its auth_session. */
    async function start(install: Install, v: string, keys?: Keys): Promise<string> {
      const started = await post(
        challengeUrl(),
        install,
        {
          scope: 'openid offline_access',
          code_challenge: challengeOf(v),
          code_challenge_method: 'S256',
        },
        keys ? await proof(keys, challengeUrl()) : undefined,
      );
      assert.equal(started.body.error, 'insufficient_authorization', JSON.stringify(started.body));
      return started.body.auth_session as string;
    }

    /** The password step with `auth_session`, proven by `keys` (or with no proof). */
    async function password(install: Install, auth_session: string, keys?: Keys) {
      return post(
        challengeUrl(),
        install,
        { auth_session, username: 'demouser', password: 'Password1' },
        keys ? await proof(keys, challengeUrl()) : undefined,
      );
    }

    /** A code of `install` bound to `keys`, and its verifier. */
    async function boundCode(install: Install, keys: Keys) {
      const v = verifier();
      const done = await password(install, await start(install, v, keys), keys);
      assert.equal(done.status, 200, JSON.stringify(done.body));
      return { code: done.body.authorization_code as string, v };
    }

    const exchange = async (install: Install, code: string, v: string, keys?: Keys) =>
      post(
        tokenUrl(),
        install,
        { grant_type: 'authorization_code', code, code_verifier: v },
        keys ? await proof(keys, tokenUrl()) : undefined,
      );

    it('the code carries dpop_jkt; its exchange with a proof of the same key gives DPoP-bound tokens', async () => {
      answer = 'allow';
      const install = await fp.install();
      const keys = await newKey();
      const { code, v } = await boundCode(install, keys);
      const jkt = await calculateJwkThumbprint(await exportJWK(keys.publicKey));
      const stored = await fp.server.auth.provider.AuthorizationCode.find(code);
      assert.equal(stored?.dpopJkt, jkt);
      const tokens = await exchange(install, code, v, keys);
      assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
      assert.equal(tokens.body.token_type, 'DPoP');
      const introspected = await fp.server.auth.introspect(tokens.body.access_token as string);
      assert.equal((introspected.cnf as { jkt?: string } | undefined)?.jkt, jkt);
    });

    it('attack: the bound code without a DPoP proof is refused', async () => {
      answer = 'allow';
      const install = await fp.install();
      const { code, v } = await boundCode(install, await newKey());
      const refused = await exchange(install, code, v);
      assert.equal(refused.status, 400);
      assert.equal(refused.body.error, 'invalid_grant');
      assert.equal(refused.body.access_token, undefined);
    });

    it('attack: the bound code with a proof of another key is refused', async () => {
      answer = 'allow';
      const install = await fp.install();
      const { code, v } = await boundCode(install, await newKey());
      const refused = await exchange(install, code, v, await newKey());
      assert.equal(refused.status, 400);
      assert.equal(refused.body.error, 'invalid_grant');
      assert.equal(refused.body.access_token, undefined);
    });

    it('control: a request without DPoP gives an unbound code, exchanged without a proof', async () => {
      answer = 'allow';
      const install = await fp.install();
      const v = verifier();
      const done = await password(install, await start(install, v));
      assert.equal(done.status, 200, JSON.stringify(done.body));
      const code = done.body.authorization_code as string;
      assert.equal(
        (await fp.server.auth.provider.AuthorizationCode.find(code))?.dpopJkt,
        undefined,
      );
      const tokens = await exchange(install, code, v);
      assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
      assert.equal(tokens.body.token_type, 'Bearer');
    });

    it('attack: a step with another key or none is invalid_session, and leaves the session to its key', async () => {
      answer = 'allow';
      const install = await fp.install();
      const keys = await newKey();
      const v = verifier();
      const session = await start(install, v, keys);
      const otherKey = await password(install, session, await newKey());
      assert.equal(otherKey.status, 400);
      assert.equal(otherKey.body.error, 'invalid_session');
      assert.equal(otherKey.body.authorization_code, undefined);
      const noProof = await password(install, session);
      assert.equal(noProof.status, 400);
      assert.equal(noProof.body.error, 'invalid_session');
      // Control: the key it started with continues it.
      const done = await password(install, session, keys);
      assert.equal(done.status, 200, JSON.stringify(done.body));
      const tokens = await exchange(install, done.body.authorization_code as string, v, keys);
      assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    });

    it('attack: a session started without DPoP is not continued with a proof', async () => {
      answer = 'allow';
      const install = await fp.install();
      const session = await start(install, verifier());
      const withKey = await password(install, session, await newKey());
      assert.equal(withKey.body.error, 'invalid_session');
      // Control: continued as it started, without a proof.
      const done = await password(install, session);
      assert.equal(done.status, 200, JSON.stringify(done.body));
    });

    it('a malformed, misdirected or replayed proof is invalid_dpop_proof', async () => {
      answer = 'allow';
      const install = await fp.install();
      const keys = await newKey();
      const params = {
        scope: 'openid',
        code_challenge: challengeOf(verifier()),
        code_challenge_method: 'S256',
      };
      const garbage = await post(challengeUrl(), install, params, 'not-a-jwt');
      assert.equal(garbage.status, 400);
      assert.equal(garbage.body.error, 'invalid_dpop_proof');
      // A proof made for the token endpoint (htu) is not one for this endpoint.
      const misdirected = await post(
        challengeUrl(),
        install,
        params,
        await proof(keys, tokenUrl()),
      );
      assert.equal(misdirected.body.error, 'invalid_dpop_proof');
      const once = await proof(keys, challengeUrl());
      const first = await post(challengeUrl(), install, params, once);
      assert.equal(first.body.error, 'insufficient_authorization', JSON.stringify(first.body));
      const replayed = await post(challengeUrl(), install, params, once);
      assert.equal(replayed.status, 400);
      assert.equal(replayed.body.error, 'invalid_dpop_proof');
      assert.equal(replayed.body.auth_session, undefined);
    });

    it('redirect_to_web keeps the key: the browser code exchanges only with a proof of it', async () => {
      answer = 'web';
      const install = await fp.install();
      const keys = await newKey();
      const v = verifier();
      const pushed = await password(install, await start(install, v, keys), keys);
      assert.equal(pushed.body.error, 'redirect_to_web', JSON.stringify(pushed.body));
      const discovery = await fetch(`${fp.server.issuer}/.well-known/openid-configuration`);
      const url = new URL(((await discovery.json()) as Json).authorization_endpoint as string);
      url.searchParams.set('client_id', install.client_id);
      url.searchParams.set('request_uri', String(pushed.body.request_uri));
      const { callback } = await signIn(new SignInBrowser(), url, {
        username: 'demouser',
        password: 'Password1',
      });
      const code = callback.searchParams.get('code');
      assert.ok(code, callback.href);
      const noProof = await exchange(install, code, v);
      assert.equal(noProof.body.error, 'invalid_grant');
      // A refused exchange does not spend the code: control with the key, then tokens.
      const tokens = await exchange(install, code, v, keys);
      assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
      assert.equal(tokens.body.token_type, 'DPoP');
    });
  });
}

describe('first-party sign-in with DPoP server nonces (RFC 9449 §8)', () => {
  let fp: FirstPartyServer;

  before(async () => {
    fp = await startFirstParty((o) => ({
      ...o,
      interactions: {
        ...o.interactions,
        signInRateLimit: { perAccount: false, perIp: false, perUsername: false },
      },
      // How an integrator turns nonces on: through the oidcProvider passthrough.
      oidcProvider: {
        features: {
          dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true },
        },
      },
    }));
  });
  after(() => fp.close());

  const challengeUrl = () => `${fp.server.issuer}/authorize-challenge`;

  /** A POST as `install` with a DPoP proof; the status, the body and the DPoP-Nonce header. */
  async function post(url: string, install: Install, body: Record<string, string>, dpop: string) {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        authorization: basicAuth(install),
        'content-type': 'application/x-www-form-urlencoded',
        dpop,
      },
      body: new URLSearchParams(body),
    });
    return {
      status: res.status,
      body: (await res.json()) as Json,
      nonce: res.headers.get('dpop-nonce'),
    };
  }

  it('a proof without the nonce gets use_dpop_nonce and a DPoP-Nonce; the retry with it signs in, and the code exchanges with a nonce too', async () => {
    const install = await fp.install();
    const keys = await newKey();
    const v = verifier();
    const request = {
      scope: 'openid offline_access',
      code_challenge: challengeOf(v),
      code_challenge_method: 'S256',
      username: 'demouser',
      password: 'Password1',
    };
    const first = await post(challengeUrl(), install, request, await proof(keys, challengeUrl()));
    assert.equal(first.status, 400, JSON.stringify(first.body));
    assert.equal(first.body.error, 'use_dpop_nonce');
    assert.equal(first.body.authorization_code, undefined);
    assert.equal(first.body.auth_session, undefined);
    assert.ok(first.nonce, 'a DPoP-Nonce header');

    const retry = await post(
      challengeUrl(),
      install,
      request,
      await proof(keys, challengeUrl(), first.nonce),
    );
    assert.equal(retry.status, 200, JSON.stringify(retry.body));
    const code = retry.body.authorization_code as string;

    // The token endpoint wants one too: its own use_dpop_nonce first, then the exchange.
    const tokenUrl = `${fp.server.issuer}/token`;
    const exchange = { grant_type: 'authorization_code', code, code_verifier: v };
    const asked = await post(tokenUrl, install, exchange, await proof(keys, tokenUrl));
    assert.equal(asked.body.error, 'use_dpop_nonce');
    assert.ok(asked.nonce);
    const tokens = await post(
      tokenUrl,
      install,
      exchange,
      await proof(keys, tokenUrl, asked.nonce ?? ''),
    );
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    assert.equal(tokens.body.token_type, 'DPoP');
  });

  it("attack: a made-up nonce is use_dpop_nonce, nothing issued; control: the server's", async () => {
    const install = await fp.install();
    const keys = await newKey();
    const request = {
      code_challenge: challengeOf(verifier()),
      code_challenge_method: 'S256',
    };
    const forged = await post(
      challengeUrl(),
      install,
      request,
      await proof(keys, challengeUrl(), 'made-up-nonce'),
    );
    assert.equal(forged.body.error, 'use_dpop_nonce', JSON.stringify(forged.body));
    assert.equal(forged.body.auth_session, undefined);
    assert.ok(forged.nonce);
    const control = await post(
      challengeUrl(),
      install,
      request,
      await proof(keys, challengeUrl(), forged.nonce ?? ''),
    );
    assert.equal(control.body.error, 'insufficient_authorization', JSON.stringify(control.body));
    assert.ok(control.body.auth_session);
  });
});
