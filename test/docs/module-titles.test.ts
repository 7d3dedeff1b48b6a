// The API reference titles each module by the specifier users import it with: every typedoc entry
// point is one of package.json's `exports` and declares `@module <that specifier>`, so no page is
// titled by a source path such as `lib/resource-server`.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CHECKOUT } from '../helpers/checkout.js';

const read = (path: string) => readFileSync(join(CHECKOUT, path), 'utf8');
const manifest = JSON.parse(read('package.json')) as {
  name: string;
  exports: Record<string, string | { default: string }>;
};
const entryPoints = (JSON.parse(read('typedoc.json')) as { entryPoints: string[] }).entryPoints;

/** The source file behind an export target: dist/<path>.js comes from <path>.ts. */
const sourceOf = (target: string) => target.replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts');

describe('the API reference module titles', () => {
  const specifiers = new Map<string, string>();
  for (const [subpath, target] of Object.entries(manifest.exports)) {
    if (typeof target === 'string') continue; // ./package.json
    specifiers.set(sourceOf(target.default), `${manifest.name}${subpath.slice(1)}`);
  }

  it('documents exactly the package entry points that are modules', () => {
    assert.deepEqual([...entryPoints].sort(), [...specifiers.keys()].sort());
  });

  for (const entry of entryPoints) {
    it(`${entry} is titled by its import specifier`, () => {
      const title = /@module ([^\s*]+)/.exec(read(entry))?.[1];
      assert.equal(title, specifiers.get(entry));
    });
  }
});
