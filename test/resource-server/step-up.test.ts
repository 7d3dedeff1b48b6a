// Step-up authentication (RFC 9470) at the API: a route requires a kind of sign-in (`acr`) or a
// recent one (`auth_time`); a token that does not give it is refused with 401
// `insufficient_user_authentication` and a challenge naming `acr_values` / `max_age`, which the
// app hands to the authorization server for a new sign-in.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  createTokenVerifier,
  refusalResponse,
  requireAuthentication,
} from '../../lib/resource-server/index.js';
import { stopDate } from '../helpers/clock.js';
import { JWT_API, LocalIssuer, localKey, refusal, requestTo } from './helpers.js';

const PASSKEY = 'urn:mobile-oidc:passkey';
const PASSWORD = 'urn:mobile-oidc:pwd';

describe('resource server: step-up (requireAuthentication, RFC 9470)', () => {
  let local: LocalIssuer;

  before(async () => {
    local = await LocalIssuer.start();
  });
  after(() => local.close());
  beforeEach(async () => {
    local.keys = [await localKey()];
  });

  const verified = async (claims: Record<string, unknown>) =>
    createTokenVerifier({ issuer: local.issuer, audience: JWT_API, allowHttp: true }).verify(
      requestTo('https://api.example.com/pay', {
        authorization: `Bearer ${await local.mint(JWT_API, claims)}`,
      }),
    );
  const now = () => Math.floor(Date.now() / 1000);

  it('the token gives acr and auth_time; a malformed one is invalid_token', async () => {
    const token = await verified({ acr: PASSKEY, auth_time: 1_700_000_000 });
    assert.equal(token.acr, PASSKEY);
    assert.equal(token.authTime, 1_700_000_000);
    for (const [claims, description] of [
      [{ acr: ['x'] }, 'the token acr is malformed'],
      [{ auth_time: '1700000000' }, 'the token auth_time is malformed'],
      [{ auth_time: -1 }, 'the token auth_time is malformed'],
    ] as const) {
      const refused = await refusal(verified(claims));
      assert.equal(refused.error, 'invalid_token');
      assert.equal(refused.error_description, description);
    }
  });

  it('a password sign-in is refused where a passkey is required, with the RFC 9470 challenge; control: a passkey sign-in passes', async () => {
    const password = await verified({ acr: PASSWORD, auth_time: now() });
    const refused = await refusal(() => requireAuthentication(password, { acrValues: [PASSKEY] }));
    assert.equal(refused.status, 401);
    assert.equal(refused.error, 'insufficient_user_authentication');
    assert.equal(
      refused.wwwAuthenticate('api'),
      `Bearer realm="api", error="insufficient_user_authentication", error_description="this request needs a sign-in of ${PASSKEY}", acr_values="${PASSKEY}"`,
    );
    const response = refusalResponse(refused);
    assert.equal(response.status, 401);
    assert.equal(response.body.acr_values, PASSKEY);
    // A token without acr is no better.
    const noAcr = await verified({ auth_time: now() });
    await refusal(() => requireAuthentication(noAcr, { acrValues: [PASSKEY] }));
    // Control: the passkey sign-in, and a list that accepts the password too.
    const passkey = await verified({ acr: PASSKEY, auth_time: now() });
    assert.equal(requireAuthentication(passkey, { acrValues: [PASSKEY] }), passkey);
    requireAuthentication(password, { acrValues: [PASSKEY, PASSWORD] });
  });

  it('a sign-in older than max_age is refused with max_age in the challenge; control: a recent one passes', async (t) => {
    const move = stopDate(t);
    const token = await verified({ acr: PASSKEY, auth_time: now() });
    requireAuthentication(token, { maxAge: 300, acrValues: [PASSKEY] });
    move(301_000);
    const refused = await refusal(() =>
      requireAuthentication(token, { maxAge: 300, acrValues: [PASSKEY] }),
    );
    assert.equal(refused.error, 'insufficient_user_authentication');
    assert.equal(refused.maxAge, 300);
    assert.equal(
      refused.wwwAuthenticate(),
      `Bearer error="insufficient_user_authentication", error_description="this request needs a sign-in in the last 300 seconds", acr_values="${PASSKEY}", max_age=300`,
    );
    assert.equal(refusalResponse(refused).body.max_age, '300');
    // Without auth_time, no age can be proven.
    const timeless = await verified({ acr: PASSKEY });
    await refusal(() => requireAuthentication(timeless, { maxAge: 3600 }));
    requireAuthentication(timeless, { acrValues: [PASSKEY] });
  });

  it('a DPoP-bound token is challenged with the DPoP scheme', async () => {
    const token = { ...(await verified({ acr: PASSWORD })), tokenType: 'DPoP' as const };
    const refused = await refusal(() => requireAuthentication(token, { acrValues: [PASSKEY] }));
    assert.match(refused.wwwAuthenticate() ?? '', /^DPoP error="insufficient_user_authentication"/);
  });

  it('an empty or malformed requirement is a TypeError, not a pass', async () => {
    const token = await verified({ acr: PASSKEY, auth_time: now() });
    assert.throws(() => requireAuthentication(token, {}), TypeError);
    assert.throws(() => requireAuthentication(token, { acrValues: [] }), TypeError);
    assert.throws(() => requireAuthentication(token, { acrValues: ['a b'] }), TypeError);
    assert.throws(() => requireAuthentication(token, { acrValues: ['a"b'] }), TypeError);
    assert.throws(() => requireAuthentication(token, { maxAge: -1 }), TypeError);
    assert.throws(() => requireAuthentication(token, { maxAge: 1.5 }), TypeError);
  });
});
