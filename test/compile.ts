// The tree `npm test` runs: the checkout, mirrored under .tmp/test-tree with every TypeScript file
// beside its JavaScript (esbuild, the transpiler tsx uses), compiled once in under a second. A
// module loader hook such as tsx's costs about two CPU-seconds in every test process on Node 20.
// Every other file is a symlink to the checkout, so fixtures, docs and sources read the same.
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { build } from 'esbuild';

/** Where the tree is written, relative to the checkout. */
const TEST_TREE = join('.tmp', 'test-tree');

// What is never mirrored: history, build output and the tree itself.
const SKIPPED = new Set(['.git', '.tmp', 'dist', 'docs/api', 'bench/.dist', '.ci/.node22']);
// Mirrored as one link: nothing in them is compiled.
const LINKED_WHOLE = new Set(['node_modules', 'test/fixtures']);
const TYPESCRIPT = /(?<!\.d)\.ts$/;

/** Links every file under `dir` into the tree; returns the TypeScript files met on the way. */
function mirror(root: string, tree: string, dir: string): string[] {
  const typescript: string[] = [];
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (SKIPPED.has(path) || path === 'package.json') continue;
    if (entry.isDirectory() && !LINKED_WHOLE.has(path)) {
      mkdirSync(join(tree, path));
      typescript.push(...mirror(root, tree, path));
      continue;
    }
    symlinkSync(relative(join(tree, dir), join(root, path)), join(tree, path));
    if (TYPESCRIPT.test(entry.name)) typescript.push(path);
  }
  return typescript;
}

/**
 * The package's own manifest, its `exports` pointing at the compiled sources rather than dist/:
 * what `mobile-oidc-provider` imports resolve to in the tree, as tsconfig's `paths` make them
 * resolve under tsx.
 */
function sourceManifest(root: string): string {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const fromDist = (value: unknown): unknown =>
    typeof value === 'string'
      ? value.replace(/^\.\/dist\//, './')
      : value && typeof value === 'object'
        ? Object.fromEntries(Object.entries(value).map(([key, v]) => [key, fromDist(v)]))
        : value;
  return JSON.stringify({ ...manifest, exports: fromDist(manifest.exports) }, null, 2);
}

/**
 * Writes the tree afresh from the checkout at `root` and resolves its path. The compiled
 * JavaScript carries inline source maps, so a failure's stack points at the TypeScript line.
 */
export async function compileTestTree(root: string): Promise<string> {
  const tree = join(root, TEST_TREE);
  rmSync(tree, { recursive: true, force: true });
  mkdirSync(tree, { recursive: true });
  const typescript = mirror(root, tree, '');
  writeFileSync(join(tree, 'package.json'), sourceManifest(root));
  await build({
    absWorkingDir: root,
    entryPoints: typescript,
    outdir: tree,
    outbase: '.',
    bundle: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'inline',
    tsconfig: 'tsconfig.json',
    logLevel: 'warning',
  });
  return tree;
}
