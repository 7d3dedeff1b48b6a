// Reading a key set (`{ jwks, cookieKeys }`) from a file or stdin, checked as the server would
// check it at start-up, so a rotation never starts from (or prints) keys a server refuses.
import { readFile } from 'node:fs/promises';
import type { JWK } from 'oidc-provider';
import { type ServerKeys, signingKeyProblems } from '../lib/keys/index.js';
import { CliError } from './errors.js';

/** Where the CLI reads from: a file argument, or stdin when it is absent or `-`. */
export interface Input {
  /** Reads all of stdin; `undefined` when stdin is a terminal (nothing was piped in). */
  stdin(): Promise<string | undefined>;
}

/** The text of `file`, or of stdin when `file` is absent or `-`. */
export async function readInput(file: string | undefined, input: Input): Promise<string> {
  if (file === undefined || file === '-') {
    const text = await input.stdin();
    if (text === undefined) {
      throw new CliError('usage', 'give the current keys as a file argument or on stdin');
    }
    return text;
  }
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new CliError('bad_input', `cannot read the key file ${file} (${reason})`, {
      cause: error,
    });
  }
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The key set in `text` (JSON, as `keys generate` prints it), or a CliError naming the first
 * thing wrong: its shape, a key without `kid` or `alg`, a repeated `kid`, a short cookie key, or
 * what the server's own start-up check refuses (a public key, no RS256 key).
 */
export function parseKeySet(text: string, source: string): ServerKeys {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // Only where it broke: node's message quotes the text, which may be key material.
    const at = /position \d+/.exec((error as Error).message)?.[0];
    throw new CliError('bad_input', `${source} is not JSON${at ? ` (at ${at})` : ''}`, {
      cause: error,
    });
  }
  const bad = (problem: string) => new CliError('bad_input', `${source}: ${problem}`);
  if (!isObject(value) || !isObject(value.jwks) || !Array.isArray(value.jwks.keys)) {
    throw bad('expected {"jwks":{"keys":[…]},"cookieKeys":[…]}, as `keys generate` prints');
  }
  const keys = value.jwks.keys as unknown[];
  const kids = new Set<string>();
  for (const [i, jwk] of keys.entries()) {
    if (!isObject(jwk)) throw bad(`jwks.keys[${i}] is not a JWK object`);
    for (const member of ['kid', 'alg'] as const) {
      if (typeof jwk[member] !== 'string' || jwk[member] === '') {
        throw bad(`jwks.keys[${i}] has no ${member}: rotation needs both on every key`);
      }
    }
    if (kids.has(jwk.kid as string)) throw bad(`jwks.keys[${i}] repeats the kid ${jwk.kid}`);
    kids.add(jwk.kid as string);
  }
  const [problem] = signingKeyProblems({ keys }, []);
  if (problem) throw bad(problem.replace(/^options\./, ''));
  const { cookieKeys } = value;
  if (
    !Array.isArray(cookieKeys) ||
    cookieKeys.length === 0 ||
    !cookieKeys.every((key) => typeof key === 'string' && key.length >= 32)
  ) {
    throw bad('cookieKeys must be a non-empty list of strings of at least 32 characters');
  }
  return { jwks: { keys: keys as JWK[] }, cookieKeys: cookieKeys as string[] };
}

/** The key set as the example server's environment takes it: `JWKS=…` and `COOKIE_KEYS=…`. */
export function asEnv(keys: ServerKeys): string {
  return `JWKS=${JSON.stringify(keys.jwks)}\nCOOKIE_KEYS=${keys.cookieKeys.join(',')}\n`;
}
