import type { Template } from '../core/template-types.js';
import type { PhasePlatform } from '../provider/phases.js';
import type { EvidenceVerifier } from './types.js';
import { type AndroidRevocationList, androidKeyVerifier } from './verifiers/android-key.js';
import { appAttestVerifier } from './verifiers/app-attest.js';
import { playIntegrityVerifier } from './verifiers/play-integrity.js';

/** Server-wide inputs of the built-in verifiers (roots, Google's status list). @internal */
export interface BuiltInSettings {
  appleRoots?: readonly string[];
  androidRoots?: readonly string[];
  androidRevocationList?: () =>
    | AndroidRevocationList
    | undefined
    | Promise<AndroidRevocationList | undefined>;
  maxRevocationListAge?: number;
}

/** The formats the library verifies itself, from a template's settings. @internal */
export const BUILT_IN_FORMATS = {
  'apple-appattest': 'appleAppAttest',
  'android-key': 'androidKey',
  'play-integrity': 'playIntegrity',
} as const;

/**
 * The platform of an evidence format, for telemetry: a custom verifier's format is `other`
 * (its name is the app's, and a client chose it).
 *
 * @internal
 */
export function platformOfFormat(format: string): PhasePlatform {
  if (format === 'apple-appattest') return 'ios';
  return format === 'android-key' || format === 'play-integrity' ? 'android' : 'other';
}

/**
 * The built-in verifier for `format`, configured by the template's settings for it; `undefined`
 * when the format is not built in or the template has no settings for it.
 *
 * @internal
 */
export function builtInVerifier(
  format: string,
  template: Template,
  settings: BuiltInSettings,
): EvidenceVerifier | undefined {
  const accepted = template.attestation;
  if (format === 'apple-appattest' && accepted?.appleAppAttest) {
    return appAttestVerifier({
      ...accepted.appleAppAttest,
      ...(settings.appleRoots ? { roots: settings.appleRoots } : {}),
    });
  }
  if (format === 'android-key' && accepted?.androidKey) {
    const app = accepted.androidKey;
    return async (evidence, context) => {
      // Read per registration: the deployment refreshes the list on its own schedule.
      const revocationList = await settings.androidRevocationList?.();
      return androidKeyVerifier({
        ...app,
        ...(settings.androidRoots ? { roots: settings.androidRoots } : {}),
        ...(revocationList ? { revocationList } : {}),
        ...(settings.maxRevocationListAge !== undefined
          ? { maxRevocationListAge: settings.maxRevocationListAge }
          : {}),
      })(evidence, context);
    };
  }
  if (format === 'play-integrity' && accepted?.playIntegrity) {
    return playIntegrityVerifier(accepted.playIntegrity);
  }
  return undefined;
}
