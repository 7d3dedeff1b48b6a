// The provisioned key of `mobile-fallback-pki-client`, for docs/example-server.md's fallback
// walk-through:
//   npx tsx examples/server/fallback-key.ts generate   writes the key pair under .tmp/
//   npx tsx examples/server/fallback-key.ts assertion  prints a client assertion (RFC 7523 §2.2)
// In production the key lives in the device's keystore (provisioned by your MDM), and the app
// signs the assertion itself; the server only ever sees the public JWKS.
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import { FALLBACK_PKI_CLIENT_ID } from './fallback.js';

const PRIVATE_KEY_FILE = '.tmp/fallback-private-key.json';
/** Start the example with `FALLBACK_CLIENT_JWKS_FILE` pointing here. */
const PUBLIC_JWKS_FILE = '.tmp/fallback-jwks.json';

const command = process.argv[2];
if (command === 'generate') {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = randomUUID();
  await mkdir('.tmp', { recursive: true });
  await writeFile(
    PRIVATE_KEY_FILE,
    JSON.stringify({ ...(await exportJWK(privateKey)), kid, alg: 'ES256' }),
    { mode: 0o600 },
  );
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] };
  await writeFile(PUBLIC_JWKS_FILE, JSON.stringify(jwks));
  console.log(`wrote ${PRIVATE_KEY_FILE} and ${PUBLIC_JWKS_FILE}`);
} else if (command === 'assertion') {
  const issuer = process.env.ISSUER ?? `http://localhost:${process.env.PORT ?? '3000'}`;
  const jwk = JSON.parse(await readFile(PRIVATE_KEY_FILE, 'utf8')) as JWK;
  // RFC 7523 §3: iss and sub are the client, aud the authorization server, short-lived, unique.
  const assertion = await new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: jwk.kid as string })
    .setIssuer(FALLBACK_PKI_CLIENT_ID)
    .setSubject(FALLBACK_PKI_CLIENT_ID)
    .setAudience(issuer)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime('60s')
    .sign(await importJWK(jwk, 'ES256'));
  console.log(assertion);
} else {
  console.error('usage: fallback-key.ts generate | assertion');
  process.exit(2);
}
