/**
 * Whether `value` is a plain object (an object literal or `Object.create(null)`), as opposed to
 * an array, a function or a class instance such as a store.
 *
 * @internal
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
