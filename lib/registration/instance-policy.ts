import type { KoaContextWithOIDC } from 'oidc-provider';
import { RegistrationDenied } from '../attestation/authorize.js';
import { RegistrationPolicyError } from '../core/errors.js';
import { clientAddress } from '../http/client-address.js';
import { protocolError } from '../provider/protocol-error.js';
import {
  authorize,
  keepApprovalKey,
  keepKeyBinding,
  keepSoftwareIdentity,
} from './steps/authority.js';
import { enforceLimit, runHooks } from './steps/deployment.js';
import {
  checkAuthMethod,
  checkFields,
  checkGrantTypes,
  checkRedirectUris,
  checkScopes,
} from './steps/metadata.js';
import {
  checkTypes,
  refuseUnsafeKeys,
  saveMetadata,
  setAsideServerFields,
} from './steps/request.js';
import {
  type InstancePolicySettings,
  openState,
  type RegistrationState,
  type RegistrationStep,
} from './steps/state.js';
import {
  applyTemplate,
  dropEchoedFields,
  keepWithheldScopes,
  refuseSoftwareIdChange,
  resolveTemplate,
} from './steps/template.js';

export type { ActiveInstance, InstancePolicySettings } from './steps/state.js';

/** A registration (`POST`), in order: each step may refuse it by throwing. */
const CREATE_STEPS: readonly RegistrationStep[] = [
  refuseUnsafeKeys,
  checkTypes,
  setAsideServerFields,
  resolveTemplate,
  authorize,
  applyTemplate,
  checkFields,
  checkRedirectUris,
  checkGrantTypes,
  checkAuthMethod,
  checkScopes,
  enforceLimit,
  runHooks,
  saveMetadata,
];

/** An RFC 7592 update (`PUT`), in order: each step may refuse it by throwing. */
const UPDATE_STEPS: readonly RegistrationStep[] = [
  refuseUnsafeKeys,
  checkTypes,
  setAsideServerFields,
  resolveTemplate,
  refuseSoftwareIdChange,
  keepWithheldScopes,
  applyTemplate,
  dropEchoedFields,
  checkFields,
  checkRedirectUris,
  checkGrantTypes,
  checkAuthMethod,
  checkScopes,
  keepSoftwareIdentity,
  keepKeyBinding,
  keepApprovalKey,
  runHooks,
  saveMetadata,
];

/**
 * A refusal as oidc-provider renders it: a rule's as `400`, the pipeline's with its own status
 * (and reported, for the `registration.rejected` event).
 */
function refusal({ ctx, settings, softwareId }: RegistrationState, error: unknown): unknown {
  if (error instanceof RegistrationPolicyError) {
    return protocolError(400, error.code, error.message);
  }
  if (error instanceof RegistrationDenied) {
    settings.onRefused(
      error.code,
      clientAddress(ctx).address,
      typeof softwareId === 'string' ? softwareId : undefined,
    );
    if (error.status === 401) ctx.set('WWW-Authenticate', 'Bearer');
    return protocolError(error.status, error.error, error.description);
  }
  return error;
}

/**
 * Builds the oidc-provider registration policy for instance clients: binds the instance to the
 * user who opened the registration, resolves its template, applies the built-in rules and
 * limits, runs the deployment's policy hooks, then applies the rules again so no hook can widen
 * what an instance may do. Runs on `POST` (create) and on RFC 7592 `PUT` (update), as the steps
 * of `CREATE_STEPS` and `UPDATE_STEPS`.
 *
 * @internal
 */
export function createInstancePolicy(settings: InstancePolicySettings) {
  return async function instancePolicy(
    ctx: KoaContextWithOIDC,
    properties: Record<string, unknown>,
  ) {
    const state = openState(ctx, settings, properties);
    const steps = state.operation === 'update' ? UPDATE_STEPS : CREATE_STEPS;
    try {
      for (const step of steps) await step(state);
    } catch (error) {
      throw refusal(state, error);
    }
  };
}
