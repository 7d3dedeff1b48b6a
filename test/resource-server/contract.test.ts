// What holds the resource-server module to its promises without a server: it loads nothing of
// the authorization server, its assurance levels are the server's, and its challenges are
// well-formed RFC 6750 / RFC 9449 header values.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { ASSURANCE_LEVELS as SERVER_LEVELS } from '../../lib/core/levels.js';
import { ASSURANCE_LEVELS, TokenVerificationError } from '../../lib/resource-server/index.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** Every module specifier a file imports or re-exports at runtime (type-only imports aside). */
function runtimeImports(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  const statements = source.matchAll(/^(import|export)\s+(type\s+)?[^;]*?from\s+'([^']+)'/gms);
  return [...statements]
    .filter(([, , typeOnly]) => !typeOnly)
    .map(([, , , specifier]) => specifier as string);
}

/** The source files (relative to the repository) and packages `entry` loads at runtime. */
function runtimeGraph(entry: string): { files: string[]; packages: string[] } {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const pending = [join(ROOT, entry)];
  for (let file = pending.pop(); file; file = pending.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    for (const specifier of runtimeImports(file)) {
      if (specifier.startsWith('.')) {
        pending.push(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
      } else {
        packages.add(specifier);
      }
    }
  }
  return { files: [...seen].map((file) => relative(ROOT, file)), packages: [...packages] };
}

describe('resource server: the module contract', () => {
  it('its assurance levels are the server’s, in the same order', () => {
    assert.deepEqual([...ASSURANCE_LEVELS], [...SERVER_LEVELS]);
  });

  it('loads nothing of the authorization server: only jose, node: modules, lib/core/errors.ts and two leaf modules of lib/http', () => {
    const { files, packages } = runtimeGraph('lib/resource-server/index.ts');
    const outside = files.filter((file) => !file.startsWith('lib/resource-server/'));
    assert.deepEqual(outside, [
      'lib/core/errors.ts',
      'lib/http/jws-algorithms.ts',
      'lib/http/prototype-safety.ts',
    ]);
    assert.deepEqual(
      packages.filter((name) => name !== 'jose' && !name.startsWith('node:')),
      [],
    );
    // Control: the walk does see the server's own imports.
    assert.ok(runtimeGraph('lib/server/index.ts').packages.includes('oidc-provider'));
  });

  it('challenges: bare without a token, error and description, scope, DPoP algs', () => {
    assert.equal(new TokenVerificationError({}).wwwAuthenticate('api'), 'Bearer realm="api"');
    assert.equal(new TokenVerificationError({}).wwwAuthenticate(), 'Bearer');
    assert.equal(new TokenVerificationError({}).status, 401);
    assert.equal(new TokenVerificationError({}).code, 'missing_token');
    const scope = new TokenVerificationError({
      error: 'insufficient_scope',
      description: 'the token lacks the scope payments',
      scope: 'payments',
    });
    assert.equal(scope.status, 403);
    assert.equal(
      scope.wwwAuthenticate('api'),
      'Bearer realm="api", error="insufficient_scope", error_description="the token lacks the scope payments", scope="payments"',
    );
    const dpop = new TokenVerificationError({
      error: 'invalid_dpop_proof',
      description: 'the DPoP proof is too old',
      scheme: 'DPoP',
      algs: ['ES256', 'EdDSA'],
    });
    assert.equal(
      dpop.wwwAuthenticate(),
      'DPoP error="invalid_dpop_proof", error_description="the DPoP proof is too old", algs="ES256 EdDSA"',
    );
    assert.equal(new TokenVerificationError({ error: 'invalid_request' }).status, 400);
    assert.equal(new TokenVerificationError({ error: 'insufficient_assurance' }).status, 403);
    const down = new TokenVerificationError({ error: 'temporarily_unavailable' });
    assert.equal(down.status, 503);
    assert.equal(down.wwwAuthenticate('api'), undefined);
  });

  it('challenge values cannot break out of their quotes or the header', () => {
    const hostile = new TokenVerificationError({
      error: 'invalid_token',
      description: 'a "quoted" \\ value\r\nSet-Cookie: x=1 é',
    });
    assert.equal(
      hostile.wwwAuthenticate('my "realm"'),
      'Bearer realm="my ?realm?", error="invalid_token", error_description="a ?quoted? ? value??Set-Cookie: x=1 ?"',
    );
  });
});
