/**
 * Keys that reach an object's prototype when a parsed body is copied with `Object.assign` or
 * read through inheritance: refused wherever they appear in network input.
 */
const UNSAFE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

// Deeper than any honest registration body; deeper input is refused rather than walked.
const MAX_DEPTH = 64;

/** Where an unsafe key was found, or why the value could not be walked. @internal */
export interface UnsafeKey {
  /** The offending key. */
  key: string;
  /** Its dotted path in the value, e.g. `jwks.keys[0].__proto__`. */
  path: string;
}

/**
 * Finds the first `__proto__`, `constructor` or `prototype` key in parsed JSON, at any depth
 * (`JSON.parse` creates them as own properties, which `Object.assign` then turns into a
 * prototype). Nesting deeper than 64 levels is reported as unsafe too.
 *
 * @returns the key and its path, or `undefined` when the value is safe to copy.
 * @internal
 */
export function findUnsafeKey(value: unknown): UnsafeKey | undefined {
  const pending: Array<{ value: unknown; path: string; depth: number }> = [
    { value, path: '', depth: 0 },
  ];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const { value: node, path, depth } = next;
    if (typeof node !== 'object' || node === null) continue;
    if (depth > MAX_DEPTH) return { key: '(nesting)', path: path || '(body)' };
    if (Array.isArray(node)) {
      node.forEach((item, i) => {
        pending.push({ value: item, path: `${path}[${i}]`, depth: depth + 1 });
      });
      continue;
    }
    for (const key of Object.keys(node)) {
      const at = path ? `${path}.${key}` : key;
      if (UNSAFE_KEYS.has(key)) return { key, path: at };
      pending.push({ value: (node as Record<string, unknown>)[key], path: at, depth: depth + 1 });
    }
  }
  return undefined;
}

/**
 * A copy of parsed JSON with no prototype at any level and without `__proto__`, `constructor`
 * and `prototype` keys, so no later merge of it can reach a prototype; for claims from the
 * network (id_tokens, access tokens, introspection answers).
 *
 * @returns the copy, or `undefined` when the value nests deeper than `maxDepth`.
 * @internal
 */
export function prototypeSafeCopy(value: unknown, maxDepth: number): unknown {
  const tooDeep = Symbol('too deep');
  const copy = (node: unknown, depth: number): unknown => {
    if (typeof node !== 'object' || node === null) return node;
    if (depth > maxDepth) throw tooDeep;
    if (Array.isArray(node)) return node.map((item) => copy(item, depth + 1));
    const safe: Record<string, unknown> = Object.create(null);
    for (const [key, item] of Object.entries(node)) {
      if (!UNSAFE_KEYS.has(key)) safe[key] = copy(item, depth + 1);
    }
    return safe;
  };
  try {
    return copy(value, 0);
  } catch (error) {
    if (error === tooDeep) return undefined;
    throw error;
  }
}
