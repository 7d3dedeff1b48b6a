// An upstream id_token with an absurd `exp` (OpenID Connect Core §3.1.3.7 9.; RFC 7519 §4.1.4)
// is refused at the native exchange (RFC 8693 §2.2.2) with 400 invalid_grant naming the check —
// never a 503 from a store that refused the replay mark's lifetime, never a "storage
// unavailable" log. A real upstream (oidc-provider on loopback) signs each token with its key;
// the exchange runs on the in-memory store and on a real Redis.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Logger, Store } from 'mobile-oidc-provider';
import { MemoryStore } from 'mobile-oidc-provider';
import type * as oidc from 'openid-client';
import { RedisStore } from '../../adapters/redis.js';
import { type RunningServer, registrationClient, startExample } from '../helpers/example.js';
import { json } from '../helpers/json.js';
import { TEST_REDIS_URL } from '../helpers/redis-url.js';
import { startUpstreamIdp, type UpstreamIdp } from '../helpers/upstream-idp.js';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';
const GOOGLE_CLIENT_ID = 'android.apps.googleusercontent.example';
const DAY = 24 * 3600;

/** A logger that keeps what it is given. */
function recordingLogger() {
  const entries: Array<{ level: string; message: string }> = [];
  const keep =
    (level: string) =>
    (_fields: Record<string, unknown>, message: string): void => {
      entries.push({ level, message });
    };
  const logger: Logger = {
    error: keep('error'),
    warn: keep('warn'),
    info: keep('info'),
    debug: keep('debug'),
  };
  return { logger, entries };
}

const backends: Array<[string, () => Store]> = [
  ['the in-memory store', () => new MemoryStore()],
  [
    'Redis',
    () => new RedisStore({ client: TEST_REDIS_URL, keyPrefix: `test:${randomUUID()}:` }) as Store,
  ],
];

for (const [backend, createStore] of backends) {
  describe(`native exchange of an id_token with an absurd exp, on ${backend}`, () => {
    let google: UpstreamIdp;
    let store: Store;
    let server: RunningServer;
    let reg: oidc.Configuration;
    const { logger, entries } = recordingLogger();

    before(async () => {
      google = await startUpstreamIdp({ quirks: 'google' });
      store = createStore();
      server = await startExample((o) => ({
        ...o,
        store,
        logger,
        accounts: {
          ...o.accounts,
          federated: async (identity) => (identity.subject === 'g-demo' ? 'demouser' : undefined),
        },
        federation: {
          providers: [
            {
              name: 'google',
              issuer: google.issuer,
              quirks: 'google',
              audiences: [GOOGLE_CLIENT_ID],
            },
          ],
        },
      }));
      reg = await registrationClient(server.issuer);
    });
    after(async () => {
      await server.close();
      await store.close();
      await google.close();
    });

    /** An id_token of the upstream's, signed with its key, for a fresh nonce of ours. */
    async function idToken(claims: Record<string, unknown> = {}): Promise<string> {
      const res = await fetch(new URL('/federation/nonce', server.issuer), { method: 'POST' });
      assert.equal(res.status, 200);
      const { nonce } = await json(res);
      return google.mintIdToken({ sub: 'g-demo', aud: GOOGLE_CLIENT_ID, nonce, claims });
    }

    /** The exchange at the token endpoint, answered as status and body (RFC 6749 §5.1, §5.2). */
    async function exchange(subjectToken: string) {
      const res = await fetch(reg.serverMetadata().token_endpoint as string, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: TOKEN_EXCHANGE,
          client_id: reg.clientMetadata().client_id,
          subject_token: subjectToken,
          subject_token_type: ID_TOKEN_TYPE,
        }).toString(),
      });
      return { status: res.status, body: await json(res) };
    }

    const now = () => Math.floor(Date.now() / 1000);
    /** What the server logged as an outage or an unexpected error. */
    const problems = () => entries.filter((e) => e.level === 'error' || /storage/i.test(e.message));

    it('attack: an exp more than a day after iat (just over, far, beyond any store, the largest double) is 400 invalid_grant; nothing is logged as storage unavailable', async () => {
      const iat = now();
      for (const exp of [iat + DAY + 1, iat + 10 * 365 * DAY, 1e15, 1e300, Number.MAX_VALUE]) {
        const res = await exchange(await idToken({ iat, exp }));
        assert.equal(res.status, 400, `exp ${exp}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error, 'invalid_grant');
        assert.equal(
          res.body.error_description,
          "the id_token's exp is too far in the future: more than 24 hours after its iat",
        );
      }
      // An iat far in the past makes a lifetime as long, with an exp that looks near.
      const old = await exchange(await idToken({ iat: -1e300, exp: now() + 600 }));
      assert.equal(old.status, 400, JSON.stringify(old.body));
      assert.equal(old.body.error, 'invalid_grant');
      assert.match(old.body.error_description, /exp is too far in the future/);
      assert.deepEqual(problems(), [], 'no storage outage, no unexpected error');
    });

    it('attack: an exp that is not a number, or already past (negative), is 400 invalid_grant', async () => {
      for (const [exp, description] of [
        ['9999999999', 'the id_token has no exp'],
        [null, 'the id_token has no exp'],
        [-1, 'the id_token has expired'],
        [-1e300, 'the id_token has expired'],
      ] as const) {
        const res = await exchange(await idToken({ exp }));
        assert.equal(res.status, 400, `exp ${exp}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error, 'invalid_grant');
        assert.equal(res.body.error_description, description);
      }
      assert.deepEqual(problems(), []);
    });

    it('control: a usual exp (an hour), a full day and a fractional one (RFC 7519 §2 NumericDate) are exchanged for a DCR token; each token once only', async () => {
      const iat = now();
      for (const exp of [iat + 3600, iat + DAY, iat + 600.5]) {
        const token = await idToken({ iat, exp });
        const res = await exchange(token);
        assert.equal(res.status, 200, `exp ${exp}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.scope, 'dcr');
        assert.ok(res.body.access_token);
        // The replay mark was stored, with a lifetime the store accepted.
        const again = await exchange(token);
        assert.equal(again.status, 400);
        assert.equal(again.body.error, 'invalid_grant');
      }
      assert.deepEqual(problems(), []);
    });
  });
}
