// Every constant default is written once, in its feature's lib/<feature>/options.ts, and composed
// in lib/options/defaults.ts. This test reads the TSDoc `@default` tags of the options (the files
// of OPTION_FILES) with the TypeScript compiler API and holds each to the value at the same path
// in the composed defaults, and every value there to a tag.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import ts from 'typescript';
import { FEDERATED_PROVIDER_DEFAULTS } from '../../lib/federation/options.js';
import { API_DEFAULTS, DEFAULTS } from '../../lib/options/defaults.js';
import { TEMPLATE_DEFAULTS } from '../../lib/registration/template-schema.js';

const file = (path: string) => fileURLToPath(new URL(`../../lib/${path}`, import.meta.url));
const OPTION_FILES = [
  file('options/types.ts'),
  file('core/template-types.ts'),
  file('federation/options.ts'),
  file('registration/options.ts'),
  file('attestation/options.ts'),
  file('instances/options.ts'),
  file('interactions/options.ts'),
  file('passkeys/options.ts'),
  file('first-party/options.ts'),
  file('phone-approval/options.ts'),
];
const VERIFIER_FILES = {
  appAttest: file('attestation/verifiers/app-attest.ts'),
  androidKey: file('attestation/verifiers/android-key.ts'),
  playIntegrity: file('attestation/verifiers/play-integrity.ts'),
};

const program = ts.createProgram([...OPTION_FILES, ...Object.values(VERIFIER_FILES)], {
  strict: true,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  skipLibCheck: true,
});
const checker = program.getTypeChecker();

function sourceFile(path: string): ts.SourceFile {
  const source = program.getSourceFile(path);
  assert.ok(source, `${path} is not in the program`);
  return source;
}
const optionSources = OPTION_FILES.map(sourceFile);

function interfaceIn(path: string, name: string): ts.InterfaceDeclaration {
  const found = sourceFile(path).statements.find(
    (s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === name,
  );
  assert.ok(found, `no interface ${name} in ${path}`);
  return found;
}

// @default tags whose value is not a constant of defaults.ts, each with where it comes from.
const NOT_IN_DEFAULTS: Record<string, string> = {
  'options.store': 'createAuthServer makes a new MemoryStore for each server',
  'options.logger':
    'consoleLogger is an object of functions, which a JSON Schema default cannot hold; createAuthServer falls back to it',
  'options.registration.instances.allowedScopes':
    'computed from options.scopes in lib/options/validate.ts',
  'options.registration.fallbackClients': 'computed from the templates in lib/options/validate.ts',
  'options.attestation.appleRoots':
    "the built-in verifier's own roots (lib/attestation/verifiers/apple-roots.ts)",
  'options.attestation.androidRoots':
    "the built-in verifier's own roots (lib/attestation/verifiers/google-roots.ts)",
  'options.attestation.attester.enabled':
    'whether a template has attestClientAuth, read in lib/server/index.ts',
  'options.attestation.attester.keys':
    'derived from the cookie keys in lib/attestation/attester-keys.ts',
  'options.apis[].accessTokenTTL':
    'options.ttl.accessToken, read when the token is issued (lib/provider/configuration.ts)',
  'template.client.grant_types':
    'the instance rules fill it in for every instance, templated or not (lib/registration/instance-rules.ts)',
  'template.client.scope': 'the instance rules take instances.allowedScopes',
  'template.client.token_endpoint_auth_method':
    'the instance rules take the first of instances.authMethods',
  'template.allowedScopes': "the registration policy reads the template's own scope",
  'template.allowedRedirectSchemes':
    "the registration policy reads the schemes of the template's own redirect_uris",
  'template.firstParty.minimumLevel':
    'a schema default would turn firstParty on for every template; lib/first-party/options.ts reads it',
  'template.approvals.minimumLevel':
    'a schema default would turn approvals on for every template; options.phoneApproval.minimumLevel applies (lib/phone-approval/options.ts)',
  'template.approvals.requireUserVerification':
    'a schema default would turn approvals on for every template; lib/phone-approval/endpoints.ts reads it unset as false',
  'template.approvals.requireKeyUserAuthentication.userAuthType':
    'a schema default would turn the requirement on; lib/phone-approval/key-authentication.ts reads it unset as any',
  'template.approvals.requireKeyUserAuthentication.maxAuthTimeout':
    'a schema default would turn the requirement on; lib/phone-approval/key-authentication.ts reads it unset as 0',
  'options.phoneApproval.notify': 'no hook: the app lists its approvals when it opens',
  'options.phoneApproval.fetch': "oidc-provider's own fetch, with its timeout and address checks",
  'template.userTokens': 'computed from fallbackClients and attestation when an instance registers',
  'options.federation.providers[].browser.scope':
    "depends on the provider's quirks (lib/federation/browser.ts)",
  'options.federation.providers[].browser.label':
    "made from the provider's name (lib/federation/browser.ts)",
  'options.passkeys.rpId': "the issuer's host name (lib/passkeys/settings.ts)",
  'options.passkeys.rpName': 'options.interactions.title (lib/passkeys/settings.ts)',
  'options.passkeys.origins': "the issuer's origin (lib/passkeys/settings.ts)",
  'options.firstParty.policy':
    'no hook: the endpoint ends every step that checks out (lib/first-party/step-end.ts)',
};

// Template settings the built-in verifiers apply themselves: the verifier's own @default rules.
const VERIFIER_SETTINGS: Record<string, ts.InterfaceDeclaration> = {
  'template.attestation.appleAppAttest': interfaceIn(
    VERIFIER_FILES.appAttest,
    'AppAttestAttestationOptions',
  ),
  'template.attestation.androidKey': interfaceIn(
    VERIFIER_FILES.androidKey,
    'AndroidKeyAttestationOptions',
  ),
  'template.attestation.playIntegrity': interfaceIn(
    VERIFIER_FILES.playIntegrity,
    'PlayIntegrityOptions',
  ),
};

const NOT_A_LITERAL = Symbol('not a literal');

function evaluate(node: ts.Expression): unknown {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isNumericLiteral(node)) return Number(node.text);
  if (ts.isPrefixUnaryExpression(node) && node.operator === ts.SyntaxKind.MinusToken) {
    const operand = evaluate(node.operand);
    return typeof operand === 'number' ? -operand : NOT_A_LITERAL;
  }
  if (node.kind === ts.SyntaxKind.TrueKeyword) return true;
  if (node.kind === ts.SyntaxKind.FalseKeyword) return false;
  if (node.kind === ts.SyntaxKind.NullKeyword) return null;
  if (ts.isArrayLiteralExpression(node)) {
    const items = node.elements.map(evaluate);
    return items.includes(NOT_A_LITERAL) ? NOT_A_LITERAL : items;
  }
  if (ts.isObjectLiteralExpression(node)) {
    const entries: [string, unknown][] = [];
    for (const property of node.properties) {
      if (!ts.isPropertyAssignment(property)) return NOT_A_LITERAL;
      const { name } = property;
      if (!ts.isIdentifier(name) && !ts.isStringLiteral(name)) return NOT_A_LITERAL;
      const value = evaluate(property.initializer);
      if (value === NOT_A_LITERAL) return NOT_A_LITERAL;
      entries.push([name.text, value]);
    }
    return Object.fromEntries(entries);
  }
  return NOT_A_LITERAL;
}

/**
 * The value a `@default` tag gives, when it is a literal (with an optional trailing remark in
 * parentheses, as in `2592000 (30 days)`); NOT_A_LITERAL when it describes the default in words.
 */
function literalOf(text: string): unknown {
  for (const candidate of [text, text.replace(/\s*\([^()]*\)$/, '')]) {
    const parsed = ts.createSourceFile('default.ts', `(${candidate})`, ts.ScriptTarget.Latest);
    const [statement] = parsed.statements;
    if (parsed.statements.length !== 1 || !statement || !ts.isExpressionStatement(statement)) {
      continue;
    }
    const { expression } = statement;
    if (!ts.isParenthesizedExpression(expression) || expression.end !== candidate.length + 2) {
      continue;
    }
    const value = evaluate(expression.expression);
    if (value !== NOT_A_LITERAL) return value;
  }
  return NOT_A_LITERAL;
}

function defaultTag(symbol: ts.Symbol): string | undefined {
  const tag = symbol.getJsDocTags(checker).find((t) => t.name === 'default');
  return tag ? ts.displayPartsToString(tag.text).trim() : undefined;
}

function declarationOf(symbol: ts.Symbol): ts.Declaration {
  const declaration = symbol.valueDeclaration ?? symbol.declarations?.[0];
  assert.ok(declaration, `${symbol.name} has no declaration`);
  return declaration;
}

/** The options interface a property holds (a group of options), if it holds one. */
function optionGroup(property: ts.Symbol): ts.Type | undefined {
  const type = checker.getNonNullableType(
    checker.getTypeOfSymbolAtLocation(property, declarationOf(property)),
  );
  // A group that may also be a flag (`approvals: boolean | TemplateApprovals`) is walked as a group.
  return (type.isUnion() ? type.types : [type]).find((member) => {
    const declared = member.getSymbol()?.declarations?.[0];
    return (
      declared &&
      ts.isInterfaceDeclaration(declared) &&
      optionSources.includes(declared.getSourceFile())
    );
  });
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

interface Walk {
  problems: string[];
  /** The declarations whose @default tag was held to something. */
  checked: Set<ts.Declaration>;
  /** The NOT_IN_DEFAULTS paths met. */
  excused: Set<string>;
}

function checkLeaf(property: ts.Symbol, value: unknown, path: string, walk: Walk) {
  const tag = defaultTag(property);
  if (tag === undefined) {
    if (value !== undefined) {
      walk.problems.push(`${path}: defaults.ts gives ${JSON.stringify(value)}, no @default tag`);
    }
    return;
  }
  walk.checked.add(declarationOf(property));
  const group = path.slice(0, path.lastIndexOf('.'));
  const verifier = VERIFIER_SETTINGS[group];
  if (path in NOT_IN_DEFAULTS || verifier) {
    walk.excused.add(path);
    if (value !== undefined) {
      walk.problems.push(`${path}: defaults.ts gives ${JSON.stringify(value)}, but it is excused`);
    }
    if (!verifier) return;
    const own = verifier.members.find((m) => m.name?.getText() === property.name);
    const ownSymbol = own?.name && checker.getSymbolAtLocation(own.name);
    const ownTag = ownSymbol ? defaultTag(ownSymbol) : undefined;
    if (ownTag === undefined || !isDeepStrictEqual(literalOf(ownTag), literalOf(tag))) {
      walk.problems.push(
        `${path}: @default ${tag}, but ${verifier.name.text}.${property.name} says @default ${ownTag}`,
      );
    }
    return;
  }
  const literal = literalOf(tag);
  if (literal === NOT_A_LITERAL) {
    walk.problems.push(`${path}: @default "${tag}" is no literal and not in NOT_IN_DEFAULTS`);
  } else if (value === undefined) {
    walk.problems.push(`${path}: @default ${tag}, but defaults.ts has no value there`);
  } else if (!isDeepStrictEqual(literal, value)) {
    walk.problems.push(`${path}: @default ${tag}, but defaults.ts has ${JSON.stringify(value)}`);
  }
}

function walkGroup(type: ts.Type, defaults: unknown, path: string, walk: Walk) {
  if (!isPlainObject(defaults)) {
    walk.problems.push(`${path}: defaults.ts gives ${JSON.stringify(defaults)} for a group`);
    return;
  }
  const properties = checker.getPropertiesOfType(type);
  for (const key of Object.keys(defaults)) {
    if (!properties.some((p) => p.name === key)) {
      walk.problems.push(`${path}.${key}: defaults.ts gives a default to no option`);
    }
  }
  for (const property of properties) {
    const at = `${path}.${property.name}`;
    const value = defaults[property.name];
    const group = optionGroup(property);
    if (!group) {
      checkLeaf(property, value, at, walk);
      continue;
    }
    const tag = defaultTag(property);
    if (tag !== undefined) walk.problems.push(`${at}: a group has no @default; its options do`);
    walkGroup(group, value ?? {}, at, walk);
  }
}

/** Walks each options root with its defaults and reports every disagreement. */
function walkAll(roots: { path: string; defaults: unknown }[]): Walk {
  const walk: Walk = { problems: [], checked: new Set(), excused: new Set() };
  const declarations: Record<string, ts.InterfaceDeclaration> = {
    options: interfaceIn(OPTION_FILES[0] as string, 'AuthServerOptions'),
    'options.apis[]': interfaceIn(OPTION_FILES[0] as string, 'ApiOptions'),
    template: interfaceIn(OPTION_FILES[1] as string, 'Template'),
    'options.federation.providers[]': interfaceIn(
      OPTION_FILES[2] as string,
      'FederatedProviderOptions',
    ),
  };
  for (const { path, defaults } of roots) {
    const declaration = declarations[path];
    assert.ok(declaration, `no interface for ${path}`);
    walkGroup(checker.getTypeAtLocation(declaration), defaults, path, walk);
  }
  return walk;
}

const ROOTS = [
  { path: 'options', defaults: DEFAULTS },
  { path: 'options.apis[]', defaults: API_DEFAULTS },
  { path: 'template', defaults: TEMPLATE_DEFAULTS },
  { path: 'options.federation.providers[]', defaults: FEDERATED_PROVIDER_DEFAULTS },
];

const current = walkAll(ROOTS);

describe('options: every @default tag is the value in lib/options/defaults.ts', () => {
  it('each tag equals the default at its path, and each default has a tag', () => {
    assert.deepEqual(current.problems, []);
  });

  it('no @default tag in the option files is left unchecked', () => {
    const { checked } = current;
    const unchecked: string[] = [];
    for (const source of optionSources) {
      for (const statement of source.statements) {
        if (!ts.isInterfaceDeclaration(statement)) continue;
        for (const member of statement.members) {
          const tagged = ts.getJSDocTags(member).some((t) => t.tagName.text === 'default');
          if (tagged && !checked.has(member)) {
            unchecked.push(`${statement.name.text}.${member.name?.getText()}`);
          }
        }
      }
    }
    assert.deepEqual(unchecked, []);
  });

  it('every entry of NOT_IN_DEFAULTS still names a @default tag', () => {
    const { excused } = current;
    assert.deepEqual(
      Object.keys(NOT_IN_DEFAULTS).filter((path) => !excused.has(path)),
      [],
    );
  });

  it('the walk itself catches drift (a changed default, a default without a tag)', () => {
    const drifted = {
      ...DEFAULTS,
      ttl: { ...DEFAULTS.ttl, accessToken: 901 },
      devices: { ...DEFAULTS.devices, adminSecret: 'x'.repeat(32) },
    };
    assert.deepEqual(walkAll([{ path: 'options', defaults: drifted }]).problems, [
      'options.ttl.accessToken: @default 900, but defaults.ts has 901',
      `options.devices.adminSecret: defaults.ts gives "${'x'.repeat(32)}", no @default tag`,
    ]);
  });

  it('reads literal tags, with or without a remark, and tells them from words', () => {
    assert.equal(literalOf('2592000 (30 days)'), 2592000);
    assert.deepEqual(literalOf('{ points: 10, duration: 900 } (10 failures per 15 minutes)'), {
      points: 10,
      duration: 900,
    });
    assert.deepEqual(literalOf("['openid', 'profile']"), ['openid', 'profile']);
    assert.equal(literalOf("'dcr'"), 'dcr');
    assert.equal(literalOf('false'), false);
    assert.equal(literalOf('all of {@link AuthServerOptions.scopes}'), NOT_A_LITERAL);
    assert.equal(literalOf('true, unless fallbackClients is set'), NOT_A_LITERAL);
    assert.equal(literalOf("Google's hardware attestation roots (RSA)"), NOT_A_LITERAL);
  });
});
