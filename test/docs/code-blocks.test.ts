// Every ```ts / ```typescript block of README.md and docs/*.md is a complete module (its own
// imports) that type-checks against the library's sources: a newcomer's copy-paste compiles. The
// blocks are written to .tmp/ (so `mobile-oidc-provider` resolves through tsconfig.json's `paths`
// to lib/, not to a stale dist/) and checked together in one TypeScript program. A block that is
// deliberately a fragment is marked by the line `<!-- fragment -->` right before it and skipped.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const FRAGMENT = '<!-- fragment -->';
const TS_LANGUAGES = new Set(['ts', 'typescript']);

/** One fenced code block of a markdown file. */
interface CodeBlock {
  /** The markdown file, relative to the repository. */
  file: string;
  /** The 1-based line of the block's first code line in `file`. */
  line: number;
  /** The block's 1-based position among the file's TypeScript blocks. */
  index: number;
  code: string;
  fragment: boolean;
}

/** The TypeScript blocks of one markdown file; fails on a fragment marker that marks nothing. */
function typescriptBlocks(file: string, markdown: string): CodeBlock[] {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  let markerLine: number | undefined;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i] as string;
    const open = /^(\s*)(`{3,}|~{3,})\s*([\w+-]*)/.exec(text);
    if (!open) {
      if (text.trim() === FRAGMENT) markerLine = i;
      else if (text.trim() !== '' && markerLine !== undefined) {
        assert.fail(`${file}:${markerLine + 1}: ${FRAGMENT} must come right before a code block`);
      }
      continue;
    }
    const [, indent = '', fence = '', language = ''] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const line = lines[j] as string;
      if (line.trim().startsWith(fence) && line.trim().replace(/[`~]/g, '') === '') break;
      body.push(line.startsWith(indent) ? line.slice(indent.length) : line.trimStart());
    }
    assert.ok(j < lines.length, `${file}:${i + 1}: the code block is never closed`);
    if (TS_LANGUAGES.has(language.toLowerCase())) {
      blocks.push({
        file,
        line: i + 2,
        index: blocks.length + 1,
        code: `${body.join('\n')}\n`,
        fragment: markerLine !== undefined,
      });
    } else {
      assert.equal(
        markerLine,
        undefined,
        `${file}:${i + 1}: ${FRAGMENT} marks a non-TypeScript block`,
      );
    }
    markerLine = undefined;
    i = j;
  }
  assert.equal(markerLine, undefined, `${file}: ${FRAGMENT} at the end marks nothing`);
  return blocks;
}

const markdownFiles = [
  'README.md',
  ...readdirSync(join(repo, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`),
];
const blocks = markdownFiles.flatMap((file) =>
  typescriptBlocks(file, readFileSync(join(repo, file), 'utf8')),
);
const checked = blocks.filter((block) => !block.fragment);

/** The TypeScript diagnostics of each checked block, by block; filled by `before`. */
const diagnostics = new Map<CodeBlock, string[]>();
let workDir: string | undefined;

/** `file:line (block n): TSxxxx message`, with the line in the markdown file. */
function describeDiagnostic(block: CodeBlock, diagnostic: ts.Diagnostic): string {
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
  const where =
    diagnostic.file && diagnostic.start !== undefined
      ? block.line + diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line
      : block.line;
  return `${block.file}:${where} (TypeScript block ${block.index}): TS${diagnostic.code} ${message}`;
}

describe('documentation code blocks', () => {
  before(() => {
    const tmp = join(repo, '.tmp');
    mkdirSync(tmp, { recursive: true });
    workDir = mkdtempSync(join(tmp, 'code-blocks-'));
    const files = new Map<string, CodeBlock>();
    for (const block of checked) {
      const name = `${block.file.replace(/[/.]/g, '_')}-${block.index}.ts`;
      const path = join(workDir, name);
      writeFileSync(path, block.code);
      files.set(path, block);
    }

    const configFile = join(repo, 'tsconfig.json');
    const { config, error } = ts.readConfigFile(configFile, ts.sys.readFile);
    assert.equal(error, undefined, 'tsconfig.json reads');
    const parsed = ts.parseJsonConfigFileContent(config, ts.sys, repo, undefined, configFile);
    const options: ts.CompilerOptions = {
      ...parsed.options,
      noEmit: true,
      // Each block is a module of its own, even one without imports or exports.
      moduleDetection: ts.ModuleDetectionKind.Force,
    };
    // The blocks must compile against lib/, through tsconfig.json's `paths`.
    const resolved = ts.resolveModuleName(
      'mobile-oidc-provider',
      join(workDir, 'resolve.ts'),
      options,
      ts.sys,
    ).resolvedModule?.resolvedFileName;
    assert.equal(resolved && relative(repo, resolved), join('lib', 'index.ts'));

    const program = ts.createProgram({ rootNames: [...files.keys()], options });
    const global = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()];
    assert.deepEqual(
      global.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')),
      [],
      'the compiler options are valid',
    );
    for (const [path, block] of files) {
      const source = program.getSourceFile(path);
      assert.ok(source, `${path} is in the program`);
      diagnostics.set(
        block,
        [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)].map(
          (d) => describeDiagnostic(block, d),
        ),
      );
    }
  });
  after(() => {
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('finds the README set-up snippets', () => {
    // The README embeds Express; its Koa embedding moved to docs/embedding.md (issue #26).
    const setUpPages = new Set(['README.md', 'docs/embedding.md']);
    const readme = checked.filter((block) => setUpPages.has(block.file)).map((b) => b.code);
    assert.ok(
      readme.some((code) => code.includes('generateKeys()')),
      'key generation',
    );
    assert.ok(
      readme.some((code) => /from 'express'/.test(code)),
      'an Express server',
    );
    assert.ok(
      readme.some((code) => /from 'koa-mount'/.test(code)),
      'a Koa server',
    );
  });

  for (const block of blocks) {
    const name = `${block.file}:${block.line} (TypeScript block ${block.index})`;
    if (block.fragment) {
      it(name, { skip: `marked ${FRAGMENT}` }, () => {});
      continue;
    }
    it(`${name} type-checks`, () => {
      const found = diagnostics.get(block);
      assert.ok(found, 'the block was compiled');
      assert.ok(found.length === 0, `${name} does not type-check:\n${found.join('\n')}`);
    });
  }
});
