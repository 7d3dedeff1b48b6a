// oidc-provider derives the PoP challenges of its attestClientAuth feature statelessly in a module
// it does not export; it has no exports map, so the module is reachable (types in
// oidc-provider-internals.d.ts). This is the one place that imports it:
// test/provider/pop-challenges.test.ts fails if an upgrade moves it or changes the derivation.
import ServerChallenge from 'oidc-provider/lib/helpers/challenge.js';

// The info string oidc-provider derives its PoP challenges with.
const POP_CHALLENGE_INFO = 'OAuth-Client-Attestation-PoP';

/**
 * The next PoP challenge oidc-provider's attestClientAuth expects, computed from its
 * `challengeSecret` (32 bytes) as it does: an HMAC of the current time step, so any process with
 * the secret hands out one it accepts, with no store. The Client Attester hands it out with each
 * attestation, saving the app a round trip.
 *
 * @internal
 */
export function popChallenges(secret: Buffer): () => string {
  const challenges = new ServerChallenge(secret, POP_CHALLENGE_INFO);
  return () => challenges.nextChallenge();
}
