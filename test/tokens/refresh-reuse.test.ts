// Issue #25: the refresh token reuse grace window must not let a thief keep a chain. RFC 9700
// §4.14.2 asks that reuse of a rotated refresh token revoke the grant; the window
// (ttl.refreshTokenReuseGrace) tolerates a retry after a lost response, and only that:
// - a retry is bounded (ttl.refreshTokenReuseLimit, as Hydra's reuse count) and each retry retires
//   the previous unused successor and its access token (one live child per parent, as WSO2), so a
//   burst of N parallel uses of one token gets at most 1 + limit pairs, of which one works;
// - two different successors of one rotation presented (the app's and the thief's) is theft: the
//   grant is revoked and `refresh_token.reuse_detected` says so, without any token value;
// - reuse after the window, or after a successor was used, stays theft.
// Every attack has its control: a lost response is survived, and plain rotation is untouched.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  type AuthServerOptions,
  MemoryStore,
  type RefreshTokenReuseEvent,
  type Store,
} from 'mobile-oidc-provider';
import { RedisStore } from 'mobile-oidc-provider/adapters/redis';
import * as oidc from 'openid-client';
import {
  APP_REDIRECT_URI,
  type RunningServer,
  registrationClient,
  startExample,
} from '../helpers/example.js';
import { TEST_REDIS_URL } from '../helpers/redis-url.js';
import { isOAuthError, rawRefresh } from '../helpers/registration.js';
import {
  codeForInstance,
  obtainDcrToken,
  registerInstance,
  SignInBrowser,
  signIn,
} from '../helpers/sign-in.js';

const LIMIT = 3; // the default ttl.refreshTokenReuseLimit

const stores: Array<[string, () => Store | undefined]> = [
  ['the in-memory store', () => undefined],
  ['Redis', () => new RedisStore({ client: TEST_REDIS_URL, keyPrefix: `reuse:${randomUUID()}:` })],
];

/** A token pair as the app holds it. */
interface Pair {
  refreshToken: string;
  accessToken: string;
}

const pairOf = (response: oidc.TokenEndpointResponse): Pair => ({
  refreshToken: response.refresh_token as string,
  accessToken: response.access_token,
});

/** Starts a server with `ttl` overrides, recording its reuse events. */
async function startRecording(store: Store | undefined, ttl: AuthServerOptions['ttl'] = {}) {
  const server = await startExample((o) => ({
    ...o,
    ...(store ? { store } : {}),
    ttl: { ...o.ttl, ...ttl },
  }));
  const events: RefreshTokenReuseEvent[] = [];
  server.auth.on('refresh_token.reuse_detected', (event) => events.push(event));
  return { server, events };
}

/** A registered install signed in with offline_access: its openid-client view and first pair. */
async function signedInInstall(server: RunningServer) {
  const browser = new SignInBrowser();
  const { tokens } = await obtainDcrToken(await registrationClient(server.issuer), browser);
  const instance = await registerInstance(server.issuer, tokens.access_token);
  const { callback, checks } = await codeForInstance(browser, instance);
  const issued = await oidc.authorizationCodeGrant(instance, callback, checks);
  return { instance, first: pairOf(issued) };
}

const refresh = async (instance: oidc.Configuration, token: string) =>
  pairOf(await oidc.refreshTokenGrant(instance, token));

const refused = (instance: oidc.Configuration, token: string) =>
  assert.rejects(oidc.refreshTokenGrant(instance, token), isOAuthError('invalid_grant'));

/** Whether the access token is active (RFC 7662), as the server introspects it. */
const active = async (server: RunningServer, accessToken: string) =>
  (await server.auth.introspect(accessToken)).active === true;

/** Asserts the access token is refused at userinfo (401 invalid_token, OIDC Core §5.3.3). */
const userinfoRefuses = (instance: oidc.Configuration, accessToken: string) =>
  assert.rejects(
    oidc.fetchUserInfo(instance, accessToken, oidc.skipSubjectCheck),
    isOAuthError('invalid_token'),
  );

/** Asserts one event for the install's grant, with `reason`, and no token value in it at all. */
function assertOneTheftEvent(
  events: RefreshTokenReuseEvent[],
  instance: oidc.Configuration,
  reason: RefreshTokenReuseEvent['reason'],
  tokens: string[],
) {
  assert.equal(events.length, 1, `events: ${JSON.stringify(events)}`);
  const [event] = events as [RefreshTokenReuseEvent];
  assert.deepEqual(Object.keys(event).sort(), ['accountId', 'clientId', 'grantId', 'reason']);
  assert.equal(event.clientId, instance.clientMetadata().client_id);
  assert.equal(event.reason, reason);
  assert.equal(typeof event.grantId, 'string');
  const serialized = JSON.stringify(event);
  for (const token of tokens) assert.ok(!serialized.includes(token), 'a token value in the event');
}

for (const [storeName, makeStore] of stores)
  describe(`refresh token reuse within the grace window, on ${storeName}`, () => {
    let store: Store | undefined;
    let server: RunningServer;
    let events: RefreshTokenReuseEvent[];

    before(async () => {
      store = makeStore();
      ({ server, events } = await startRecording(store));
    });
    after(async () => {
      await server.close();
      await store?.close();
    });
    beforeEach(() => {
      events.length = 0;
    });

    it('attack: a thief replays the old token after the app rotated, then the app uses its successor: both chains die, the grant is revoked, the event says so', async () => {
      const { instance, first } = await signedInInstall(server);
      const app = await refresh(instance, first.refreshToken);
      // Within the window the replay looks like a retry: the thief gets a pair…
      const thief = await refresh(instance, first.refreshToken);
      // …and the app's unused successor and its access token are retired at once.
      assert.equal(await active(server, app.accessToken), false);
      await userinfoRefuses(instance, app.accessToken);
      assert.equal(await active(server, thief.accessToken), true);
      assert.deepEqual(events, []);

      // The app uses its successor: two different successors of one rotation were presented.
      const answer = await rawRefresh(instance, app.refreshToken);
      assert.equal(answer.status, 400);
      assert.equal(((await answer.json()) as { error?: string }).error, 'invalid_grant');
      // The grant is revoked: the thief's chain is dead as well.
      await refused(instance, thief.refreshToken);
      assert.equal(await active(server, thief.accessToken), false);
      await userinfoRefuses(instance, thief.accessToken);
      assertOneTheftEvent(events, instance, 'superseded_successor_used', [
        first.refreshToken,
        first.accessToken,
        app.refreshToken,
        app.accessToken,
        thief.refreshToken,
        thief.accessToken,
      ]);
    });

    it('attack: the thief refreshes with its successor first, then the app with its own: the grant is revoked', async () => {
      const { instance, first } = await signedInInstall(server);
      const app = await refresh(instance, first.refreshToken);
      const thief = await refresh(instance, first.refreshToken);
      const thiefNext = await refresh(instance, thief.refreshToken);
      await refused(instance, app.refreshToken);
      await refused(instance, thiefNext.refreshToken);
      assert.equal(await active(server, thiefNext.accessToken), false);
      assertOneTheftEvent(events, instance, 'superseded_successor_used', []);
    });

    it('attack: a burst of 20 parallel refreshes of one token gets exactly 1 + limit pairs, of which only the newest works', async () => {
      const { instance, first } = await signedInInstall(server);
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, () => refresh(instance, first.refreshToken)),
      );
      const pairs = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      assert.equal(pairs.length, 1 + LIMIT);
      for (const r of results) {
        if (r.status === 'rejected') assert.ok(isOAuthError('invalid_grant')(r.reason));
      }
      // One live child: exactly one access token is still active; the others were retired.
      const live = [];
      for (const pair of pairs) if (await active(server, pair.accessToken)) live.push(pair);
      assert.equal(live.length, 1);
      const [newest] = live as [Pair];
      const retired = pairs.filter((pair) => pair !== newest);
      for (const pair of retired) await userinfoRefuses(instance, pair.accessToken);
      // A burst is no theft by itself: the newest pair works, and its chain goes on.
      assert.deepEqual(events, []);
      const next = await refresh(instance, newest.refreshToken);
      assert.equal(await active(server, next.accessToken), true);

      // A retired successor presented afterwards is a second successor of one rotation.
      await refused(instance, (retired[0] as Pair).refreshToken);
      await refused(instance, next.refreshToken);
      assertOneTheftEvent(events, instance, 'superseded_successor_used', []);
    });

    it('attack: reuse after a successor was used revokes the grant, and the event says so', async () => {
      const { instance, first } = await signedInInstall(server);
      const t1 = await refresh(instance, first.refreshToken);
      const t2 = await refresh(instance, t1.refreshToken);
      await refused(instance, first.refreshToken);
      await refused(instance, t2.refreshToken);
      assertOneTheftEvent(events, instance, 'successor_used', [first.refreshToken]);
    });

    it('sequential retries: the limit is enforced, a retry beyond it is refused without revoking, and the newest pair keeps working', async () => {
      const { instance, first } = await signedInInstall(server);
      const pairs = [await refresh(instance, first.refreshToken)]; // the response that was lost
      for (let retry = 0; retry < LIMIT; retry += 1) {
        pairs.push(await refresh(instance, first.refreshToken));
      }
      await refused(instance, first.refreshToken);
      assert.deepEqual(events, []);
      const newest = pairs.at(-1) as Pair;
      for (const pair of pairs) {
        assert.equal(await active(server, pair.accessToken), pair === newest);
      }
      const next = await refresh(instance, newest.refreshToken);
      assert.ok(await active(server, next.accessToken));
    });

    it('control: a lost response is survived: the retry gets a working pair and the chain keeps working', async () => {
      const { instance, first } = await signedInInstall(server);
      const lost = await refresh(instance, first.refreshToken); // the app never saw it
      const retried = await refresh(instance, first.refreshToken);
      assert.notEqual(retried.refreshToken, lost.refreshToken);
      assert.equal(await active(server, retried.accessToken), true);
      let token = retried.refreshToken;
      for (let i = 0; i < 3; i += 1) {
        const next = await refresh(instance, token);
        assert.equal(await active(server, next.accessToken), true);
        await oidc.fetchUserInfo(instance, next.accessToken, oidc.skipSubjectCheck);
        token = next.refreshToken;
      }
      assert.deepEqual(events, []);
    });

    it('control: plain rotation is untouched: every pair works, no event', async () => {
      const { instance, first } = await signedInInstall(server);
      let pair = first;
      for (let i = 0; i < 4; i += 1) {
        const next = await refresh(instance, pair.refreshToken);
        assert.notEqual(next.refreshToken, pair.refreshToken);
        assert.equal(await active(server, next.accessToken), true);
        // The previous access token lives on until it expires: rotation is about refresh tokens.
        assert.equal(await active(server, pair.accessToken), true);
        pair = next;
      }
      assert.deepEqual(events, []);
    });
  });

describe('refresh token reuse: the limit and the window are options', () => {
  it('ttl.refreshTokenReuseLimit 1: a burst of 20 gets exactly 2 pairs', async () => {
    const { server, events } = await startRecording(undefined, { refreshTokenReuseLimit: 1 });
    try {
      const { instance, first } = await signedInInstall(server);
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, () => refresh(instance, first.refreshToken)),
      );
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 2);
      assert.deepEqual(events, []);
    } finally {
      await server.close();
    }
  });

  for (const ttl of [{ refreshTokenReuseGrace: 0 }, { refreshTokenReuseLimit: 0 }]) {
    it(`${JSON.stringify(ttl)} turns the window off: any reuse revokes the grant, and the event says so`, async () => {
      const { server, events } = await startRecording(undefined, ttl);
      try {
        const { instance, first } = await signedInInstall(server);
        const t1 = await refresh(instance, first.refreshToken);
        await refused(instance, first.refreshToken);
        await refused(instance, t1.refreshToken);
        assertOneTheftEvent(events, instance, 'outside_grace_window', [first.refreshToken]);
      } finally {
        await server.close();
      }
    });
  }

  it('a retry beyond the limit is a clear invalid_grant, and leaves nothing written', async () => {
    const store = new MemoryStore();
    const { server, events } = await startRecording(store);
    try {
      const { instance, first } = await signedInInstall(server);
      for (let use = 0; use <= LIMIT; use += 1) await refresh(instance, first.refreshToken);
      const before = store.size;
      const answer = await rawRefresh(instance, first.refreshToken);
      assert.equal(answer.status, 400);
      assert.deepEqual(await answer.json(), {
        error: 'invalid_grant',
        error_description: 'refresh token reused too often within its grace window',
      });
      assert.equal(store.size, before, 'the refused retry left records behind');
      assert.deepEqual(events, []);
    } finally {
      await server.close();
      await store.close();
    }
  });

  it('with JWT access tokens for an API (RFC 9068): a retry retires the lost refresh token, and presenting it revokes the grant', async () => {
    const API = 'https://api.example.com/';
    const server = await startExample((o) => ({ ...o, apis: [{ resource: API, scope: 'email' }] }));
    const events: RefreshTokenReuseEvent[] = [];
    server.auth.on('refresh_token.reuse_detected', (event) => events.push(event));
    try {
      const browser = new SignInBrowser();
      const dcr = await obtainDcrToken(await registrationClient(server.issuer), browser);
      const instance = await registerInstance(server.issuer, dcr.tokens.access_token);
      const pkceCodeVerifier = oidc.randomPKCECodeVerifier();
      const { callback } = await signIn(
        browser,
        oidc.buildAuthorizationUrl(instance, {
          redirect_uri: APP_REDIRECT_URI,
          scope: 'openid offline_access email',
          prompt: 'consent',
          resource: API,
          code_challenge: await oidc.calculatePKCECodeChallenge(pkceCodeVerifier),
          code_challenge_method: 'S256',
        }),
      );
      const t0 = (await oidc.authorizationCodeGrant(instance, callback, { pkceCodeVerifier }))
        .refresh_token as string;
      const forApi = (token: string) => oidc.refreshTokenGrant(instance, token, { resource: API });
      const lost = await forApi(t0);
      assert.equal(lost.access_token.split('.').length, 3, 'a JWT access token');
      // Control: the retry works and its chain goes on.
      const retried = await forApi(t0);
      const next = await forApi(retried.refresh_token as string);
      // Attack: the lost refresh token, presented after all.
      await assert.rejects(forApi(lost.refresh_token as string), isOAuthError('invalid_grant'));
      await assert.rejects(forApi(next.refresh_token as string), isOAuthError('invalid_grant'));
      assert.deepEqual(
        events.map((e) => e.reason),
        ['superseded_successor_used'],
      );
    } finally {
      await server.close();
    }
  });
});
