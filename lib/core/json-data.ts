// Copies of data known to be JSON (validated options, parsed records): arrays and plain objects
// copied at every depth, everything else shared. structuredClone does the same for any value,
// at several times the cost, on paths that run for every request of a templatized instance.

/**
 * A deep copy of `value`, which holds only JSON values (strings, numbers, booleans, null, arrays
 * and plain objects): no container of the copy is one of `value`'s.
 *
 * @internal
 */
export function copyJsonData<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(copyJsonData) as T;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value))
    copy[key] = copyJsonData((value as Record<string, unknown>)[key]);
  return copy as T;
}
