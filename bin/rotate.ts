// Key rotation on a key set (`{ jwks, cookieKeys }`, what generateKeys() makes), in the stages a
// deployment of several processes needs. oidc-provider publishes every key of `jwks` and signs
// with the first key of each algorithm whose `key_ops` (if any) include `sign`; cookies are
// signed with the first cookie key and verified with all. A key waiting to sign carries
// `key_ops: ["verify"]`: published and verifying, never signing, whatever its place.
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import type { JWK } from 'oidc-provider';
import type { ServerKeys } from '../lib/keys/index.js';
import { CliError } from './errors.js';

/** The stages of `keys rotate`; `now` is `add` and `promote` at once. */
export const STAGES = ['now', 'add', 'promote', 'retire'] as const;
/** One stage of a rotation. */
export type Stage = (typeof STAGES)[number];

/** The marker of a key that is published and verifies, but does not sign yet. */
const PENDING_OPS = ['verify'];

/** Whether `jwk` waits to sign: added by `--stage add`, not yet promoted. */
export const isPending = (jwk: JWK): boolean =>
  Array.isArray(jwk.key_ops) && !jwk.key_ops.includes('sign');

/** The key of each algorithm that signs: the first of its algorithm that is not pending. */
export function signingKeys(keys: readonly JWK[]): JWK[] {
  const seen = new Set<string>();
  return keys.filter((jwk) => {
    if (isPending(jwk) || seen.has(String(jwk.alg))) return false;
    seen.add(String(jwk.alg));
    return true;
  });
}

/** RSA modulus length in bits, from the key's `n`. */
const modulusBits = (jwk: JWK): number =>
  Buffer.from(String(jwk.n), 'base64url').length * 8 || 2048;

/** A new private key of the same algorithm (and RSA size) as `jwk`, with a fresh `kid`. */
async function freshKeyLike(jwk: JWK): Promise<JWK> {
  const alg = String(jwk.alg);
  const { privateKey } = await generateKeyPair(alg, {
    extractable: true,
    ...(jwk.kty === 'RSA' ? { modulusLength: modulusBits(jwk) } : {}),
    ...(jwk.kty === 'OKP' ? { crv: String(jwk.crv) } : {}),
  });
  const fresh = await exportJWK(privateKey);
  return { ...fresh, alg, use: 'sig', kid: randomBytes(8).toString('hex') } as JWK;
}

/** A new cookie key: 256 bits, as generateKeys() makes them. */
const freshCookieKey = () => randomBytes(32).toString('base64url');

/**
 * Stage `add`: a new key for each algorithm that signs now, appended as pending (published and
 * verifying, not signing), and a new cookie key appended last (verifying, not signing).
 */
async function add(keys: ServerKeys): Promise<ServerKeys> {
  if (keys.jwks.keys.some(isPending)) {
    throw new CliError(
      'bad_input',
      'these keys already hold pending keys (key_ops ["verify"]): promote them first (--stage promote)',
    );
  }
  const fresh = await Promise.all(signingKeys(keys.jwks.keys).map(freshKeyLike));
  return {
    jwks: { keys: [...keys.jwks.keys, ...fresh.map((jwk) => ({ ...jwk, key_ops: PENDING_OPS }))] },
    cookieKeys: [...keys.cookieKeys, freshCookieKey()],
  };
}

/**
 * Stage `promote`: the pending keys lose their marker and move to the front, so they sign; the
 * keys that signed stay behind them and keep verifying. The newest cookie key (the last, which
 * `add` appended) moves to the front.
 */
function promote(keys: ServerKeys): ServerKeys {
  const pending = keys.jwks.keys.filter(isPending);
  if (pending.length === 0) {
    throw new CliError(
      'bad_input',
      'no pending keys to promote (key_ops ["verify"]): run --stage add first',
    );
  }
  const promoted = pending.map(({ key_ops: _pending, ...jwk }) => jwk as JWK);
  const rest = keys.jwks.keys.filter((jwk) => !isPending(jwk));
  const newest = keys.cookieKeys.at(-1) as string;
  return {
    jwks: { keys: [...promoted, ...rest] },
    cookieKeys:
      keys.cookieKeys.length > 1 ? [newest, ...keys.cookieKeys.slice(0, -1)] : keys.cookieKeys,
  };
}

/** Stage `retire`: only the keys that sign remain, and the cookie key that signs. */
function retire(keys: ServerKeys): ServerKeys {
  if (keys.jwks.keys.some(isPending)) {
    throw new CliError(
      'bad_input',
      'these keys hold pending keys (key_ops ["verify"]): promote them (--stage promote) before retiring the old ones',
    );
  }
  return {
    jwks: { keys: signingKeys(keys.jwks.keys) },
    cookieKeys: keys.cookieKeys.slice(0, 1),
  };
}

/** The key set after `stage` of a rotation. */
export async function rotate(keys: ServerKeys, stage: Stage): Promise<ServerKeys> {
  switch (stage) {
    case 'add':
      return add(keys);
    case 'promote':
      return promote(keys);
    case 'retire':
      return retire(keys);
    case 'now':
      return promote(await add(keys));
  }
}

/** One line for people: which keys sign, which only verify, how many cookie keys. */
export function describeKeys(keys: ServerKeys): string {
  const signing = signingKeys(keys.jwks.keys);
  const verifying = keys.jwks.keys.filter((jwk) => !signing.includes(jwk));
  const list = (jwks: JWK[]) =>
    jwks.length === 0 ? 'none' : jwks.map((jwk) => `${jwk.alg} ${jwk.kid}`).join(', ');
  return `signing: ${list(signing)}; verifying only: ${list(verifying)}; cookie keys: ${keys.cookieKeys.length} (the first signs)`;
}
