// oidc-provider ships no types for its internal modules: the challenge generator
// attest-client-auth.ts uses.

declare module 'oidc-provider/lib/helpers/challenge.js' {
  /** oidc-provider's stateless challenge generator: HMAC of the time step under `secret`, `info`. */
  export default class ServerChallenge {
    constructor(secret: Buffer, info: string);
    nextChallenge(): string;
  }
}
