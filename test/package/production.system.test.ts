// The production start, as the container image does it (Dockerfile), without Docker: the packed
// tarball installed into a fresh folder by scripts/production-install.sh (the script the image
// runs) with production dependencies only, then the package's own command — `keys generate`
// and `keys env` for the keys, `serve` for the example server, with the image's settings
// (NODE_ENV=production, HOST) — serving discovery and its keys over real HTTP, in memory and
// on Redis.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import type { ServerKeys } from 'mobile-oidc-provider';
import { CHECKOUT } from '../helpers/checkout.js';
import { json } from '../helpers/json.js';
import { freePort } from '../helpers/listen.js';
import { journeyThenScrape, missingJourneyMetrics } from '../helpers/metrics-journey.js';
import { type OwnRedis, startOwnRedis } from '../helpers/redis-server.js';
import { ended } from '../helpers/spawn.js';
import { packedTarball } from '../helpers/tarball.js';

const run = promisify(execFile);
const ISSUER = 'https://login.example.test';
const FALLBACK_SECRET = 'production-test-fallback-secret-0123456789';

/** Runs a command; on failure, fails with its output rather than a bare exit code. */
async function sh(file: string, args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await run(file, args, { cwd, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    assert.fail(`${file} ${args.join(' ')} failed:\n${e.stdout ?? ''}\n${e.stderr ?? e.message}`);
  }
}

describe('the production start (the Dockerfile, without Docker)', () => {
  let work: string | undefined;
  let app: string;
  let keys: ServerKeys;
  let keyEnv: Record<string, string>;
  let redis: OwnRedis | undefined;
  // What the image runs: its ENTRYPOINT on its PATH.
  const command = () => join(app, 'node_modules', '.bin', 'mobile-oidc-provider');

  before(
    async () => {
      work = await mkdtemp(join(tmpdir(), 'mobile-oidc-provider-production-'));
      app = join(work, 'app');
      const tarball = await packedTarball();
      await sh('sh', [join(CHECKOUT, 'scripts', 'production-install.sh'), tarball, app], work);
    },
    { timeout: 600_000 },
  );
  after(async () => {
    await redis?.destroy();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('the Dockerfile installs with scripts/production-install.sh and runs `mobile-oidc-provider serve`', async () => {
    const dockerfile = await readFile(join(CHECKOUT, 'Dockerfile'), 'utf8');
    assert.match(dockerfile, /^RUN sh \/usr\/local\/lib\/production-install\.sh /m);
    assert.match(dockerfile, /^COPY scripts\/production-install\.sh \/usr\/local\/lib\//m);
    assert.match(dockerfile, /^ENTRYPOINT \["mobile-oidc-provider"\]\nCMD \["serve"\]$/m);
    assert.match(dockerfile, /^ENV NODE_ENV=production HOST=0\.0\.0\.0 /m);
  });

  it('installs no dev dependency, and ioredis for REDIS_URL', () => {
    const modules = join(app, 'node_modules');
    for (const dev of ['typescript', 'tsx', 'esbuild', '@biomejs', 'express']) {
      assert.ok(!existsSync(join(modules, dev)), `${dev} is not installed`);
    }
    assert.ok(existsSync(join(modules, 'ioredis')));
    assert.ok(existsSync(join(modules, 'mobile-oidc-provider', 'dist', 'examples', 'server')));
  });

  it('npx mobile-oidc-provider keys generate, then keys env, give the keys as the environment', async () => {
    keys = JSON.parse(
      await sh('npx', ['--no-install', 'mobile-oidc-provider', 'keys', 'generate'], app),
    );
    assert.deepEqual(
      keys.jwks.keys.map((jwk) => jwk.alg),
      ['RS256', 'ES256'],
    );
    await writeFile(join(work as string, 'keys.json'), JSON.stringify(keys));
    const env = await sh(command(), ['keys', 'env', join(work as string, 'keys.json')], app);
    keyEnv = Object.fromEntries(
      env
        .trimEnd()
        .split('\n')
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    assert.deepEqual(Object.keys(keyEnv), ['JWKS', 'COOKIE_KEYS']);
  });

  /** Starts `serve` as the image does, with `env` on top; resolves its port once it listens. */
  async function serve(env: Record<string, string>) {
    const { ISSUER: _i, REDIS_URL: _r, NODE_OPTIONS: _n, ...inherited } = process.env;
    const child = spawn(command(), ['serve'], {
      cwd: app,
      env: {
        ...inherited,
        NODE_ENV: 'production',
        HOST: '127.0.0.1',
        PORT: '0',
        ISSUER,
        FALLBACK_CLIENT_SECRET: FALLBACK_SECRET,
        ...keyEnv,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not start: ${output}`)), 30_000);
      child.stdout.on('data', (chunk) => {
        output += chunk;
        const announced = /listening on port (\d+)/.exec(output);
        if (announced) {
          clearTimeout(timer);
          resolve(Number(announced[1]));
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`serve exited with ${code}: ${output}`));
      });
    });
    return { child, port, output: () => output };
  }

  /** Discovery and the published keys of the server on `port`. */
  async function assertServes(port: number) {
    const discovery = await fetch(`http://127.0.0.1:${port}/.well-known/openid-configuration`);
    assert.equal(discovery.status, 200);
    const metadata = await json(discovery);
    assert.equal(metadata.issuer, ISSUER);
    const published = await json(await fetch(`http://127.0.0.1:${port}/jwks`));
    assert.deepEqual(
      published.keys.map((jwk: { kid: string }) => jwk.kid),
      keys.jwks.keys.map((jwk) => jwk.kid),
    );
    assert.ok(
      published.keys.every((jwk: Record<string, unknown>) => !('d' in jwk)),
      'public keys only',
    );
  }

  it("serve, with the image's settings and those keys, serves discovery and publishes the keys", async () => {
    const server = await serve({});
    try {
      await assertServes(server.port);
      // The image's HEALTHCHECK command, as written in the Dockerfile, against this server.
      const dockerfile = await readFile(join(CHECKOUT, 'Dockerfile'), 'utf8');
      const healthcheck = /^ {2}CMD \["node", "-e", (".*")\]$/m.exec(dockerfile)?.[1];
      assert.ok(healthcheck, 'the Dockerfile has a HEALTHCHECK with node -e');
      await run(process.execPath, ['-e', JSON.parse(healthcheck)], {
        env: { ...process.env, PORT: String(server.port) },
      });
      await assert.rejects(
        run(process.execPath, ['-e', JSON.parse(healthcheck)], {
          env: { ...process.env, PORT: '1' },
        }),
        'control: the check fails where nothing answers',
      );
      const live = await fetch(`http://127.0.0.1:${server.port}/healthz`);
      assert.deepEqual([live.status, await json(live)], [200, { status: 'ok' }]);
      const ready = await fetch(`http://127.0.0.1:${server.port}/readyz`);
      assert.deepEqual([ready.status, (await json(ready)).status], [200, 'ok']);
      assert.match(server.output(), /"host":"127\.0\.0\.1"/);
      assert.doesNotMatch(server.output(), /DEVELOPMENT ONLY/);
    } finally {
      await ended(server.child);
    }
  });

  it('serve on Redis (REDIS_URL), with the ioredis the script installed', async () => {
    redis = await startOwnRedis();
    const server = await serve({ REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'production-test:' });
    try {
      await assertServes(server.port);
      // A DCR token for the fallback client is stored: in this Redis, under the prefix.
      const token = await fetch(`http://127.0.0.1:${server.port}/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`mobile-fallback-client:${FALLBACK_SECRET}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'grant_type=client_credentials&scope=dcr',
      });
      assert.equal(token.status, 200, await token.clone().text());
      const client = new Redis(redis.url);
      try {
        const stored = await client.keys('production-test:*');
        assert.ok(stored.length > 0, 'the token is stored in Redis');
      } finally {
        client.disconnect();
      }
    } finally {
      await ended(server.child);
    }
  });

  it('require() loads the package and every subpath from CommonJS, dev dependencies absent', async () => {
    const manifest = JSON.parse(
      await readFile(join(app, 'node_modules', 'mobile-oidc-provider', 'package.json'), 'utf8'),
    ) as { exports: Record<string, unknown> };
    const specifiers = Object.keys(manifest.exports)
      .filter((subpath) => subpath !== './package.json')
      .map((subpath) => `mobile-oidc-provider${subpath.slice(1)}`);
    const script = join(app, 'require-check.cjs');
    await writeFile(
      script,
      [
        `const specifiers = ${JSON.stringify(specifiers)};`,
        'const loaded = specifiers.map((s) => Object.keys(require(s)).length);',
        "require('mobile-oidc-provider').generateKeys().then((keys) => {",
        '  console.log(JSON.stringify({ loaded, algs: keys.jwks.keys.map((k) => k.alg) }));',
        '});',
      ].join('\n'),
    );
    const { loaded, algs } = JSON.parse(await sh(process.execPath, [script], app));
    assert.equal(loaded.length, specifiers.length);
    assert.ok(
      loaded.every((count: number) => count > 0),
      `every subpath exports something: ${loaded}`,
    );
    assert.deepEqual(algs, ['RS256', 'ES256']);
  });

  it('with the OpenTelemetry SDK and Prometheus exporter added, METRICS_PORT serves the metrics after a real sign-in', async () => {
    // Optional peers: the deployment adds them (the versions the repository tests with).
    const { devDependencies } = JSON.parse(
      await readFile(join(CHECKOUT, 'package.json'), 'utf8'),
    ) as { devDependencies: Record<string, string> };
    const peer = (name: string) => `${name}@${devDependencies[name]}`;
    await sh(
      'npm',
      [
        'install',
        '--omit=dev',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        peer('@opentelemetry/sdk-metrics'),
        peer('@opentelemetry/exporter-prometheus'),
      ],
      app,
    );
    const [port, metricsPort] = [await freePort(), await freePort()];
    const issuer = `http://localhost:${port}`;
    const server = await serve({
      NODE_ENV: 'test',
      PORT: String(port),
      ISSUER: issuer,
      METRICS_PORT: String(metricsPort),
    });
    try {
      const scrape = await journeyThenScrape(issuer, `http://127.0.0.1:${metricsPort}/metrics`);
      assert.equal(missingJourneyMetrics(scrape), undefined);
    } finally {
      await ended(server.child);
    }
  });

  it('attack on the start: production settings without the fallback secret are refused in one line, exit 1, no stack', async () => {
    const refused = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const { FALLBACK_CLIENT_SECRET: _f, ISSUER: _i, ...inherited } = process.env;
      const child = execFile(
        command(),
        ['serve'],
        { cwd: app, env: { ...inherited, NODE_ENV: 'production', PORT: '0', ISSUER, ...keyEnv } },
        (error, _stdout, stderr) => resolve({ code: error ? (error.code as number) : 0, stderr }),
      );
      child.stdin?.end();
    });
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /mobile-oidc-provider: the server did not start: set FALLBACK_CLIENT_SECRET/,
    );
    assert.doesNotMatch(refused.stderr, /\n\s+at /, 'no stack');
  });
});
