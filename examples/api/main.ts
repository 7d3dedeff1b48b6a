// The example API: an Express resource server that accepts the example server's access tokens.
//
//   npm start                                   the authorization server, on port 3000
//   npx tsx examples/api/main.ts                this API, on port 4000
//
//   GET /me        any valid token of this API: { sub, client_id, scope, cal }
//   GET /payments  scope `payments` from an install of assurance by-provisioned-key or better
//
// The app asks for tokens with `resource=https://api.example.com/` (RFC 8707): the example server
// issues a JWT (RFC 9068) for this audience, verified here offline with the server's keys. A
// token bound to a DPoP key (RFC 9449) needs the DPoP scheme and a fresh proof on every call;
// proofs' jti are remembered in memory. `payments` is only granted to installs registered through
// the provisioned-key fallback client (start the server with FALLBACK_CLIENT_JWKS_FILE, see
// examples/server/fallback-key.ts).
//
// Environment:
//   ISSUER                    the authorization server (default http://localhost:3000)
//   PORT                      default 4000; 0 picks a free port
//   HOST                      the address it listens on (default 127.0.0.1; 0.0.0.0 in a
//                             container)
//   API_AUDIENCE              this API's resource indicator (default https://api.example.com/),
//                             the same as the server's API_AUDIENCE
//   API_INTROSPECTION_SECRET  introspects opaque tokens as client `example-api`: start the server
//                             with RESOURCE_SERVER_SECRET set to the same value. Tokens issued
//                             without `resource` (for userinfo) are refused all the same.
//   API_PUBLIC_URL            the external base URL that DPoP proofs must name (default
//                             http://localhost:PORT, where it listens)
//   TRUST_PROXY               1 behind a proxy that sets X-Forwarded-Proto and X-Forwarded-Host:
//                             without API_PUBLIC_URL, proofs then name the forwarded URL
//   LOG_LEVEL                 error, warn, info, debug or silent (default info)
//
// On start it prints one JSON line with `port`, whose message ends "listening on port N".
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jsonLinesLogger, logLevelFrom } from '../server/logger.js';
import { createApiApp } from './app.js';

// The app is made once the port is known (PORT=0 picks one): its default public URL names it.
const http = createServer();
const host = process.env.HOST || '127.0.0.1';
await new Promise<void>((resolve) => http.listen(Number(process.env.PORT ?? 4000), host, resolve));
const { port } = http.address() as AddressInfo;
http.on(
  'request',
  createApiApp(process.env, jsonLinesLogger(logLevelFrom(process.env)), `http://localhost:${port}`),
);
const issuer = process.env.ISSUER ?? 'http://localhost:3000';
const audience = process.env.API_AUDIENCE ?? 'https://api.example.com/';
// Printed whatever LOG_LEVEL says: it announces the port.
jsonLinesLogger('info').info(
  { host, port, issuer, audience },
  `example API: ${audience} for ${issuer} (listening on port ${port})`,
);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    http.close();
  });
}
