/** A JSON response body, read field by field in assertions. */
// biome-ignore lint/suspicious/noExplicitAny: test-only; each field is checked by an assertion
export type JsonBody = Record<string, any>;

/** Reads a response's JSON body for assertions. */
export const json = (res: Response): Promise<JsonBody> => res.json() as Promise<JsonBody>;
