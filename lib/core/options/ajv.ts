// The ajv instance options are validated with, and the keywords this library adds to it (JSON
// Schema has no type for functions or stores).
import { Ajv } from 'ajv';

/** The methods an object needs to pass as a store (`isStore`). @internal */
export const STORE_METHODS = [
  'adapter',
  'takeUse',
  'returnUse',
  'addToIndex',
  'readIndex',
  'deleteIndex',
  'removeFromIndex',
  'consumeRate',
  'raiseCounter',
  'claim',
  'claimHolder',
  'replaceClaim',
  'close',
];

/**
 * The options' ajv: every error reported, defaults filled into what it validates, unknown
 * keywords refused; `isFunction` and `isStore` added.
 *
 * @internal
 */
export const optionsAjv = new Ajv({
  allErrors: true,
  useDefaults: true,
  strict: true,
  verbose: true,
});
optionsAjv.addKeyword({
  keyword: 'isFunction',
  schemaType: 'boolean',
  errors: false,
  validate: (_schema: boolean, data: unknown) => typeof data === 'function',
});
optionsAjv.addKeyword({
  keyword: 'isStore',
  schemaType: 'boolean',
  errors: false,
  validate: (_schema: boolean, data: unknown) =>
    typeof data === 'object' &&
    data !== null &&
    STORE_METHODS.every((m) => typeof (data as Record<string, unknown>)[m] === 'function'),
});
