// A server process for the cross-process attestation test: the example server's options plus a
// template that takes test-ca evidence alone, trusting the root in TEST_CA_ROOT (PEM). Started
// like `npm start` (it announces its port), on the store REDIS_URL names.
import 'reflect-metadata';
import { createServer } from 'node:http';
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
const options = await exampleOptions();
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
const port = Number(process.env.PORT);
createServer(server.callback()).listen(port, '127.0.0.1', () => {
  console.log(`attested test server listening on port ${port}`);
});
