import { readFileSync } from 'node:fs';
import type { FederatedProviderOptions, FederationOptions } from 'mobile-oidc-provider';

/**
 * Environment that turns "Sign in with Google / Apple" on. Upstream issuers must use https
 * unless development mode is on (the library refuses an `http://` issuer otherwise).
 */
export interface FederationEnv {
  /** Google OAuth client ids, comma-separated: turns Google on; the `aud` of native id_tokens. */
  GOOGLE_CLIENT_IDS?: string;
  /** Google's issuer. @default 'https://accounts.google.com' */
  GOOGLE_ISSUER?: string;
  /** The secret of the first client id: turns Google's "Continue with Google" button on. */
  GOOGLE_CLIENT_SECRET?: string;
  /** A Google Workspace domain every Google user must belong to. */
  GOOGLE_HOSTED_DOMAIN?: string;
  /** iOS bundle ids, comma-separated: turns Apple on; the `aud` of native id_tokens. */
  APPLE_BUNDLE_IDS?: string;
  /** Apple's issuer. @default 'https://appleid.apple.com' */
  APPLE_ISSUER?: string;
  /** The Services ID: with the team id, key id and key file, turns "Continue with Apple" on. */
  APPLE_SERVICES_ID?: string;
  /** The Apple developer team id. */
  APPLE_TEAM_ID?: string;
  /** The id of the Sign in with Apple key. */
  APPLE_KEY_ID?: string;
  /** A file holding that key (the `.p8` PEM Apple hands out). */
  APPLE_PRIVATE_KEY_FILE?: string;
}

const list = (value: string | undefined) =>
  (value ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);

function google(env: FederationEnv): FederatedProviderOptions | undefined {
  const audiences = list(env.GOOGLE_CLIENT_IDS);
  const [clientId] = audiences;
  if (!clientId) return undefined;
  return {
    name: 'google',
    issuer: env.GOOGLE_ISSUER || 'https://accounts.google.com',
    quirks: 'google',
    audiences,
    ...(env.GOOGLE_HOSTED_DOMAIN ? { hostedDomain: env.GOOGLE_HOSTED_DOMAIN } : {}),
    ...(env.GOOGLE_CLIENT_SECRET
      ? { browser: { clientId, clientSecret: env.GOOGLE_CLIENT_SECRET } }
      : {}),
  };
}

function apple(env: FederationEnv): FederatedProviderOptions | undefined {
  const audiences = list(env.APPLE_BUNDLE_IDS);
  if (audiences.length === 0) return undefined;
  const { APPLE_SERVICES_ID, APPLE_TEAM_ID, APPLE_KEY_ID, APPLE_PRIVATE_KEY_FILE } = env;
  const browser =
    APPLE_SERVICES_ID && APPLE_TEAM_ID && APPLE_KEY_ID && APPLE_PRIVATE_KEY_FILE
      ? {
          clientId: APPLE_SERVICES_ID,
          appleKey: {
            teamId: APPLE_TEAM_ID,
            keyId: APPLE_KEY_ID,
            privateKey: readFileSync(APPLE_PRIVATE_KEY_FILE, 'utf8'),
          },
        }
      : undefined;
  return {
    name: 'apple',
    issuer: env.APPLE_ISSUER || 'https://appleid.apple.com',
    quirks: 'apple',
    audiences,
    ...(browser ? { browser } : {}),
  };
}

/** The upstream providers the environment configures; none when it names no app. */
export function federatedProviders(env: FederationEnv): FederatedProviderOptions[] {
  return [google(env), apple(env)].filter((p) => p !== undefined);
}

/** The example's federation options, or `undefined` (federation off) when no provider is set. */
export function federationFromEnv(env: FederationEnv): FederationOptions | undefined {
  const providers = federatedProviders(env);
  return providers.length > 0 ? { providers } : undefined;
}
