// Phone approval (CIBA) over real HTTP: a test server whose static web clients may start CIBA,
// installs of a template that allows approvals (registered with the provisioned-key fallback
// client, each with its own key, bound to its account by a first-party password sign-in), and
// the requests of the web client and of the app.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CompactSign, type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import type { ApprovalNotice, AuthServerOptions, Store, Template } from 'mobile-oidc-provider';
import * as oidc from 'openid-client';
import { insecure, type RunningServer, startExample } from './example.js';
import { challengeOf, verifier } from './first-party.js';
import { APP_REDIRECT_URI, FALLBACK_PKI_CLIENT_ID } from './fixture.js';
import { type JsonBody, json } from './json.js';
import { type Listening, listen } from './listen.js';
import { postRegistration } from './registration.js';

export const CIBA_GRANT = 'urn:openid:params:grant-type:ciba';
/** The web client that polls. */
export const WEB_CLIENT = { id: 'web-portal', secret: 'web-portal-secret-for-tests-0123456789' };
/** The web client that is pinged. */
export const PING_CLIENT = { id: 'web-ping', secret: 'web-ping-secret-for-tests-0123456789' };
/** Where the ping client's notification endpoint is registered; the test's fetch routes it. */
const PING_ENDPOINT = 'https://ping.client.test/cb';
/** The template whose installs approve. */
export const PHONE_SOFTWARE_ID = 'io.example.phone';
/** The template whose installs approve only with user verification stated. */
export const PHONE_UV_SOFTWARE_ID = 'io.example.phone.uv';
/** The template whose installs authenticate with a secret and register a key to approve with. */
export const PHONE_SECRET_SOFTWARE_ID = 'io.example.phone.secret';

const phoneTemplate = (
  softwareId: string,
  approvals: Template['approvals'],
  method: 'private_key_jwt' | 'client_secret_basic' = 'private_key_jwt',
): Template => ({
  software_id: softwareId,
  client: {
    client_name: 'Phone App',
    redirect_uris: [APP_REDIRECT_URI],
    grant_types: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_method: method,
    scope: 'openid profile offline_access',
  },
  instanceFields: ['client_name', 'software_version', 'jwks'],
  fallbackClients: [FALLBACK_PKI_CLIENT_ID],
  firstParty: { minimumLevel: 'by-provisioned-key' },
  approvals,
});

/** An install with its own key (and, of the secret template, its secret). */
export interface PhoneInstall {
  clientId: string;
  key: CryptoKey;
  jwk: JWK;
  secret?: string;
  /** Its RFC 7592 management URI and token. */
  management: { uri: string; token: string };
}

export interface Answer {
  approval_id: string;
  binding_message: string;
  challenge: string;
  decision: 'approve' | 'deny';
  uv?: boolean;
}

/** A running phone approval test server and the requests made to it. */
export interface PhoneServer {
  server: RunningServer;
  issuer: string;
  /** Every notice `notify` received, in order. */
  notices: ApprovalNotice[];
  /** Every ping the ping client's endpoint received: its Authorization header and body. */
  pings: Array<{ authorization: string | undefined; body: JsonBody }>;
  /** Every audit event, by name. */
  events: Array<{ name: string; payload: unknown }>;
  /** A registration with the provisioned-key fallback client's DCR token, as the app sends it. */
  register(body: Record<string, unknown>): Promise<{ status: number; body: JsonBody }>;
  /** A new install of `softwareId`, bound to `accountId` (signed in with `password`). */
  install(accountId: string, password: string, softwareId?: string): Promise<PhoneInstall>;
  /** POST /backchannel as `client` (client_secret_basic). */
  backchannel(
    params: Record<string, string>,
    client?: { id: string; secret: string },
  ): Promise<{ status: number; body: JsonBody }>;
  /** POST /token with the CIBA grant as `client`. */
  poll(
    authReqId: string,
    client?: { id: string; secret: string },
  ): Promise<{ status: number; body: JsonBody }>;
  /** POST /approvals as the install. */
  list(install: PhoneInstall): Promise<{ status: number; body: JsonBody }>;
  /** POST /approvals/<id> with `answer` as the install. */
  answer(
    install: PhoneInstall,
    id: string,
    answer: string,
  ): Promise<{ status: number; body: JsonBody }>;
  /** A POST with the install's private_key_jwt client authentication. */
  postAsInstall(
    install: PhoneInstall,
    path: string,
    params: Record<string, string>,
  ): Promise<{ status: number; body: JsonBody }>;
  close(): Promise<void>;
}

/** A compact JWS of `answer` by `key` (ES256). */
export const signAnswer = (key: CryptoKey, answer: Answer | Record<string, unknown>) =>
  new CompactSign(new TextEncoder().encode(JSON.stringify(answer)))
    .setProtectedHeader({ alg: 'ES256' })
    .sign(key);

const basic = (client: { id: string; secret: string }) =>
  `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}`;

async function form(url: string, headers: Record<string, string>, params: Record<string, string>) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(params),
  });
  return { status: res.status, body: await json(res) };
}

/** Starts the test server with phone approval on `store`, and `more` options on top. */
export async function startPhoneApproval(
  store: Store,
  more: (o: AuthServerOptions) => AuthServerOptions = (o) => o,
): Promise<PhoneServer> {
  const notices: ApprovalNotice[] = [];
  const pings: PhoneServer['pings'] = [];
  const events: PhoneServer['events'] = [];
  const pingServer: Listening = await listen();
  pingServer.handle((req: IncomingMessage, res: ServerResponse) => {
    let data = '';
    req.on('data', (chunk) => {
      data += chunk;
    });
    req.on('end', () => {
      pings.push({ authorization: req.headers.authorization, body: JSON.parse(data) });
      res.statusCode = 204;
      res.end();
    });
  });
  const pki = await generateKeyPair('ES256');
  const pkiJwks = { keys: [{ ...(await exportJWK(pki.publicKey)), alg: 'ES256' }] };
  const server = await startExample(
    (o) =>
      more({
        ...o,
        store,
        clients: [
          ...(o.clients ?? []),
          {
            client_id: WEB_CLIENT.id,
            client_secret: WEB_CLIENT.secret,
            client_name: 'Web Portal',
            grant_types: [CIBA_GRANT],
            response_types: [],
            redirect_uris: [],
            backchannel_token_delivery_mode: 'poll',
          },
          {
            client_id: PING_CLIENT.id,
            client_secret: PING_CLIENT.secret,
            client_name: 'Web Ping',
            grant_types: [CIBA_GRANT],
            response_types: [],
            redirect_uris: [],
            backchannel_token_delivery_mode: 'ping',
            backchannel_client_notification_endpoint: PING_ENDPOINT,
          },
        ],
        registration: {
          ...o.registration,
          templates: [
            ...(o.registration?.templates ?? []),
            phoneTemplate(PHONE_SOFTWARE_ID, true),
            phoneTemplate(PHONE_UV_SOFTWARE_ID, { requireUserVerification: true }),
            phoneTemplate(PHONE_SECRET_SOFTWARE_ID, true, 'client_secret_basic'),
          ],
        },
        phoneApproval: {
          clients: [WEB_CLIENT.id, PING_CLIENT.id],
          notify: (notice) => {
            notices.push(notice);
          },
          // The ping client's https endpoint is this test's loopback server.
          fetch: (url, init) =>
            globalThis.fetch(String(url).replace('https://ping.client.test', pingServer.url), {
              ...init,
              dispatcher: undefined,
            } as RequestInit),
        },
      }),
    { FALLBACK_CLIENT_JWKS: JSON.stringify(pkiJwks) },
  );
  const { issuer } = server;
  for (const name of [
    'phone_approval.requested',
    'phone_approval.approved',
    'phone_approval.denied',
  ] as const) {
    server.auth.on(name, (payload) => events.push({ name, payload }));
  }
  const fallback = await oidc.discovery(
    new URL(issuer),
    FALLBACK_PKI_CLIENT_ID,
    undefined,
    oidc.PrivateKeyJwt(pki.privateKey),
    insecure,
  );
  const assertion = (install: PhoneInstall) =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer(install.clientId)
      .setSubject(install.clientId)
      .setAudience(issuer)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(install.key);
  const postAsInstall = async (
    install: PhoneInstall,
    path: string,
    params: Record<string, string>,
  ) =>
    install.secret
      ? form(
          `${issuer}${path}`,
          { authorization: basic({ id: install.clientId, secret: install.secret }) },
          params,
        )
      : form(
          `${issuer}${path}`,
          {},
          {
            ...params,
            client_id: install.clientId,
            client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
            client_assertion: await assertion(install),
          },
        );
  return {
    server,
    issuer,
    notices,
    pings,
    events,
    async register(body) {
      const dcr = await oidc.clientCredentialsGrant(fallback, { scope: 'dcr' });
      return postRegistration(issuer, body, dcr.access_token);
    },
    async install(accountId, password, softwareId = PHONE_SOFTWARE_ID) {
      const { privateKey, publicKey } = await generateKeyPair('ES256');
      const jwk = { ...(await exportJWK(publicKey)), alg: 'ES256' };
      const dcr = await oidc.clientCredentialsGrant(fallback, { scope: 'dcr' });
      const registered = await postRegistration(
        issuer,
        { software_id: softwareId, jwks: { keys: [jwk] } },
        dcr.access_token,
      );
      assert.equal(registered.status, 201, JSON.stringify(registered.body));
      const install: PhoneInstall = {
        clientId: registered.body.client_id as string,
        key: privateKey,
        jwk,
        ...(registered.body.client_secret ? { secret: registered.body.client_secret } : {}),
        management: {
          uri: registered.body.registration_client_uri,
          token: registered.body.registration_access_token,
        },
      };
      // The install belongs to the account that signs in through it first.
      const signedIn = await postAsInstall(install, '/authorize-challenge', {
        scope: 'openid',
        code_challenge: challengeOf(verifier()),
        code_challenge_method: 'S256',
        username: accountId,
        password,
      });
      assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
      return install;
    },
    backchannel: (params, client = WEB_CLIENT) =>
      form(`${issuer}/backchannel`, { authorization: basic(client) }, params),
    poll: (authReqId, client = WEB_CLIENT) =>
      form(
        `${issuer}/token`,
        { authorization: basic(client) },
        { grant_type: CIBA_GRANT, auth_req_id: authReqId },
      ),
    list: (install) => postAsInstall(install, '/approvals', {}),
    answer: (install, id, answer) =>
      postAsInstall(install, `/approvals/${encodeURIComponent(id)}`, { answer }),
    postAsInstall,
    async close() {
      await server.close();
      await pingServer.close();
    },
  };
}

/** The one pending approval of `install` whose binding message is `bindingMessage`. */
export async function pendingFor(
  phone: PhoneServer,
  install: PhoneInstall,
  bindingMessage: string,
): Promise<JsonBody> {
  const listed = await phone.list(install);
  assert.equal(listed.status, 200, JSON.stringify(listed.body));
  const found = (listed.body.approvals as JsonBody[]).filter(
    (a) => a.binding_message === bindingMessage,
  );
  assert.equal(found.length, 1, JSON.stringify(listed.body));
  return found[0] as JsonBody;
}

/** The signed answer to a listed approval. */
export const answerTo = (
  install: PhoneInstall,
  listed: JsonBody,
  decision: 'approve' | 'deny',
  more: Partial<Answer> = {},
) =>
  signAnswer(install.key, {
    approval_id: listed.approval_id,
    binding_message: listed.binding_message,
    challenge: listed.challenge,
    decision,
    ...more,
  });
