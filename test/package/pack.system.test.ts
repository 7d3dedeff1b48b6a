// The published package: `npm pack` (which builds through `prepack`) produces a tarball that a
// separate project installs from, imports, runs and type-checks against — the way users get the
// library. The consumer project lives outside the repo, so nothing resolves from our node_modules.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { CHECKOUT } from '../helpers/checkout.js';
import { packedTarball } from '../helpers/tarball.js';

const run = promisify(execFile);
const repo = CHECKOUT;
const tsc = join(repo, 'node_modules', '.bin', 'tsc');
const big = { maxBuffer: 64 * 1024 * 1024 };

/** Runs a command; on failure, fails with its output rather than a bare exit code. */
async function sh(file: string, args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await run(file, args, { cwd, ...big });
    return stdout;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    assert.fail(`${file} ${args.join(' ')} failed:\n${e.stdout ?? ''}\n${e.stderr ?? e.message}`);
  }
}

/**
 * Type-checks `files` in `cwd` as a strict NodeNext consumer would, library types included unless
 * `skipLibCheck`.
 */
const strictTsc = (files: string[], cwd: string, skipLibCheck = false) =>
  sh(
    tsc,
    [
      '--noEmit',
      '--strict',
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--target',
      'es2022',
      '--skipLibCheck',
      String(skipLibCheck),
      ...files,
    ],
    cwd,
  );

describe('the packed tarball', () => {
  let work: string | undefined;
  let tarball: string;
  let consumer: string;

  before(
    async () => {
      work = await mkdtemp(join(tmpdir(), 'mobile-oidc-provider-pack-'));
      // `prepack` runs `npm run build`, so the tarball holds a fresh dist/; packed once per run
      // for every test that installs it.
      tarball = await packedTarball();

      consumer = join(work, 'consumer');
      await mkdir(consumer);
      await writeFile(
        join(consumer, 'package.json'),
        JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
      );
      // Dependencies come from the registry, as they do for users.
      // Express 5 and its types come along for the Express consumer check below, ioredis (the
      // optional peer) for the consumers that load ./adapters/redis.
      await sh(
        'npm',
        [
          'install',
          '--no-audit',
          '--no-fund',
          '--prefer-offline',
          tarball,
          'express@5',
          '@types/express@5',
          'ioredis@6',
        ],
        consumer,
      );
    },
    { timeout: 300_000 },
  );
  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('ships the built library, its types with declaration maps and their sources, the docs pages, and nothing else', {
    timeout: 300_000,
  }, async () => {
    const files = (await sh('tar', ['-tzf', tarball], repo)).trim().split('\n');
    const required = [
      'package/package.json',
      'package/dist/lib/index.js',
      'package/dist/lib/index.d.ts',
      'package/dist/adapters/memory.js',
      'package/LICENSE',
      'package/CHANGELOG.md',
    ];
    if (existsSync(join(repo, 'README.md'))) required.push('package/README.md');
    // Every target of package.json `exports` must be in the tarball.
    const manifest = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as {
      exports: Record<string, string | Record<string, string>>;
    };
    for (const target of Object.values(manifest.exports)) {
      for (const path of typeof target === 'string' ? [target] : Object.values(target)) {
        required.push(`package/${path.replace(/^\.\//, '')}`);
      }
    }
    for (const path of required) {
      assert.ok(files.includes(path), `${path} is in the tarball`);
    }
    // Declaration maps lead an editor's "go to definition" to the TypeScript source, shipped beside.
    const map = JSON.parse(
      await sh('tar', ['-xzOf', tarball, 'package/dist/lib/index.d.ts.map'], repo),
    ) as { sources: string[] };
    assert.deepEqual(map.sources, ['../../lib/index.ts']);
    assert.ok(files.includes('package/lib/index.ts'), 'the source a declaration map names');
    assert.ok(files.includes('package/docs/concepts.md'), 'the docs pages the README links to');
    const stray = files.filter(
      (f) =>
        /^package\/(test|examples|\.ci|bench|docs\/api|node_modules)\//.test(f) ||
        (/\.[cm]?ts$/.test(f) && !/^package\/(lib|adapters|dist)\//.test(f)),
    );
    assert.deepEqual(stray, [], 'no tests, examples, bench, built docs or CI files in the tarball');
  });

  it('imports and runs from a separate project', { timeout: 300_000 }, async () => {
    await writeFile(
      join(consumer, 'smoke.mjs'),
      `import { createAuthServer, ConfigurationError, MemoryStore, RegistrationPolicyError } from 'mobile-oidc-provider';
import { AttestationError, attestationBinding, appAttestVerifier, androidKeyVerifier, playIntegrityVerifier, verifyAndroidKeyAttestation, verifyAppAttestAssertion, verifyAppAttestAttestation, verifyPlayIntegrityToken, GOOGLE_HARDWARE_ATTESTATION_ROOTS, APPLE_APP_ATTESTATION_ROOT } from 'mobile-oidc-provider/attestation';
import { describeStoreContract } from 'mobile-oidc-provider/testing';
import { createTokenVerifier, expressAuth, koaAuth, requireCal, requireScopes, TokenVerificationError } from 'mobile-oidc-provider/resource-server';
for (const [name, f] of Object.entries({ createAuthServer, ConfigurationError, MemoryStore, RegistrationPolicyError, describeStoreContract, createTokenVerifier, expressAuth, koaAuth, requireCal, requireScopes, TokenVerificationError, AttestationError, attestationBinding, appAttestVerifier, androidKeyVerifier, playIntegrityVerifier, verifyAndroidKeyAttestation, verifyAppAttestAssertion, verifyAppAttestAttestation, verifyPlayIntegrityToken })) {
  if (typeof f !== 'function') throw new Error(name + ' is not exported as a function');
}
console.warn = () => {}; // development mode warns about its generated keys
const server = await createAuthServer({
  issuer: 'http://localhost:3000',
  development: true,
  accounts: { authenticate: async () => undefined, findAccount: async () => undefined },
});
if (server.provider.issuer !== 'http://localhost:3000') throw new Error('wrong issuer: ' + server.provider.issuer);
if (typeof server.callback() !== 'function') throw new Error('callback() is not a request handler');
if (typeof server.koa() !== 'function') throw new Error('koa() is not a middleware');
await server.close();
try {
  await createAuthServer({ issuer: 'http://localhost:3000', accounts: {} });
  throw new Error('invalid options accepted');
} catch (error) {
  if (!(error instanceof ConfigurationError)) throw error;
}
try {
  await verifyPlayIntegrityToken({ token: 'x', decryptionKey: 'AAAA', verificationKey: 'AAAA', packageName: 'p', nonce: 'n', certificateSha256Digests: [] });
  throw new Error('a garbage token verified');
} catch (error) {
  if (!(error instanceof AttestationError) || error.code !== 'malformed') throw error;
}
if (GOOGLE_HARDWARE_ATTESTATION_ROOTS.length !== 2 || !APPLE_APP_ATTESTATION_ROOT.includes('BEGIN CERTIFICATE')) throw new Error('roots missing');
console.log('ok');
`,
    );
    const stdout = await sh(process.execPath, ['smoke.mjs'], consumer);
    assert.equal(stdout.trim(), 'ok');
  });

  // Node 20.19+ and 22 load an ES module from require() when nothing in its graph awaits at the
  // top level (else ERR_REQUIRE_ASYNC_MODULE): requiring every subpath keeps it that way.
  it('requires every subpath and runs from a CommonJS file', { timeout: 300_000 }, async () => {
    const manifest = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as {
      exports: Record<string, unknown>;
    };
    const subpaths = Object.keys(manifest.exports)
      .filter((subpath) => subpath !== './package.json')
      .map((subpath) => subpath.replace(/^\./, 'mobile-oidc-provider'));
    await writeFile(
      join(consumer, 'smoke.cjs'),
      `'use strict';
for (const subpath of ${JSON.stringify(subpaths)}) {
  if (Object.keys(require(subpath)).length === 0) throw new Error(subpath + ' exports nothing');
}
const { createAuthServer, generateKeys } = require('mobile-oidc-provider');
const { RedisStore } = require('mobile-oidc-provider/adapters/redis');
const { appAttestVerifier } = require('mobile-oidc-provider/attestation');
const { createTokenVerifier } = require('mobile-oidc-provider/resource-server');
const { describeStoreContract } = require('mobile-oidc-provider/testing');
for (const [name, f] of Object.entries({ createAuthServer, generateKeys, RedisStore, appAttestVerifier, createTokenVerifier, describeStoreContract })) {
  if (typeof f !== 'function') throw new Error(name + ' is not exported as a function');
}
(async () => {
  const server = await createAuthServer({
    issuer: 'https://login.example.com',
    ...(await generateKeys()),
    accounts: { authenticate: async () => undefined, findAccount: async () => undefined },
  });
  if (server.provider.issuer !== 'https://login.example.com') throw new Error('wrong issuer: ' + server.provider.issuer);
  if (typeof server.callback() !== 'function') throw new Error('callback() is not a request handler');
  await server.close();
  console.log('ok');
})().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
`,
    );
    assert.ok(subpaths.includes('mobile-oidc-provider/adapters/redis'), `subpaths: ${subpaths}`);
    // The flag makes a failure name the file and line of the top-level await.
    const stdout = await sh(
      process.execPath,
      ['--experimental-print-required-tla', 'smoke.cjs'],
      consumer,
    );
    assert.equal(stdout.trim(), 'ok');
  });

  it('type-checks a TypeScript consumer under strict NodeNext, without skipLibCheck', {
    timeout: 300_000,
  }, async () => {
    await writeFile(
      join(consumer, 'consumer.ts'),
      `import {
  type AuthServer,
  type AuthServerOptions,
  createAuthServer,
  type RegistrationPolicy,
  RegistrationPolicyError,
} from 'mobile-oidc-provider';
import { type EvidenceVerifier, playIntegrityVerifier } from 'mobile-oidc-provider/attestation';
import { createTokenVerifier, requireScopes, type VerifiedToken } from 'mobile-oidc-provider/resource-server';

export const verifier = createTokenVerifier({
  issuer: 'https://login.example.com',
  audience: 'https://api.example.com/',
});
export const paymentsOnly = (token: VerifiedToken): VerifiedToken => requireScopes(token, 'payments');
export const playIntegrity: EvidenceVerifier = playIntegrityVerifier({
  decryptionKey: 'AAAA',
  verificationKey: 'AAAA',
  packageName: 'io.example.app',
  certificateSha256Digests: ['ab'.repeat(32)],
});
const noForbiddenNames: RegistrationPolicy = async ({ metadata }) => {
  if (metadata.client_name === 'forbidden') {
    throw new RegistrationPolicyError('invalid_client_metadata', 'no');
  }
};
const options: AuthServerOptions = {
  issuer: 'https://login.example.com',
  jwks: { keys: [] },
  cookieKeys: ['a'.repeat(32)],
  accounts: { authenticate: async () => undefined, findAccount: async () => ({ claims: {} }) },
  registration: { dcrToken: { ttl: 120 }, policies: [noForbiddenNames] },
};
export const server: Promise<AuthServer> = createAuthServer(options);
export async function issuerOf(s: AuthServer): Promise<string> {
  await s.close();
  return s.provider.issuer;
}
`,
    );
    // An Express 5 app (its typed content-disposition 2.x hoisted, which @types/koa misreads)
    // compiles under the same strict settings.
    await writeFile(
      join(consumer, 'express-consumer.ts'),
      `import express from 'express';
import { createAuthServer } from 'mobile-oidc-provider';

const auth = await createAuthServer({
  issuer: 'https://login.example.com/oidc',
  accounts: { authenticate: async () => undefined, findAccount: async () => ({ claims: {} }) },
});
const app = express();
app.use('/oidc', auth.callback());
export default app;
`,
    );
    // The repo's own TypeScript, but only the consumer's node_modules: the types our .d.ts files
    // use (oidc-provider, koa, node) must arrive as dependencies of the package. One program for
    // both consumers: the library's and the dependencies' types are checked once, not twice.
    await strictTsc(['consumer.ts', 'express-consumer.ts'], consumer);
    const installed = await readdir(join(consumer, 'node_modules', '@types'));
    for (const types of ['oidc-provider', 'koa']) {
      assert.ok(installed.includes(types), `@types/${types} comes with the package`);
    }
  });

  it('type-checks a CommonJS TypeScript consumer of every subpath under strict NodeNext', {
    timeout: 300_000,
  }, async () => {
    // A .cts file is CommonJS: its imports compile to require(), and TypeScript resolves them
    // with the `require` condition, which the `types` conditions answer as well.
    await writeFile(
      join(consumer, 'consumer.cts'),
      `import { type AuthServer, type AuthServerOptions, createAuthServer, generateKeys } from 'mobile-oidc-provider';
import { RedisStore, type RedisStoreOptions } from 'mobile-oidc-provider/adapters/redis';
import { appAttestVerifier, type EvidenceVerifier } from 'mobile-oidc-provider/attestation';
import { createTokenVerifier, type VerifiedToken } from 'mobile-oidc-provider/resource-server';
import { describeStoreContract } from 'mobile-oidc-provider/testing';

export async function start(options: Omit<AuthServerOptions, 'jwks' | 'cookieKeys'>): Promise<AuthServer> {
  return createAuthServer({ ...options, ...(await generateKeys()) });
}
export const verifier = createTokenVerifier({
  issuer: 'https://login.example.com',
  audience: 'https://api.example.com/',
});
export const scopes = (token: VerifiedToken): string[] => token.scope;
export type { EvidenceVerifier, RedisStoreOptions };
export { appAttestVerifier, describeStoreContract, RedisStore };
`,
    );
    // The declarations themselves are checked by the test above; this one checks that a CommonJS
    // file finds them. skipLibCheck also spares ioredis's own declarations, which name the
    // untyped redis-errors.
    await strictTsc(['consumer.cts'], consumer, true);
  });
});
