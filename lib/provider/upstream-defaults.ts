import type { Configuration } from 'oidc-provider';
// oidc-provider does not export its defaults; it has no exports map, so its module is reachable
// (types in oidc-provider-internals.d.ts). test/provider/upstream-hooks.test.ts fails if an
// upgrade moves or changes it.
import { defaults } from 'oidc-provider/lib/helpers/defaults.js';

/** oidc-provider's own defaults for hooks the library extends rather than replaces. */
interface UpstreamDefaults {
  assertJwtClientAuthClaimsAndHeader: NonNullable<
    Configuration['assertJwtClientAuthClaimsAndHeader']
  >;
}

/** oidc-provider's default hook implementations. @internal */
export const upstreamDefaults: UpstreamDefaults = defaults;
