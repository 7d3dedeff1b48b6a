// A server process for the cross-process attestation test: the example server's options plus a
// template that takes test-ca evidence alone, trusting the root in TEST_CA_ROOT (PEM). Started
// like `npm start` (it announces its port), on the store REDIS_URL names.
import 'reflect-metadata';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as x509 from '@peculiar/x509';
import { createAuthServer } from 'mobile-oidc-provider';
import { exampleOptions } from '../../examples/server/app.js';
import {
  ATTESTED_SOFTWARE_ID,
  attestedTemplate,
  TEST_FORMAT,
  testCaVerifier,
} from './test-attestation.js';

const root = new x509.X509Certificate(process.env.TEST_CA_ROOT ?? '');
// Bound first, so PORT=0 (any free port) still gives a correct default issuer.
let handle: RequestListener = (_req, res) => {
  res.writeHead(503).end();
};
const http = createServer((req, res) => handle(req, res));
await new Promise<void>((resolve) =>
  http.listen(Number(process.env.PORT ?? 0), '127.0.0.1', resolve),
);
const { port } = http.address() as AddressInfo;
const options = await exampleOptions({ ...process.env, PORT: String(port) });
const server = await createAuthServer({
  ...options,
  registration: {
    ...options.registration,
    templates: [
      ...(options.registration?.templates ?? []),
      attestedTemplate(ATTESTED_SOFTWARE_ID, 'optional'),
    ],
  },
  attestation: { verifiers: { [TEST_FORMAT]: testCaVerifier(root) } },
});
handle = server.callback();
console.log(`attested test server listening on port ${port}`);
