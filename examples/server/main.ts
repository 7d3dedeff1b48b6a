import { createServer } from 'node:http';
import { createExampleServer } from './app.js';

const server = await createExampleServer();
const port = Number(process.env.PORT ?? 3000);
const http = createServer(server.callback());
http.listen(port, () => {
  console.log(`mobile-oidc-provider example: ${server.issuer} (listening on port ${port})`);
  console.log(`discovery: ${server.issuer}/.well-known/openid-configuration`);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    http.close();
    void server.close();
  });
}
