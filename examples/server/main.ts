import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEMO_USERS } from './accounts.js';
import {
  APP_REDIRECT_URI,
  APP_SOFTWARE_ID,
  createExampleServer,
  REGISTRATION_CLIENT_ID,
} from './app.js';
import { ATTESTED_SOFTWARE_ID, attestedTemplate } from './attestation.js';
import { federatedProviders } from './federation.js';
import { jsonLinesLogger } from './logger.js';
import { startMetrics } from './metrics.js';
import { NOTES_SOFTWARE_ID } from './native-sso.js';

// The start-up entries are printed whatever LOG_LEVEL says: they announce the port.
const log = jsonLinesLogger('info');
// Bound before the server is made, so PORT=0 (any free port) still gives a correct issuer.
let handle: RequestListener = (_req, res) => {
  res.writeHead(503).end();
};
const http = createServer((req, res) => handle(req, res));
// HOST: loopback unless told otherwise (a container says 0.0.0.0).
const host = process.env.HOST || '127.0.0.1';
await new Promise<void>((resolve) => http.listen(Number(process.env.PORT ?? 3000), host, resolve));
const { port } = http.address() as AddressInfo;

// Before the server is made: it measures through the meter provider registered when it starts.
await startMetrics(process.env, log);
const server = await createExampleServer({ ...process.env, PORT: String(port) });
// The probes come first: GET /healthz (liveness) and /readyz (readiness: the store answers, the
// keys are loaded); every other request goes on to the issuer.
const probes = server.healthCallback();
const issuerRequests = server.callback();
const oidc: RequestListener = (req, res) => probes(req, res, () => issuerRequests(req, res));
// The admin API shares the port here for the walk-through; in production, serve it where only
// administrators reach it.
const admin = process.env.ADMIN_SECRET ? server.adminCallback() : undefined;
handle = (req, res) => {
  if (admin && req.url?.startsWith('/admin/')) {
    req.url = req.url.slice('/admin'.length);
    return admin(req, res);
  }
  return oidc(req, res);
};
log.info(
  { issuer: server.issuer, host, port },
  `mobile-oidc-provider example: ${server.issuer} (listening on port ${port})`,
);
log.info({}, `discovery: ${server.issuer}/.well-known/openid-configuration`);
log.info({}, `probes: http://localhost:${port}/healthz and /readyz`);
log.info(
  { clientId: REGISTRATION_CLIENT_ID, redirectUri: APP_REDIRECT_URI },
  `registration client: ${REGISTRATION_CLIENT_ID} (public, PKCE, scope dcr; redirect ${APP_REDIRECT_URI})`,
);
// The demo passwords are published (accounts.ts); printed only where they help, in development.
const showPasswords = process.env.NODE_ENV !== 'production';
log.info(
  { users: DEMO_USERS.map((user) => user.username) },
  `demo users: ${DEMO_USERS.map((u) => (showPasswords ? `${u.username} / ${u.password}` : u.username)).join(', ')}`,
);
const formats = attestedTemplate(process.env)?.attestation?.formats ?? [];
log.info(
  { formats },
  formats.length > 0
    ? `attestation: ${ATTESTED_SOFTWARE_ID} accepts ${formats.join(', ')}`
    : 'attestation: off (set APP_ATTEST_APP_ID, or ANDROID_PACKAGE_NAME with ANDROID_SIGNING_CERT_DIGESTS)',
);
const providers = federatedProviders(process.env).map(
  (p) => `${p.name} (${p.browser ? 'native and browser' : 'native'})`,
);
log.info(
  { providers },
  providers.length > 0
    ? `federation: ${providers.join(', ')}`
    : 'federation: off (set GOOGLE_CLIENT_IDS or APPLE_BUNDLE_IDS)',
);

const ssoGroup = process.env.NATIVE_SSO_GROUP?.trim();
log.info(
  { nativeSsoGroup: ssoGroup ?? null },
  ssoGroup
    ? `native SSO: ${APP_SOFTWARE_ID} and ${NOTES_SOFTWARE_ID} in group ${ssoGroup}`
    : 'native SSO: off (set NATIVE_SSO_GROUP)',
);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    http.close();
    void server.close();
  });
}
