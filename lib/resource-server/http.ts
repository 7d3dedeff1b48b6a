import { unavailable } from './errors.js';

/** One answer of the authorization server: its status and parsed JSON body. @internal */
export interface JsonAnswer {
  status: number;
  body: unknown;
}

/**
 * One request to the authorization server, its body read as JSON. Network errors, timeouts,
 * redirects and bodies that are not JSON become a 503 `temporarily_unavailable` naming `what`.
 *
 * @internal
 */
export async function requestJson(
  fetcher: typeof globalThis.fetch,
  url: string,
  init: RequestInit & { timeoutMs: number },
  what: string,
): Promise<JsonAnswer> {
  const { timeoutMs, ...rest } = init;
  let response: Response;
  try {
    // A redirect could lead anywhere: the metadata names every URL the verifier needs.
    response = await fetcher(url, {
      ...rest,
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (cause) {
    throw unavailable(`the ${what} could not be reached`, cause);
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch (cause) {
    throw unavailable(`the ${what} answered ${response.status} without JSON`, cause);
  }
  return { status: response.status, body };
}

/** Whether a value is a plain JSON object (not an array, not null). @internal */
export const isJsonObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
