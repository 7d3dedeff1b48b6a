// Step-up (RFC 9470) on the sign-in pages: each way of signing in gives its `acr` (the same values
// as the Authorization Challenge Endpoint's), and a request's `acr_values` naming some that the
// pages give is honoured: a session of another acr signs in again, and only the ways of signing
// in that give one of them are offered and taken.

import type { InteractionResults, KoaContextWithOIDC } from 'oidc-provider';
import { interactionPolicy } from 'oidc-provider';
import { acrValuesOf, SIGN_IN_ACR, SIGN_IN_AMR, type SignInKind } from '../core/sign-in-acr.js';
import type { InteractionPolicy } from '../provider/assembly.js';

/** The ways of signing in the pages offer: the password always, the others when set up. @internal */
export function pageSignInKinds(offers: {
  passkeys: boolean;
  federation: boolean;
  phone?: boolean;
}): SignInKind[] {
  return [
    'password',
    ...(offers.federation ? (['id_token'] as const) : []),
    ...(offers.passkeys ? (['passkey'] as const) : []),
    ...(offers.phone ? (['phone'] as const) : []),
  ];
}

/**
 * The ways of signing in, among `offered`, that give an acr of `acrValues`; `undefined` when it
 * names none of theirs (or is absent): `acr_values` is a voluntary claim (OpenID Connect Core
 * §3.1.2.1), so values the pages cannot give change nothing, as before.
 *
 * @internal
 */
export function kindsMeeting(
  acrValues: unknown,
  offered: readonly SignInKind[],
): SignInKind[] | undefined {
  const wanted = acrValuesOf(acrValues);
  const meeting = offered.filter((kind) => wanted.includes(SIGN_IN_ACR[kind]));
  return meeting.length > 0 ? meeting : undefined;
}

/** Whether a sign-in of `kind` may end an interaction whose request had `acrValues`. @internal */
export const acceptsKind = (
  acrValues: unknown,
  offered: readonly SignInKind[],
  kind: SignInKind,
): boolean => kindsMeeting(acrValues, offered)?.includes(kind) ?? true;

/** The login result of a sign-in of `kind`: the account, and the sign-in's `acr` and `amr`. @internal */
export function loginOf(
  accountId: string,
  kind: SignInKind,
  amr: readonly string[] = SIGN_IN_AMR[kind],
): InteractionResults {
  return {
    login: { accountId, acr: SIGN_IN_ACR[kind], ...(amr.length > 0 ? { amr: [...amr] } : {}) },
  };
}

/**
 * Adds the `acr_values` check to the login prompt: a session whose sign-in gave no acr the
 * request names (among those the pages give) signs in again, as oidc-provider does for
 * `max_age`; `prompt=none` then answers `login_required`.
 *
 * @internal
 */
export function requireAcrValues(
  offered: readonly SignInKind[],
): (policy: InteractionPolicy) => InteractionPolicy {
  const { Check } = interactionPolicy;
  return (policy) => {
    const login = policy.get('login');
    login?.checks.add(
      new Check(
        'acr_values',
        'the sign-in is not of a kind acr_values asks for',
        // Added after the prompt was built, so it names its error itself (prompt=none).
        'login_required',
        (ctx: KoaContextWithOIDC) => {
          const meeting = kindsMeeting(ctx.oidc.params?.acr_values, offered);
          const { session } = ctx.oidc;
          // No sign-in yet is `no_session`'s to ask for.
          if (!meeting || !session?.accountId) return Check.NO_NEED_TO_PROMPT;
          return meeting.some((kind) => SIGN_IN_ACR[kind] === session.acr)
            ? Check.NO_NEED_TO_PROMPT
            : Check.REQUEST_PROMPT;
        },
      ),
    );
    return policy;
  };
}
