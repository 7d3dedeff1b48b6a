// A deterministic (seeded) fuzz run over real HTTP against the example server: 10,000+ generated
// bodies, headers and paths at the registration endpoint (RFC 7591), RFC 7592 management, the
// token endpoint (RFC 6749 §5.2), introspection (RFC 7662), revocation (RFC 7009), the
// attestation challenge endpoint, self-service and the admin API. Malformed input must always be
// a 4xx with an RFC-style `error` code: never a 5xx (nor a false 503), never a stack trace, and
// never a client stored for a request that was refused.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { ClientCountingStore } from '../helpers/client-counter.js';
import {
  APP_REDIRECT_URI,
  RESOURCE_SERVER_SECRET,
  type RunningServer,
  registrationClient,
  startExample,
} from '../helpers/example.js';
import { type Listening, listen } from '../helpers/listen.js';
import { instanceConfiguration, postRegistration } from '../helpers/registration.js';
import { codeForInstance, obtainDcrToken, SignInBrowser } from '../helpers/sign-in.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 10_240);
const ADMIN_SECRET = 'fuzz-admin-secret-0123456789abcdef0123456789';

// Error codes of RFC 6749 §5.2/§4.1.2.1, RFC 6750 §3.1, RFC 7591 §3.2.2, RFC 9449 and this
// library's documented extensions (invalid_software_id, invalid_client_attestation, not_found).
const ERROR_CODES = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'access_denied',
  'invalid_token',
  'insufficient_scope',
  'invalid_client_metadata',
  'invalid_redirect_uri',
  'invalid_software_statement',
  'unapproved_software_statement',
  'invalid_software_id',
  'invalid_client_attestation',
  'invalid_target',
  'invalid_dpop_proof',
  'use_dpop_nonce',
  'temporarily_unavailable',
  'not_found',
]);

/** mulberry32: a small seeded PRNG, so every run sends the same requests. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Random = ReturnType<typeof prng>;
const pick = <T>(random: Random, items: readonly T[]): T =>
  items[Math.floor(random() * items.length)] as T;

const STRINGS = [
  '',
  ' ',
  'a',
  'x'.repeat(5000),
  '%ZZ',
  '%00',
  '\u0000',
  '\ud800',
  '../../etc/passwd',
  '<script>alert(1)</script>',
  'http://127.0.0.1\\@evil.example/',
  'https://app.example.com@evil.example/cb',
  'http://2130706433/',
  'javascript:alert(1)',
  APP_REDIRECT_URI,
  'io.example.app',
  'openid',
  'openid payments dcr',
  'none',
  'private_key_jwt',
  'client_secret_basic',
  'authorization_code',
  'refresh_token',
  'client_credentials',
  '__proto__',
  'constructor',
  'RS256',
  'HS256',
  '1.0.0',
  'bücher',
];
const FIELDS = [
  'redirect_uris',
  'post_logout_redirect_uris',
  'client_name',
  'scope',
  'software_id',
  'software_version',
  'grant_types',
  'response_types',
  'token_endpoint_auth_method',
  'token_endpoint_auth_signing_alg',
  'id_token_signed_response_alg',
  'userinfo_signed_response_alg',
  'jwks',
  'jwks_uri',
  'contacts',
  'default_max_age',
  'require_auth_time',
  'dpop_bound_access_tokens',
  'application_type',
  'attestation',
  'cal',
  'mobile_oidc_instance',
  'client_id',
  'client_secret',
  'subject_type',
  '__proto__',
  'constructor',
  'prototype',
];

/** A random JSON value, nested at most `depth` levels. */
function value(random: Random, depth: number): unknown {
  const kind = Math.floor(random() * (depth > 0 ? 9 : 6));
  switch (kind) {
    case 0:
      return null;
    case 1:
      return random() < 0.5;
    case 2:
      return pick(random, [0, -1, 1.5, 2 ** 53, -(2 ** 31), 1e308]);
    case 3:
    case 4:
      return pick(random, STRINGS);
    case 5:
      return [pick(random, STRINGS)];
    case 6:
      return Array.from({ length: Math.floor(random() * 4) }, () => value(random, depth - 1));
    default: {
      const object: Record<string, unknown> = {};
      for (let i = Math.floor(random() * 4); i > 0; i -= 1) {
        object[pick(random, FIELDS)] = value(random, depth - 1);
      }
      return object;
    }
  }
}

/** A JSON object body: mostly metadata-shaped, sometimes hostile text. */
function jsonBody(random: Random, base: Record<string, unknown> = {}): string {
  const roll = random();
  if (roll < 0.05) return pick(random, ['', '{', 'null', '[]', '"x"', '{"a":}', '\u0000']);
  if (roll < 0.1) {
    // Nesting far beyond any honest body.
    const depth = 50 + Math.floor(random() * 6000);
    return `{"contacts":${'['.repeat(depth)}1${']'.repeat(depth)}}`;
  }
  if (roll < 0.15) {
    const key = pick(random, ['__proto__', 'constructor', 'prototype']);
    return `{"redirect_uris":["${APP_REDIRECT_URI}"],"${key}":{"scope":"openid payments"}}`;
  }
  const body: Record<string, unknown> = { ...base };
  for (let i = 1 + Math.floor(random() * 5); i > 0; i -= 1) {
    body[pick(random, FIELDS)] = value(random, 3);
  }
  return JSON.stringify(body);
}

/** A form body for the token, introspection and revocation endpoints. */
function formBody(random: Random, known: Record<string, string>): string {
  const params = new URLSearchParams();
  const names = [
    'grant_type',
    'code',
    'refresh_token',
    'redirect_uri',
    'code_verifier',
    'scope',
    'resource',
    'token',
    'token_type_hint',
    'client_id',
    'client_assertion',
    'client_assertion_type',
  ];
  for (let i = Math.floor(random() * 6); i > 0; i -= 1) {
    const name = pick(random, names);
    const candidates = [...STRINGS, ...Object.values(known)];
    params.append(name, String(pick(random, candidates)));
  }
  if (random() < 0.1) return `${params.toString()}&%ZZ=1&a=%E0%A4%A`;
  return params.toString();
}

function authorization(random: Random, known: Record<string, string>): string | undefined {
  const choices = [
    undefined,
    'Bearer',
    'Bearer ',
    `Bearer ${pick(random, STRINGS)}`,
    `Bearer ${pick(random, Object.values(known))}`,
    `bearer  ${pick(random, Object.values(known))}`,
    `Basic ${Buffer.from(`${pick(random, Object.values(known))}:${pick(random, STRINGS)}`).toString('base64')}`,
    'Basic %%%',
    `DPoP ${pick(random, Object.values(known))}`,
    `Bearer ${ADMIN_SECRET}x`,
  ];
  const header = pick(random, choices);
  // Headers cannot carry every string fetch would refuse; keep them to what a wire can hold.
  return header && /^[\t\x20-\x7e]*$/.test(header) ? header : undefined;
}

describe('seeded fuzzing: malformed input is always an OAuth-style 4xx', () => {
  let server: RunningServer;
  let admin: Listening;
  let store: ClientCountingStore;
  const known: Record<string, string> = {};
  const registeredIds = new Set<string>();
  const serverErrors: unknown[] = [];
  const logged: string[] = [];
  const capture =
    (level: string) =>
    (fields: Record<string, unknown>, message: string): void => {
      logged.push(`${level} ${message} ${JSON.stringify(fields)}`);
    };

  before(async () => {
    store = new ClientCountingStore();
    server = await startExample(
      (o) => ({
        ...o,
        store,
        registration: {
          ...o.registration,
          // One DCR token opens every fuzzed registration, so bodies reach the metadata rules.
          dcrToken: { maxUses: 1_000_000, ttl: 3600 },
        },
        attestation: { challenge: { rateLimit: { points: 1_000_000, duration: 60 } } },
        logger: {
          error: capture('error'),
          warn: capture('warn'),
          info: capture('info'),
          debug: capture('debug'),
        },
        // Sign-in throttling is not what this run is about.
        interactions: {
          ...o.interactions,
          signInRateLimit: { perAccount: false, perIp: false, perUsername: false },
        },
      }),
      { ADMIN_SECRET },
    );
    server.auth.provider.on('server_error', (_ctx: unknown, error: unknown) => {
      serverErrors.push(error);
    });
    admin = await listen();
    admin.handle(server.auth.adminCallback());
    const browser = new SignInBrowser();
    const { tokens } = await obtainDcrToken(await registrationClient(server.issuer), browser);
    known.dcr = tokens.access_token;
    const registered = await postRegistration(
      server.issuer,
      { redirect_uris: [APP_REDIRECT_URI] },
      known.dcr,
    );
    registeredIds.add(registered.body.client_id);
    known.clientId = registered.body.client_id;
    known.clientSecret = registered.body.client_secret;
    known.rat = registered.body.registration_access_token;
    known.ratUri = registered.body.registration_client_uri;
    const instance = await instanceConfiguration(server.issuer, registered.body);
    const { callback, checks } = await codeForInstance(
      browser,
      instance,
      'openid offline_access devices',
    );
    const issued = await oidc.authorizationCodeGrant(instance, callback, checks);
    known.access = issued.access_token;
    known.refresh = issued.refresh_token as string;
    known.resourceServer = RESOURCE_SERVER_SECRET;
  });
  after(async () => {
    await admin.close();
    await server.close();
    await store.close();
  });

  it(`${REQUESTS} generated requests (seed ${SEED}): 0 × 5xx, every 4xx an RFC error code, no stray client`, async () => {
    const random = prng(SEED);
    const basic = (id: string, secret: string) =>
      `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
    const targets = [
      () => ({
        url: `${server.issuer}/reg`,
        method: 'POST',
        // Some bodies are valid, a control that registration still works under the noise.
        body:
          random() < 0.1
            ? JSON.stringify({
                redirect_uris: [APP_REDIRECT_URI],
                client_name: pick(random, STRINGS),
              })
            : jsonBody(random),
        auth: random() < 0.8 ? `Bearer ${known.dcr}` : authorization(random, known),
        type: 'application/json',
      }),
      () => ({
        url: `${server.issuer}/reg`,
        method: 'POST',
        body: jsonBody(random, { software_id: pick(random, ['io.example.app', 'x', '']) }),
        auth: `Bearer ${known.dcr}`,
        type: pick(random, ['application/json', 'text/plain', 'application/x-www-form-urlencoded']),
      }),
      () => ({
        url: pick(random, [known.ratUri as string, `${known.ratUri}x`, `${server.issuer}/reg/%ZZ`]),
        method: pick(random, ['GET', 'PUT', 'PUT', 'PATCH']),
        body: jsonBody(random, { client_id: known.clientId, redirect_uris: [APP_REDIRECT_URI] }),
        auth: random() < 0.7 ? `Bearer ${known.rat}` : authorization(random, known),
        type: 'application/json',
      }),
      () => ({
        url: `${server.issuer}/token`,
        method: 'POST',
        body: formBody(random, known),
        auth:
          random() < 0.5
            ? basic(known.clientId as string, known.clientSecret as string)
            : authorization(random, known),
        type: 'application/x-www-form-urlencoded',
      }),
      () => ({
        url: `${server.issuer}/token/introspection`,
        method: 'POST',
        body: formBody(random, known),
        auth:
          random() < 0.5
            ? basic('example-api', RESOURCE_SERVER_SECRET)
            : authorization(random, known),
        type: 'application/x-www-form-urlencoded',
      }),
      () => ({
        url: `${server.issuer}/token/revocation`,
        method: 'POST',
        body: formBody(random, known),
        auth: authorization(random, known),
        type: 'application/x-www-form-urlencoded',
      }),
      () => ({
        url: `${server.issuer}/attestation/challenge`,
        method: pick(random, ['POST', 'GET', 'PUT']),
        body: jsonBody(random),
        auth: authorization(random, known),
        type: 'application/json',
      }),
      () => ({
        url: `${server.issuer}${pick(random, ['/devices', '/devices/', `/devices/${known.clientId}`, '/devices/%ZZ', '/devices/%E0%A4%A', `/devices/${'x'.repeat(3000)}`])}`,
        method: pick(random, ['GET', 'DELETE', 'POST']),
        body: jsonBody(random),
        auth: random() < 0.5 ? `Bearer ${known.access}` : authorization(random, known),
        type: 'application/json',
      }),
      () => ({
        url: `${admin.url}${pick(random, ['/accounts/demouser/devices', '/accounts/%ZZ/devices', `/devices/${known.clientId}`, '/devices/%ZZ', '/accounts//devices'])}`,
        method: pick(random, ['GET', 'DELETE']),
        body: jsonBody(random),
        auth: random() < 0.3 ? `Bearer ${ADMIN_SECRET}` : authorization(random, known),
        type: 'application/json',
      }),
    ];

    const statuses = new Map<number, number>();
    const failures: string[] = [];
    let sent = 0;
    const worker = async () => {
      while (sent < REQUESTS) {
        sent += 1;
        const request = pick(random, targets)();
        // Keep the admin's own device: revoking it would leave later requests nothing to reach.
        if (request.method === 'DELETE' && request.url.includes(known.clientId as string)) continue;
        const headers: Record<string, string> = { 'content-type': request.type };
        if (request.auth) headers.authorization = request.auth;
        const res = await fetch(request.url, {
          method: request.method,
          headers,
          ...(request.method === 'GET' ? {} : { body: request.body }),
        });
        const text = await res.text();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 201) {
          registeredIds.add((JSON.parse(text) as { client_id: string }).client_id);
        }
        const label = `${request.method} ${request.url.slice(0, 80)} → ${res.status} ${text.slice(0, 200)}`;
        if (res.status >= 500) failures.push(label);
        if (res.status >= 400 && res.status < 500) {
          let error: unknown;
          try {
            error = (JSON.parse(text) as { error?: unknown }).error;
          } catch {
            // Not JSON: only a 404 of a path nobody serves may be Koa's plain text.
            if (res.status === 404) continue;
          }
          if (typeof error !== 'string' || !ERROR_CODES.has(error)) failures.push(label);
        }
        if (/\bat [\w.<>]+ \(|node_modules\//.test(text)) failures.push(`stack: ${label}`);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));

    assert.deepEqual(failures.slice(0, 20), [], `${failures.length} bad answers`);
    assert.deepEqual(serverErrors.slice(0, 5).map(String), []);
    // Every stored client came from a request answered 201 (the RFC 7592 updates rewrite
    // the one registered above).
    const stray = store.clientIds.filter((id) => !registeredIds.has(id));
    assert.deepEqual([...new Set(stray)], []);
    assert.ok(sent >= REQUESTS);
    // The log of the whole run (every refusal is a debug entry) carries no credential.
    const log = logged.join('\n');
    assert.ok(logged.length > 1000, 'the refusals were logged');
    for (const [name, secret] of Object.entries({
      ...known,
      ADMIN_SECRET,
      password: 'Password1',
    })) {
      if (name === 'ratUri' || name === 'clientId') continue;
      assert.ok(!log.includes(secret as string), `the log carries ${name}`);
    }
    assert.ok((statuses.get(201) ?? 0) > 0, 'some generated registrations were valid (control)');
    assert.ok((statuses.get(400) ?? 0) > 1000, 'most were refused');
  });
});
