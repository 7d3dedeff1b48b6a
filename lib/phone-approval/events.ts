/**
 * What a `phone_approval.requested` event carries: never the binding message or a token.
 *
 * @group Server
 */
export interface PhoneApprovalRequestedEvent {
  /** The client that started the CIBA request. */
  clientId: string;
  /** The account it is for. */
  accountId: string;
  /** The installs asked (their client ids). */
  installs: string[];
}

/**
 * What a `phone_approval.approved` or `phone_approval.denied` event carries.
 *
 * @group Server
 */
export interface PhoneApprovalAnsweredEvent {
  /** The client that started the CIBA request. */
  clientId: string;
  /** The account it is for. */
  accountId: string;
  /** The install that answered. */
  installClientId: string;
  /** Whether the signed answer stated user verification on the device (`uv: true`). */
  userVerified: boolean;
}

/**
 * Phone approval (CIBA) events, by name, for audit logs.
 *
 * @group Server
 */
export interface PhoneApprovalEvents {
  /** A CIBA request was accepted and the account's eligible installs were asked. */
  'phone_approval.requested': PhoneApprovalRequestedEvent;
  /** An install approved a request with its registered key: the client gets tokens. */
  'phone_approval.approved': PhoneApprovalAnsweredEvent;
  /** An install denied a request: the client gets `access_denied`. */
  'phone_approval.denied': PhoneApprovalAnsweredEvent;
}
