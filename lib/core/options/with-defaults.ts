// The `withDefaults` schema helper: each option's default goes into the JSON Schema as its
// `default` keyword, so ajv fills it in while validating.
import { isPlainObject } from './plain-object.js';

/** The part of a JSON Schema node the defaults walk reads. */
interface SchemaNode {
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly required?: readonly string[];
  readonly default?: unknown;
  readonly [keyword: string]: unknown;
}

/**
 * `schema` with `default` keywords set from `defaults`, which mirrors the schema's properties.
 * An object default is walked key by key when its node lists properties: the node itself gets
 * `default: {}` when it requires none (so ajv fills in beneath it), and none when the caller
 * must supply it. A node that requires keys the default supplies all of takes it whole, so a
 * required key is never filled in on its own. Nodes on the way are copied, never mutated:
 * schema fragments are shared between options.
 *
 * @throws Error at module load when a default names a path the schema does not have, or gives a
 *   required key a default of its own.
 * @internal
 */
export function withDefaults<S extends SchemaNode>(schema: S, defaults: object, at = ''): S {
  const properties: Record<string, SchemaNode> = { ...schema.properties };
  for (const [key, value] of Object.entries(defaults)) {
    const path = at ? `${at}.${key}` : key;
    const node = properties[key];
    if (!node) throw new Error(`defaults: the schema has no option ${path}`);
    if (schema.required?.includes(key)) {
      throw new Error(`defaults: ${path} is required, so it cannot have a default`);
    }
    properties[key] = withDefault(node, value, path);
  }
  return { ...schema, properties };
}

function withDefault(node: SchemaNode, value: unknown, path: string): SchemaNode {
  if (!isPlainObject(value) || !node.properties) return { ...node, default: value };
  const required = node.required ?? [];
  if (required.length === 0) return { ...withDefaults(node, value, path), default: {} };
  if (required.every((key) => Object.hasOwn(value, key))) {
    // Checked like a group, so a misspelt key fails here too; the default goes on whole.
    withDefaults({ properties: node.properties }, value, path);
    return { ...node, default: value };
  }
  return withDefaults(node, value, path);
}
