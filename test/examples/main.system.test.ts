// The runnable examples start as a newcomer starts them (`npm start` runs examples/server/main.ts)
// and serve discovery on the port and issuer they announce, and the health probes at the root.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { json } from '../helpers/json.js';
import { spawnExample } from '../helpers/spawn.js';

async function runExample(entry: string, issuerPath: string) {
  // The examples derive their default issuer from the port they bound.
  const example = await spawnExample(entry);
  const { port } = example;
  try {
    const issuer = `http://localhost:${port}${issuerPath}`;
    const res = await fetch(
      `http://127.0.0.1:${port}${issuerPath}/.well-known/openid-configuration`,
    );
    assert.equal(res.status, 200);
    const metadata = await json(res);
    assert.equal(metadata.issuer, issuer);
    assert.equal(typeof metadata.registration_endpoint, 'string');
    // The probes at the host's root, whatever the issuer's path.
    const live = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.deepEqual([live.status, await json(live)], [200, { status: 'ok' }]);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    assert.deepEqual([ready.status, (await json(ready)).status], [200, 'ok']);
    return example.output();
  } finally {
    await example.stop();
  }
}

// Each example is a process of its own on a port of its own: they start side by side.
describe('runnable examples', { concurrency: true }, () => {
  it('npm start: the example server serves discovery and warns loudly about development keys', async () => {
    const output = await runExample('examples/server/main.ts', '');
    assert.match(output, /DEVELOPMENT ONLY/);
    assert.doesNotMatch(
      output,
      /you SHOULD change|you MUST change/,
      'no oidc-provider change notices',
    );
  });

  it('the Koa embedding serves the issuer under /oidc', async () => {
    await runExample('examples/koa/main.ts', '/oidc');
  });

  it('the Express embedding serves the issuer under /oidc', async () => {
    await runExample('examples/express/main.ts', '/oidc');
  });
});
