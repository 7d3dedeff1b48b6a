// The first-party sign-in settings a template declares (`Template.firstParty`), resolved.
import type { AssuranceLevel } from '../core/levels.js';
import type { DefaultsOf } from '../core/options/resolve-types.js';
import { SIGN_IN_ACR } from '../core/sign-in-acr.js';
import type { TemplateFirstParty } from '../core/template-types.js';

/**
 * `TemplateFirstParty.minimumLevel`'s default. Not a schema default: that would give every
 * template a `firstParty` and so turn first-party sign-in on for all.
 *
 * @internal
 */
export const DEFAULT_FIRST_PARTY_MINIMUM: AssuranceLevel = 'by-policy';

/** The path of the Authorization Challenge Endpoint, relative to the issuer. @internal */
export const AUTHORIZATION_CHALLENGE_PATH = '/authorize-challenge';

/** Seconds an `auth_session` may continue after it was issued. @internal */
export const AUTH_SESSION_TTL = 300;

/** The lowest level an install of a template with `firstParty` needs. @internal */
export function firstPartyMinimum(firstParty: TemplateFirstParty): AssuranceLevel {
  return firstParty.minimumLevel ?? DEFAULT_FIRST_PARTY_MINIMUM;
}

/** A credential step of the Authorization Challenge Endpoint. @group First-party sign-in */
export type FirstPartyStep = 'password' | 'id_token' | 'passkey';

/**
 * The authentication context class (`acr`) a sign-in gives, by the strongest step it took: a
 * passkey (`urn:mobile-oidc:passkey`, phishing-resistant, user-verified), else an Apple/Google
 * id_token (`urn:mobile-oidc:federated`), else a password (`urn:mobile-oidc:pwd`). The
 * Authorization Challenge Endpoint and the browser's sign-in pages give the same values; they are
 * listed in discovery (`acr_values_supported`). The code, the ID token (when the request had
 * `acr_values`) and the access tokens carry it; an app asks for one with `acr_values`, an API
 * requires one with `requireAuthentication` (step-up, RFC 9470).
 *
 * @group First-party sign-in
 */
export const FIRST_PARTY_ACR: Readonly<Record<FirstPartyStep, string>> = Object.freeze({
  password: SIGN_IN_ACR.password,
  id_token: SIGN_IN_ACR.id_token,
  passkey: SIGN_IN_ACR.passkey,
});

/**
 * What the first-party policy sees of a step whose credential checked out. Never the credential
 * itself (no password, assertion or id_token).
 *
 * @group First-party sign-in
 */
export interface FirstPartyPolicyContext {
  /** The install's client id. */
  clientId: string;
  /** The install's template (`software_id`). */
  softwareId: string;
  /** The install's assurance level (`cal`). */
  cal: AssuranceLevel;
  /** The step this request took. */
  step: FirstPartyStep;
  /** Every step of this auth_session that checked out, this one last. */
  steps: FirstPartyStep[];
  /** The account the credential names (the same for every step of a session). */
  accountId: string;
  /** The client's address, as the sign-in throttle sees it. */
  ip: string;
}

/**
 * The first-party policy's answer:
 * - `'allow'`: the authorization code;
 * - `'deny'`: `access_denied`, the auth_session spent;
 * - `{ more: [...] }`: one of these steps too, for the same account (`insufficient_authorization`
 *   with a new auth_session and the parameters they need in `required`);
 * - `'web'`: continue in the browser (`redirect_to_web` with a pushed authorization request).
 *
 * @group First-party sign-in
 */
export type FirstPartyDecision =
  | 'allow'
  | 'deny'
  | 'web'
  | {
      /** The steps the app may take next (one of them), for the same account. */
      more: FirstPartyStep[];
    };

/**
 * Decides, after each step's credential checked out, whether the sign-in may end there. Called
 * before the install is bound to the account and before the code is minted, so a `deny`, a
 * `more`, a `web` or a throw leaves nothing written. A throw answers `500 server_error` (logged,
 * no detail to the app).
 *
 * @group First-party sign-in
 */
export type FirstPartyPolicy = (
  context: FirstPartyPolicyContext,
) => FirstPartyDecision | Promise<FirstPartyDecision>;

/**
 * Browserless first-party sign-in across templates (which templates take part is
 * `Template.firstParty`). See [First-party sign-in](../../docs/first-party.md).
 *
 * @group Options
 */
export interface FirstPartyOptions {
  /**
   * Decides per step whether the sign-in ends, needs another step, or continues in the browser.
   *
   * @default every step that checks out allowed
   * @example
   * ```ts
   * // A password alone is not enough for an app below attestation: ask for a passkey as well.
   * policy: ({ steps, cal }) =>
   *   cal !== 'by-policy' && !steps.includes('passkey') ? { more: ['passkey'] } : 'allow',
   * ```
   */
  policy?: FirstPartyPolicy;
}

/** Defaults of {@link AuthServerOptions.firstParty}. @internal */
export const FIRST_PARTY_DEFAULTS = {} as const satisfies DefaultsOf<FirstPartyOptions>;

/** The schema of {@link AuthServerOptions.firstParty}. @internal */
export const firstPartySchema = {
  type: 'object',
  additionalProperties: false,
  properties: { policy: { isFunction: true } },
} as const;
