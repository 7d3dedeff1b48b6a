// The README's walk-through (register from a template, list and revoke the device) is run here
// exactly as written, against `npm start`'s server: a newcomer's copy-paste must work.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { freePort } from '../helpers/listen.js';
import { spawnExample } from '../helpers/spawn.js';

const ADMIN_SECRET = 'walkthrough-admin-secret-0123456789abcdef';

async function walkthroughCommands(): Promise<{ start: string; steps: string }> {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.split('### Walk-through:')[1]?.split('\n## ')[0] ?? '';
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] as string);
  assert.ok(blocks.length >= 3, 'the walk-through has a start command and command blocks');
  return { start: blocks[0] as string, steps: blocks.slice(1).join('\n') };
}

describe('README walk-through', () => {
  it('templatized registration and device revocation with curl, as documented', async () => {
    const { start, steps } = await walkthroughCommands();
    assert.match(start, new RegExp(`ADMIN_SECRET=${ADMIN_SECRET} npm start`));
    const port = await freePort();
    const server = await spawnExample('examples/server/main.ts', port, { ADMIN_SECRET });
    try {
      const script = `set -euo pipefail\n${steps.replaceAll('localhost:3000', `localhost:${port}`)}`;
      const { stdout } = await promisify(execFile)('bash', ['-c', script], {
        timeout: 60_000,
      });
      const [registration, devices, revoked, token] = stdout.trim().split('\n');
      const reg = JSON.parse(registration as string);
      assert.equal(reg.software_id, 'io.example.app');
      assert.equal(reg.client_name, 'Alice phone');
      assert.deepEqual(reg.redirect_uris, ['io.example.app:/callback']);
      const listed = JSON.parse(devices as string).devices;
      assert.ok(
        listed.some(
          (d: { clientId: string; status: string }) =>
            d.clientId === reg.client_id && d.status === 'active',
        ),
      );
      assert.equal(JSON.parse(revoked as string).status, 'revoked');
      assert.equal(JSON.parse(token as string).error, 'invalid_client');
    } finally {
      server.stop();
    }
  });
});
