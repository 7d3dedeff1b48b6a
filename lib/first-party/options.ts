// The first-party sign-in settings a template declares (`Template.firstParty`), resolved.
import type { AssuranceLevel } from '../core/levels.js';
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
