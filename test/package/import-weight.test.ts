// The Redis store is imported by processes that may not run the auth server at all (a worker
// sharing the store, a migration script): its runtime imports must not pull in oidc-provider or
// Koa through the library's barrels. This walks the runtime import graph of the source files
// (`import type` is erased at build time and does not count).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../..', import.meta.url));

// `import … from '…'` and `export … from '…'`, skipping type-only ones; dynamic import() is
// deliberately lazy and not followed.
const RUNTIME_IMPORT = /^(?:import|export)\s+(?!type\s)(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;

/** Every package a module loads at run time, through its relative imports, with the path to it. */
function runtimePackages(entry: string): Map<string, string[]> {
  const packages = new Map<string, string[]>();
  const seen = new Set<string>();
  const visit = (file: string, trail: string[]) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const [, specifier] of source.matchAll(RUNTIME_IMPORT)) {
      if (!specifier) continue;
      const path = [...trail, relative(repo, file)];
      if (specifier.startsWith('.')) {
        visit(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')), path);
      } else if (!specifier.startsWith('node:') && !packages.has(specifier)) {
        packages.set(specifier, path);
      }
    }
  };
  visit(join(repo, entry), []);
  return packages;
}

describe('what importing a store loads', () => {
  for (const entry of ['adapters/redis.ts', 'adapters/memory.ts']) {
    it(`${entry} loads neither oidc-provider nor Koa at run time`, () => {
      const packages = runtimePackages(entry);
      for (const heavy of ['oidc-provider', 'koa', 'koa-compose']) {
        assert.equal(
          packages.get(heavy),
          undefined,
          `${heavy} reached through ${packages.get(heavy)?.join(' → ')}`,
        );
      }
    });
  }

  it('the walk sees runtime imports: the server entry point does load oidc-provider (control)', () => {
    assert.ok(runtimePackages('lib/server/index.ts').has('oidc-provider'));
    assert.ok(runtimePackages('adapters/redis.ts').has('ioredis'));
  });
});
