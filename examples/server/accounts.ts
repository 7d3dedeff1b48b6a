import { randomBytes, randomUUID, scryptSync, timingSafeEqual } from 'node:crypto';
import type { AccountOptions, FederatedIdentity } from 'mobile-oidc-provider';

interface DemoAccount {
  accountId: string;
  claims: Record<string, unknown>;
}

interface PasswordAccount extends DemoAccount {
  salt: Buffer;
  passwordHash: Buffer;
}

const hash = (password: string, salt: Buffer) => scryptSync(password, salt, 32);

/** The demo users' sign-in names and passwords: published, for trying the example only. */
export const DEMO_USERS = [
  { username: 'demouser', password: 'Password1', name: 'Demo User' },
  { username: 'otheruser', password: 'Password2', name: 'Other User' },
] as const;

function demoAccount(username: string, password: string, claims: Record<string, unknown>) {
  const salt = randomBytes(16);
  return [
    username,
    { accountId: username, salt, passwordHash: hash(password, salt), claims },
  ] as const;
}

/**
 * The claims of an account signed up with `identity`: its name, and its email only when the
 * provider vouched for it (Apple's private relay addresses included: they reach the user).
 */
function signUpClaims(identity: FederatedIdentity): Record<string, unknown> {
  const { name } = identity.claims;
  return {
    ...(typeof name === 'string' && name !== '' ? { name } : {}),
    ...(identity.email ? { email: identity.email, email_verified: true } : {}),
  };
}

/**
 * The example's account store: two demo users, `demouser` / `Password1` and `otheruser` /
 * `Password2` (to try what one user's app install does for another), with passwords kept only
 * as salted scrypt hashes, and the Google / Apple identities linked to accounts, in memory.
 * Someone new who signs in with Google or Apple gets an account of their own (sign-up); an
 * existing account gets one linked only through the link page, after its user signed in
 * moments ago (or from the linked accounts page, `/account/links`); an identity linked to
 * another account is never linked again. Replace it with your user database.
 */
export function demoAccounts(): AccountOptions {
  const byUsername = new Map<string, PasswordAccount>(
    DEMO_USERS.map(({ username, password, name }) =>
      demoAccount(username, password, {
        name,
        preferred_username: username,
        email: `${username}@example.com`,
        email_verified: true,
      }),
    ),
  );
  const byId = new Map<string, DemoAccount>([...byUsername.values()].map((a) => [a.accountId, a]));
  // Unknown usernames are checked against a dummy hash so timing does not reveal which exist.
  const dummy = { salt: randomBytes(16), passwordHash: randomBytes(32) };
  // `provider:subject` → account id (provider names cannot hold ':').
  const links = new Map<string, string>();
  const keyOf = (identity: FederatedIdentity) => `${identity.provider}:${identity.subject}`;

  return {
    async authenticate(username, password) {
      const account = byUsername.get(username);
      const candidate = hash(password, (account ?? dummy).salt);
      const matches = timingSafeEqual(candidate, (account ?? dummy).passwordHash);
      return account && matches ? account.accountId : undefined;
    },
    async findAccount(accountId) {
      const account = byId.get(accountId);
      return account && { claims: account.claims };
    },
    async federated(identity) {
      const linked = links.get(keyOf(identity));
      if (linked) return linked;
      // Unknown, on a browser whose user signed in moments ago: the library asks them on the
      // link page whether to link it to their account, and calls `link` if they confirm.
      if (identity.signedInAccountId) return undefined;
      // Someone new: an account of their own. Never an existing one by email, verified or not:
      // an equal email says nothing about who signs in.
      const accountId = randomUUID();
      byId.set(accountId, { accountId, claims: signUpClaims(identity) });
      links.set(keyOf(identity), accountId);
      return { accountId, linked: true };
    },
    async link(identity, accountId) {
      // Linked to someone else already (a sign-up, or another user's link): refused, so one
      // Google account never signs in to two accounts. Checked and stored in one step here; a
      // database does it with a unique key on provider + subject.
      const linked = links.get(keyOf(identity));
      if (linked !== undefined && linked !== accountId) return false;
      links.set(keyOf(identity), accountId);
    },
  };
}
