// The JSON Schema that validates AuthServerOptions, composed of each feature's fragment (in its
// options.ts) and the engine-level options' own. Its `default` keywords come from defaults.ts.
// `isFunction` and `isStore` are keywords this library adds to ajv (lib/core/options/ajv.ts).
import { assuranceSchema, attestationSchema } from '../attestation/options.js';
import { attesterSchema } from '../client-attestation/options.js';
import {
  nonEmptyString,
  positiveInteger,
  scopeToken,
  stringList,
} from '../core/options/schema-pieces.js';
import { withDefaults } from '../core/options/with-defaults.js';
import { federationSchema } from '../federation/options.js';
import { firstPartySchema } from '../first-party/options.js';
import { instancesSchema } from '../instances/options.js';
import { interactionsSchema } from '../interactions/options.js';
import { passkeysSchema } from '../passkeys/options.js';
import { phoneApprovalSchema } from '../phone-approval/options.js';
import { registrationClientsSchema, registrationSchema } from '../registration/options.js';
import { API_DEFAULTS, DEFAULTS } from './defaults.js';

const apiSchema = {
  type: 'object',
  required: ['resource', 'scope'],
  additionalProperties: false,
  properties: {
    resource: nonEmptyString,
    scope: nonEmptyString,
    accessTokenFormat: { enum: ['jwt', 'opaque'] },
    accessTokenTTL: positiveInteger,
  },
} as const;

const optionsShape = {
  type: 'object',
  additionalProperties: false,
  required: ['issuer', 'accounts'],
  properties: {
    issuer: nonEmptyString,
    development: { type: 'boolean' },
    jwks: {
      type: 'object',
      required: ['keys'],
      additionalProperties: false,
      properties: {
        keys: {
          type: 'array',
          minItems: 1,
          items: { type: 'object', required: ['kty'], properties: { kty: nonEmptyString } },
        },
      },
    },
    cookieKeys: { type: 'array', minItems: 1, items: { type: 'string', minLength: 32 } },
    store: { isStore: true },
    logger: {
      type: 'object',
      required: ['error', 'warn', 'info', 'debug'],
      properties: {
        error: { isFunction: true },
        warn: { isFunction: true },
        info: { isFunction: true },
        debug: { isFunction: true },
      },
    },
    // Hops or proxy addresses; each address or CIDR is checked in cross-option-rules.ts.
    proxy: {
      anyOf: [
        { type: 'boolean' },
        positiveInteger,
        { type: 'array', minItems: 1, items: nonEmptyString },
      ],
    },
    accounts: {
      type: 'object',
      required: ['authenticate', 'findAccount'],
      additionalProperties: false,
      properties: {
        authenticate: { isFunction: true },
        findAccount: { isFunction: true },
        federated: { isFunction: true },
        link: { isFunction: true },
      },
    },
    scopes: { type: 'array', uniqueItems: true, items: scopeToken },
    claims: { type: 'object', additionalProperties: stringList },
    registrationClients: registrationClientsSchema,
    clients: {
      type: 'array',
      items: { type: 'object', required: ['client_id'], properties: { client_id: nonEmptyString } },
    },
    ttl: {
      type: 'object',
      additionalProperties: false,
      properties: {
        accessToken: positiveInteger,
        authorizationCode: positiveInteger,
        idToken: positiveInteger,
        refreshToken: positiveInteger,
        refreshTokenReuseGrace: { type: 'integer', minimum: 0, maximum: 300 },
        refreshTokenReuseLimit: { type: 'integer', minimum: 0, maximum: 20 },
        grant: positiveInteger,
        session: positiveInteger,
        interaction: positiveInteger,
      },
    },
    registration: registrationSchema,
    attestation: {
      ...attestationSchema,
      properties: { ...attestationSchema.properties, attester: attesterSchema },
    },
    assurance: assuranceSchema,
    mtls: {
      type: 'object',
      additionalProperties: false,
      properties: { certificateHeader: nonEmptyString, verifiedHeader: nonEmptyString },
    },
    instances: instancesSchema,
    devices: instancesSchema,
    apis: { type: 'array', items: withDefaults(apiSchema, API_DEFAULTS, 'apis[]') },
    introspection: {
      type: 'object',
      additionalProperties: false,
      properties: {
        resourceServers: { type: 'array', items: nonEmptyString },
      },
    },
    interactions: interactionsSchema,
    federation: federationSchema,
    passkeys: passkeysSchema,
    firstParty: firstPartySchema,
    phoneApproval: phoneApprovalSchema,
    oidcProvider: { type: 'object' },
  },
} as const;

/** @internal */
export const optionsSchema = withDefaults(optionsShape, DEFAULTS);
