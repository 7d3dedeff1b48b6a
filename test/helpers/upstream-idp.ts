// A real upstream OpenID provider (a second oidc-provider on a loopback port) standing in for
// Google, Apple or a corporate IdP: it publishes its key at its jwks_uri and mints id_tokens with
// it, so federation tests verify against keys fetched over real HTTP. Its dev login and consent
// pages accept any login, which `authorize` plays through like a user.
import { randomUUID, type webcrypto } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import Provider, { type ClientMetadata, type Configuration } from 'oidc-provider';
import { decodeEntities } from './browser.js';
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
  /**
   * Authenticate this client as Apple does: its `client_secret` must be an ES256 JWT signed by
   * the team's key, not the secret it was registered with.
   */
  appleClientSecret?: AppleClientSecretCheck;
}

/** How the upstream checks an Apple-style client secret (a JWT the client signs itself). */
export interface AppleClientSecretCheck {
  /** The client (Services ID) whose secret is a JWT: its `sub`. */
  clientId: string;
  /** The team id: its `iss`. */
  teamId: string;
  /** The key id: its header's `kid`. */
  keyId: string;
  /** The public half of the team's key. */
  publicKey: webcrypto.CryptoKey;
}

/** A client secret JWT the upstream accepted: what Apple would have seen. */
export interface SeenAppleSecret {
  header: Record<string, unknown>;
  claims: JWTPayload;
}

/** The user at the upstream's pages: who signs in, and whether they cancel instead. */
export interface UpstreamUser {
  /** Any login: it becomes the `sub`. */
  login: string;
  /** Cancel at the login page (the upstream answers `error=access_denied`). */
  deny?: boolean;
}

/** How the upstream sent the browser back: a redirect, or a `form_post` page's form. */
export type UpstreamReturn =
  | { method: 'GET'; url: string }
  | { method: 'POST'; url: string; fields: Record<string, string> };

/** What {@link UpstreamIdp.authorize} drives: a cookie-keeping client without auto-redirects. */
export interface PageClient {
  request(url: string | URL, init?: RequestInit): Promise<Response>;
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
  /** Replaces its registered clients (e.g. once the downstream's redirect URI is known). */
  setClients(clients: ClientMetadata[]): void;
  /** The Apple-style client secrets its token endpoint accepted, oldest first. */
  readonly appleSecrets: readonly SeenAppleSecret[];
  /**
   * Plays `user` through its dev login and consent pages, from `authorizationUrl` until it sends
   * the browser elsewhere (to the client's redirect URI).
   */
  authorize(
    browser: PageClient,
    authorizationUrl: string,
    user: UpstreamUser,
  ): Promise<UpstreamReturn>;
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

/**
 * The upstream's registration of a server's "Continue with …" button: a confidential code-flow
 * client (client_secret_basic) whose redirect URI is that server's callback for provider `name`.
 */
export function callbackClient(
  issuer: string,
  name: string,
  clientId: string,
  clientSecret: string,
): ClientMetadata {
  return {
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [`${issuer}/federation/callback/${name}`],
    token_endpoint_auth_method: 'client_secret_basic',
    response_types: ['code'],
    grant_types: ['authorization_code'],
  };
}

/** Starts an upstream OpenID provider on a free loopback port. */
export async function startUpstreamIdp(options: UpstreamIdpOptions = {}): Promise<UpstreamIdp> {
  const http = await listen();
  const issuer = http.url;
  const apple = options.quirks === 'apple';
  let cacheControl = options.jwksCacheControl;
  let key = await newSigningKey();
  let clients = options.clients ?? [];
  const appleSecrets: SeenAppleSecret[] = [];

  const emailClaims = (sub: string) => ({
    email: `${sub}@example.test`,
    email_verified: apple ? 'true' : true,
    ...(apple ? { is_private_email: 'false' } : {}),
  });

  function build(signing: SigningKey): Provider {
    const configuration: Configuration = {
      clients,
      jwks: { keys: [signing.jwk] },
      cookies: {
        keys: ['upstream-cookie-key-for-tests-only'],
        // Cookies are not kept apart by port: on one loopback host, ours must not replace theirs.
        names: {
          session: '_upstream_session',
          interaction: '_upstream_interaction',
          resume: '_upstream_interaction_resume',
        },
      },
      // Google and Apple put the email claims in the id_token of the code flow too.
      conformIdTokenClaims: false,
      scopes: ['openid', 'email', 'profile', ...(apple ? ['name'] : [])],
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
      if (options.appleClientSecret) acceptAppleSecrets(provider, options.appleClientSecret);
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

  // Apple checks the JWT's signature, iss, sub, aud and its lifetime of at most 6 months.
  function acceptAppleSecrets(provider: Provider, check: AppleClientSecretCheck) {
    const prototype = provider.Client.prototype as {
      clientId: string;
      compareClientSecret(actual: string): boolean | Promise<boolean>;
    };
    const registered = prototype.compareClientSecret;
    prototype.compareClientSecret = async function compareClientSecret(actual) {
      if (this.clientId !== check.clientId) return registered.call(this, actual);
      try {
        const { payload, protectedHeader } = await jwtVerify(actual, check.publicKey, {
          algorithms: ['ES256'],
          issuer: check.teamId,
          subject: check.clientId,
          audience: issuer,
          requiredClaims: ['iat', 'exp'],
        });
        if (protectedHeader.kid !== check.keyId) return false;
        if ((payload.exp as number) - (payload.iat as number) > 15777000) return false;
        appleSecrets.push({ header: { ...protectedHeader }, claims: payload });
        return true;
      } catch {
        return false;
      }
    };
  }

  let provider = build(key);
  let handler = provider.callback();
  http.handle((req, res) => handler(req, res));

  async function authorize(
    browser: PageClient,
    authorizationUrl: string,
    user: UpstreamUser,
  ): Promise<UpstreamReturn> {
    const origin = new URL(issuer).origin;
    let url = authorizationUrl;
    let res = await browser.request(url);
    for (let step = 0; step < 20; step += 1) {
      const location = res.headers.get('location');
      if (location && res.status >= 300 && res.status < 400) {
        await res.arrayBuffer();
        url = new URL(location, url).href;
        if (new URL(url).origin !== origin) return { method: 'GET', url };
        res = await browser.request(url);
        continue;
      }
      const html = await res.text();
      const form = /<form\b[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/.exec(html);
      if (!form) {
        throw new Error(`the upstream stopped at ${url} with ${res.status}: ${html.slice(0, 300)}`);
      }
      const action = new URL(decodeEntities(form[1] as string), url).href;
      const fields: Record<string, string> = {};
      for (const [input] of (form[2] as string).matchAll(/<input\b[^>]*type="hidden"[^>]*>/g)) {
        const name = /name="([^"]*)"/.exec(input)?.[1];
        if (name) fields[name] = decodeEntities(/value="([^"]*)"/.exec(input)?.[1] ?? '');
      }
      // response_mode=form_post: the page posts the response (an error one with status 400).
      if (new URL(action).origin !== origin) return { method: 'POST', url: action, fields };
      if (res.status !== 200) throw new Error(`the upstream answered ${res.status} at ${url}`);
      if (fields.prompt === 'login' && user.deny) {
        res = await browser.request(`${new URL(url).origin}${new URL(url).pathname}/abort`);
        continue;
      }
      if (fields.prompt === 'login') Object.assign(fields, { login: user.login, password: 'x' });
      url = action;
      res = await browser.request(action, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields).toString(),
      });
    }
    throw new Error('the upstream sign-in did not end in 20 steps');
  }

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
    setClients(next) {
      clients = next;
      provider = build(key);
      handler = provider.callback();
    },
    appleSecrets,
    authorize,
    close: () => http.close(),
  };
}
