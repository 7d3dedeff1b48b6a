// A real upstream OpenID provider (a second oidc-provider on a loopback port) standing in for
// Google, Apple or a corporate IdP: it publishes its key at its jwks_uri and mints id_tokens with
// it, so federation tests verify against keys fetched over real HTTP.
import { randomUUID, type webcrypto } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import Provider, { type ClientMetadata, type Configuration } from 'oidc-provider';
import { listen } from './listen.js';

/** Options of {@link startUpstreamIdp}. */
export interface UpstreamIdpOptions {
  /**
   * Mimic a provider's claims: `apple` sends `email_verified` as the string `"true"` and
   * `is_private_email: "false"`, as Apple does.
   */
  quirks?: 'google' | 'apple';
  /** Clients registered at the upstream, for a browser code-flow test. */
  clients?: ClientMetadata[];
  /** A `Cache-Control` header for its JWKS responses; oidc-provider sends none. */
  jwksCacheControl?: string;
}

/** What {@link UpstreamIdp.mintIdToken} puts in a token. */
export interface MintOptions {
  /** The `sub` claim; `email` is `<sub>@example.test`. */
  sub: string;
  /** The `aud` claim. */
  aud: string | string[];
  /** The `nonce` claim; none when absent. */
  nonce?: string;
  /** The `azp` claim. */
  azp?: string;
  /** The `hd` claim (a Google Workspace domain). */
  hd?: string;
  /** Seconds from `iat` to `exp`; negative for an expired token. Default 600. */
  expiresIn?: number;
  /** The `iat` claim, in seconds. Default now. */
  iat?: number;
  /** More claims, overriding the defaults (JSON-parsed ones may carry `__proto__`). */
  claims?: Record<string, unknown>;
  /** The header `kid`. Default the upstream's current key's. */
  kid?: string;
  /** The header `alg`; `none` gives an unsigned token. Default RS256. */
  alg?: string;
  /** Sign with this key instead of the upstream's (a foreign key, an HMAC secret). */
  signWith?: webcrypto.CryptoKey | Uint8Array;
}

/** A running upstream provider. */
export interface UpstreamIdp {
  /** `http://127.0.0.1:<port>`. */
  issuer: string;
  /** The oidc-provider serving now (replaced by {@link UpstreamIdp.rotateKeys}). */
  readonly provider: Provider;
  /** The `kid` of the key it publishes now. */
  readonly kid: string;
  /** An id_token signed with its current key (or `signWith`). */
  mintIdToken(options: MintOptions): Promise<string>;
  /** Replaces its key: from now on its jwks_uri serves only the new one. */
  rotateKeys(): Promise<void>;
  /** Sets (or, with `undefined`, removes) the `Cache-Control` of its JWKS responses. */
  setJwksCacheControl(value: string | undefined): void;
  /** Stops it. */
  close(): Promise<void>;
}

interface SigningKey {
  kid: string;
  privateKey: webcrypto.CryptoKey;
  jwk: JWK;
}

async function newSigningKey(): Promise<SigningKey> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = randomUUID();
  const jwk = { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
  return { kid, privateKey, jwk };
}

/** Starts an upstream OpenID provider on a free loopback port. */
export async function startUpstreamIdp(options: UpstreamIdpOptions = {}): Promise<UpstreamIdp> {
  const http = await listen();
  const issuer = http.url;
  const apple = options.quirks === 'apple';
  let cacheControl = options.jwksCacheControl;
  let key = await newSigningKey();

  const emailClaims = (sub: string) => ({
    email: `${sub}@example.test`,
    email_verified: apple ? 'true' : true,
    ...(apple ? { is_private_email: 'false' } : {}),
  });

  function build(signing: SigningKey): Provider {
    const configuration: Configuration = {
      clients: options.clients ?? [],
      jwks: { keys: [signing.jwk] },
      cookies: { keys: ['upstream-cookie-key-for-tests-only'] },
      scopes: ['openid', 'email', 'profile'],
      claims: {
        openid: ['sub'],
        email: ['email', 'email_verified', ...(apple ? ['is_private_email'] : [])],
        profile: ['name'],
      },
      features: { devInteractions: { enabled: true } },
      findAccount: (_ctx, sub) => ({
        accountId: sub,
        claims: () => ({ sub, name: `User ${sub}`, ...emailClaims(sub) }),
      }),
    };
    const warn = console.warn;
    console.warn = () => {}; // development keys and in-memory adapter warnings are expected here
    try {
      const provider = new Provider(issuer, configuration);
      provider.use(async (ctx, next) => {
        await next();
        if (ctx.path === '/jwks' && cacheControl !== undefined) {
          ctx.set('cache-control', cacheControl);
        }
      });
      return provider;
    } finally {
      console.warn = warn;
    }
  }

  let provider = build(key);
  let handler = provider.callback();
  http.handle((req, res) => handler(req, res));

  return {
    issuer,
    get provider() {
      return provider;
    },
    get kid() {
      return key.kid;
    },
    async mintIdToken(mint) {
      const iat = mint.iat ?? Math.floor(Date.now() / 1000);
      const payload = {
        iss: issuer,
        sub: mint.sub,
        aud: mint.aud,
        iat,
        exp: iat + (mint.expiresIn ?? 600),
        ...(mint.nonce === undefined ? {} : { nonce: mint.nonce }),
        ...(mint.azp === undefined ? {} : { azp: mint.azp }),
        ...(mint.hd === undefined ? {} : { hd: mint.hd }),
        ...emailClaims(mint.sub),
        ...mint.claims,
      };
      const header = { alg: mint.alg ?? 'RS256', kid: mint.kid ?? key.kid, typ: 'JWT' };
      if (header.alg === 'none') {
        const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
        return `${encode(header)}.${encode(payload)}.`;
      }
      return new SignJWT(payload).setProtectedHeader(header).sign(mint.signWith ?? key.privateKey);
    },
    async rotateKeys() {
      key = await newSigningKey();
      provider = build(key);
      handler = provider.callback();
    },
    setJwksCacheControl(value) {
      cacheControl = value;
    },
    close: () => http.close(),
  };
}
