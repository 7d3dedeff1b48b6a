// The JSON Schema that validates AuthServerOptions. Its `default` keywords come from
// lib/options/defaults.ts. `isFunction` and `isStore` are keywords this library adds to ajv
// (JSON Schema has no type for functions).

import { ASYMMETRIC_JWS_ALGORITHMS } from '../http/jws-algorithms.js';
import { MESSAGE_KEYS } from '../interactions/messages.js';
import {
  API_DEFAULTS,
  DEFAULTS,
  FEDERATED_PROVIDER_DEFAULTS,
  TEMPLATE_DEFAULTS,
} from './defaults.js';
import { withDefaults } from './schema-defaults.js';

const positiveInteger = { type: 'integer', minimum: 1 } as const;
const nonEmptyString = { type: 'string', minLength: 1 } as const;
const scopeToken = { type: 'string', pattern: '^[\\x21\\x23-\\x5B\\x5D-\\x7E]+$' } as const;
const stringList = { type: 'array', items: nonEmptyString } as const;

const templateShape = {
  type: 'object',
  required: ['software_id', 'client'],
  additionalProperties: false,
  properties: {
    software_id: nonEmptyString,
    client: {
      type: 'object',
      required: ['redirect_uris'],
      additionalProperties: false,
      properties: {
        redirect_uris: { type: 'array', minItems: 1, items: nonEmptyString },
        post_logout_redirect_uris: { type: 'array', items: nonEmptyString },
        grant_types: {
          type: 'array',
          minItems: 1,
          uniqueItems: true,
          items: { enum: ['authorization_code', 'refresh_token'] },
        },
        scope: nonEmptyString,
        token_endpoint_auth_method: { enum: ['client_secret_basic', 'private_key_jwt'] },
        client_name: nonEmptyString,
        client_uri: nonEmptyString,
        logo_uri: nonEmptyString,
        policy_uri: nonEmptyString,
        tos_uri: nonEmptyString,
        default_max_age: positiveInteger,
        require_auth_time: { type: 'boolean' },
        dpop_bound_access_tokens: { type: 'boolean' },
      },
    },
    instanceFields: {
      type: 'array',
      uniqueItems: true,
      items: {
        enum: [
          'client_name',
          'software_version',
          'jwks',
          'scope',
          'redirect_uris',
          'post_logout_redirect_uris',
          'logo_uri',
          'contacts',
        ],
      },
    },
    disabled: { type: 'boolean' },
    minimumSoftwareVersion: nonEmptyString,
    allowedScopes: { type: 'array', uniqueItems: true, items: scopeToken },
    allowedRedirectSchemes: { type: 'array', uniqueItems: true, items: nonEmptyString },
    ttl: {
      type: 'object',
      additionalProperties: false,
      properties: { accessToken: positiveInteger, refreshToken: positiveInteger },
    },
    userTokens: { type: 'boolean' },
    sharedDevices: { type: 'boolean' },
    fallbackClients: { type: 'array', uniqueItems: true, items: nonEmptyString },
    attestation: {
      type: 'object',
      required: ['formats'],
      additionalProperties: false,
      properties: {
        formats: { type: 'array', minItems: 1, uniqueItems: true, items: nonEmptyString },
        user: { enum: ['optional', 'required'] },
        appIds: { type: 'array', minItems: 1, uniqueItems: true, items: nonEmptyString },
        appleAppAttest: {
          type: 'object',
          required: ['appId'],
          additionalProperties: false,
          properties: { appId: nonEmptyString, allowDevelopment: { type: 'boolean' } },
        },
        androidKey: {
          type: 'object',
          required: ['packageNames', 'signingCertDigests'],
          additionalProperties: false,
          properties: {
            packageNames: { type: 'array', minItems: 1, items: nonEmptyString },
            signingCertDigests: { type: 'array', minItems: 1, items: nonEmptyString },
            minSecurityLevel: { enum: ['SOFTWARE', 'TRUSTED_ENVIRONMENT', 'STRONG_BOX'] },
            requireVerifiedBoot: { type: 'boolean' },
            requireDeviceLocked: { type: 'boolean' },
          },
        },
        playIntegrity: {
          type: 'object',
          required: ['packageName', 'certificateSha256Digests', 'decryptionKey', 'verificationKey'],
          additionalProperties: false,
          properties: {
            packageName: nonEmptyString,
            certificateSha256Digests: { type: 'array', minItems: 1, items: nonEmptyString },
            decryptionKey: nonEmptyString,
            verificationKey: nonEmptyString,
            minDeviceVerdict: {
              enum: ['MEETS_BASIC_INTEGRITY', 'MEETS_DEVICE_INTEGRITY', 'MEETS_STRONG_INTEGRITY'],
            },
            requirePlayRecognized: { type: 'boolean' },
            maxAgeSeconds: positiveInteger,
          },
        },
      },
    },
    attestClientAuth: { type: 'boolean' },
    // Each attester's issuer and public keys: lib/attestation/client-auth-options.ts.
    trustedAttesters: {
      type: 'array',
      items: {
        type: 'object',
        required: ['issuer', 'jwks'],
        additionalProperties: false,
        properties: {
          issuer: nonEmptyString,
          jwks: {
            type: 'object',
            required: ['keys'],
            additionalProperties: false,
            properties: { keys: { type: 'array', minItems: 1, items: { type: 'object' } } },
          },
        },
      },
    },
  },
} as const;

/** A template client (see `Template`); also validates what a template resolver returns. @internal */
export const templateSchema = withDefaults(templateShape, TEMPLATE_DEFAULTS, 'template');

const rateLimit = {
  type: 'object',
  required: ['points', 'duration'],
  additionalProperties: false,
  properties: { points: positiveInteger, duration: positiveInteger },
} as const;

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

/** A federated provider's name: it goes into URL paths and events. @internal */
export const PROVIDER_NAME_PATTERN = '^[a-z0-9][a-z0-9-]{0,31}$';

const federatedProviderSchema = {
  type: 'object',
  required: ['name', 'issuer'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', pattern: PROVIDER_NAME_PATTERN },
    issuer: nonEmptyString,
    quirks: { enum: ['apple', 'google'] },
    audiences: { type: 'array', uniqueItems: true, items: nonEmptyString },
    hostedDomain: nonEmptyString,
    clockSkewSeconds: { type: 'integer', minimum: 0, maximum: 600 },
    algorithms: {
      type: 'array',
      minItems: 1,
      uniqueItems: true,
      items: { enum: ASYMMETRIC_JWS_ALGORITHMS },
    },
    browser: {
      type: 'object',
      required: ['clientId'],
      additionalProperties: false,
      properties: {
        clientId: nonEmptyString,
        clientSecret: nonEmptyString,
        appleKey: {
          type: 'object',
          required: ['teamId', 'keyId', 'privateKey'],
          additionalProperties: false,
          properties: { teamId: nonEmptyString, keyId: nonEmptyString, privateKey: nonEmptyString },
        },
        scope: nonEmptyString,
        label: nonEmptyString,
      },
    },
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
    registrationClients: {
      type: 'array',
      items: {
        type: 'object',
        required: ['client_id', 'redirect_uris'],
        additionalProperties: false,
        properties: {
          client_id: nonEmptyString,
          redirect_uris: { type: 'array', minItems: 1, items: nonEmptyString },
          client_name: nonEmptyString,
        },
      },
    },
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
    registration: {
      type: 'object',
      additionalProperties: false,
      properties: {
        dcrToken: {
          type: 'object',
          additionalProperties: false,
          properties: {
            scope: scopeToken,
            ttl: { ...positiveInteger, maximum: 3600 },
            maxUses: positiveInteger,
          },
        },
        instances: {
          type: 'object',
          additionalProperties: false,
          properties: {
            allowedScopes: { type: 'array', uniqueItems: true, items: scopeToken },
            allowedRedirectSchemes: { type: 'array', uniqueItems: true, items: nonEmptyString },
            authMethods: {
              type: 'array',
              minItems: 1,
              uniqueItems: true,
              items: { enum: ['client_secret_basic', 'private_key_jwt'] },
            },
            unusedTtl: { type: 'integer', minimum: 0 },
            cacheSize: positiveInteger,
          },
        },
        policies: { type: 'array', items: { isFunction: true } },
        templates: { type: 'array', items: templateSchema },
        templateResolver: { isFunction: true },
        templatesOnly: { type: 'boolean' },
        maxInstancesPerAccount: {
          type: 'object',
          required: ['max'],
          additionalProperties: false,
          properties: {
            max: positiveInteger,
            onLimit: { enum: ['reject', 'revoke-oldest'] },
          },
        },
        rateLimit: {
          type: 'object',
          additionalProperties: false,
          properties: { perAccount: rateLimit, perIp: rateLimit },
        },
        fallbackClients: { type: 'array', uniqueItems: true, items: nonEmptyString },
      },
    },
    attestation: {
      type: 'object',
      additionalProperties: false,
      properties: {
        verifiers: { type: 'object', additionalProperties: { isFunction: true } },
        policy: { isFunction: true },
        requireAppAttestAssertions: { type: 'boolean' },
        appleRoots: { type: 'array', minItems: 1, items: nonEmptyString },
        androidRoots: { type: 'array', minItems: 1, items: nonEmptyString },
        androidRevocationList: { isFunction: true },
        maxRevocationListAge: positiveInteger,
        challenge: {
          type: 'object',
          additionalProperties: false,
          properties: {
            path: { type: 'string', pattern: '^/[\\w/.-]*$' },
            ttl: { ...positiveInteger, maximum: 3600 },
            rateLimit,
          },
        },
        attester: {
          type: 'object',
          additionalProperties: false,
          properties: {
            enabled: { type: 'boolean' },
            // Each key's shape (a private ES256 JWK) is checked in lib/attestation/attester-keys.ts.
            keys: { type: 'array', minItems: 1, items: { type: 'object' } },
            path: { type: 'string', pattern: '^/[\\w/.-]*$' },
            jwksPath: { type: 'string', pattern: '^/[\\w/.-]*$' },
            ttl: { type: 'integer', minimum: 60, maximum: 86400 },
            rateLimit,
            allowWithoutEvidence: { isFunction: true },
          },
        },
      },
    },
    assurance: {
      type: 'object',
      additionalProperties: false,
      properties: {
        resolve: { isFunction: true },
        minimumLevels: {
          type: 'object',
          additionalProperties: { enum: ['none', 'by-provisioned-key', 'by-policy'] },
        },
      },
    },
    mtls: {
      type: 'object',
      additionalProperties: false,
      properties: { certificateHeader: nonEmptyString, verifiedHeader: nonEmptyString },
    },
    devices: {
      type: 'object',
      additionalProperties: false,
      properties: {
        adminClients: { type: 'array', uniqueItems: true, items: nonEmptyString },
        adminScope: scopeToken,
        adminSecret: { type: 'string', minLength: 32 },
        selfServiceScope: scopeToken,
        keepRevokedFor: positiveInteger,
      },
    },
    apis: { type: 'array', items: withDefaults(apiSchema, API_DEFAULTS, 'apis[]') },
    introspection: {
      type: 'object',
      additionalProperties: false,
      properties: {
        resourceServers: { type: 'array', items: nonEmptyString },
      },
    },
    interactions: {
      type: 'object',
      additionalProperties: false,
      properties: {
        title: nonEmptyString,
        pages: {
          type: 'object',
          additionalProperties: false,
          properties: {
            login: { isFunction: true },
            consent: { isFunction: true },
            error: { isFunction: true },
            logout: { isFunction: true },
            logoutSuccess: { isFunction: true },
            passkeys: { isFunction: true },
            devices: { isFunction: true },
            link: { isFunction: true },
            links: { isFunction: true },
          },
        },
        // Each catalogue names only known messages, so a misspelt one fails at start-up.
        messages: {
          type: 'object',
          additionalProperties: {
            type: 'object',
            additionalProperties: false,
            properties: Object.fromEntries(MESSAGE_KEYS.map((key) => [key, nonEmptyString])),
          },
        },
        defaultLanguage: nonEmptyString,
        // Its values (a text, or texts by language) are checked in cross-option-rules.ts.
        scopeDescriptions: { type: 'object' },
        signInRateLimit: {
          type: 'object',
          additionalProperties: false,
          properties: {
            perAccount: { anyOf: [rateLimit, { const: false }] },
            perIp: { anyOf: [rateLimit, { const: false }] },
            perUsername: { anyOf: [rateLimit, { const: false }] },
          },
        },
      },
    },
    federation: {
      type: 'object',
      additionalProperties: false,
      properties: {
        providers: {
          type: 'array',
          items: withDefaults(federatedProviderSchema, FEDERATED_PROVIDER_DEFAULTS, 'providers[]'),
        },
        nonce: {
          type: 'object',
          additionalProperties: false,
          properties: {
            path: { type: 'string', pattern: '^/[^?#]*$' },
            ttl: { type: 'integer', minimum: 30, maximum: 3600 },
            rateLimit: { anyOf: [rateLimit, { const: false }] },
          },
        },
        linking: {
          type: 'object',
          additionalProperties: false,
          // Up to an hour: past that a session is no proof of who sits at the browser.
          properties: { maxAge: { type: 'integer', minimum: 0, maximum: 3600 } },
        },
      },
    },
    passkeys: {
      type: 'object',
      additionalProperties: false,
      properties: {
        enabled: { type: 'boolean' },
        rpId: nonEmptyString,
        rpName: nonEmptyString,
        // Each origin's shape and its place on the relying party id: cross-option-rules.ts.
        origins: { type: 'array', minItems: 1, uniqueItems: true, items: nonEmptyString },
      },
    },
    oidcProvider: { type: 'object' },
  },
} as const;

/** @internal */
export const optionsSchema = withDefaults(optionsShape, DEFAULTS);
