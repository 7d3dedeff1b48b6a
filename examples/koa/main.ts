import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createKoaApp } from './app.js';

// Bound before the app is made, so PORT=0 (any free port) still gives a correct issuer.
let handle: RequestListener = (_req, res) => {
  res.writeHead(503).end();
};
const http = createServer((req, res) => handle(req, res));
await new Promise<void>((resolve) => http.listen(Number(process.env.PORT ?? 3000), resolve));
const { port } = http.address() as AddressInfo;
const { app, auth } = await createKoaApp({
  ...process.env,
  ISSUER: process.env.ISSUER ?? `http://localhost:${port}/oidc`,
});
handle = app.callback();
console.log(`Koa app on port ${port}; issuer ${auth.issuer}`);
