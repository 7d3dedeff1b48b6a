import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import type { AccountOptions } from 'mobile-oidc-provider';

interface DemoAccount {
  accountId: string;
  salt: Buffer;
  passwordHash: Buffer;
  claims: Record<string, unknown>;
}

const hash = (password: string, salt: Buffer) => scryptSync(password, salt, 32);

function demoAccount(username: string, password: string, claims: Record<string, unknown>) {
  const salt = randomBytes(16);
  return [
    username,
    { accountId: username, salt, passwordHash: hash(password, salt), claims },
  ] as const;
}

/**
 * The example's account store: two demo users, `demouser` / `Password1` and `otheruser` /
 * `Password2` (to try what one user's app install does for another), with passwords kept only
 * as salted scrypt hashes, and the Google / Apple identities linked to them, in memory. Replace
 * it with your user database.
 */
export function demoAccounts(): AccountOptions {
  const byUsername = new Map<string, DemoAccount>([
    demoAccount('demouser', 'Password1', {
      name: 'Demo User',
      preferred_username: 'demouser',
      email: 'demouser@example.com',
      email_verified: true,
    }),
    demoAccount('otheruser', 'Password2', {
      name: 'Other User',
      preferred_username: 'otheruser',
      email: 'otheruser@example.com',
      email_verified: true,
    }),
  ]);
  const byId = new Map([...byUsername.values()].map((a) => [a.accountId, a]));
  // Unknown usernames are checked against a dummy hash so timing does not reveal which exist.
  const dummy = { salt: randomBytes(16), passwordHash: randomBytes(32) };
  const byEmail = new Map(
    [...byId.values()]
      .filter((a) => a.claims.email_verified === true)
      .map((a) => [String(a.claims.email).toLowerCase(), a.accountId]),
  );
  // `provider:subject` → account id (provider names cannot hold ':').
  const links = new Map<string, string>();

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
    async federated({ provider, subject, email, signedInAccountId }) {
      const key = `${provider}:${subject}`;
      const linked = links.get(key);
      if (linked) return linked;
      // The example's own decision (the library never links by email): trust a verified email.
      const accountId = signedInAccountId ?? (email && byEmail.get(email.toLowerCase()));
      if (!accountId) return undefined;
      links.set(key, accountId);
      return { accountId, linked: true };
    },
  };
}
