import type { KoaContextWithOIDC } from 'oidc-provider';
import { errors, interactionPolicy } from 'oidc-provider';
import type { InstanceRecord } from '../core/instance-record.js';
import { type AssuranceLevel, scopesAboveLevel } from '../core/levels.js';
import type { InteractionPolicy } from '../provider/assembly.js';
import { instanceRecordOf, type LoadedClient } from '../provider/loaded-client.js';

/**
 * Whether `accountId` may use the instance: its owner always; another account only where the
 * template shares installs between accounts; anyone while the instance has no owner yet (it
 * binds on that first sign-in).
 *
 * @internal
 */
export function accountMayUse(record: InstanceRecord, accountId: string | undefined): boolean {
  if (!record.account_id || record.shared_devices) return true;
  return accountId === record.account_id;
}

const ACCOUNT_REFUSED =
  'this app install is registered to another account: sign in with that account, or register the app again';

/**
 * The library's checks where oidc-provider issues tokens to instance clients: a token never
 * carries a scope above the instance's assurance level (whatever its stored metadata says), and
 * an account-bound instance serves only its account. They complement the load-time scope filter
 * and run at every issuing step: the authorization request (interaction policy), the code
 * exchange and client credentials (`extraTokenClaims`), and the refresh before the old refresh
 * token is consumed (`rotateRefreshToken`).
 *
 * @internal
 */
export class InstanceGuard {
  constructor(private readonly minimumLevels: Readonly<Record<string, AssuranceLevel>>) {}

  /** @throws errors.InvalidScope naming the scopes above the instance's level. */
  assertScopes(record: InstanceRecord, scopes: Iterable<string>): void {
    const cal = record.cal ?? 'none';
    const above = scopesAboveLevel(scopes, cal, this.minimumLevels);
    if (above.length > 0) {
      throw new errors.InvalidScope(
        `${above.join(', ')} ${above.length === 1 ? 'needs' : 'need'} a higher assurance level than this app install has (${cal})`,
        above.join(' '),
      );
    }
  }

  /** Checks a token about to be issued to `client` (its scope and account). */
  assertToken(
    client: LoadedClient | undefined,
    token: { clientId?: string; scope?: string; accountId?: string },
  ): InstanceRecord | undefined {
    const record = client?.clientId === token.clientId ? instanceRecordOf(client) : undefined;
    if (!record) return undefined;
    this.assertScopes(record, (token.scope ?? '').split(' ').filter(Boolean));
    if (token.accountId !== undefined && !accountMayUse(record, token.accountId)) {
      const refused = new errors.InvalidGrant();
      refused.error_description = ACCOUNT_REFUSED;
      throw refused;
    }
    return record;
  }

  /**
   * Adds two checks to oidc-provider's interaction policy: the requested scopes
   * against the instance's level (before any prompt), and the signed-in account against the
   * instance's owner (before consent, so another account's sign-in ends at the redirect URI with
   * `access_denied` and no code).
   */
  addInteractionChecks(policy: InteractionPolicy): InteractionPolicy {
    const instanceOf = (ctx: KoaContextWithOIDC) => instanceRecordOf(ctx.oidc.client);
    policy.get('login')?.checks.add(
      new interactionPolicy.Check(
        'instance_assurance_level',
        'requested scopes need a higher assurance level',
        async (ctx) => {
          const record = instanceOf(ctx);
          if (record) this.assertScopes(record, ctx.oidc.requestParamScopes);
          return interactionPolicy.Check.NO_NEED_TO_PROMPT;
        },
      ),
      0,
    );
    policy.get('consent')?.checks.add(
      new interactionPolicy.Check(
        'instance_account',
        'the app install belongs to another account',
        async (ctx) => {
          const record = instanceOf(ctx);
          if (record && !accountMayUse(record, ctx.oidc.session?.accountId)) {
            throw new errors.AccessDenied(ACCOUNT_REFUSED);
          }
          return interactionPolicy.Check.NO_NEED_TO_PROMPT;
        },
      ),
      0,
    );
    return policy;
  }
}
