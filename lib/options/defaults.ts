// Every constant default of the options, written once: each feature's in its options.ts, the
// engine-level ones here. The JSON Schema takes its `default` keywords from DEFAULTS
// (schema.ts), ResolvedOptions its required keys (resolved.ts), and
// test/options/defaults.test.ts holds the TSDoc `@default` tags to these values.
import { ASSURANCE_DEFAULTS, ATTESTATION_DEFAULTS } from '../attestation/options.js';
import { ATTESTER_DEFAULTS } from '../client-attestation/options.js';
import type { DefaultsOf } from '../core/options/resolve-types.js';
import { FEDERATION_DEFAULTS } from '../federation/options.js';
import { FIRST_PARTY_DEFAULTS } from '../first-party/options.js';
import { INSTANCE_DEFAULTS } from '../instances/options.js';
import { INTERACTION_DEFAULTS } from '../interactions/options.js';
import { PASSKEY_DEFAULTS } from '../passkeys/options.js';
import { PHONE_APPROVAL_DEFAULTS } from '../phone-approval/options.js';
import { REGISTRATION_DEFAULTS } from '../registration/options.js';
import type { ApiOptions, AuthServerOptions } from './types.js';

/**
 * Defaults of {@link AuthServerOptions}, at the options' own paths. An object here is a group
 * whose keys default one by one, unless its schema requires keys it supplies all of (a rate
 * limit): then it is the default as a whole (see `withDefaults`).
 *
 * @internal
 */
export const DEFAULTS = {
  development: false,
  proxy: false,
  scopes: ['openid', 'profile', 'email', 'offline_access'],
  claims: {
    openid: ['sub'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username', 'updated_at'],
    email: ['email', 'email_verified'],
  },
  registrationClients: [],
  clients: [],
  ttl: {
    accessToken: 900,
    authorizationCode: 60,
    idToken: 3600,
    refreshToken: 2592000,
    refreshTokenReuseGrace: 30,
    refreshTokenReuseLimit: 3,
    grant: 15552000,
    session: 1209600,
    interaction: 600,
  },
  registration: REGISTRATION_DEFAULTS,
  attestation: { ...ATTESTATION_DEFAULTS, attester: ATTESTER_DEFAULTS },
  assurance: ASSURANCE_DEFAULTS,
  instances: INSTANCE_DEFAULTS,
  // The deprecated alias of `instances` announces the same defaults; resolveOptions keeps `instances`.
  devices: INSTANCE_DEFAULTS,
  apis: [],
  introspection: { resourceServers: [] },
  interactions: INTERACTION_DEFAULTS,
  federation: FEDERATION_DEFAULTS,
  passkeys: PASSKEY_DEFAULTS,
  firstParty: FIRST_PARTY_DEFAULTS,
  phoneApproval: PHONE_APPROVAL_DEFAULTS,
  oidcProvider: {},
} as const satisfies DefaultsOf<AuthServerOptions>;

/**
 * Defaults of each entry of {@link AuthServerOptions.apis}.
 *
 * @internal
 */
export const API_DEFAULTS = {
  accessTokenFormat: 'jwt',
} as const satisfies DefaultsOf<ApiOptions>;
