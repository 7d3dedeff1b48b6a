import { readFileSync } from 'node:fs';
import type { AuthServerOptions } from 'mobile-oidc-provider';
import { jsonSetting } from './keys.js';

type ClientMetadata = NonNullable<AuthServerOptions['clients']>[number];

/** The fallback client that authenticates with a shared secret (instances get `cal=none`). */
export const FALLBACK_CLIENT_ID = 'mobile-fallback-client';
/** The fallback client that signs client assertions with a provisioned key (`by-provisioned-key`). */
export const FALLBACK_PKI_CLIENT_ID = 'mobile-fallback-pki-client';
/** The development-only secret of {@link FALLBACK_CLIENT_ID}, used when none is configured. */
export const DEVELOPMENT_FALLBACK_SECRET = 'development-fallback-secret-change-me-0123456789';

/** Environment the fallback clients read. */
export interface FallbackEnv {
  /** `production` refuses the development fallback secret. */
  NODE_ENV?: string;
  /** The secret of `mobile-fallback-client`. @default a development-only secret */
  FALLBACK_CLIENT_SECRET?: string;
  /** The public JWKS (JSON) of `mobile-fallback-pki-client`; the client is left out without it. */
  FALLBACK_CLIENT_JWKS?: string;
  /** A file holding that JWKS. */
  FALLBACK_CLIENT_JWKS_FILE?: string;
}

/** The example's fallback clients: static, confidential, `client_credentials` only. */
export function fallbackClients(env: FallbackEnv): ClientMetadata[] {
  const secret = env.FALLBACK_CLIENT_SECRET ?? DEVELOPMENT_FALLBACK_SECRET;
  if (env.NODE_ENV === 'production' && secret === DEVELOPMENT_FALLBACK_SECRET) {
    throw new Error('set FALLBACK_CLIENT_SECRET: the development fallback secret is public');
  }
  const jwks =
    env.FALLBACK_CLIENT_JWKS ??
    (env.FALLBACK_CLIENT_JWKS_FILE
      ? readFileSync(env.FALLBACK_CLIENT_JWKS_FILE, 'utf8')
      : undefined);
  const onlyClientCredentials = {
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
  };
  return [
    {
      client_id: FALLBACK_CLIENT_ID,
      client_secret: secret,
      token_endpoint_auth_method: 'client_secret_basic' as const,
      ...onlyClientCredentials,
    },
    ...(jwks
      ? [
          {
            client_id: FALLBACK_PKI_CLIENT_ID,
            token_endpoint_auth_method: 'private_key_jwt' as const,
            jwks: jsonSetting<NonNullable<ClientMetadata['jwks']>>('FALLBACK_CLIENT_JWKS', jwks),
            ...onlyClientCredentials,
          },
        ]
      : []),
  ];
}
