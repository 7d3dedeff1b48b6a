// An id_token an app got natively from "Sign in with Apple / Google" is only as good as its
// validation (OpenID Connect Core 1.0 §3.1.3.7). These tests verify tokens minted by a real
// upstream oidc-provider, its keys fetched over real HTTP, and refuse each attack by the check
// that catches it.
import assert from 'node:assert/strict';
import { createHash, createPublicKey, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { generateKeyPair } from 'jose';
import { ConfigurationError } from '../../lib/core/errors.js';
import {
  nonceLookupKey,
  type UpstreamIdTokenCheck,
  UpstreamIdTokenError,
  type UpstreamSettings,
  UpstreamUnavailableError,
  verifyUpstreamIdToken,
} from '../../lib/federation/id-token.js';
import { UpstreamJwks, type UpstreamJwksOptions } from '../../lib/federation/jwks.js';
import { listen } from '../helpers/listen.js';
import { startUpstreamIdp, type UpstreamIdp } from '../helpers/upstream-idp.js';

const IOS_APP = 'com.example.ios';
const ANDROID_APP = 'android-client.apps.example.test';
const OTHER_APP = 'com.attacker.app';
const NONCE = 'n-0S6_WzA2Mj';
const SUB = '110169484474386276334';

/** A fetch that records the path of every request before making it. */
function countingFetch() {
  const paths: string[] = [];
  const counted: typeof fetch = (input, init) => {
    paths.push(new URL(input instanceof Request ? input.url : String(input)).pathname);
    return fetch(input, init);
  };
  return {
    fetch: counted,
    paths,
    jwksFetches: () => paths.filter((path) => path === '/jwks').length,
  };
}

/** A clock the test moves, in milliseconds. */
function movableClock() {
  let now = Date.now();
  return {
    now: () => now,
    advance(seconds: number) {
      now += seconds * 1000;
    },
  };
}

function jwksOf(idp: UpstreamIdp, options: Partial<UpstreamJwksOptions> = {}) {
  return new UpstreamJwks({ issuer: idp.issuer, allowHttp: true, ...options });
}

function settingsOf(idp: UpstreamIdp, extra: Partial<UpstreamSettings> = {}): UpstreamSettings {
  return { name: 'google', issuer: idp.issuer, audiences: [IOS_APP, ANDROID_APP], ...extra };
}

/** Asserts the promise rejects with an UpstreamIdTokenError naming `check`. */
async function refused(promise: Promise<unknown>, check: UpstreamIdTokenCheck) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof UpstreamIdTokenError, String(error));
    assert.equal(error.code, 'invalid_upstream_id_token');
    assert.equal(error.check, check, error.message);
    return true;
  });
}

/** Asserts the promise rejects with an UpstreamUnavailableError whose message matches. */
async function unavailable(promise: Promise<unknown>, message: RegExp) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof UpstreamUnavailableError, String(error));
    assert.equal(error.code, 'upstream_unavailable');
    assert.match(error.message, message);
    return true;
  });
}

describe('an upstream id_token (OpenID Connect Core 1.0 §3.1.3.7)', () => {
  let google: UpstreamIdp;
  let apple: UpstreamIdp;
  let other: UpstreamIdp;

  before(async () => {
    [google, apple, other] = await Promise.all([
      startUpstreamIdp({ quirks: 'google' }),
      startUpstreamIdp({ quirks: 'apple' }),
      startUpstreamIdp(),
    ]);
  });
  after(() => Promise.all([google.close(), apple.close(), other.close()]));

  /** Verifies `token` as a Google id_token for the test apps, keys fetched afresh. */
  function verifyGoogle(token: string, extra: Partial<UpstreamSettings> = {}) {
    return verifyUpstreamIdToken(token, settingsOf(google, extra), jwksOf(google));
  }

  it('control: a Google id_token signed with the published key verifies', async () => {
    const token = await google.mintIdToken({ sub: SUB, aud: IOS_APP, nonce: NONCE });
    const verified = await verifyGoogle(token);
    assert.equal(verified.provider, 'google');
    assert.equal(verified.subject, SUB);
    assert.equal(verified.nonce, NONCE);
    assert.equal(verified.claims.email, `${SUB}@example.test`);
    assert.equal(verified.claims.email_verified, true);
    assert.ok(verified.expiresAt > Date.now() / 1000);
    assert.equal(verified.tokenHash, createHash('sha256').update(token).digest('base64url'));
  });

  it("Apple's string booleans become booleans, other claims pass through", async () => {
    const token = await apple.mintIdToken({ sub: SUB, aud: IOS_APP, nonce: NONCE });
    const verified = await verifyUpstreamIdToken(
      token,
      { name: 'apple', issuer: apple.issuer, audiences: [IOS_APP], quirks: 'apple' },
      jwksOf(apple),
    );
    assert.equal(verified.provider, 'apple');
    assert.equal(verified.claims.email_verified, true);
    assert.equal(verified.claims.is_private_email, false);
    assert.equal(verified.claims.email, `${SUB}@example.test`);
  });

  it('refuses a token whose aud is another app (§3.1.3.7 3.)', async () => {
    const token = await google.mintIdToken({ sub: SUB, aud: OTHER_APP, nonce: NONCE });
    await refused(verifyGoogle(token), 'aud');
  });

  it("refuses another upstream's token by its iss (§3.1.3.7 2.), fetching no keys", async () => {
    const token = await other.mintIdToken({ sub: SUB, aud: IOS_APP, nonce: NONCE });
    const counter = countingFetch();
    await refused(
      verifyUpstreamIdToken(token, settingsOf(google), jwksOf(google, { fetch: counter.fetch })),
      'iss',
    );
    assert.deepEqual(counter.paths, []);
  });

  it('refuses an expired token (§3.1.3.7 9.), and accepts one within the clock skew', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await google.mintIdToken({
      sub: SUB,
      aud: IOS_APP,
      nonce: NONCE,
      iat: now - 3600,
      expiresIn: 3000,
    });
    await refused(verifyGoogle(expired), 'exp');
    const justExpired = await google.mintIdToken({
      sub: SUB,
      aud: IOS_APP,
      nonce: NONCE,
      iat: now - 630,
      expiresIn: 600,
    });
    await verifyGoogle(justExpired);
    await refused(verifyGoogle(justExpired, { clockSkewSeconds: 0 }), 'exp');
  });

  it('refuses a token issued in the future (§3.1.3.7 10.)', async () => {
    const token = await google.mintIdToken({
      sub: SUB,
      aud: IOS_APP,
      nonce: NONCE,
      iat: Math.floor(Date.now() / 1000) + 600,
    });
    await refused(verifyGoogle(token), 'iat');
  });

  it('refuses a token signed by a foreign key under the upstream kid (§3.1.3.7 6.)', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const token = await google.mintIdToken({
      sub: SUB,
      aud: IOS_APP,
      nonce: NONCE,
      signWith: privateKey,
    });
    await refused(verifyGoogle(token), 'signature');
  });

  it('refuses an unsigned token (alg none)', async () => {
    const token = await google.mintIdToken({ sub: SUB, aud: IOS_APP, nonce: NONCE, alg: 'none' });
    await refused(verifyGoogle(token), 'alg');
  });

  it("refuses HS256 keyed with the upstream's public key (alg confusion)", async () => {
    const { keys } = (await (await fetch(`${google.issuer}/jwks`)).json()) as {
      keys: Array<Record<string, string>>;
    };
    const publicPem = createPublicKey({ key: keys[0] as never, format: 'jwk' }).export({
      type: 'spki',
      format: 'pem',
    });
    const token = await google.mintIdToken({
      sub: SUB,
      aud: IOS_APP,
      nonce: NONCE,
      alg: 'HS256',
      signWith: new TextEncoder().encode(String(publicPem)),
    });
    await refused(verifyGoogle(token), 'alg');
  });

  it('refuses an azp that is not an accepted audience (§3.1.3.7 5.)', async () => {
    const token = await google.mintIdToken({
      sub: SUB,
      aud: IOS_APP,
      azp: OTHER_APP,
      nonce: NONCE,
    });
    await refused(verifyGoogle(token), 'azp');
  });

  it('refuses several audiences without azp (§3.1.3.7 4.); control: with an accepted azp', async () => {
    const withoutAzp = await google.mintIdToken({
      sub: SUB,
      aud: [IOS_APP, OTHER_APP],
      nonce: NONCE,
    });
    await refused(verifyGoogle(withoutAzp), 'azp');
    const withAzp = await google.mintIdToken({
      sub: SUB,
      aud: [IOS_APP, OTHER_APP],
      azp: IOS_APP,
      nonce: NONCE,
    });
    assert.equal((await verifyGoogle(withAzp)).subject, SUB);
  });

  it('refuses another or no Workspace hd when hostedDomain is set; control: the same hd', async () => {
    const settings = { quirks: 'google', hostedDomain: 'example.com' } as const;
    const otherDomain = await google.mintIdToken({
      sub: SUB,
      aud: IOS_APP,
      nonce: NONCE,
      hd: 'evil.example',
    });
    await refused(verifyGoogle(otherDomain, settings), 'hd');
    const consumer = await google.mintIdToken({ sub: SUB, aud: IOS_APP, nonce: NONCE });
    await refused(verifyGoogle(consumer, settings), 'hd');
    const workspace = await google.mintIdToken({
      sub: SUB,
      aud: IOS_APP,
      nonce: NONCE,
      hd: 'example.com',
    });
    assert.equal((await verifyGoogle(workspace, settings)).claims.hd, 'example.com');
  });

  it('refuses a token without a nonce (§3.1.3.7 11.)', async () => {
    const token = await google.mintIdToken({ sub: SUB, aud: IOS_APP });
    await refused(verifyGoogle(token), 'nonce');
  });

  it('refuses a token whose sub is empty', async () => {
    const token = await google.mintIdToken({ sub: '', aud: IOS_APP, nonce: NONCE });
    await refused(verifyGoogle(token), 'sub');
  });

  it('refuses what is not a compact JWS, and never echoes the token', async () => {
    for (const token of ['', 'a.b', 'a.b.c.d', '!!.??.', `${'a'.repeat(20_000)}.b.c`]) {
      await refused(verifyGoogle(token), 'format');
    }
    const valid = await google.mintIdToken({ sub: SUB, aud: OTHER_APP, nonce: NONCE });
    await assert.rejects(verifyGoogle(valid), (error: Error) => !error.message.includes(valid));
  });

  it('a __proto__ or constructor claim pollutes no prototype', async () => {
    const token = await google.mintIdToken({
      sub: SUB,
      aud: IOS_APP,
      nonce: NONCE,
      claims: JSON.parse(
        '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"address":{"__proto__":{"polluted":true},"country":"NL"}}',
      ),
    });
    const { claims } = await verifyGoogle(token);
    assert.equal(Object.getPrototypeOf(claims), null);
    assert.equal(Object.hasOwn(claims, '__proto__'), false);
    assert.equal(Object.hasOwn(claims, 'constructor'), false);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    const address = claims.address as Record<string, unknown>;
    assert.equal(address.country, 'NL');
    assert.equal(address.polluted, undefined);
    assert.equal(Object.hasOwn(address, '__proto__'), false);
  });

  it('refuses settings that accept none or HMAC algorithms', async () => {
    const token = await google.mintIdToken({ sub: SUB, aud: IOS_APP, nonce: NONCE });
    await assert.rejects(
      verifyGoogle(token, { algorithms: ['RS256', 'HS256'] }),
      ConfigurationError,
    );
    await assert.rejects(verifyGoogle(token, { algorithms: ['none'] }), ConfigurationError);
  });
});

describe("the upstream's key set", () => {
  let idp: UpstreamIdp;

  before(async () => {
    idp = await startUpstreamIdp({ quirks: 'google' });
  });
  after(() => idp.close());

  const mint = (extra: { kid?: string } = {}) =>
    idp.mintIdToken({ sub: SUB, aud: IOS_APP, nonce: NONCE, ...extra });

  it('after a key rotation, one refetch accepts the new kid; another unknown kid within the cooldown fetches nothing', async () => {
    const counter = countingFetch();
    const clock = movableClock();
    const jwks = jwksOf(idp, { fetch: counter.fetch, now: clock.now });
    const settings = settingsOf(idp);
    await verifyUpstreamIdToken(await mint(), settings, jwks);
    assert.deepEqual(counter.paths, ['/.well-known/openid-configuration', '/jwks']);

    const oldKid = idp.kid;
    await idp.rotateKeys();
    const rotated = await verifyUpstreamIdToken(await mint(), settings, jwks);
    assert.equal(rotated.subject, SUB);
    assert.equal(counter.jwksFetches(), 2, 'the unknown kid refetched the key set once');

    await refused(verifyUpstreamIdToken(await mint({ kid: randomUUID() }), settings, jwks), 'kid');
    await refused(verifyUpstreamIdToken(await mint({ kid: oldKid }), settings, jwks), 'kid');
    assert.equal(counter.jwksFetches(), 2, 'no refetch within the cooldown');

    clock.advance(30);
    await refused(verifyUpstreamIdToken(await mint({ kid: randomUUID() }), settings, jwks), 'kid');
    assert.equal(counter.jwksFetches(), 3, 'one refetch once the cooldown has passed');
    assert.equal(counter.paths.filter((path) => path.startsWith('/.well-known')).length, 1);
  });

  it('refuses a published key whose use is not sig', async () => {
    const relabelled: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (!String(input).endsWith('/jwks')) return response;
      const { keys } = (await response.json()) as { keys: object[] };
      return Response.json({ keys: keys.map((jwk) => ({ ...jwk, use: 'enc' })) });
    };
    const jwks = jwksOf(idp, { fetch: relabelled });
    await refused(verifyUpstreamIdToken(await mint(), settingsOf(idp), jwks), 'kid');
  });

  it('concurrent lookups share one in-flight fetch', async () => {
    const counter = countingFetch();
    const jwks = jwksOf(idp, { fetch: counter.fetch });
    const tokens = await Promise.all(Array.from({ length: 8 }, () => mint()));
    await Promise.all(tokens.map((token) => verifyUpstreamIdToken(token, settingsOf(idp), jwks)));
    assert.deepEqual(counter.paths, ['/.well-known/openid-configuration', '/jwks']);
  });

  for (const [cacheControl, maxAge] of [
    ['public, max-age=600', 600],
    ['max-age=5', 60],
    ['public, max-age=864000', 86_400],
    [undefined, 3600],
    ['no-store', 3600],
  ] as const) {
    it(`honours Cache-Control ${cacheControl ?? '(none)'} of the key set: ${maxAge} s`, async () => {
      idp.setJwksCacheControl(cacheControl);
      const counter = countingFetch();
      const clock = movableClock();
      const jwks = jwksOf(idp, { fetch: counter.fetch, now: clock.now });
      const token = await mint();
      await verifyUpstreamIdToken(token, settingsOf(idp), jwks);
      clock.advance(maxAge - 1);
      await verifyUpstreamIdToken(token, settingsOf(idp), jwks);
      assert.equal(counter.jwksFetches(), 1, 'no refetch before max-age');
      clock.advance(1);
      await verifyUpstreamIdToken(token, settingsOf(idp), jwks);
      assert.equal(counter.jwksFetches(), 2, 'refetched once stale');
    });
  }

  it('keeps a stale set for known kids while the upstream is down, not for unknown ones', async () => {
    idp.setJwksCacheControl(undefined);
    let down = false;
    const counter = countingFetch();
    const clock = movableClock();
    const jwks = jwksOf(idp, {
      now: clock.now,
      fetch: (input, init) =>
        down ? Promise.reject(new TypeError('fetch failed')) : counter.fetch(input, init),
    });
    const token = await mint();
    await verifyUpstreamIdToken(token, settingsOf(idp), jwks);
    down = true;
    clock.advance(3600);
    assert.equal((await verifyUpstreamIdToken(token, settingsOf(idp), jwks)).subject, SUB);
    await unavailable(
      verifyUpstreamIdToken(await mint({ kid: 'new' }), settingsOf(idp), jwks),
      /could not be fetched/,
    );
  });

  it('refuses a discovery document that names another issuer', async () => {
    const impostor = await listen();
    try {
      // It serves the real upstream's discovery document, which names the real issuer.
      impostor.handle(async (_req, res) => {
        const document = await (
          await fetch(`${idp.issuer}/.well-known/openid-configuration`)
        ).text();
        res.writeHead(200, { 'content-type': 'application/json' }).end(document);
      });
      const token = await idp.mintIdToken({
        sub: SUB,
        aud: IOS_APP,
        nonce: NONCE,
        claims: { iss: impostor.url },
      });
      const settings = { name: 'corp', issuer: impostor.url, audiences: [IOS_APP] };
      await unavailable(
        verifyUpstreamIdToken(token, settings, new UpstreamJwks({ ...settings, allowHttp: true })),
        /names another issuer/,
      );
      // The same document under an issuer spelled with a trailing slash: not an exact match.
      const slashed = { name: 'corp', issuer: `${idp.issuer}/`, audiences: [IOS_APP] };
      const slashedToken = await idp.mintIdToken({
        sub: SUB,
        aud: IOS_APP,
        nonce: NONCE,
        claims: { iss: slashed.issuer },
      });
      await unavailable(
        verifyUpstreamIdToken(
          slashedToken,
          slashed,
          new UpstreamJwks({ ...slashed, allowHttp: true }),
        ),
        /names another issuer/,
      );
    } finally {
      await impostor.close();
    }
  });

  it('refuses an http issuer unless allowHttp is set', () => {
    assert.throws(() => new UpstreamJwks({ issuer: idp.issuer }), ConfigurationError);
    assert.throws(() => new UpstreamJwks({ issuer: 'not a url' }), ConfigurationError);
    assert.ok(new UpstreamJwks({ issuer: 'https://accounts.google.com' }));
    assert.ok(new UpstreamJwks({ issuer: idp.issuer, allowHttp: true }));
  });

  it('an upstream that is down, or too slow, is UpstreamUnavailableError', async () => {
    const gone = await startUpstreamIdp();
    const token = await gone.mintIdToken({ sub: SUB, aud: IOS_APP, nonce: NONCE });
    await gone.close();
    await unavailable(
      verifyUpstreamIdToken(token, settingsOf(gone), jwksOf(gone)),
      /could not be fetched/,
    );

    const silent = await listen();
    try {
      silent.handle(() => {}); // never answers
      const settings = { name: 'corp', issuer: silent.url, audiences: [IOS_APP] };
      const slowToken = await idp.mintIdToken({
        sub: SUB,
        aud: IOS_APP,
        nonce: NONCE,
        claims: { iss: silent.url },
      });
      const jwks = new UpstreamJwks({ ...settings, allowHttp: true, timeoutMs: 200 });
      await unavailable(verifyUpstreamIdToken(slowToken, settings, jwks), /could not be fetched/);
    } finally {
      await silent.close();
    }
  });
});

describe('nonceLookupKey', () => {
  const raw = 'a-random-nonce-from-the-server';
  const hex = createHash('sha256').update(raw).digest('hex');

  it("hashes Google's nonce claim, which is the raw nonce", () => {
    assert.equal(nonceLookupKey(raw, 'google'), hex);
    assert.equal(nonceLookupKey(raw), hex);
  });

  it("uses Apple's nonce claim as is: the app handed Apple SHA-256(nonce) in hex", () => {
    assert.equal(nonceLookupKey(hex, 'apple'), hex);
    assert.equal(nonceLookupKey(hex.toUpperCase(), 'apple'), hex);
  });

  it('both land on the key the issued nonce is stored under', () => {
    assert.equal(nonceLookupKey(raw, 'google'), nonceLookupKey(hex, 'apple'));
  });

  it('refuses an Apple nonce that is not a SHA-256 hex digest', () => {
    assert.throws(
      () => nonceLookupKey(raw, 'apple'),
      (error: unknown) => error instanceof UpstreamIdTokenError && error.check === 'nonce',
    );
  });
});
