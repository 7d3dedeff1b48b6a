// "Approve on your phone" on the login page: the same pending approvals as a CIBA request (the
// same installs, notify, push-fatigue limit and answers at /approvals), for a request that
// belongs to one browser interaction instead of a CIBA client. An install's answer is stored
// for that interaction; the browser that holds it reads and takes it.
import { createHash, randomBytes, randomInt } from 'node:crypto';
import type { PhoneSignIn, PhoneSignInState } from '../interactions/types.js';
import { type Approvals, type PendingApproval, secondsLeft } from './approvals.js';
import { askInstalls, type CibaSettings, eligibleInstalls } from './ciba.js';

/** What the page's phone sign-in needs: the CIBA configuration's settings. @internal */
export type PagePhoneSettings = Pick<
  CibaSettings,
  'options' | 'accounts' | 'templates' | 'manager' | 'approvals' | 'provider' | 'emit' | 'logger'
>;

/** The pending-requests key of a username that names no account. */
const unknownUserKey = (username: string) =>
  `unknown-user:${createHash('sha256').update(username).digest('base64url')}`;

/** A binding message of 4 digits: quick to compare, within CIBA's character rule. */
const bindingMessage = () => String(randomInt(0, 10_000)).padStart(4, '0');

/**
 * The login page's phone sign-in on phone approval's store.
 *
 * @internal
 */
export function pagePhoneSignIn(settings: PagePhoneSettings): PhoneSignIn {
  const { approvals, options } = settings;
  return {
    async start({ uid, username, clientId, clientName, scope }) {
      await withdraw(approvals, uid);
      const ttl = options.maxExpiry;
      const requestId = randomBytes(24).toString('base64url');
      const account = await settings.accounts.findAccount(username);
      // Counted for every username alike, so the limit's answer says nothing of the account: an
      // account's own count (shared with CIBA), else one per username, hashed like the throttle's
      // keys so no typed character shapes a store key.
      const pendingKey = account ? username : unknownUserKey(username);
      if (!(await approvals.addPending(pendingKey, requestId, options.maxPendingPerAccount, ttl))) {
        return undefined;
      }
      const expiresAt = Math.floor(Date.now() / 1000) + ttl;
      const message = bindingMessage();
      try {
        await approvals.savePage(uid, {
          request_id: requestId,
          account_id: account ? username : undefined,
          pending_key: pendingKey,
          binding_message: message,
          expires_at: expiresAt,
        });
        const installs = account ? await eligibleInstalls(settings, username) : [];
        // Nobody to ask: the page waits the same, and the request simply expires.
        if (installs.length > 0) {
          await askInstalls(
            settings,
            {
              request_id: requestId,
              account_id: username,
              requester: clientId,
              requester_name: clientName,
              binding_message: message,
              scope,
              expires_at: expiresAt,
              interaction: uid,
            },
            installs,
          );
        }
      } catch (error) {
        // Nothing half-written: no page request, no slot among the pending ones.
        await approvals.forgetPage(uid).catch(() => undefined);
        await approvals.removePending(pendingKey, requestId).catch(() => undefined);
        throw error;
      }
      return { bindingMessage: message };
    },

    async state(uid): Promise<PhoneSignInState> {
      const page = await approvals.page(uid);
      if (!page) return { state: 'none' };
      const answer = await approvals.pageAnswer(page.request_id);
      if (answer) return { state: answer.decision === 'approve' ? 'approved' : 'denied' };
      return {
        state: 'pending',
        bindingMessage: page.binding_message,
        expiresIn: secondsLeft(page.expires_at),
      };
    },

    async take(uid) {
      const page = await approvals.page(uid);
      const answer = page && (await approvals.pageAnswer(page.request_id));
      if (!page || answer?.decision !== 'approve' || answer.account_id !== page.account_id) {
        return undefined;
      }
      if (!(await approvals.takePageAnswer(page.request_id))) return undefined;
      await approvals.forgetPage(uid);
      return { accountId: answer.account_id, amr: [...answer.amr] };
    },

    forget: (uid) => approvals.forgetPage(uid),
  };
}

/** Withdraws the request interaction `uid` started before, if any: a new one replaces it. */
async function withdraw(approvals: Approvals, uid: string): Promise<void> {
  const before = await approvals.page(uid);
  if (!before) return;
  await approvals.removeAll(before.request_id);
  await approvals.removePending(before.pending_key, before.request_id);
  await approvals.forgetPage(uid);
}

/**
 * Records an install's answer to a login page's request for the interaction that started it.
 *
 * @internal
 */
export function answerPageRequest(
  approvals: Approvals,
  approval: PendingApproval,
  decision: 'approve' | 'deny',
  userVerified: boolean,
): Promise<void> {
  return approvals.answerPage(approval, {
    decision,
    account_id: approval.account_id,
    // RFC 8176, as for a CIBA request: proof of possession; with user verification, two factors.
    amr: userVerified ? ['pop', 'mfa'] : ['pop'],
  });
}
