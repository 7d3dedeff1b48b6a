// The options after validation, composed of each feature's resolved slice (its options.ts).
import type { ResolvedAttestationOptions } from '../attestation/options.js';
import type { ResolvedAttesterOptions } from '../client-attestation/options.js';
import type { Override, WithDefaults } from '../core/options/resolve-types.js';
import type { ResolvedFederationOptions } from '../federation/options.js';
import type { ResolvedRegistrationOptions } from '../registration/options.js';
import type { API_DEFAULTS, DEFAULTS } from './defaults.js';
import type { ApiOptions, AuthServerOptions } from './types.js';

/**
 * Options after validation, with every default filled in. Beyond the constant defaults, the
 * entries of `apis`, `federation.providers` and `registration.templates` carry theirs, and
 * `resolveOptions` computes `registration.instances.allowedScopes` and
 * `registration.fallbackClients` from other options. The instance management settings
 * (`instances`, or its deprecated alias `devices`) are at `instances`.
 *
 * @internal
 */
export type ResolvedOptions = Override<
  // `devices`, the deprecated alias of `instances`, is resolved at `instances` (lib/options/aliases.ts).
  Omit<WithDefaults<AuthServerOptions, typeof DEFAULTS>, 'devices'>,
  {
    apis: WithDefaults<ApiOptions, typeof API_DEFAULTS>[];
    attestation: Override<ResolvedAttestationOptions, { attester: ResolvedAttesterOptions }>;
    federation: ResolvedFederationOptions;
    registration: ResolvedRegistrationOptions;
  }
>;
