export type { SignInEvents, SignInThrottledEvent } from './events.js';
export { SignInThrottle, type SignInThrottleSettings, type ThrottleDecision } from './throttle.js';
export type { InteractionOptions } from './types.js';

/** The URL path of one interaction's page, under the issuer's path. @internal */
export const interactionUrl = (basePath: string, uid: string): string =>
  `${basePath}/interaction/${uid}`;
