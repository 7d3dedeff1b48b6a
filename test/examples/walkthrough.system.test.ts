// The README's walk-through (register from a template, list and revoke the device) is run here
// exactly as written, against `npm start`'s server: a newcomer's copy-paste must work.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { spawnExample } from '../helpers/spawn.js';

const ADMIN_SECRET = 'walkthrough-admin-secret-0123456789abcdef';

/** The shell blocks of the README section `### Walk-through: <title>`: start, then the steps. */
async function walkthroughCommands(title: string): Promise<{ start: string; steps: string }> {
  const readme = await readFile(new URL('../../docs/example-server.md', import.meta.url), 'utf8');
  const section = readme.split(`### Walk-through: ${title}`)[1]?.split(/\n##+ /)[0] ?? '';
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] as string);
  assert.ok(blocks.length >= 3, 'the walk-through has a start command and command blocks');
  return { start: blocks[0] as string, steps: blocks.slice(1).join('\n') };
}

/** Runs walk-through steps with bash against the example on `port`; resolves their output lines. */
async function run(steps: string, port: number): Promise<string[]> {
  const script = `set -euo pipefail\n${steps.replaceAll('localhost:3000', `localhost:${port}`)}`;
  const { stdout } = await promisify(execFile)('bash', ['-c', script], { timeout: 60_000 });
  return stdout.trim().split('\n');
}

// The two walk-throughs share nothing (their own server, port and files): they run side by side.
describe('README walk-through', { concurrency: true }, () => {
  it('templatized registration and device revocation with curl, as documented', async () => {
    const { start, steps } = await walkthroughCommands('register from a template');
    assert.match(start, new RegExp(`ADMIN_SECRET=${ADMIN_SECRET} npm start`));
    const server = await spawnExample('examples/server/main.ts', { ADMIN_SECRET });
    try {
      const [registration, devices, revoked, token] = await run(steps, server.port);
      const reg = JSON.parse(registration as string);
      assert.equal(reg.software_id, 'io.example.app');
      assert.equal(reg.client_name, 'Alice phone');
      assert.deepEqual(reg.redirect_uris, ['io.example.app:/callback']);
      const listed = JSON.parse(devices as string).devices;
      assert.ok(
        listed.some(
          (d: { clientId: string; status: string }) =>
            // Registered, never used: pending until its first token (issue #25).
            d.clientId === reg.client_id && d.status === 'pending',
        ),
      );
      assert.equal(JSON.parse(revoked as string).status, 'revoked');
      assert.equal(JSON.parse(token as string).error, 'invalid_client');
    } finally {
      await server.stop();
    }
  });

  it('the attestation fallback with curl: a secret gives cal none, a provisioned key by-provisioned-key', async () => {
    const { start, steps } = await walkthroughCommands('the attestation fallback');
    const [generate, startServer] = start.trim().split('\n');
    assert.equal(generate, 'npx tsx examples/server/fallback-key.ts generate');
    assert.equal(startServer, 'FALLBACK_CLIENT_JWKS_FILE=.tmp/fallback-jwks.json npm start');
    await promisify(execFile)('bash', ['-c', generate as string], { timeout: 60_000 });
    const server = await spawnExample('examples/server/main.ts', {
      FALLBACK_CLIENT_JWKS_FILE: '.tmp/fallback-jwks.json',
    });
    try {
      const [withSecret, withKey] = (await run(steps, server.port)).map((line) => JSON.parse(line));
      assert.equal(withSecret.software_id, 'mobile-fallback-template');
      assert.equal(withSecret.cal, 'none');
      assert.ok(withSecret.client_id && withSecret.client_secret);
      assert.equal(withKey.cal, 'by-provisioned-key');
    } finally {
      await server.stop();
    }
  });
});
