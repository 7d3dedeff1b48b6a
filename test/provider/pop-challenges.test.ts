// The Client Attester hands out the next PoP challenge of attestation-based client authentication
// with each attestation, computed as oidc-provider computes it, with its generator, which it does
// not export: lib/provider/pop-challenges.ts reaches it. This compares it with what a bare
// oidc-provider's challenge endpoint serves, over real HTTP, so an upgrade that moves the
// generator or changes the derivation (secret, info string, time step) fails here.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import Provider from 'oidc-provider';
import { ATTEST_CLIENT_AUTH_DRAFT } from '../../lib/client-attestation/attest-client-auth.js';
import { popChallenges } from '../../lib/provider/pop-challenges.js';
import { type Listening, listen } from '../helpers/listen.js';

describe("oidc-provider's PoP challenges, as the library computes them", () => {
  const secret = randomBytes(32);
  let http: Listening;

  before(async () => {
    http = await listen();
    const provider = new Provider(http.url, {
      features: {
        dPoP: { nonceSecret: randomBytes(32) },
        attestClientAuth: {
          enabled: true,
          ack: ATTEST_CLIENT_AUTH_DRAFT,
          challengeSecret: secret,
          getAttestationSignaturePublicKey() {
            throw new Error('no attestation is verified here');
          },
        },
      },
    });
    http.handle(provider.callback());
  });
  after(() => http?.close());

  /** The challenge oidc-provider's challenge endpoint serves now. */
  async function served(): Promise<string> {
    const res = await fetch(`${http.url}/challenge`, { method: 'POST' });
    assert.equal(res.status, 200);
    const { attestation_challenge } = (await res.json()) as { attestation_challenge?: unknown };
    assert.equal(typeof attestation_challenge, 'string');
    return attestation_challenge as string;
  }

  it("popChallenges gives the challenge oidc-provider's challenge endpoint serves, for the same secret", async () => {
    const next = popChallenges(secret);
    // Read on both sides of the request: a time step may turn between them.
    const before = next();
    const answer = await served();
    const afterwards = next();
    assert.ok(answer === before || answer === afterwards, 'the same derivation as oidc-provider');
  });

  it('control: another secret gives another challenge', async () => {
    const answer = await served();
    assert.notEqual(popChallenges(randomBytes(32))(), answer);
  });
});
