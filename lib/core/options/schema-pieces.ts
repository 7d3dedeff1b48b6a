// JSON Schema pieces every feature's option fragment is built from, so that one kind of value
// is checked (and worded in errors, see lib/options/ajv.ts) the same way everywhere.

/** An integer of 1 or more (counts, lifetimes in seconds). @internal */
export const positiveInteger = { type: 'integer', minimum: 1 } as const;

/** A string that is not empty. @internal */
export const nonEmptyString = { type: 'string', minLength: 1 } as const;

/** An OAuth scope token (RFC 6749 §3.3). @internal */
export const scopeToken = { type: 'string', pattern: '^[\\x21\\x23-\\x5B\\x5D-\\x7E]+$' } as const;

/** A list of non-empty strings. @internal */
export const stringList = { type: 'array', items: nonEmptyString } as const;

/** A fixed-window rate limit (`RateLimit`): both keys required. @internal */
export const rateLimit = {
  type: 'object',
  required: ['points', 'duration'],
  additionalProperties: false,
  properties: { points: positiveInteger, duration: positiveInteger },
} as const;

/** A rate limit that `false` turns off. @internal */
export const rateLimitOrOff = { anyOf: [rateLimit, { const: false }] } as const;

/** An endpoint path relative to the issuer: `/` and word characters, dots, dashes. @internal */
export const endpointPath = { type: 'string', pattern: '^/[\\w/.-]*$' } as const;
