export type { ResolvedOptions } from './resolved.js';
export type * from './types.js';
export { resolveOptions } from './validate.js';
