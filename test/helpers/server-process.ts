// The test server as a process of its own, for the tests of two processes sharing one Redis:
// the fixture's options (fixture.ts), configured from the environment, announcing its port
// ("… listening on port N", which spawn.ts waits for).
//   ISSUER, PORT                 the issuer (default http://localhost:PORT) and port (0: any free)
//   REDIS_URL, REDIS_KEY_PREFIX  the Redis store (in memory without REDIS_URL)
//   JWKS, COOKIE_KEYS            shared signing keys (JSON JWKS), cookie keys (comma-separated)
//   RESOURCE_SERVER_SECRET       adds the resource server client
//   ADMIN_SECRET                 serves the admin API under /admin on the same port
//   TEST_CA_ROOT                 (PEM) adds a template that takes test-ca evidence from this root
//   APP_ATTEST_ROOT              (PEM) adds a template whose App Attest installs (this root)
//                                authenticate with Client Attestations
//   FEDERATION_ISSUER            adds the upstream provider `upstream` (native, audience
//                                io.example.app); whoever it vouches for signs in as demouser
//   FIRST_PARTY_JWKS             (JSON JWKS) adds the provisioned-key fallback client with these
//                                keys; its installs sign in first-party (by-provisioned-key)
//   PROXY                        options.proxy: `true`, a hop count, or comma-separated CIDRs
//   PHONE_APPROVAL_SECRET        adds the static CIBA client `web-portal` with this secret, and
//                                lets the fallback template's installs approve with a key they
//                                register (with FIRST_PARTY_JWKS they bind by a password sign-in)
import 'reflect-metadata';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as x509 from '@peculiar/x509';
import { type AuthServerOptions, createAuthServer } from 'mobile-oidc-provider';
import { RedisStore } from 'mobile-oidc-provider/adapters/redis';
import { TEST_APP_ID } from './app-attest.js';
import { attestClientAuthTemplate } from './client-attestation.js';
import {
  APP_REDIRECT_URI,
  FALLBACK_SOFTWARE_ID,
  silentLogger,
  testServerOptions,
} from './fixture.js';
import {
  ATTESTED_SOFTWARE_ID,
  attestedTemplate,
  TEST_FORMAT,
  testCaVerifier,
} from './test-attestation.js';

const env = process.env;
// Bound first, so PORT=0 (any free port) still gives a correct default issuer.
let handle: RequestListener = (_req, res) => {
  res.writeHead(503).end();
};
const http = createServer((req, res) => handle(req, res));
await new Promise<void>((resolve) => http.listen(Number(env.PORT ?? 0), resolve));
const { port } = http.address() as AddressInfo;

const options: AuthServerOptions = {
  ...testServerOptions({
    issuer: env.ISSUER ?? `http://localhost:${port}`,
    resourceServerSecret: env.RESOURCE_SERVER_SECRET,
    adminSecret: env.ADMIN_SECRET,
    fallbackPkiJwks: env.FIRST_PARTY_JWKS ? JSON.parse(env.FIRST_PARTY_JWKS) : undefined,
  }),
  ...(env.JWKS ? { jwks: JSON.parse(env.JWKS) } : {}),
  ...(env.COOKIE_KEYS ? { cookieKeys: env.COOKIE_KEYS.split(',') } : {}),
  ...(env.REDIS_URL
    ? {
        store: new RedisStore({
          client: env.REDIS_URL,
          logger: silentLogger,
          ...(env.REDIS_KEY_PREFIX ? { keyPrefix: env.REDIS_KEY_PREFIX } : {}),
        }),
      }
    : {}),
};
if (env.TEST_CA_ROOT) {
  options.registration = {
    ...options.registration,
    templates: [
      ...(options.registration?.templates ?? []),
      attestedTemplate(ATTESTED_SOFTWARE_ID, 'optional'),
    ],
  };
  options.attestation = {
    verifiers: { [TEST_FORMAT]: testCaVerifier(new x509.X509Certificate(env.TEST_CA_ROOT)) },
  };
}
if (env.APP_ATTEST_ROOT) {
  options.registration = {
    ...options.registration,
    templates: [
      ...(options.registration?.templates ?? []),
      attestClientAuthTemplate(APP_REDIRECT_URI, TEST_APP_ID),
    ],
  };
  options.attestation = { ...options.attestation, appleRoots: [env.APP_ATTEST_ROOT] };
}
if (env.FEDERATION_ISSUER) {
  options.accounts = { ...options.accounts, federated: async () => 'demouser' };
  options.federation = {
    providers: [{ name: 'upstream', issuer: env.FEDERATION_ISSUER, audiences: ['io.example.app'] }],
  };
}
if (env.FIRST_PARTY_JWKS) {
  options.registration = {
    ...options.registration,
    templates: (options.registration?.templates ?? []).map((t) =>
      t.software_id === FALLBACK_SOFTWARE_ID
        ? { ...t, firstParty: { minimumLevel: 'by-provisioned-key' } }
        : t,
    ),
  };
}
if (env.PHONE_APPROVAL_SECRET) {
  options.clients = [
    ...(options.clients ?? []),
    {
      client_id: 'web-portal',
      client_secret: env.PHONE_APPROVAL_SECRET,
      client_name: 'Web Portal',
      grant_types: ['urn:openid:params:grant-type:ciba'],
      response_types: [],
      redirect_uris: [],
      backchannel_token_delivery_mode: 'poll',
    },
  ];
  options.registration = {
    ...options.registration,
    templates: (options.registration?.templates ?? []).map((t) =>
      t.software_id === FALLBACK_SOFTWARE_ID
        ? {
            ...t,
            instanceFields: [...(t.instanceFields ?? ['client_name', 'software_version']), 'jwks'],
            approvals: true,
          }
        : t,
    ),
  };
  options.phoneApproval = { clients: ['web-portal'] };
}
if (env.PROXY) {
  options.proxy =
    env.PROXY === 'true'
      ? true
      : /^\d+$/.test(env.PROXY)
        ? Number(env.PROXY)
        : env.PROXY.split(',');
}
const server = await createAuthServer(options);
const oidc = server.callback();
const admin = env.ADMIN_SECRET ? server.adminCallback() : undefined;
handle = (req, res) => {
  if (admin && req.url?.startsWith('/admin/')) {
    req.url = req.url.slice('/admin'.length);
    return admin(req, res);
  }
  return oidc(req, res);
};
console.log(`test server listening on port ${port}`);
