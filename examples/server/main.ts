import { createServer } from 'node:http';
import { createExampleServer } from './app.js';
import { ATTESTED_SOFTWARE_ID, attestedTemplate } from './attestation.js';
import { jsonLinesLogger } from './logger.js';

const server = await createExampleServer();
// The start-up entries are printed whatever LOG_LEVEL says: they announce the port.
const log = jsonLinesLogger('info');
const port = Number(process.env.PORT ?? 3000);
const oidc = server.callback();
// The admin API shares the port here for the walk-through; in production, serve it where only
// administrators reach it.
const admin = process.env.ADMIN_SECRET ? server.adminCallback() : undefined;
const http = createServer((req, res) => {
  if (admin && req.url?.startsWith('/admin/')) {
    req.url = req.url.slice('/admin'.length);
    return admin(req, res);
  }
  return oidc(req, res);
});
http.listen(port, () => {
  log.info(
    { issuer: server.issuer, port },
    `mobile-oidc-provider example: ${server.issuer} (listening on port ${port})`,
  );
  log.info({}, `discovery: ${server.issuer}/.well-known/openid-configuration`);
  const formats = attestedTemplate(process.env)?.attestation?.formats ?? [];
  log.info(
    { formats },
    formats.length > 0
      ? `attestation: ${ATTESTED_SOFTWARE_ID} accepts ${formats.join(', ')}`
      : 'attestation: off (set APP_ATTEST_APP_ID, or ANDROID_PACKAGE_NAME with ANDROID_SIGNING_CERT_DIGESTS)',
  );
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    http.close();
    void server.close();
  });
}
