// The template option (`registration.templates`, and what a template resolver returns): its
// defaults and its JSON Schema. The type, `Template`, is on the ground floor
// (lib/core/template-types.ts), since attestation reads it too.
import type { DefaultsOf } from '../core/options/resolve-types.js';
import { nonEmptyString, positiveInteger, scopeToken } from '../core/options/schema-pieces.js';
import { withDefaults } from '../core/options/with-defaults.js';
import type { Template } from '../core/template-types.js';

/**
 * Defaults of each template, configured or returned by a template resolver.
 *
 * @internal
 */
export const TEMPLATE_DEFAULTS = {
  instanceFields: ['client_name', 'software_version'],
  disabled: false,
  sharedDevices: false,
  fallbackClients: [],
  attestation: { user: 'optional' },
  attestClientAuth: false,
  trustedAttesters: [],
} as const satisfies DefaultsOf<Template>;

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
    // No schema default beneath it: a default would give every template `firstParty: {}` (turning
    // it on); lib/first-party/options.ts reads an unset minimumLevel as its default.
    firstParty: {
      type: 'object',
      additionalProperties: false,
      properties: { minimumLevel: { enum: ['none', 'by-provisioned-key', 'by-policy'] } },
    },
    // No schema default beneath it either: lib/phone-approval/options.ts reads what is unset.
    approvals: {
      anyOf: [
        { type: 'boolean' },
        {
          type: 'object',
          additionalProperties: false,
          properties: {
            minimumLevel: { enum: ['none', 'by-provisioned-key', 'by-policy'] },
            requireUserVerification: { type: 'boolean' },
            requireKeyUserAuthentication: {
              anyOf: [
                { type: 'boolean' },
                {
                  type: 'object',
                  additionalProperties: false,
                  properties: {
                    userAuthType: { enum: ['any', 'biometric'] },
                    maxAuthTimeout: { type: 'integer', minimum: 0 },
                  },
                },
              ],
            },
          },
        },
      ],
    },
    nativeSso: {
      type: 'object',
      required: ['group'],
      additionalProperties: false,
      properties: { group: nonEmptyString },
    },
    // Each attester's issuer and public keys: lib/client-attestation/options.ts.
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
