// A template's `approvals.requireKeyUserAuthentication`: whether an install's attested key
// requires the user's authentication as the template asks, from what its attestation showed
// when it registered (kept on its record; only fresh evidence changes it).
import type { InstanceRecord } from '../core/instance-record.js';
import type { TemplateApprovals } from '../core/template-types.js';

/** The evidence format whose verifier reads the key's user-authentication requirement. */
const ANDROID_KEY = 'android-key';

/**
 * Why the install may not approve under the template's key user-authentication requirement,
 * or `undefined` when it may (or the template asks for none).
 *
 * @internal
 */
export function keyAuthenticationRefusal(
  approvals: TemplateApprovals,
  record: InstanceRecord,
): string | undefined {
  const required = approvals.requireKeyUserAuthentication;
  if (!required) return undefined;
  const { userAuthType = 'any', maxAuthTimeout = 0 } = required === true ? {} : required;
  const evidence = record.registered_by?.evidence;
  const enforced = evidence?.key_user_authentication;
  if (!enforced) {
    // An Android key attestation that showed none: the key is known to sign without the user.
    if (evidence?.format === ANDROID_KEY) {
      return "this app install's attested key does not require user authentication, as this app's approvals do";
    }
    // No evidence that could show it: only the app's signed uv statement, if the template takes it.
    return approvals.requireUserVerification
      ? undefined
      : "this app's approvals need an attested key that requires user authentication";
  }
  if (userAuthType === 'biometric' && enforced.methods.some((m) => m !== 'biometric')) {
    return "this app install's attested key can be used without a biometric, which this app's approvals require";
  }
  if (enforced.timeout > maxAuthTimeout) {
    return maxAuthTimeout === 0
      ? "this app install's attested key stays usable after the user authenticated; this app's approvals need an authentication for each use"
      : `this app install's attested key stays usable ${enforced.timeout} s after the user authenticated; this app's approvals allow ${maxAuthTimeout} s`;
  }
  return undefined;
}
