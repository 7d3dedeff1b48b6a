// The JSON Schema that validates AuthServerOptions and supplies its defaults. `isFunction` and
// `isStore` are keywords this library adds to ajv (JSON Schema has no type for functions).

const positiveInteger = { type: 'integer', minimum: 1 } as const;
const nonEmptyString = { type: 'string', minLength: 1 } as const;
const scopeToken = { type: 'string', pattern: '^[\\x21\\x23-\\x5B\\x5D-\\x7E]+$' } as const;
const stringList = { type: 'array', items: nonEmptyString } as const;

/** A template client (see `Template`); also validates what a template resolver returns. @internal */
export const templateSchema = {
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
      default: ['client_name', 'software_version'],
    },
    disabled: { type: 'boolean', default: false },
    minimumSoftwareVersion: nonEmptyString,
    allowedScopes: { type: 'array', uniqueItems: true, items: scopeToken },
    allowedRedirectSchemes: { type: 'array', uniqueItems: true, items: nonEmptyString },
    ttl: {
      type: 'object',
      additionalProperties: false,
      properties: { accessToken: positiveInteger, refreshToken: positiveInteger },
    },
    userTokens: { type: 'boolean' },
    sharedDevices: { type: 'boolean', default: false },
    fallbackClients: { type: 'array', uniqueItems: true, items: nonEmptyString },
    attestation: {
      type: 'object',
      required: ['formats'],
      additionalProperties: false,
      properties: {
        formats: { type: 'array', minItems: 1, uniqueItems: true, items: nonEmptyString },
        user: { enum: ['optional', 'required'], default: 'optional' },
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
  },
} as const;

const rateLimit = {
  type: 'object',
  required: ['points', 'duration'],
  additionalProperties: false,
  properties: { points: positiveInteger, duration: positiveInteger },
} as const;

/** @internal */
export const optionsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['issuer', 'accounts'],
  properties: {
    issuer: nonEmptyString,
    development: { type: 'boolean', default: false },
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
    proxy: { type: 'boolean', default: false },
    accounts: {
      type: 'object',
      required: ['authenticate', 'findAccount'],
      additionalProperties: false,
      properties: {
        authenticate: { isFunction: true },
        findAccount: { isFunction: true },
      },
    },
    scopes: {
      type: 'array',
      uniqueItems: true,
      items: scopeToken,
      default: ['openid', 'profile', 'email', 'offline_access'],
    },
    claims: {
      type: 'object',
      additionalProperties: stringList,
      default: {
        openid: ['sub'],
        profile: ['name', 'given_name', 'family_name', 'preferred_username', 'updated_at'],
        email: ['email', 'email_verified'],
      },
    },
    registrationClients: {
      type: 'array',
      default: [],
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
      default: [],
      items: { type: 'object', required: ['client_id'], properties: { client_id: nonEmptyString } },
    },
    ttl: {
      type: 'object',
      default: {},
      additionalProperties: false,
      properties: {
        accessToken: { ...positiveInteger, default: 900 },
        authorizationCode: { ...positiveInteger, default: 60 },
        idToken: { ...positiveInteger, default: 3600 },
        refreshToken: { ...positiveInteger, default: 2592000 },
        refreshTokenReuseGrace: { type: 'integer', minimum: 0, maximum: 300, default: 30 },
        grant: { ...positiveInteger, default: 15552000 },
        session: { ...positiveInteger, default: 1209600 },
        interaction: { ...positiveInteger, default: 600 },
      },
    },
    registration: {
      type: 'object',
      default: {},
      additionalProperties: false,
      properties: {
        dcrToken: {
          type: 'object',
          default: {},
          additionalProperties: false,
          properties: {
            scope: { ...scopeToken, default: 'dcr' },
            ttl: { ...positiveInteger, maximum: 3600, default: 300 },
            maxUses: { ...positiveInteger, default: 1 },
          },
        },
        instances: {
          type: 'object',
          default: {},
          additionalProperties: false,
          properties: {
            allowedScopes: { type: 'array', uniqueItems: true, items: scopeToken },
            allowedRedirectSchemes: { type: 'array', uniqueItems: true, items: nonEmptyString },
            authMethods: {
              type: 'array',
              minItems: 1,
              uniqueItems: true,
              items: { enum: ['client_secret_basic', 'private_key_jwt'] },
              default: ['client_secret_basic', 'private_key_jwt'],
            },
            unusedTtl: { type: 'integer', minimum: 0, default: 86400 },
          },
        },
        policies: { type: 'array', items: { isFunction: true }, default: [] },
        templates: { type: 'array', items: templateSchema, default: [] },
        templateResolver: { isFunction: true },
        templatesOnly: { type: 'boolean', default: false },
        maxInstancesPerAccount: {
          type: 'object',
          required: ['max'],
          additionalProperties: false,
          properties: {
            max: positiveInteger,
            onLimit: { enum: ['reject', 'revoke-oldest'], default: 'reject' },
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
      default: {},
      additionalProperties: false,
      properties: {
        verifiers: { type: 'object', additionalProperties: { isFunction: true }, default: {} },
        policy: { isFunction: true },
        requireAppAttestAssertions: { type: 'boolean', default: false },
        appleRoots: { type: 'array', minItems: 1, items: nonEmptyString },
        androidRoots: { type: 'array', minItems: 1, items: nonEmptyString },
        androidRevocationList: { isFunction: true },
        maxRevocationListAge: positiveInteger,
        challenge: {
          type: 'object',
          default: {},
          additionalProperties: false,
          properties: {
            path: { type: 'string', pattern: '^/[\\w/.-]*$', default: '/attestation/challenge' },
            ttl: { ...positiveInteger, maximum: 3600, default: 300 },
            rateLimit: { ...rateLimit, default: { points: 60, duration: 60 } },
          },
        },
      },
    },
    assurance: {
      type: 'object',
      default: {},
      additionalProperties: false,
      properties: {
        resolve: { isFunction: true },
        minimumLevels: {
          type: 'object',
          additionalProperties: { enum: ['none', 'by-provisioned-key', 'by-policy'] },
          default: {},
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
      default: {},
      additionalProperties: false,
      properties: {
        adminClients: { type: 'array', uniqueItems: true, items: nonEmptyString, default: [] },
        adminScope: { ...scopeToken, default: 'devices:admin' },
        adminSecret: { type: 'string', minLength: 32 },
        selfServiceScope: scopeToken,
        keepRevokedFor: { ...positiveInteger, default: 2592000 },
      },
    },
    apis: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        required: ['resource', 'scope'],
        additionalProperties: false,
        properties: {
          resource: nonEmptyString,
          scope: nonEmptyString,
          accessTokenFormat: { enum: ['jwt', 'opaque'], default: 'jwt' },
          accessTokenTTL: positiveInteger,
        },
      },
    },
    introspection: {
      type: 'object',
      default: {},
      additionalProperties: false,
      properties: {
        resourceServers: { type: 'array', items: nonEmptyString, default: [] },
      },
    },
    interactions: {
      type: 'object',
      default: {},
      additionalProperties: false,
      properties: {
        title: { ...nonEmptyString, default: 'Sign in' },
        signInRateLimit: {
          type: 'object',
          default: {},
          additionalProperties: false,
          properties: {
            perAccount: {
              anyOf: [rateLimit, { const: false }],
              default: { points: 10, duration: 900 },
            },
            perIp: {
              anyOf: [rateLimit, { const: false }],
              default: { points: 100, duration: 900 },
            },
          },
        },
      },
    },
    oidcProvider: { type: 'object', default: {} },
  },
} as const;
