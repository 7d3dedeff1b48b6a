// Validation of options against the JSON Schema (with the options' ajv, lib/core/options/ajv.ts),
// and the wording of its errors as option paths.
import type { ErrorObject } from 'ajv';
import { optionsAjv, STORE_METHODS } from '../core/options/ajv.js';
import { PROVIDER_NAME_PATTERN } from '../federation/options.js';
import { optionsSchema } from './schema.js';

const validateSchema = optionsAjv.compile(optionsSchema);

function optionPath(instancePath: string): string {
  const parts = instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
  return ['options', ...parts]
    .map((p, i) => (i > 0 && /^\d+$/.test(p) ? `[${p}]` : i > 0 ? `.${p}` : p))
    .join('');
}

function describe(error: ErrorObject): string {
  const path = optionPath(error.instancePath);
  const parent = error.parentSchema as Record<string, unknown> | undefined;
  // One message for every branch of `proxy`'s anyOf, instead of one per branch.
  if (path === 'options.proxy') {
    return `${path} must be true, false, a number of proxy hops (1 or more) or a non-empty list of proxy addresses and CIDR ranges`;
  }
  switch (error.keyword) {
    case 'required':
      return `${path}.${error.params.missingProperty} is required`;
    case 'additionalProperties':
      return `${path}.${error.params.additionalProperty} is not a known option`;
    case 'isFunction':
      return `${path} must be a function`;
    case 'isStore':
      return `${path} must be a store (an object with ${STORE_METHODS.join(', ')} methods)`;
    case 'type':
    case 'minimum':
    case 'maximum':
      if (parent?.type === 'integer' && parent.minimum === 1) {
        const max = typeof parent.maximum === 'number' ? ` no greater than ${parent.maximum}` : '';
        return `${path} must be a positive integer${max}`;
      }
      return `${path} ${error.message}`;
    case 'pattern':
      if (error.schema === PROVIDER_NAME_PATTERN) {
        return `${path} must be 1 to 32 lower-case letters, digits and '-', not starting with '-'`;
      }
      return String(error.schema).startsWith('^/')
        ? `${path} must be a path starting with '/'`
        : `${path} must be a valid scope token (RFC 6749 §3.3)`;
    case 'enum':
      return `${path} must be one of ${(error.params.allowedValues as unknown[]).join(', ')}`;
    // A rate limit that may be turned off (`anyOf: [window, { const: false }]`): one message for
    // both branches; the window's own errors still name the field. Other anyOfs name their forms.
    case 'anyOf':
    case 'const':
      if (isRateLimit(error)) return `${path} must be a rate limit ({ points, duration }) or false`;
      return error.keyword === 'anyOf'
        ? `${path} must be ${formsOf(error.schema)}`
        : `${path} ${error.message}`;
    default:
      return `${path} ${error.message}`;
  }
}

/** Whether an `anyOf`/`const` error is a rate limit's (`anyOf: [window, { const: false }]`). */
function isRateLimit(error: ErrorObject): boolean {
  if (error.keyword === 'const') return error.params.allowedValue === false;
  return (
    Array.isArray(error.schema) &&
    error.schema.some((branch) => (branch as { const?: unknown }).const === false)
  );
}

/** The forms an `anyOf` allows, by their JSON types (`true or an object`, say). */
function formsOf(schema: unknown): string {
  const types = Array.isArray(schema)
    ? schema.map((branch) => (branch as { type?: unknown }).type)
    : [];
  const names = types.filter((t): t is string => typeof t === 'string');
  const article = (name: string) => (/^[aeiou]/.test(name) ? `an ${name}` : `a ${name}`);
  return names.length > 0 ? names.map(article).join(' or ') : 'one of the allowed forms';
}

/**
 * Validates `options` against the options schema and fills in its defaults, in place (ajv
 * writes defaults into what it validates).
 *
 * @returns one message per problem, each starting with the option's path; empty when valid.
 * @internal
 */
export function schemaProblems(options: unknown): string[] {
  if (validateSchema(options)) return [];
  const errors = validateSchema.errors ?? [];
  // An anyOf's message names every form it allows: its branches' type mismatches add nothing.
  const anyOfPaths = new Set(
    errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath),
  );
  const told = errors.filter(
    (e) => !(anyOfPaths.has(e.instancePath) && (e.keyword === 'type' || e.keyword === 'const')),
  );
  return [...new Set(told.map(describe))];
}
