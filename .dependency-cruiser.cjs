// The folder order of lib/ and adapters/, bottom first: a folder may import only folders below
// it (and itself). docs/development.md explains each floor; `npm run lint` enforces this file.
const FLOORS = [
  'lib/core', // shared vocabulary: errors, logger, assurance levels, records, account types
  'lib/storage', // the Store interface, its failure guard, rate limits
  'lib/keys', // signing and cookie keys
  'lib/http', // the library's own HTTP answers and the client address
  'lib/testing', // the store contract suite for custom stores
  'adapters', // the built-in stores
  'lib/resource-server', // standalone: what an API imports (jose and node only)
  'lib/provider', // the oidc-provider engine adapter layer
  'lib/attestation', // platform evidence and the registration authorization pipeline
  'lib/registration', // DCR: the DCR token gate, templates, the instance rules
  'lib/passkeys',
  'lib/instances', // instance clients after registration: records, lifecycle, the instance APIs
  'lib/client-attestation', // attestation-based client authentication and the attester
  'lib/federation',
  'lib/native-sso', // OpenID Connect Native SSO: device secrets and their token exchange
  'lib/interactions', // the browser pages: sign-in, consent, account pages
  'lib/first-party', // browserless first-party sign-in: the Authorization Challenge Endpoint
  'lib/phone-approval', // CIBA approved on the user's install
  'lib/options', // the options as a whole: schema, validation, cross-feature rules
  'lib/health', // liveness and readiness probes over the store and keys
  'lib/telemetry', // metrics and traces through OpenTelemetry: watches the features from above
  'lib/server', // createAuthServer: assembles the features
  'lib/index.ts',
];

const asPattern = (floor) => floor.replace(/[.]/g, '\\.');
// Any of `floors` as one path pattern.
const anyOf = (floors) => `^(${floors.map(asPattern).join('|')})(/|$)`;
const upward = FLOORS.slice(0, -1).map((floor, i) => ({
  name: `floor-${floor.replace(/^lib\//, '')}`,
  comment: `${floor} may import only the floors below it: ${FLOORS.slice(i + 1).join(', ')} stand above`,
  severity: 'error',
  from: { path: `^${asPattern(floor)}(/|$)` },
  to: { path: anyOf(FLOORS.slice(i + 1)) },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'no-cli-or-examples',
      comment: 'the library never imports the CLI (bin/) or the examples: they sit on top of it',
      severity: 'error',
      from: { path: '^(lib|adapters)/' },
      to: { path: '^(bin|examples)/' },
    },
    {
      name: 'oidc-provider-internals-in-provider',
      comment:
        "only lib/provider imports oidc-provider's internal modules: each wrapped once, with an upgrade test",
      severity: 'error',
      from: { path: '^(lib|adapters)/', pathNot: '^lib/provider/' },
      to: { path: '(^|/)node_modules/oidc-provider/lib/' },
    },
    {
      name: 'no-circular',
      comment: 'no import cycles between files',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'unplaced-folder',
      comment: 'every folder of lib/ has a floor in this file',
      severity: 'error',
      from: { path: '^lib/', pathNot: anyOf(FLOORS) },
      to: {},
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    // oidc-provider's internal modules (not its entry, lib/index.js) stay in the graph, for the
    // rule that keeps them in lib/provider.
    exclude: { path: '(^|/)node_modules/(?!oidc-provider/lib/(?!index[.]js$))' },
  },
};
