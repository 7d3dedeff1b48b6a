// The runnable examples start as a newcomer starts them (`npm start` runs examples/server/main.ts)
// and serve discovery on the port and issuer they announce.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { json } from '../helpers/json.js';
import { freePort } from '../helpers/listen.js';

async function runExample(entry: string, issuerPath: string) {
  const port = await freePort();
  // The examples derive their default issuer from PORT; an inherited ISSUER would override it.
  const { ISSUER: _inherited, ...env } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    env: { ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no start-up line: ${output}`)), 30_000);
      child.stdout.on('data', (chunk) => {
        output += chunk;
        if (output.includes(`port ${port}`)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.stderr.on('data', (chunk) => {
        output += chunk;
      });
      child.once('exit', (code) => reject(new Error(`exited with ${code}: ${output}`)));
    });
    const issuer = `http://localhost:${port}${issuerPath}`;
    const res = await fetch(
      `http://127.0.0.1:${port}${issuerPath}/.well-known/openid-configuration`,
    );
    assert.equal(res.status, 200);
    const metadata = await json(res);
    assert.equal(metadata.issuer, issuer);
    assert.equal(typeof metadata.registration_endpoint, 'string');
    return output;
  } finally {
    child.kill('SIGTERM');
  }
}

describe('runnable examples', () => {
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
