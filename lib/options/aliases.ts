// Deprecated option names still accepted: each is mapped onto its one resolved path before
// validation, and problems are worded with the name the caller wrote.
import { isPlainObject } from '../core/options/plain-object.js';

/** How the caller named the instance management options, for the wording of problems. */
export interface AliasUse {
  /** A problem found while mapping (both names given), reported with the schema's. */
  problems: string[];
  /** Rewrites a problem's option path to the name the caller wrote. */
  reword(problem: string): string;
}

const unchanged: AliasUse = { problems: [], reword: (problem) => problem };

/**
 * Maps the deprecated `devices` onto `instances`, the one resolved path of the instance
 * management settings, in `copy`, a copy of the caller's options. Giving both names is a
 * problem: which one wins would be a guess.
 *
 * @internal
 */
export function mapInstanceOptions(copy: unknown): AliasUse {
  if (!isPlainObject(copy) || copy.devices === undefined) return unchanged;
  if (copy.instances !== undefined) {
    return {
      problems: [
        'options.devices and options.instances are both given: options.devices is the deprecated name of options.instances, give only options.instances',
      ],
      reword: (problem) => problem,
    };
  }
  copy.instances = copy.devices;
  delete copy.devices;
  return {
    problems: [],
    reword: (problem) => problem.replaceAll(/\boptions\.instances\b/g, 'options.devices'),
  };
}

/**
 * Drops the `devices` group the schema's defaults filled in, so the resolved options hold the
 * instance management settings at one path: `instances`.
 *
 * @internal
 */
export function dropFilledAlias(resolved: unknown): void {
  if (isPlainObject(resolved)) delete resolved.devices;
}
