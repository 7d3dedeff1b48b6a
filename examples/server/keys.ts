import { readFileSync } from 'node:fs';
import type { AuthServerOptions } from 'mobile-oidc-provider';

/** Where the example reads its keys from; each value may also be read from a `*_FILE`. */
export interface KeyEnv {
  /** The private signing JWKS as JSON (`{"keys":[…]}`). */
  JWKS?: string;
  /** A file holding that JSON. */
  JWKS_FILE?: string;
  /** Cookie signing keys, comma-separated, each ≥ 32 characters; the first signs. */
  COOKIE_KEYS?: string;
  /** A file holding them, one per line. */
  COOKIE_KEYS_FILE?: string;
}

/** `text` parsed as the JSON that setting `name` holds; the error never quotes the text (a key). */
export function jsonSetting<T>(name: string, text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`${name} is not JSON`);
  }
}

function fromEnvOrFile(value: string | undefined, file: string | undefined): string | undefined {
  if (value) return value;
  return file ? readFileSync(file, 'utf8') : undefined;
}

/**
 * Signing and cookie keys from the environment. Processes that share a store must share these
 * too (ID tokens and sign-in cookies are signed with them); when unset, development mode
 * generates throwaway ones.
 */
export function keysFromEnv(env: KeyEnv): Pick<AuthServerOptions, 'jwks' | 'cookieKeys'> {
  const jwks = fromEnvOrFile(env.JWKS, env.JWKS_FILE);
  const cookieKeys = fromEnvOrFile(env.COOKIE_KEYS, env.COOKIE_KEYS_FILE);
  return {
    ...(jwks ? { jwks: jsonSetting<NonNullable<AuthServerOptions['jwks']>>('JWKS', jwks) } : {}),
    ...(cookieKeys
      ? {
          cookieKeys: cookieKeys
            .split(/[,\n]/)
            .map((k) => k.trim())
            .filter(Boolean),
        }
      : {}),
  };
}
