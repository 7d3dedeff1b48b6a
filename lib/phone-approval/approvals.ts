// Pending approvals in the store: one record per install asked, indexed by install and by CIBA
// request, the single-use challenges an answer signs, the account's pending requests (push fatigue)
// and the one answer a request takes. Every step is atomic in the store, so it holds across
// processes sharing one Redis.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AlreadyConsumedError, type Store } from '../storage/store.js';

/** The store model of pending approvals. */
const APPROVAL_MODEL = 'PhoneApproval';
/** The store model of the challenges an answer signs. */
const CHALLENGE_MODEL = 'PhoneApprovalChallenge';
/** The store model of the login page's phone sign-ins, by interaction uid. */
const PAGE_MODEL = 'PhoneSignIn';
/** The store model of the answers to them, by request id (the one answer each takes). */
const PAGE_ANSWER_MODEL = 'PhoneSignInAnswer';

const installIndex = (clientId: string) => `phone-approvals:${clientId}`;
const requestIndex = (requestId: string) => `phone-approval-request:${requestId}`;
const pendingIndex = (accountId: string) => `phone-approval-pending:${accountId}`;
const pendingLock = (accountId: string) => `phone-approval-lock:${accountId}`;
// The account's lock is held for one count and write; it expires if its holder dies.
const LOCK_TTL = 10;
const LOCK_ATTEMPTS = 100;
const LOCK_WAIT_MS = 25;
const answerClaim = (requestId: string) => `phone-approval-answer:${requestId}`;

/** 192 random bits, base64url: an approval id or a challenge. */
const randomId = () => randomBytes(24).toString('base64url');

/** One install's pending approval of one CIBA request. @internal */
export interface PendingApproval {
  /** The approval's id (the store key). */
  id: string;
  /** The CIBA request (`auth_req_id`). */
  request_id: string;
  /** The install asked. */
  client_id: string;
  /** The account the request is for. */
  account_id: string;
  /** The client that started the request. */
  requester: string;
  /** Its name, shown to the user. */
  requester_name: string;
  /** The binding message, shown to the user and covered by the signed answer. */
  binding_message: string;
  /** The scopes requested. */
  scope: string;
  /** When the request expires, in seconds since the epoch. */
  expires_at: number;
  /**
   * The browser interaction (uid) the request signs in: a login page's "Approve on your
   * phone"; absent for a CIBA request (`request_id` is then its `auth_req_id`).
   */
  interaction?: string;
}

/** A login page's phone sign-in: the request it started for one interaction. @internal */
export interface PageSignIn {
  /** The request (its approvals' `request_id`). */
  request_id: string;
  /** The account asked (the username typed); absent when it names none (nobody is asked). */
  account_id?: string | undefined;
  /** Where the request counts among pending ones: the account's, or the unknown username's. */
  pending_key: string;
  /** The binding message shown on the page. */
  binding_message: string;
  /** When the request expires, in seconds since the epoch. */
  expires_at: number;
}

/** An install's answer to a login page's phone sign-in. @internal */
export interface PageAnswer {
  decision: 'approve' | 'deny';
  /** The account the install belongs to. */
  account_id: string;
  /** The answer's `amr`. */
  amr: string[];
}

/** What an approval is created from: the request's side, without the install. @internal */
export type ApprovalRequest = Omit<PendingApproval, 'id' | 'client_id'>;

/** Seconds left until `expiresAt` (seconds since the epoch); at least 1 for a store TTL. */
export const secondsLeft = (expiresAt: number): number =>
  Math.max(1, expiresAt - Math.floor(Date.now() / 1000));

/**
 * The pending approvals of every install, in the store.
 *
 * @internal
 */
export class Approvals {
  constructor(private readonly store: Store) {}

  /**
   * Counts request `requestId` among the account's pending ones unless it has `max` already:
   * `false` then. Under the account's lock in the store, so concurrent requests in any process
   * cannot both take the last place; each entry expires with its request, so one that expires
   * unanswered stops counting then.
   */
  async addPending(
    accountId: string,
    requestId: string,
    max: number,
    ttl: number,
  ): Promise<boolean> {
    const lock = pendingLock(accountId);
    for (let attempt = 0; !(await this.store.takeUse(lock, 1, LOCK_TTL)); attempt++) {
      if (attempt >= LOCK_ATTEMPTS) throw new Error('the pending approvals lock is held');
      await sleep(LOCK_WAIT_MS);
    }
    try {
      const pending = await this.store.readIndex(pendingIndex(accountId));
      if (pending.length >= max) return false;
      await this.store.addToIndex(pendingIndex(accountId), requestId, ttl);
      return true;
    } finally {
      await this.store.returnUse(lock);
    }
  }

  /** No longer counts the request among the account's pending ones: it was answered, or never started. */
  removePending(accountId: string, requestId: string): Promise<void> {
    return this.store.removeFromIndex(pendingIndex(accountId), requestId);
  }

  /** Stores a pending approval for install `clientId`, indexed by install and by request. */
  async create(request: ApprovalRequest, clientId: string): Promise<PendingApproval> {
    const approval: PendingApproval = { ...request, id: randomId(), client_id: clientId };
    const ttl = secondsLeft(request.expires_at);
    // Indexes first: an entry without its record is skipped, a record without them is unseen.
    await this.store.addToIndex(requestIndex(request.request_id), approval.id, ttl);
    await this.store.addToIndex(installIndex(clientId), approval.id, ttl);
    await this.store.adapter(APPROVAL_MODEL).upsert(approval.id, { ...approval }, ttl);
    return approval;
  }

  /** The approval `id` while it is pending (not answered, withdrawn or expired). */
  async find(id: string): Promise<PendingApproval | undefined> {
    const found = await this.store.adapter(APPROVAL_MODEL).find(id);
    if (!found || found.consumed !== undefined) return undefined;
    if ((found.expires_at as number) <= Math.floor(Date.now() / 1000)) return undefined;
    return found as unknown as PendingApproval;
  }

  /** The install's pending approvals, soonest to expire first. */
  async ofInstall(clientId: string): Promise<PendingApproval[]> {
    const ids = await this.store.readIndex(installIndex(clientId));
    const found = await Promise.all(ids.map((id) => this.find(id)));
    return found
      .filter((a): a is PendingApproval => a?.client_id === clientId)
      .sort((a, b) => a.expires_at - b.expires_at);
  }

  /** Issues a fresh single-use challenge for an answer to `approval`. */
  async challenge(approval: PendingApproval): Promise<string> {
    const value = randomId();
    await this.store
      .adapter(CHALLENGE_MODEL)
      .upsert(
        value,
        { approval_id: approval.id, client_id: approval.client_id },
        secondsLeft(approval.expires_at),
      );
    return value;
  }

  /**
   * Takes challenge `value` for `approval`: `true` once, for the challenge issued for it;
   * `false` when it is unknown, expired, used or another approval's (left for its owner).
   */
  async takeChallenge(value: string, approval: PendingApproval): Promise<boolean> {
    const adapter = this.store.adapter(CHALLENGE_MODEL);
    const found = await adapter.find(value);
    if (!found || found.consumed !== undefined) return false;
    if (found.approval_id !== approval.id || found.client_id !== approval.client_id) return false;
    return consumed(() => adapter.consume(value));
  }

  /** Marks the approval answered, atomically: `true` for the one call that did. */
  takeApproval(approval: PendingApproval): Promise<boolean> {
    return consumed(() => this.store.adapter(APPROVAL_MODEL).consume(approval.id));
  }

  /**
   * Makes `approval` the answer of its request, atomically across installs: `true` when it is
   * (first), `false` when another install answered first.
   */
  async claimAnswer(approval: PendingApproval): Promise<boolean> {
    const holder = await this.store.claim(
      answerClaim(approval.request_id),
      approval.id,
      secondsLeft(approval.expires_at),
    );
    return holder === approval.id;
  }

  /** Withdraws every other pending approval of the request (other installs are not asked now). */
  async withdrawOthers(approval: PendingApproval): Promise<void> {
    const ids = await this.store.readIndex(requestIndex(approval.request_id));
    await Promise.all(ids.filter((id) => id !== approval.id).map((id) => this.#remove(id)));
    await this.store.removeFromIndex(installIndex(approval.client_id), approval.id);
  }

  /** Removes the approvals of a request that never started (nothing half-written). */
  async removeAll(requestId: string): Promise<void> {
    const ids = await this.store.readIndex(requestIndex(requestId));
    await Promise.all(ids.map((id) => this.#remove(id)));
    await this.store.deleteIndex(requestIndex(requestId));
  }

  /** Stores interaction `uid`'s phone sign-in, replacing the one before. */
  async savePage(uid: string, page: PageSignIn): Promise<void> {
    await this.store.adapter(PAGE_MODEL).upsert(uid, { ...page }, secondsLeft(page.expires_at));
  }

  /** Interaction `uid`'s phone sign-in while it has not expired. */
  async page(uid: string): Promise<PageSignIn | undefined> {
    const found = await this.store.adapter(PAGE_MODEL).find(uid);
    if (!found || found.consumed !== undefined) return undefined;
    if ((found.expires_at as number) <= Math.floor(Date.now() / 1000)) return undefined;
    return found as unknown as PageSignIn;
  }

  /** Forgets interaction `uid`'s phone sign-in. */
  forgetPage(uid: string): Promise<void> {
    return this.store.adapter(PAGE_MODEL).destroy(uid);
  }

  /** Stores the one answer to page request `approval.request_id` (after `claimAnswer`). */
  async answerPage(approval: PendingApproval, answer: PageAnswer): Promise<void> {
    await this.store
      .adapter(PAGE_ANSWER_MODEL)
      .upsert(approval.request_id, { ...answer }, secondsLeft(approval.expires_at));
  }

  /** The answer to page request `requestId`, until it is taken. */
  async pageAnswer(requestId: string): Promise<PageAnswer | undefined> {
    const found = await this.store.adapter(PAGE_ANSWER_MODEL).find(requestId);
    if (!found || found.consumed !== undefined) return undefined;
    return found as unknown as PageAnswer;
  }

  /** Takes the answer to page request `requestId`, atomically: `true` for the one call that did. */
  takePageAnswer(requestId: string): Promise<boolean> {
    return consumed(() => this.store.adapter(PAGE_ANSWER_MODEL).consume(requestId));
  }

  async #remove(id: string): Promise<void> {
    const adapter = this.store.adapter(APPROVAL_MODEL);
    const found = await adapter.find(id);
    await adapter.destroy(id);
    if (typeof found?.client_id === 'string') {
      await this.store.removeFromIndex(installIndex(found.client_id), id);
    }
  }
}

/** Runs an atomic consume: `true` when this call consumed, `false` when another did first. */
async function consumed(consume: () => Promise<void>): Promise<boolean> {
  try {
    await consume();
    return true;
  } catch (error) {
    if (error instanceof AlreadyConsumedError) return false;
    throw error;
  }
}
