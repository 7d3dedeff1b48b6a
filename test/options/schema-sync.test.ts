// One source of truth for options: the JSON Schema validates and supplies defaults, the
// TypeScript types describe. This test walks both and fails when they drift: an option in one
// but not the other, or a schema default that the TSDoc does not announce with @default.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { optionsSchema } from '../../lib/options/schema.js';

type SchemaNode = {
  type?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  default?: unknown;
};

const typesFile = fileURLToPath(new URL('../../lib/options/types.ts', import.meta.url));
const program = ts.createProgram([typesFile], {
  strict: true,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  skipLibCheck: true,
});
const checker = program.getTypeChecker();
const source = program.getSourceFile(typesFile) as ts.SourceFile;

function rootType(): ts.Type {
  const root = source.statements.find(
    (s): s is ts.InterfaceDeclaration =>
      ts.isInterfaceDeclaration(s) && s.name.text === 'AuthServerOptions',
  );
  assert.ok(root);
  return checker.getTypeAtLocation(root);
}

interface Mismatch {
  path: string;
  problem: string;
}

// Options whose schema is intentionally opaque: oidc-provider's own types, and plain data.
const OPAQUE = new Set([
  'oidcProvider',
  'clients',
  'claims',
  'store',
  'accounts',
  'jwks',
  'registrationClients',
]);

function compare(schema: SchemaNode, type: ts.Type, path: string, out: Mismatch[]) {
  const schemaKeys = Object.keys(schema.properties ?? {});
  const typeProps = checker.getPropertiesOfType(type.getNonNullableType());
  const typeKeys = typeProps.map((p) => p.name);
  for (const key of schemaKeys) {
    if (!typeKeys.includes(key))
      out.push({ path: `${path}.${key}`, problem: 'in the schema but not the type' });
  }
  for (const prop of typeProps) {
    const sub = schema.properties?.[prop.name];
    const at = `${path}.${prop.name}`;
    if (!sub) {
      out.push({ path: at, problem: 'in the type but not the schema' });
      continue;
    }
    const tags = prop.getJsDocTags(checker);
    const docs = ts.displayPartsToString(prop.getDocumentationComment(checker));
    if (!docs.trim()) out.push({ path: at, problem: 'has no TSDoc' });
    // `default: {}` on a group only lets ajv fill in the defaults inside it.
    const isGroupDefault = sub.type === 'object' && JSON.stringify(sub.default) === '{}';
    if ('default' in sub && !isGroupDefault) {
      const tag = tags.find((t) => t.name === 'default');
      if (!tag) {
        out.push({ path: at, problem: 'has a schema default but no @default tag' });
      } else if (typeof sub.default !== 'object') {
        const text = ts.displayPartsToString(tag.text).trim();
        if (!text.startsWith(JSON.stringify(sub.default).replaceAll('"', "'"))) {
          out.push({
            path: at,
            problem: `@default ${text} differs from the schema's ${JSON.stringify(sub.default)}`,
          });
        }
      }
    }
    if (sub.type === 'object' && sub.properties && !OPAQUE.has(prop.name)) {
      const declared = prop.valueDeclaration ?? prop.declarations?.[0];
      assert.ok(declared);
      compare(sub, checker.getTypeOfSymbolAtLocation(prop, declared), at, out);
    }
  }
}

describe('options: JSON Schema and TypeScript types stay in step', () => {
  it('every option is in both, documented, and its schema default is its @default', () => {
    const mismatches: Mismatch[] = [];
    compare(optionsSchema as SchemaNode, rootType(), 'options', mismatches);
    assert.deepEqual(mismatches, []);
  });

  it('the walk itself catches drift (a key only in the schema is reported)', () => {
    const mismatches: Mismatch[] = [];
    const drifted = {
      ...optionsSchema,
      properties: { ...optionsSchema.properties, notAnOption: { type: 'boolean', default: false } },
    };
    compare(drifted as SchemaNode, rootType(), 'options', mismatches);
    assert.deepEqual(mismatches, [
      { path: 'options.notAnOption', problem: 'in the schema but not the type' },
    ]);
  });
});
