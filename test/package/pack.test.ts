// The published package: `npm pack` (which builds through `prepack`) produces a tarball that a
// separate project installs, imports and type-checks against — the way users get the library.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../..', import.meta.url));
const tsc = join(repo, 'node_modules', '.bin', 'tsc');

describe('the packed tarball', { timeout: 300_000 }, () => {
  let work: string;
  let tarball: string;
  let consumer: string;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'mobile-oidc-provider-pack-'));
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], {
      cwd: repo,
      maxBuffer: 16 * 1024 * 1024,
    });
    // prepack prints the build's output before npm's JSON: take the JSON array at the end.
    const packed = JSON.parse(stdout.slice(stdout.lastIndexOf('\n[') + 1)) as Array<{
      filename: string;
      files: Array<{ path: string }>;
    }>;
    const [entry] = packed;
    assert.ok(entry);
    tarball = join(work, entry.filename);
    consumer = join(work, 'consumer');
    await mkdir(consumer);
    await writeFile(
      join(consumer, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
    );
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], {
      cwd: consumer,
    });
  });
  after(() => rm(work, { recursive: true, force: true }));

  it('ships the built library and its types, and nothing else', async () => {
    const { stdout } = await run('tar', ['-tzf', tarball]);
    const files = stdout.trim().split('\n');
    for (const required of [
      'package/package.json',
      'package/README.md',
      'package/dist/lib/index.js',
      'package/dist/lib/index.d.ts',
      'package/dist/adapters/memory.js',
    ]) {
      assert.ok(files.includes(required), `${required} is in the tarball`);
    }
    const stray = files.filter(
      (f) =>
        /^package\/(test|examples|\.ci|lib|adapters|bench)\//.test(f) ||
        (f.endsWith('.ts') && !f.endsWith('.d.ts')),
    );
    assert.deepEqual(stray, []);
  });

  it('imports and runs from a separate project', async () => {
    await writeFile(
      join(consumer, 'smoke.mjs'),
      `import { createAuthServer, ConfigurationError, MemoryStore, RegistrationPolicyError } from 'mobile-oidc-provider';
for (const f of [createAuthServer, ConfigurationError, MemoryStore, RegistrationPolicyError]) {
  if (typeof f !== 'function') throw new Error('missing export');
}
console.warn = () => {};
const server = await createAuthServer({
  issuer: 'http://localhost:3000',
  development: true,
  accounts: { authenticate: async () => undefined, findAccount: async () => undefined },
});
if (server.provider.issuer !== 'http://localhost:3000') throw new Error('wrong issuer');
if (typeof server.callback() !== 'function' || typeof server.koa() !== 'function') throw new Error('no handlers');
await server.close();
try {
  await createAuthServer({ issuer: 'http://localhost:3000', accounts: {} });
  throw new Error('invalid options accepted');
} catch (error) {
  if (!(error instanceof ConfigurationError)) throw error;
}
console.log('ok');
`,
    );
    const { stdout } = await run(process.execPath, ['smoke.mjs'], { cwd: consumer });
    assert.equal(stdout.trim(), 'ok');
  });

  it('type-checks a TypeScript consumer under strict NodeNext, without skipLibCheck', async () => {
    await writeFile(
      join(consumer, 'consumer.ts'),
      `import { type AuthServer, type AuthServerOptions, createAuthServer, RegistrationPolicyError, type RegistrationPolicy } from 'mobile-oidc-provider';
const onlyCompanyPhones: RegistrationPolicy = async ({ metadata }) => {
  if (metadata.client_name === 'forbidden') throw new RegistrationPolicyError('invalid_client_metadata', 'no');
};
const options: AuthServerOptions = {
  issuer: 'https://login.example.com',
  jwks: { keys: [] },
  cookieKeys: ['a'.repeat(32)],
  accounts: { authenticate: async () => undefined, findAccount: async () => ({ claims: {} }) },
  registration: { dcrToken: { ttl: 120 }, policies: [onlyCompanyPhones] },
};
export const server: Promise<AuthServer> = createAuthServer(options);
`,
    );
    await run(
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
        '--types',
        'node',
        '--typeRoots',
        join(repo, 'node_modules', '@types'),
        'consumer.ts',
      ],
      { cwd: consumer },
    ).catch((error: { stdout?: string }) => {
      assert.fail(`consumer type errors:\n${error.stdout}`);
    });
    const installed = await readdir(join(consumer, 'node_modules', '@types'));
    assert.ok(
      installed.includes('oidc-provider'),
      'the types our declarations use come with the package',
    );
  });
});
