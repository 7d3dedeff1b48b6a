import type { Configuration } from 'oidc-provider';

/** oidc-provider's own defaults for hooks the library extends rather than replaces. */
interface UpstreamDefaults {
  assertJwtClientAuthClaimsAndHeader: NonNullable<
    Configuration['assertJwtClientAuthClaimsAndHeader']
  >;
}

// oidc-provider does not export its defaults; it has no exports map, so its module is reachable.
// test/provider/upstream-hooks.test.ts fails if an upgrade moves or changes it.
const DEFAULTS_MODULE = 'oidc-provider/lib/helpers/defaults.js';

/** oidc-provider's default hook implementations. @internal */
export const upstreamDefaults = ((await import(DEFAULTS_MODULE)) as { defaults: UpstreamDefaults })
  .defaults;
