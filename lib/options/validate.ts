import { ConfigurationError } from '../core/errors.js';
import { isPlainObject } from '../core/options/plain-object.js';
import { schemaProblems } from './ajv.js';
import { dropFilledAlias, mapInstanceOptions } from './aliases.js';
import { crossOptionProblems } from './cross-option-rules.js';
import { oidcProviderProblems } from './passthrough.js';
import type { ResolvedOptions } from './resolved.js';
import type { AuthServerOptions } from './types.js';

export type { ResolvedOptions } from './resolved.js';

// ajv fills defaults by mutating its input; copy plain objects and arrays, keep functions and
// class instances (stores, key objects) as they are.
function copyForDefaults(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copyForDefaults);
  if (isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, copyForDefaults(v)]));
  }
  return value;
}

// The defaults that depend on other options, so cannot be constants in defaults.ts.
function fillDerivedDefaults(resolved: ResolvedOptions): void {
  if (Array.isArray(resolved.scopes)) {
    resolved.registration.instances.allowedScopes ??= [...resolved.scopes];
  }
  resolved.registration.fallbackClients ??= [
    ...new Set(resolved.registration.templates.flatMap((t) => t.fallbackClients ?? [])),
  ];
}

// Cross-option and passthrough problems, reported alongside schema problems. Checks that read
// a path the schema already refused are skipped rather than reported twice or misleadingly.
function laterProblems(resolved: ResolvedOptions, schemaMessages: string[]): string[] {
  if (!isPlainObject(resolved)) return [];
  const refused = (message: string) => {
    const path = message.split(' ')[0] ?? '';
    return schemaMessages.some((p) => p.startsWith(path) || path.startsWith(p.split(' ')[0] ?? ''));
  };
  const later: string[] = [];
  try {
    fillDerivedDefaults(resolved);
    later.push(...crossOptionProblems(resolved));
  } catch (error) {
    // With a schema problem, a check may trip over the shape the schema refused (reported
    // already); without one, an exception is a bug in a check, never silently skipped.
    if (schemaMessages.length === 0) throw error;
  }
  later.push(...oidcProviderProblems(resolved.oidcProvider));
  return schemaMessages.length === 0 ? later : later.filter((p) => !refused(p));
}

/**
 * Validates options against the JSON Schema and the rules that span options, and fills in
 * defaults. Throws a {@link ConfigurationError} naming every offending path.
 *
 * @internal
 */
export function resolveOptions(options: AuthServerOptions): ResolvedOptions {
  const copy = copyForDefaults(options);
  const alias = mapInstanceOptions(copy);
  const schemaMessages = schemaProblems(copy);
  dropFilledAlias(copy);
  const resolved = copy as ResolvedOptions;
  const problems = [
    ...alias.problems,
    ...[...schemaMessages, ...laterProblems(resolved, schemaMessages)].map(alias.reword),
  ];
  if (problems.length > 0) throw new ConfigurationError(problems);
  return resolved;
}
