export type * from './types.js';
export { type ResolvedOptions, resolveOptions } from './validate.js';
